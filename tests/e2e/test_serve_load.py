"""Thirty browser tabs at once: 30 clients each play a teaching run to the end through `citysim serve`, one
step a request (the page at a normal speed); none fails, each run is independent and reproducible (clients
with the same seed get the same numbers, whatever else the server does meanwhile), and the time per step is
printed (server CPU time, and each client's wall time per request) for docs/performance.md. Then: runs over
--max-runs are refused with a 503 and a reason, and an idle run (a tab closed without a word) is closed
after --idle-timeout."""
import os
import statistics
import subprocess
import threading
import time

from common import BINARY, check, finish
from serving import Client, Served, cpu_seconds, scenario_path

CLIENTS = 30
STEPS = 120


def play(served, seed, out):
    """One client: a run, played to the end a step at a time; records (final talent, seconds per request)."""
    tab = Client(served)
    try:
        status, body = tab.request("POST", "/api/runs", {"scenario": 0, "seed": seed, "variables": "talent,rent"})
        if status != 200:
            out["error"] = f"open: {status} {body}"
            return
        run, latencies, last = body["run"], [], None
        while True:
            began = time.perf_counter()
            status, answer = tab.request("POST", f"/api/runs/{run}/step", {"count": 1})
            latencies.append(time.perf_counter() - began)
            if status != 200:
                out["error"] = f"step: {status} {answer}"
                return
            if answer["records"]:
                last = answer["records"][-1]
            if answer["done"]:
                break
        tab.request("POST", f"/api/runs/{run}/close")
        out.update(steps=answer["steps_done"], last=last, latencies=latencies)
    except Exception as error:  # noqa: BLE001 - a failing client is reported, not raised in its thread
        out["error"] = repr(error)
    finally:
        tab.close()


def session(served, count):
    results = [{} for _ in range(count)]
    # Two seeds: runs with the same seed must agree exactly, runs with another seed differ.
    threads = [threading.Thread(target=play, args=(served, 7 if k % 2 == 0 else 8, results[k])) for k in range(count)]
    cpu_before, began = cpu_seconds(served.process.pid), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    return results, cpu_seconds(served.process.pid) - cpu_before, time.perf_counter() - began


served = Served(scenario_path("teaching-two-cities.yaml"), "--max-runs", "40")
try:
    alone, alone_cpu, alone_wall = session(served, 1)
    check("error" not in alone[0], f"one client plays to the end: {alone[0].get('error')}")
    results, cpu, wall = session(served, CLIENTS)
    failed = [r.get("error") for r in results if "error" in r]
    check(not failed, f"none of {CLIENTS} clients failed: {failed[:3]}")
    check(all(r.get("steps") == STEPS for r in results), "every client played its run to the end")
    finals = {}
    for k, r in enumerate(results):
        if "last" in r:
            finals.setdefault(7 if k % 2 == 0 else 8, []).append(r["last"]["values"])
    check(all(v == finals[7][0] for v in finals.get(7, [])) and all(v == finals[8][0] for v in finals.get(8, [])),
          "runs of the same seed are identical under load")
    check(finals.get(7) and finals.get(8) and finals[7][0] != finals[8][0], "runs of another seed differ")
    latencies = sorted(x for r in results for x in r.get("latencies", []))
    steps = CLIENTS * STEPS
    load = os.getloadavg()
    print(f"1 client: {1000 * alone_cpu / STEPS:.2f} ms server CPU per step, "
          f"{1000 * statistics.median(alone[0]['latencies']):.2f} ms median per request")
    print(f"{CLIENTS} clients at once: {steps} steps in {wall:.1f} s wall; server CPU {cpu:.2f} s = "
          f"{1000 * cpu / steps:.2f} ms per step; per request (one step) median "
          f"{1000 * statistics.median(latencies):.1f} ms, 95th percentile "
          f"{1000 * latencies[int(0.95 * len(latencies))]:.1f} ms, max {1000 * latencies[-1]:.1f} ms; "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)")
    status, body = served.request("GET", "/api/scenarios")
    check(status == 200, f"the server serves after the load: {status}")
finally:
    code, out, err = served.stop()
    check(code == 0, f"Ctrl-C stops the server after the load: exit {code} {err[-300:]}")

# Limits: runs beyond --max-runs are refused with the reason; an idle run closes after --idle-timeout.
served = Served(scenario_path("teaching-two-cities.yaml"), "--max-runs", "2", "--idle-timeout", "5")
try:
    # A second server on a port in use says so and stops, rather than sharing the port.
    second = subprocess.run([BINARY, "serve", scenario_path("teaching-two-cities.yaml"), "--port", str(served.port)],
                            capture_output=True, text=True, timeout=60)
    check(second.returncode == 1 and "in use" in second.stderr, f"a second server on the same port: {second}")
    first = served.request("POST", "/api/runs")[1]["run"]
    served.request("POST", "/api/runs")
    status, body = served.request("POST", "/api/runs")
    check(status == 503 and "--max-runs" in body.get("error", ""), f"a third run over --max-runs 2: {status} {body}")
    time.sleep(7)
    status, body = served.request("POST", f"/api/runs/{first}/ping")
    check(status == 410 and "idle" in body.get("error", ""), f"a run idle for 7 s of 5 is closed: {status} {body}")
    status, body = served.request("POST", "/api/runs")
    check(status == 200, f"... which frees its place: {status} {body}")
finally:
    code, out, err = served.stop()
    check(code == 0, f"Ctrl-C: exit {code}")

finish()
