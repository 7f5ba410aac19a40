"""The live classroom page in a real browser (Debian's chromium, headless, driven by Selenium through
chromedriver): it loads, plays, steps, takes a slider move, charts exactly the values that `citysim run`
writes for the saved scenario, saves a run that replays bit for bit, and leaves screenshots in the build
folder (screenshots/, linked from docs/tutorials/teacher.md once copied to docs/tutorials/screenshots/).
The same server answers malformed requests with a 4xx and keeps serving, frees a closed tab's run, and
stops cleanly on Ctrl-C."""
import glob
import os
import socket
import subprocess
import time

import h5py
import numpy as np
import yaml
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from common import check, citysim, finish, temp_dir
from serving import Served, scenario_path

SCREENSHOTS = os.path.join(os.getcwd(), "screenshots")
CHARTED = ("talent", "rent", "home_price", "startups")


def browser(profile, downloads):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    # The flags a closed network needs (no background connections, no component updates).
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1280,800",
                 "--force-device-scale-factor=1", "--lang=en-US"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": downloads,
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
    # A projector's 1280 x 800, whatever the headless window's frame takes.
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})
    driver.set_script_timeout(60)
    return driver


def wait_for(driver, condition, what, timeout=60):
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.05).until(lambda d: d.execute_script(condition))
    except Exception as error:  # noqa: BLE001 - report what was awaited
        raise AssertionError(f"waited {timeout} s for {what}: {error}") from error


def steps_done(driver):
    return driver.execute_script("return window.citysim.stepsDone()")


def click_step_until(driver, target):
    step = driver.find_element(By.ID, "step")
    while steps_done(driver) < target:
        before = steps_done(driver)
        step.click()
        wait_for(driver, f"return window.citysim.stepsDone() > {before}", f"step {before + 1}")


def file_values(path):
    """Per city and step: the charted quantities in persons, firms and CNY, read from the file as
    analysis.load.persons reads it: a count of agents times persons_per_agent, start-ups in firms."""
    with h5py.File(path, "r") as f:
        ppa = float(f.attrs["persons_per_agent"])

        def summed(name):
            description = f[name].attrs["description"]
            description = description.decode() if isinstance(description, bytes) else str(description)
            return f[name][:].sum(axis=2) * (ppa if description.startswith("agents") else 1.0)

        cities = [c.decode() if isinstance(c, bytes) else c for c in f["city"][:]]
        values = {"talent": summed("talent"), "rent": f["rent"][:], "home_price": f["home_price"][:],
                  "startups": summed("startups")}
        check(f["startups"].attrs["description"].decode().startswith("firms"), "start-ups are counted in firms")
        return cities, values


def malformed_requests(served):
    """Each gets a 4xx with a message; the server answers a good request afterwards."""
    status, body = served.request("POST", "/api/runs", {"scenario": 0})
    run = body["run"]
    cases = [
        ("POST", "/api/runs", {"scenario": 99}, 400),
        ("POST", "/api/runs", {"scenario": "two"}, 400),
        ("POST", "/api/runs", {"seed": -1}, 400),
        ("POST", "/api/runs", {"variables": "talent,nonsense"}, 400),
        ("POST", f"/api/runs/{run}/step", {"count": 0}, 400),
        ("POST", f"/api/runs/{run}/step", {"count": "12abc"}, 400),
        ("POST", f"/api/runs/{run}/step", {"count": 100000}, 400),
        ("POST", f"/api/runs/{run}/control", {"key": "cities.harbour.labour.productivity", "value": 9}, 400),
        ("POST", f"/api/runs/{run}/control", {"key": "cities.harbour.labour.productivity", "value": "nan"}, 400),
        ("POST", f"/api/runs/{run}/control", {"key": "talent.persons", "value": 1}, 400),
        ("POST", f"/api/runs/{run}/control", {"value": 1}, 400),
        ("POST", "/api/runs/0123456789abcdef/step", None, 410),
        ("GET", "/api/nothing-here", None, 404),
    ]
    for method, path, params, expected in cases:
        status, body = served.request(method, path, params)
        check(status == expected and isinstance(body, dict) and body.get("error"),
              f"{method} {path} {params}: expected {expected} with a message, got {status} {body}")
    # Not HTTP at all, and a request line that never ends: the connection is refused politely.
    with socket.create_connection((served.host, served.port), timeout=20) as raw:
        raw.sendall(b"THIS IS NOT HTTP\r\n\r\n")
        reply = raw.recv(200)
    check(reply.startswith(b"HTTP/1.1 4"), f"garbage gets a 4xx: {reply[:60]!r}")
    with socket.create_connection((served.host, served.port), timeout=20) as raw:
        raw.sendall(b"GET /" + b"x" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        reply = raw.recv(200)
    check(reply[:10] in (b"HTTP/1.1 4", b"") or reply.startswith(b"HTTP/1.1 4"), f"a 20 kB path gets a 4xx: {reply[:60]!r}")
    status, body = served.request("POST", f"/api/runs/{run}/step", {"count": 3})
    check(status == 200 and body["steps_done"] == 3, f"the server still serves after the bad requests: {status} {body}")
    served.request("POST", f"/api/runs/{run}/close")
    status, _ = served.request("POST", f"/api/runs/{run}/ping")
    check(status == 410, f"a closed run is gone: {status}")


def all_variables_replay(served, tmp, moves):
    """A run through the API with every variable, the same moves at the same steps, against the file of its
    saved scenario: every value of every variable at every step is identical."""
    with h5py.File(os.path.join(tmp, "replay.h5"), "r") as f:
        names = [name for name, obj in f.items() if isinstance(obj, h5py.Dataset) and obj.ndim >= 2
                 and len(obj.dims[0]) and obj.dims[0][0].name == "/time"]
    status, body = served.request("POST", "/api/runs", {"scenario": 0, "variables": ",".join(names)})
    check(status == 200, f"a run with every variable: {status} {body}")
    run = body["run"]
    records = [body["record"]]
    done = 0
    for step, key, value in moves + [(None, None, None)]:
        target = (step - 1) if step is not None else 10 ** 9
        while done < target:
            status, answer = served.request("POST", f"/api/runs/{run}/step", {"count": min(120, target - done)})
            if not answer["records"]:
                break
            records += answer["records"]
            done = answer["steps_done"]
        if key is not None:
            status, answer = served.request("POST", f"/api/runs/{run}/control", {"key": key, "value": value})
            check(status == 200, f"control {key}={value}: {status} {answer}")
    saved_status, saved = served.request("GET", f"/api/runs/{run}/scenario.yaml", raw=True)
    check(saved_status == 200, f"saved scenario: {saved_status}")
    path = os.path.join(tmp, "api-saved.yaml")
    with open(path, "w") as f:
        f.write(saved)
    citysim("run", path, "-o", os.path.join(tmp, "api-replay.h5"), "-q")
    differing = []
    with h5py.File(os.path.join(tmp, "api-replay.h5"), "r") as f:
        for record in records:
            t = record["time"]
            for name, values in record["values"].items():
                expected = f[name][t].ravel()
                got = np.array([np.nan if v is None else v for v in values], dtype=expected.dtype)
                if not np.array_equal(got, expected, equal_nan=True):
                    differing.append((name, t))
    check(len(records) == 121, f"the API run went to the end: {len(records)} records")
    check(not differing, f"every variable of the live run equals the replay's: {differing[:10]}")
    served.request("POST", f"/api/runs/{run}/close")
    return len(names)


os.makedirs(SCREENSHOTS, exist_ok=True)
# A short idle timeout: a tab that closes frees its run by saying so, or at the latest after 6 s of silence,
# while open tabs keep theirs with a ping every 2 s.
served = Served(scenario_path("teaching-two-cities.yaml"), scenario_path("teaching-rent-and-founders.yaml"),
                scenario_path("china-2025.yaml"), "--idle-timeout", "6")
driver = None
try:
    malformed_requests(served)
    with temp_dir() as tmp:
        downloads = os.path.join(tmp, "downloads")
        os.makedirs(downloads)
        driver = browser(os.path.join(tmp, "profile"), downloads)
        driver.get(served.url)
        wait_for(driver, "return window.citysim && window.citysim.ready()", "the page and its first run")
        labels = [t.text for t in driver.find_elements(By.CSS_SELECTOR, "#map .city-name")]
        check(labels == ["Harbour", "Lakeside"], f"the map labels its cities: {labels}")
        # Self-contained: every file the page loaded came from citysim itself (no CDN, no network).
        loaded = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        check(loaded and all(name.startswith(served.url) for name in loaded), f"all resources from the server: {loaded}")
        check(driver.execute_script("return typeof Chart") == "function", "Chart.js (Debian's) is loaded from the server")
        sliders = driver.find_elements(By.CSS_SELECTOR, "#controls input[type=range]")
        check(len(sliders) == 4, f"the teaching scenario's four controls are sliders: {len(sliders)}")
        titles = driver.execute_script(
            "return Object.values(window.citysim.state.charts).map(c => c.options.plugins.title.text)")
        check(all("(" in t and ")" in t for t in titles) and len(titles) == 4, f"four charts with units: {titles}")

        # Play at 8 steps a second, pause, then step to month 24.
        Select(driver.find_element(By.ID, "speed")).select_by_value("8")
        driver.find_element(By.ID, "play").click()
        wait_for(driver, "return window.citysim.stepsDone() >= 6", "playing to month 6")
        driver.find_element(By.ID, "play").click()  # pause
        wait_for(driver, "return !window.citysim.state.playing", "the pause")
        time.sleep(0.5)
        paused_at = steps_done(driver)
        time.sleep(0.6)
        check(steps_done(driver) == paused_at, f"paused: no step after the pause ({paused_at} -> {steps_done(driver)})")
        check(6 <= paused_at < 24, f"paused between months 6 and 24: {paused_at}")
        click_step_until(driver, 24)
        check(steps_done(driver) == 24, f"at month 24: {steps_done(driver)}")
        period = driver.find_element(By.ID, "period").text
        calendar = driver.find_element(By.ID, "calendar").text
        check(period == "Month 24 of 120" and calendar == "year 2, month 12", f"month and year shown: {period!r} {calendar!r}")

        # Move Harbour's productivity from 1.00 to 1.30 with the keyboard (six steps of 0.05).
        productivity = driver.find_element(By.CSS_SELECTOR, "input[data-key='cities.harbour.labour.productivity']")
        productivity.click()
        productivity.send_keys(Keys.HOME)  # the click may have moved it: back to the minimum, 0.8
        for _ in range(10):
            productivity.send_keys(Keys.ARROW_RIGHT)
        wait_for(driver, "return window.citysim.state.moves.length > 0 && "
                         "window.citysim.state.lastControls['cities.harbour.labour.productivity'] === 1.3",
                 "the productivity move to reach the server")
        click_step_until(driver, 30)
        land = driver.find_element(By.CSS_SELECTOR, "input[data-key='cities.harbour.housing.residential_land_share']")
        driver.execute_script("arguments[0].value = 0.03; arguments[0].dispatchEvent(new Event('input'));"
                              "arguments[0].dispatchEvent(new Event('change'));", land)
        wait_for(driver, "return window.citysim.state.lastControls['cities.harbour.housing.residential_land_share'] === 0.03",
                 "the land move")
        driver.save_screenshot(os.path.join(SCREENSHOTS, "serve-two-cities-month-30.png"))

        # Fastest to the end.
        Select(driver.find_element(By.ID, "speed")).select_by_value("0")
        driver.find_element(By.ID, "play").click()
        wait_for(driver, "return window.citysim.stepsDone() === 120 && !window.citysim.state.playing", "the end of the run")
        check(driver.find_element(By.ID, "play").get_attribute("disabled") is not None, "Play is disabled at the end")
        flows = driver.find_elements(By.CSS_SELECTOR, "#map g.flow")
        check(len(flows) <= 1, f"one net arrow at most between two cities: {len(flows)}")
        driver.save_screenshot(os.path.join(SCREENSHOTS, "serve-two-cities-end.png"))
        charted = driver.execute_script("return window.citysim.charted()")

        # Save this run, and replay it.
        driver.find_element(By.ID, "save").click()
        deadline = time.time() + 30
        saved = []
        while time.time() < deadline:
            saved = [p for p in glob.glob(os.path.join(downloads, "*.yaml"))]
            if saved and not glob.glob(os.path.join(downloads, "*.crdownload")):
                break
            time.sleep(0.1)
        check(len(saved) == 1, f"one scenario downloaded: {os.listdir(downloads)}")
        with open(saved[0]) as f:
            scenario = yaml.safe_load(f)
        moves = [(c["start_step"], c["key"], c["value"]) for c in scenario["schedule"]]
        check(moves == [(25, "cities.harbour.labour.productivity", 1.3),
                        (31, "cities.harbour.housing.residential_land_share", 0.03)],
              f"the moves are the saved schedule, from the step after each: {moves}")
        check(scenario["simulation"]["seed"] == 7, f"the seed is saved: {scenario['simulation']['seed']}")
        citysim("run", saved[0], "-o", os.path.join(tmp, "replay.h5"), "-q")
        cities, values = file_values(os.path.join(tmp, "replay.h5"))
        for name in CHARTED:
            for index, city in enumerate(cities):
                points = charted[name][city]
                times = [p[0] for p in points]
                check(times == list(range(121)), f"{name} {city}: charted at every month 0-120")
                got = np.array([p[1] for p in points])
                expected = values[name][:, index]
                check(np.array_equal(got, expected),
                      f"{name} {city}: the chart equals `citysim run` of the saved scenario "
                      f"(first difference at {np.flatnonzero(got != expected)[:1]})")
        # Without the moves the run differs: the check above could fail.
        citysim("run", scenario_path("teaching-two-cities.yaml"), "-o", os.path.join(tmp, "plain.h5"), "-q")
        _, plain = file_values(os.path.join(tmp, "plain.h5"))
        check(not np.array_equal(plain["talent"], values["talent"]), "the moves changed the run")
        check(np.array_equal(plain["talent"][:25], values["talent"][:25]), "... from month 25 on only")
        # A second replay is bit-identical to the first, and every variable of a live run equals its replay.
        citysim("run", saved[0], "-o", os.path.join(tmp, "replay-2.h5"), "-q")
        same = subprocess.run(["h5diff", "--exclude-path", "/provenance", os.path.join(tmp, "replay.h5"),
                               os.path.join(tmp, "replay-2.h5")], capture_output=True, text=True)
        check(same.returncode == 0, f"two replays are identical: {same.stdout[:300]}")
        compared = all_variables_replay(served, tmp, moves)
        check(compared >= 20, f"compared every time-series variable: {compared}")

        # Reset: month 0, the controls as written, no moves.
        driver.find_element(By.ID, "reset").click()
        wait_for(driver, "return window.citysim.stepsDone() === 0 && window.citysim.state.moves.length === 0", "the reset")
        value = driver.find_element(By.CSS_SELECTOR, "input[data-key='cities.harbour.labour.productivity']").get_attribute("value")
        check(float(value) == 1.0, f"reset puts the slider back: {value}")

        # Founders: the rent-and-founders scenario, with a switch; and the China map.
        Select(driver.find_element(By.ID, "scenario")).select_by_visible_text("teaching-rent-and-founders")
        wait_for(driver, "return window.citysim.state.meta.name === 'teaching-rent-and-founders' && window.citysim.ready()",
                 "the founders scenario")
        switch = driver.find_element(By.CSS_SELECTOR, "#controls input[type=checkbox]")
        Select(driver.find_element(By.ID, "speed")).select_by_value("0")
        driver.find_element(By.ID, "play").click()
        wait_for(driver, "return window.citysim.stepsDone() >= 36", "36 months of founding")
        driver.find_element(By.ID, "play").click()
        wait_for(driver, "return !window.citysim.state.playing", "the pause")
        switch.click()
        wait_for(driver, "return window.citysim.state.moves.length === 1", "the switch")
        click_step_until(driver, steps_done(driver) + 12)
        startups = driver.execute_script("return window.citysim.charted().startups")
        check(all(points[-1][1] > 0 for points in startups.values()), f"start-ups are charted: {startups.keys()}")
        driver.save_screenshot(os.path.join(SCREENSHOTS, "serve-rent-and-founders.png"))

        Select(driver.find_element(By.ID, "scenario")).select_by_visible_text("china-2025")
        wait_for(driver, "return window.citysim.state.meta.name === 'china-2025' && window.citysim.ready()", "China")
        check(driver.execute_script("return window.citysim.state.meta.layout") == "map", "China is drawn on the map")
        labels = [t.text for t in driver.find_elements(By.CSS_SELECTOR, "#map .city-name")]
        check(labels == ["Beijing", "Shanghai", "Shenzhen", "Hangzhou", "Guangzhou", "Nanjing"], f"China's labels: {labels}")
        boxes = driver.execute_script(
            "return [...document.querySelectorAll('#map text.halo')].filter(t => t.querySelector('.city-name'))"
            ".map(t => { const b = t.getBBox(); return [b.x, b.y, b.x + b.width, b.y + b.height]; })")
        overlaps = [(i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes))
                    if min(boxes[i][2], boxes[j][2]) > max(boxes[i][0], boxes[j][0])
                    and min(boxes[i][3], boxes[j][3]) > max(boxes[i][1], boxes[j][1])]
        check(not overlaps, f"the city labels do not overlap: {overlaps}")
        click_step_until(driver, 12)
        driver.save_screenshot(os.path.join(SCREENSHOTS, "serve-china.png"))

        # A closed tab frees its run (the page says goodbye; an idle run would also time out).
        run = driver.execute_script("return window.citysim.state.runId")
        driver.switch_to.new_window("tab")
        driver.get(served.url)
        wait_for(driver, "return window.citysim && window.citysim.ready()", "a second tab")
        second = driver.execute_script("return window.citysim.state.runId")
        check(second != run, "each tab has its own run")
        driver.close()
        driver.switch_to.window(driver.window_handles[0])
        # No request of ours to the closed tab's run before then: it would keep the run open.
        time.sleep(9)
        check(served.request("POST", f"/api/runs/{second}/ping")[0] == 410, "closing the tab closed its run")
        check(served.request("POST", f"/api/runs/{run}/ping")[0] == 200, "the first tab's run is still open")
except WebDriverException as error:
    check(False, f"the browser failed: {error}")
finally:
    if driver is not None:
        driver.quit()
    code, out, err = served.stop()
    check(code == 0 and "stopped by signal 2" in out, f"Ctrl-C stops the server cleanly: exit {code}, {out!r} {err[-500:]!r}")

finish()
