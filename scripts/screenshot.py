"""Screenshot of the dashboard in Debian's chromium, with the map fully drawn.

    .venv/bin/python scripts/screenshot.py --area demo-helsinki --out screenshots/dashboard.png

Starts ``streamlit run app.py`` on a free 127.0.0.1 port, opens ``/?gebied=<area>``, waits for
the map (Leaflet, drawn polygons, both legends, layer control) and saves a screenshot of the
whole page. The server is always stopped afterwards. Needs no internet: see tests/browser_util.py
for how the map's CDN scripts are served from Debian's libjs-leaflet and libjs-d3.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from urllib.parse import quote

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.browser_util import (  # noqa: E402
    VIEWPORT,
    browser,
    chromium_path,
    dashboard,
    drawn_features,
    missing_assets,
    screenshot_full,
    wait_for_app,
    wait_for_map,
)


def _pick_profile(page, label: str, ms: float) -> None:
    """Choose a mobility profile in the sidebar by its label."""
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').nth(1)
    box.click()
    page.get_by_role("option", name=label).first.click()
    page.wait_for_timeout(500)
    wait_for_app(page, ms)


def _suggest(page, k: int, ms: float) -> None:
    """Open 'Waar een nieuwe plek het meest oplevert', ask for k places and wait."""
    page.get_by_text("Waar een nieuwe plek het meest oplevert").first.click()
    slider = page.get_by_role("slider").first
    slider.focus()
    for _ in range(abs(k - 3)):
        slider.press("ArrowRight" if k > 3 else "ArrowLeft")
    wait_for_app(page, ms)
    page.get_by_role("button", name="Stel plekken voor").first.click()
    page.get_by_text("extra binnen bereik").first.wait_for(timeout=ms)
    wait_for_app(page, ms)
    page.wait_for_timeout(1500)  # the map is re-mounted with the suggestions


def _map_when_settled(page, ms: float):
    """wait_for_map, retried when streamlit replaces the map's iframe while we wait."""
    for attempt in range(3):
        try:
            return wait_for_map(page, ms)
        except Exception as exc:  # playwright: "Frame was detached"
            if "detached" not in str(exc) or attempt == 2:
                raise
            page.wait_for_timeout(1000)
    raise RuntimeError("unreachable")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--area", default="", help="gebied (area id), e.g. demo-helsinki; "
                    "empty: the dashboard's default")
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "screenshots" / "dashboard.png")
    ap.add_argument("--width", type=int, default=VIEWPORT["width"])
    ap.add_argument("--timeout", type=float, default=90.0,
                    help="seconds to wait for the server, and for the page")
    ap.add_argument("--no-map", action="store_true",
                    help="do not wait for a map (for areas that cannot be computed)")
    ap.add_argument("--suggest", type=int, default=0, metavar="K",
                    help="open the suggestions panel and ask for K new places first")
    ap.add_argument("--profiel", default="",
                    help="pick this mobility profile by its label first, e.g. 'Met rollator'")
    args = ap.parse_args(argv)

    if chromium_path() is None:
        print("chromium is absent: apt-get install chromium", file=sys.stderr)
        return 2
    if not args.no_map and missing_assets():
        print("the map's JavaScript is not available offline; missing "
              f"{', '.join(missing_assets())} (apt-get install libjs-leaflet libjs-d3)",
              file=sys.stderr)
        return 2

    from playwright.sync_api import sync_playwright

    out = args.out if args.out.is_absolute() else Path.cwd() / args.out
    path = f"/?gebied={quote(args.area)}" if args.area else "/"
    ms = args.timeout * 1000
    t0 = time.monotonic()
    with (dashboard(timeout=args.timeout) as app, sync_playwright() as pw,
          browser(pw, viewport={"width": args.width, "height": VIEWPORT["height"]})
          as (ctx, offline)):
        page = ctx.new_page()
        page.goto(app.url + path, wait_until="domcontentloaded")
        wait_for_app(page, ms)
        if args.profiel:
            _pick_profile(page, args.profiel, ms)
        if args.suggest:
            _suggest(page, args.suggest, ms)
        if not args.no_map:
            frame = _map_when_settled(page, ms)
            drawn = drawn_features(frame)
            print(f"map drawn: {drawn['canvases']} canvas(es), {drawn['painted']} painted "
                  f"samples, {drawn['paths']} svg paths")
        screenshot_full(page, out, width=args.width)
        print(f"offline: {len(offline.local)} served from Debian packages, "
              f"{len(offline.stubbed)} stubbed, {len(offline.blocked)} blocked (tiles)")
    print(f"saved {out} ({time.monotonic() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
