"""Helpers for the tests of `citysim serve`: start the server on a free port, talk to its API."""
import http.client
import json
import os
import re
import signal
import subprocess
import time
import urllib.parse

from common import BINARY, SOURCE


class Served:
    """`citysim serve ARGS --port 0` in the background, from the repository root; stop() sends Ctrl-C."""

    def __init__(self, *args):
        self.process = subprocess.Popen([BINARY, "serve", *args, "--port", "0"], cwd=SOURCE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self.banner = []
        deadline = time.time() + 60
        while time.time() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise AssertionError(f"citysim serve exited {self.process.wait()}: {self.process.stderr.read()}")
            self.banner.append(line)
            found = re.search(r"open (http://([\d.]+):(\d+)/)", line)
            if found:
                self.url, self.host, self.port = found.group(1), found.group(2), int(found.group(3))
                return
        raise AssertionError("citysim serve printed no address in 60 s")

    def request(self, method, path, params=None, raw=False):
        """(status, parsed JSON or text) of one request on a new connection."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        query = "?" + urllib.parse.urlencode(params) if params else ""
        connection.request(method, path + query, body=b"" if method == "POST" else None)
        response = connection.getresponse()
        body = response.read().decode()
        connection.close()
        if raw or not response.getheader("Content-Type", "").startswith("application/json"):
            return response.status, body
        return response.status, json.loads(body)

    def stop(self, timeout=20):
        """Ctrl-C; returns (exit code, stdout, stderr)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            out, err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate()
            return None, out, err
        return self.process.returncode, out, err


class Client:
    """One browser tab's connection: kept alive between requests, opened again when the server closed it."""

    def __init__(self, served):
        self.served = served
        self.connection = None

    def request(self, method, path, params=None):
        query = "?" + urllib.parse.urlencode(params) if params else ""
        for attempt in (0, 1):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.served.host, self.served.port, timeout=60)
            try:
                self.connection.request(method, path + query, body=b"" if method == "POST" else None)
                response = self.connection.getresponse()
                body = response.read().decode()
                return response.status, json.loads(body) if body else None
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()
                self.connection = None
                if attempt:
                    raise

    def close(self):
        if self.connection is not None:
            self.connection.close()


def cpu_seconds(pid):
    """User + system CPU time of a process so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scenario_path(name):
    return os.path.join(SOURCE, "scenarios", name)
