"""Drive the dashboard in Debian's chromium: shared by tests/test_browser.py and
scripts/screenshot.py.

Nothing here downloads a browser: chromium is the one the system has (``/usr/bin/chromium`` or
``chromium`` on PATH). Only 127.0.0.1 is contacted. The map's JavaScript normally comes from
public CDNs (streamlit-folium loads Leaflet, d3, jQuery, Bootstrap by URL); here every request
that leaves 127.0.0.1 is answered inside the browser: Leaflet and d3 from Debian's
``libjs-leaflet`` / ``libjs-d3`` (and jQuery from ``libjs-jquery``), other scripts and style
sheets with an empty body, map tiles not at all (the map background stays grey).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT_DIR = REPO_ROOT / "screenshots"

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 1000}

#: The iframe in which streamlit-folium draws the map.
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'

JS_DIR = Path("/usr/share/javascript")
#: CDN file name (last path part) -> local copy. d3 v3 serves both d3 links: branca's legend
#: is written for the v3 API and streamlit-folium loads v3 last anyway.
LOCAL_ASSETS: dict[str, Path] = {
    "leaflet.js": JS_DIR / "leaflet" / "leaflet.js",
    "leaflet.css": JS_DIR / "leaflet" / "leaflet.css",
    "d3.min.js": JS_DIR / "d3" / "d3.min.js",
    "d3.v4.min.js": JS_DIR / "d3" / "d3.min.js",
    "jquery-3.7.1.min.js": JS_DIR / "jquery" / "jquery.min.js",
}
#: Without these the map cannot be drawn at all offline.
REQUIRED_ASSETS = ("leaflet.js", "leaflet.css", "d3.min.js")
CONTENT_TYPES = {".js": "application/javascript", ".css": "text/css", ".png": "image/png",
                 ".svg": "image/svg+xml"}
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def chromium_path() -> str | None:
    """Debian's chromium, or None when the machine has none."""
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def missing_assets() -> list[str]:
    """Local copies of the map's JavaScript that are absent (Debian packages to install)."""
    return [str(LOCAL_ASSETS[n]) for n in REQUIRED_ASSETS if not LOCAL_ASSETS[n].is_file()]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Dashboard:
    """A running ``streamlit run app.py``."""

    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End the server and everything it started (its own process group)."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def dashboard(port: int | None = None, *, timeout: float = 90.0,
              env: dict[str, str] | None = None) -> Iterator[Dashboard]:
    """Start the dashboard on 127.0.0.1, wait for /_stcore/health, stop it afterwards."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true",
           f"--server.port={port}", "--server.address=127.0.0.1",
           "--browser.gatherUsageStats=false"]
    fd, log_name = tempfile.mkstemp(prefix="ontmoet-streamlit-", suffix=".log")
    log = Path(log_name)
    with os.fdopen(fd, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})},
                                start_new_session=True)
    app = Dashboard(url=url, proc=proc, log=log)
    try:
        deadline = time.monotonic() + timeout
        while not _healthy(url):
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{app.log_tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no answer on {url}/_stcore/health after {timeout:.0f} s:\n"
                                   f"{app.log_tail()}")
            time.sleep(0.3)
        yield app
    finally:
        _stop(proc)
        with contextlib.suppress(OSError):
            log.unlink()


@dataclass
class OfflineLog:
    """What the browser asked of the outside world, and how it was answered."""

    local: list[str] = field(default_factory=list)
    stubbed: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)


def _offline_route(log: OfflineLog):
    def handle(route: Any) -> None:
        req = route.request
        parts = urlsplit(req.url)
        if parts.scheme in ("data", "blob", "about") or parts.hostname in LOCAL_HOSTS:
            route.continue_()
            return
        name = parts.path.rsplit("/", 1)[-1]
        local = LOCAL_ASSETS.get(name)
        if local is None and "/leaflet" in parts.path and "/images/" in parts.path:
            local = JS_DIR / "leaflet" / "images" / name
        if local is not None and local.is_file():
            log.local.append(req.url)
            route.fulfill(status=200, path=str(local),
                          content_type=CONTENT_TYPES.get(local.suffix, "application/octet-stream"),
                          headers={"Access-Control-Allow-Origin": "*"})
        elif req.resource_type in ("script", "stylesheet"):
            log.stubbed.append(req.url)
            ctype = "text/css" if req.resource_type == "stylesheet" else "application/javascript"
            route.fulfill(status=200, body="", content_type=ctype)
        else:
            log.blocked.append(req.url)
            route.abort("internetdisconnected")

    return handle


@contextlib.contextmanager
def browser(playwright: Any, *, viewport: dict[str, int] | None = None
            ) -> Iterator[tuple[Any, OfflineLog]]:
    """A fresh chromium context (own temporary profile) that never leaves 127.0.0.1."""
    exe = chromium_path()
    if exe is None:
        raise RuntimeError("no chromium on this machine (apt-get install chromium)")
    log = OfflineLog()
    with tempfile.TemporaryDirectory(prefix="ontmoet-chromium-") as profile:
        # headless=False: the headless mode comes from our own --headless=new
        ctx = playwright.chromium.launch_persistent_context(
            profile, executable_path=exe, headless=False, args=CHROMIUM_ARGS,
            viewport=viewport or VIEWPORT, locale="nl-NL", timezone_id="Europe/Amsterdam",
        )
        try:
            ctx.route("**/*", _offline_route(log))
            yield ctx, log
        finally:
            ctx.close()


def map_frame(page: Any, timeout_ms: float = 60_000) -> Any:
    """The streamlit-folium iframe's frame, once it exists."""
    handle = page.wait_for_selector(MAP_IFRAME, state="attached", timeout=timeout_ms)
    frame = handle.content_frame()
    if frame is None:
        raise RuntimeError("map iframe has no frame")
    return frame


#: Per feature drawn on the map's canvas(es) or as SVG paths: count of painted pixels.
_PAINTED_JS = """() => {
  let painted = 0, canvases = 0;
  for (const c of document.querySelectorAll('.leaflet-pane canvas')) {
    canvases += 1;
    if (!c.width || !c.height) continue;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < d.length; i += 4 * 7) if (d[i] > 0) painted += 1;
  }
  const paths = document.querySelectorAll('.leaflet-pane svg path').length;
  return {painted, canvases, paths};
}"""


def drawn_features(frame: Any) -> dict[str, int]:
    """How much of the map's vector layers is actually painted."""
    return dict(frame.evaluate(_PAINTED_JS))


def wait_for_map(page: Any, timeout_ms: float = 60_000) -> Any:
    """Wait until the map is fully drawn: Leaflet, polygons, both legends, layer control."""
    frame = map_frame(page, timeout_ms)
    for sel in (".leaflet-container", ".leaflet-control-layers", ".ok-categories", ".ok-share"):
        frame.wait_for_selector(sel, state="attached", timeout=timeout_ms)
    frame.wait_for_function(
        """() => [...document.querySelectorAll('.leaflet-pane canvas')].some(c => {
             if (!c.width || !c.height) return false;
             const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
             for (let i = 3; i < d.length; i += 4 * 101) if (d[i] > 0) return true;
             return false;
           }) || document.querySelector('.leaflet-pane svg path') !== null""",
        timeout=timeout_ms,
    )
    return frame


def wait_for_app(page: Any, timeout_ms: float = 60_000) -> None:
    """Wait until streamlit has rendered the title and finished running the script."""
    # script finished, and no element still a skeleton (lazily loaded ones such as dataframes)
    page.wait_for_function(
        """() => document.querySelector(
                   '[data-testid="stApp"][data-test-script-state="notRunning"]')
                 && !document.querySelector('[data-testid="stSkeleton"]')""",
        timeout=timeout_ms,
    )
    page.get_by_role("heading", name="Ontmoetingskaart").first.wait_for(timeout=timeout_ms)


def screenshot_full(page: Any, out: Path, *, width: int = VIEWPORT["width"]) -> Path:
    """Screenshot of the whole app. Streamlit scrolls inside its own container, so a
    full-page shot would stop at the viewport: grow the viewport to the content first."""
    height = page.evaluate(
        """() => {
             const el = document.querySelector('[data-testid="stMain"]')
               || document.querySelector('section.main');
             return el ? el.scrollHeight : document.body.scrollHeight;
           }"""
    )
    page.set_viewport_size({"width": width, "height": max(VIEWPORT["height"], int(height))})
    page.wait_for_timeout(500)  # let Leaflet redraw after the resize
    out.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out), full_page=True)
    return out


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "pagina"


def open_page(ctx: Any, url: str, shot: str, *, wrap=None, timeout_ms: float = 60_000):
    """Open ``url`` in a new page of ``ctx``, wait for the app, yield the page (or
    ``wrap(page)``, created before the page loads, e.g. to listen for dialogs), and always save
    a screenshot to ``SCREENSHOT_DIR / shot`` (also on failure: the picture explains it)."""
    page = ctx.new_page()
    value = wrap(page) if wrap is not None else page
    try:
        page.goto(url, wait_until="domcontentloaded")
        wait_for_app(page, timeout_ms)
        yield value
    finally:
        with contextlib.suppress(Exception):
            screenshot_full(page, SCREENSHOT_DIR / shot)
        page.close()


def whole_map_in_view(page: Any) -> None:
    """Scroll the page so the whole map is inside the viewport. A click on a map that sticks
    out of the viewport focuses its iframe on mouse-down, which scrolls the page before the
    mouse-up: the click then lands that many pixels away from the marker that was under the
    mouse (the notes above the map push it down on areas without buurten or inwoners)."""
    page.locator(MAP_IFRAME).evaluate("f => f.scrollIntoView({block: 'center'})")
    box = page.locator(MAP_IFRAME).bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"], box
