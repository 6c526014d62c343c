"""Load test of the dashboard: concurrent sessions changing profiles and adding scenario places.

    .venv/bin/python scripts/load_test.py                      # 10 sessions, 60 s
    .venv/bin/python scripts/load_test.py --sessions 2 --seconds 15

Starts ``streamlit run app.py`` on a free 127.0.0.1 port with the area ``--area`` (default the
Helsinki demo), opens one page per session in Debian's chromium (one browser, a context per
session, no internet: see tests/browser_util.py) and, for ``--seconds``, drives every session
round-robin through: choose another mobility profile in the sidebar (done when the page shows
the new walking limit and the script has finished), click the map (done when the "Nieuwe plek
op …" or "Sluit: …" button shows) and press "Nieuwe plek op …" (done when the scenario count on
"Scenario wissen (…)" went up). Without chromium the sessions are Streamlit AppTest threads
doing the same through the widgets and session state.

Errors: a Streamlit exception shown on a page, an action not done within ``--timeout``, or a
browser error. Prints p50/p95 response time per action and a final line
``load: sessions=<n> actions=<n> errors=<n> p95_s=<x>``; exits 1 when there were errors (or no
action finished). The server is always stopped.
"""

from __future__ import annotations

import argparse
import math
import random
import signal
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.browser_util import (  # noqa: E402
    CHROMIUM_ARGS,
    MAP_IFRAME,
    OfflineLog,
    _offline_route,
    chromium_path,
    dashboard,
    wait_for_app,
    wait_for_map,
)

DEMO = "demo-helsinki"
#: Keep pages that are not in front from being throttled (ten tabs share one browser).
BACKGROUND_ARGS = ["--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                   "--disable-backgrounding-occluded-windows"]
VIEWPORT = {"width": 1400, "height": 1500}
#: A new action starts when the page has shown no running script for this long: the map
#: reports its view after it is drawn, which makes the app run once more.
QUIET_S = 1.0

#: Runs in every page: the wall-clock time (ms) at which the app last finished a script run, so
#: a response time does not include how long the driver took to look at this page again.
_IDLE_MARK_JS = """(() => {
  new MutationObserver(() => {
    const app = document.querySelector('[data-testid="stApp"]');
    const state = app && app.getAttribute('data-test-script-state');
    if (state !== window.__okState) {
      window.__okState = state;
      if (state === 'notRunning') window.__okIdleAt = Date.now();
    }
  }).observe(document, {subtree: true, attributes: true,
                        attributeFilter: ['data-test-script-state']});
})();"""

#: A cheap look (no layout): is a script running, and when did the last run end. Read many
#: times a second; the page's text (:data:`_POLL_JS`, which makes chromium lay out the page)
#: only once the app is idle, so the driver's own CPU does not crowd the pages it measures.
_STATE_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return {
    state: app ? app.getAttribute('data-test-script-state') : null,
    idleAt: window.__okIdleAt || 0,
    skeleton: !!document.querySelector('[data-testid="stSkeleton"]'),
  };
}"""

_POLL_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const main = document.querySelector('[data-testid="stMain"]');
  const buttons = [...document.querySelectorAll('button')].map(b => b.innerText.trim());
  return {
    state: app ? app.getAttribute('data-test-script-state') : null,
    idleAt: window.__okIdleAt || 0,
    main: main ? main.innerText.slice(0, 4000) : '',
    exceptions: document.querySelectorAll('[data-testid="stException"]').length,
    skeleton: !!document.querySelector('[data-testid="stSkeleton"]'),
    wis: buttons.find(t => t.startsWith('Scenario wissen')) || '',
    add: buttons.some(t => t.startsWith('Nieuwe plek op')),
    close: buttons.some(t => t.startsWith('Sluit:')),
  };
}"""


@dataclass
class Stats:
    times: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def done(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.times.setdefault(kind, []).append(seconds)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)
        print(f"FOUT: {text}", flush=True)

    @property
    def actions(self) -> int:
        return sum(len(v) for v in self.times.values())

    def all_times(self) -> list[float]:
        return [t for v in self.times.values() for t in v]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0–100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def _scenario_count(wis: str) -> int:
    """'Scenario wissen (2 nieuwe plekken)' -> 2; no button -> 0."""
    digits = "".join(ch if ch.isdigit() else " " for ch in wis).split()
    return int(digits[0]) if digits else 0


# --------------------------------------------------------------------------- browser
class BrowserSession:
    """One page driven as a small state machine, so ten pages advance in one thread."""

    def __init__(self, n: int, page: Any, profiles: list[str], stats: Stats,
                 timeout_s: float) -> None:
        self.n, self.page, self.profiles, self.stats = n, page, profiles, stats
        self.timeout_s = timeout_s
        self.rng = random.Random(n)
        self.step = 0
        self.kind: str | None = None
        self.t0 = 0.0
        self.expect: Any = None
        self.seen_exceptions = 0
        self.verbose = False
        self.quiet_since: float | None = None

    def _poll(self) -> dict:
        return self.page.evaluate(_POLL_JS)

    def _look(self) -> dict:
        """The script state; the page's text too (:meth:`_poll`) once no script runs."""
        s = self.page.evaluate(_STATE_JS)
        if s["state"] == "notRunning" and not s["skeleton"] and (
                self.kind is not None or self.quiet_since is None):
            return self._poll()
        return s | {"exceptions": self.seen_exceptions}

    def start(self) -> None:
        """Begin the next action."""
        cycle = self.step % 2
        self.step += 1
        if cycle == 0:
            label = self.profiles[(self.step + self.n) % len(self.profiles)]
            if self._shows(label, self._poll()):
                label = self.profiles[(self.step + self.n + 1) % len(self.profiles)]
            box = self.page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]')
            box.filter(has_text="Mobiliteitsprofiel").first.click()
            self.page.get_by_role("option", name=label, exact=True).first.click()
            self.kind, self.expect = "profiel", label
        else:
            frame_box = self.page.locator(MAP_IFRAME).bounding_box()
            x = frame_box["x"] + frame_box["width"] * self.rng.uniform(0.4, 0.6)
            y = frame_box["y"] + frame_box["height"] * self.rng.uniform(0.4, 0.6)
            self.page.mouse.click(x, y)
            self.kind = "kaartklik"
        self.t0 = time.time()

    @staticmethod
    def _shows(label: str, s: dict) -> bool:
        """The page's result caption ('<gebied> · <profiel>: 3 km/u × …') is for ``label``."""
        return f"· {label}:" in s["main"]

    def _finished(self, s: dict) -> bool:
        if s["state"] != "notRunning" or s["skeleton"]:
            return False
        if self.kind == "profiel":
            return self._shows(self.expect, s)
        if self.kind == "kaartklik":
            return s["add"] or s["close"]
        if self.kind == "scenario":
            return _scenario_count(s["wis"]) > self.expect
        return True

    def advance(self) -> None:
        """Check the running action; start the next one when it is done."""
        s = self._look()
        if self.kind is None:  # start once the page has been quiet for a moment
            quiet = s["state"] == "notRunning" and not s["skeleton"]
            if not quiet:
                self.quiet_since = None
            elif self.quiet_since is None:
                self.quiet_since = time.monotonic()
            elif time.monotonic() - self.quiet_since >= QUIET_S:
                self.start()
            return
        if s["exceptions"] > self.seen_exceptions:
            self.stats.error(f"sessie {self.n}: Streamlit-fout op de pagina na {self.kind}")
            self.seen_exceptions = s["exceptions"]
        if self._finished(s):
            took = max(s["idleAt"] / 1000 - self.t0, 0.0)  # wall clock, same machine
            self.stats.done(self.kind, took)
            if self.verbose:
                print(f"sessie {self.n}: {self.kind} {took:.2f} s (gezien na "
                      f"{time.time() - self.t0:.2f} s)", flush=True)
            if self.kind == "kaartklik" and s["add"]:
                self.expect = _scenario_count(s["wis"])
                self.page.get_by_role("button", name="Nieuwe plek op").first.click()
                self.kind, self.t0 = "scenario", time.time()
            else:
                self.kind, self.quiet_since = None, None
        elif time.time() - self.t0 > self.timeout_s:
            self.stats.error(f"sessie {self.n}: {self.kind} niet klaar na {self.timeout_s:g} s")
            self.page.reload()
            wait_for_app(self.page, 120_000)
            self.seen_exceptions = 0
            self.kind = None


def run_browser(url: str, args: argparse.Namespace, stats: Stats) -> None:
    from playwright.sync_api import sync_playwright

    from geo.profiles import load_profiles

    profiles, _ = load_profiles()
    choices = [p.label for p in profiles.values()]
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=chromium_path(), headless=False,
                                      args=CHROMIUM_ARGS + BACKGROUND_ARGS)
        try:
            sessions = []
            for n in range(args.sessions):
                ctx = chromium.new_context(viewport=VIEWPORT, locale="nl-NL")
                ctx.set_default_timeout(args.timeout * 1000)
                ctx.route("**/*", _offline_route(OfflineLog()))
                ctx.add_init_script(_IDLE_MARK_JS)
                page = ctx.new_page()
                page.goto(f"{url}/?gebied={args.area}", wait_until="domcontentloaded")
                sessions.append(BrowserSession(n, page, choices, stats, args.timeout))
                sessions[-1].verbose = args.verbose
            for s in sessions:  # all pages open: wait until each has drawn its map
                wait_for_app(s.page, 180_000)
                wait_for_map(s.page, 180_000)
            print(f"{len(sessions)} sessies geopend; belasting gedurende {args.seconds:g} s",
                  flush=True)
            end = time.monotonic() + args.seconds
            while time.monotonic() < end:
                for s in sessions:
                    try:
                        s.advance()
                    except Exception as exc:  # a browser error is a load-test error
                        stats.error(f"sessie {s.n}: {type(exc).__name__}: "
                                    f"{str(exc).splitlines()[0][:200]}")
                        s.kind = None
                time.sleep(0.05)
        finally:
            chromium.close()


# --------------------------------------------------------------------------- AppTest
def run_apptest(args: argparse.Namespace, stats: Stats) -> None:
    """Fallback without chromium: one AppTest per session in its own thread."""
    from streamlit.testing.v1 import AppTest

    from geo.profiles import load_profiles
    from layers.analysis import prepare, run
    from layers.datasets import discover
    from layers.scenario import AddedPlace, Scenario

    profile_ids = list(load_profiles()[0])
    area = next(a for a in discover() if a.id == args.area)
    origins = run(prepare(area), load_profiles()[0][profile_ids[0]]).origins
    end = time.monotonic() + args.seconds

    def one(n: int) -> None:
        rng = random.Random(n)
        at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=args.timeout)
        at.query_params["gebied"] = args.area
        at.run()
        step = 0
        while time.monotonic() < end:
            t0 = time.monotonic()
            try:
                if step % 2 == 1:
                    o = origins.iloc[rng.randrange(len(origins))]
                    sc = at.session_state["scenario"] if "scenario" in at.session_state \
                        else Scenario()
                    at.session_state["scenario"] = sc.add(AddedPlace(float(o.x), float(o.y)))
                    at.run()
                    kind = "scenario"
                else:
                    pid = profile_ids[(step + n) % len(profile_ids)]
                    at.sidebar.selectbox(key="profiel").set_value(pid).run()
                    kind = "profiel"
            except Exception as exc:
                stats.error(f"sessie {n}: {type(exc).__name__}: {exc}")
                return
            if at.exception:
                stats.error(f"sessie {n}: Streamlit-fout: {at.exception[0].message}")
            else:
                stats.done(kind, time.monotonic() - t0)
            step += 1

    threads = [threading.Thread(target=one, args=(n,), daemon=True) for n in range(args.sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(args.seconds + 2 * args.timeout)


# --------------------------------------------------------------------------- main
def report(stats: Stats, sessions: int) -> int:
    for kind, values in sorted(stats.times.items()):
        print(f"{kind:10s} n={len(values):4d}  p50={percentile(values, 50):.2f} s  "
              f"p95={percentile(values, 95):.2f} s  max={max(values):.2f} s")
    times = stats.all_times()
    if times:
        print(f"alle acties: mediaan {statistics.median(times):.2f} s")
    errors = len(stats.errors) + (0 if times else 1)
    print(f"load: sessions={sessions} actions={stats.actions} errors={errors} "
          f"p95_s={percentile(times, 95):.2f}", flush=True)
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=10, help="concurrent sessions (10)")
    ap.add_argument("--seconds", type=float, default=60.0, help="duration of the load (60)")
    ap.add_argument("--area", default=DEMO, help=f"area id (default {DEMO})")
    ap.add_argument("--timeout", type=float, default=30.0,
                    help="seconds before an action counts as an error (30)")
    ap.add_argument("--mode", choices=("auto", "browser", "apptest"), default="auto",
                    help="browser (chromium), apptest (no browser) or auto")
    ap.add_argument("--verbose", action="store_true", help="print every action")
    args = ap.parse_args(argv)
    if args.sessions < 1 or args.seconds <= 0 or args.timeout <= 0:
        ap.error("--sessions, --seconds and --timeout must be positive")
    mode = args.mode
    if mode == "auto":
        mode = "browser" if chromium_path() else "apptest"
    if mode == "browser" and chromium_path() is None:
        ap.error("geen chromium op deze machine (apt-get install chromium)")
    # SIGTERM (e.g. a CI timeout) unwinds like Ctrl-C, so the server is stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    stats = Stats()
    print(f"modus: {mode}", flush=True)
    if mode == "apptest":
        run_apptest(args, stats)
    else:
        with dashboard(timeout=120) as app:
            print(f"dashboard op {app.url}", flush=True)
            run_browser(app.url, args, stats)
    return report(stats, args.sessions)


if __name__ == "__main__":
    sys.exit(main())
