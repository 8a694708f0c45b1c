"""Fixtures for the official-SDK compatibility tests.

The mock upstream comes from EDGECHAT_UPSTREAM_URL (set by tests/sdk/run.sh) or is started here with Node.
The edge comes from EDGECHAT_EDGE_URL (+ EDGECHAT_EDGE_UPSTREAM_URL, the mock behind it, and the site credential in
EDGECHAT_EDGE_KEY); tests that need it fail loudly when it is missing rather than skipping.
"""

import json
import os
import pathlib
import subprocess
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
OPENAI_KEY = "sk-test-openai-0000"
ANTHROPIC_KEY = "sk-ant-test-0000"


class Mock:
    """Drives a mock upstream through its HTTP control endpoints."""

    def __init__(self, url):
        self.url = url.rstrip("/")

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as res:
            return json.loads(res.read())

    def queue(self, scenario, **opts):
        return self._call("POST", "/__mock/queue", {"scenario": scenario, **opts})

    def requests(self):
        return self._call("GET", "/__mock/requests")

    def reset(self):
        return self._call("POST", "/__mock/reset", {})


@pytest.fixture(scope="session")
def upstream_url():
    url = os.environ.get("EDGECHAT_UPSTREAM_URL")
    if url:
        yield url
        return
    proc = subprocess.Popen(
        ["node", str(ROOT / "tests/upstream/server.mjs"), "--port", "0", "--delay-ms", "1"],
        stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith("mock upstream ready at "):
        proc.kill()
        raise RuntimeError(f"mock upstream did not start: {line!r}")
    yield line.rsplit(" ", 1)[1]
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture()
def mock(upstream_url):
    m = Mock(upstream_url)
    m.reset()
    return m


def _require_env(name):
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: run the edge tests through tests/sdk/run.sh, which starts the edge")
    return value


@pytest.fixture(scope="session")
def edge():
    """{url, key, upstream} for the running edge (started by run.sh's launcher)."""
    return {
        "url": _require_env("EDGECHAT_EDGE_URL").rstrip("/"),
        "key": _require_env("EDGECHAT_EDGE_KEY"),
        "upstream": _require_env("EDGECHAT_EDGE_UPSTREAM_URL"),
    }


@pytest.fixture()
def edge_mock(edge):
    m = Mock(edge["upstream"])
    m.reset()
    return m
