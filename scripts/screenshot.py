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
        if not args.no_map:
            frame = wait_for_map(page, ms)
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
