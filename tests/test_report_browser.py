"""reports/index.html in a real browser: headless Chromium over the DevTools protocol
(``--remote-debugging-pipe``, standard library only). Every image must load, every
in-page link must resolve and the console must stay free of errors. Skips, saying so,
where no Chromium is installed (.ci/run installs Debian's ``chromium``)."""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from pipeline.cli import main as cli_main
from tests.conftest import MEMOS

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHECKS = """
(() => {
  const images = [...document.images].map(i => ({alt: i.alt, ok: i.complete && i.naturalWidth > 0}));
  const links = [...document.querySelectorAll('a[href^="#"]')].map(a => a.getAttribute('href').slice(1));
  const missing = links.filter(id => !document.getElementById(decodeURIComponent(id)));
  const external = [...document.querySelectorAll('[src], [href]')]
    .map(e => e.getAttribute('src') || e.getAttribute('href'))
    .filter(u => !u.startsWith('#') && !u.startsWith('data:'));
  const units = links.filter(id => /-u[0-9]+$/.test(id));
  return JSON.stringify({images, links: links.length, units: units.length, missing, external,
                         scripts: [...document.scripts].map(s => s.src), title: document.title});
})()
"""
# Click the share cell of the last theme in the last conference: its list of units must
# show, each unit with its text, each linking to the unit in its (collapsed) document.
CLICK = """
(() => {
  const cells = [...document.querySelectorAll('a[href^="#units-theme-"]')];
  const cell = cells[cells.length - 1];
  const list = document.getElementById(cell.getAttribute('href').slice(1));
  const before = list.offsetHeight;
  cell.click();
  const units = [...list.querySelectorAll('li > a')];
  const first = units.length ? document.getElementById(units[0].getAttribute('href').slice(1)) : null;
  if (units.length) units[0].click();
  return JSON.stringify({cell: cell.textContent, before, after: list.offsetHeight, units: units.length,
                         texts: [...list.querySelectorAll('li')].map(li => li.textContent),
                         opened: first !== null && first.closest('details').open,
                         unitText: first ? first.textContent : ''});
})()
"""


def find_browser() -> str | None:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


class DevTools:
    """The DevTools protocol over the pipes Chromium opens as fds 3 (in) and 4 (out)."""

    def __init__(self, browser: str, profile: Path) -> None:
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # move the child's ends above any fd the shell redirections below could clobber
        child_in = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 20)
        child_out = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 20)
        os.close(to_child_r)
        os.close(from_child_w)
        flags = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--remote-debugging-pipe",
            "--window-size=1280,1800", "about:blank",
        ]  # fmt: skip
        # bash, not sh: dash cannot redirect file descriptors above 9
        self.proc = subprocess.Popen(
            [
                shutil.which("bash") or "/bin/bash",
                "-c",
                f'exec "$0" "$@" 3<&{child_in} 4>&{child_out} {child_in}<&- {child_out}>&-',
                browser,
                *flags,
            ],
            pass_fds=(child_in, child_out),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(child_in)
        os.close(child_out)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from the browser")
            ready, _, _ = select.select([self._from_child], [], [], left)
            if ready:
                chunk = os.read(self._from_child, 1 << 16)
                if not chunk:
                    raise RuntimeError("the browser closed the DevTools pipe")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(
        self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 30
    ) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._read_message(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.call("Browser.close", timeout=5)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        os.close(self._to_child)
        os.close(self._from_child)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("browser")
    args = ["run", "--jobs", "1", f"--raw={MEMOS}"]
    assert cli_main([*args, f"--processed={base / 'processed'}", f"--reports={base / 'reports'}"]) == 0
    return base / "reports" / "index.html"


def test_report_opens_from_disk_with_images_links_and_no_errors(report: Path, tmp_path: Path):
    browser = find_browser()
    if browser is None:
        pytest.skip(
            f"no headless browser found on PATH (looked for {', '.join(BROWSERS)}); "
            "install Debian's chromium to run this test"
        )
    tools = DevTools(browser, tmp_path / "profile")
    try:
        targets = tools.call("Target.getTargets")["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        session = tools.call("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log"):
            tools.call(f"{domain}.enable", session=session)
        tools.events.clear()
        tools.call("Page.navigate", {"url": report.resolve().as_uri()}, session=session)
        tools.wait_for("Page.loadEventFired", timeout=60)
        result = tools.call(
            "Runtime.evaluate", {"expression": CHECKS, "returnByValue": True}, session=session
        )
        checks = json.loads(result["result"]["value"])
        clicked = tools.call(
            "Runtime.evaluate", {"expression": CLICK, "returnByValue": True}, session=session
        )
        click = json.loads(clicked["result"]["value"])
        shot = tools.call("Page.captureScreenshot", {"format": "png"}, session=session)
        (tmp_path / "report.png").write_bytes(base64.b64decode(shot["data"]))
        errors = [
            e for e in tools.events
            if e.get("method") == "Runtime.exceptionThrown"
            or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] in {"error", "assert"})
            or (e.get("method") == "Log.entryAdded" and e["params"]["entry"].get("level") == "error")
        ]  # fmt: skip
    finally:
        tools.close()

    assert len(checks["images"]) == 5
    assert all(image["ok"] for image in checks["images"]), checks["images"]
    assert checks["units"] > 20  # the page cites units ...
    assert checks["missing"] == []  # ... and every link lands inside the page
    assert checks["external"] == []  # nothing from the network or the disk beside it
    assert checks["scripts"] == [""]  # one inline script, nothing loaded
    assert click["before"] == 0 and click["after"] > 0  # the list opens on click
    n_units = int(click["cell"].split("(")[1].split(")")[0])  # "36% (9)": nine units
    assert click["units"] == n_units > 0
    assert all(len(text) > 40 for text in click["texts"])  # each unit with its text
    assert click["opened"] and click["unitText"]  # and the unit shows in its document
    assert errors == []
    assert (tmp_path / "report.png").stat().st_size > 10_000
