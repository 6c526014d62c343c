"""The dashboard as a person sees it: real app, real chromium (Debian's), no internet.

Skips only when chromium is absent. Screenshots land in screenshots/ (git-ignored):
``browser_demo-helsinki.png`` and ``browser_default.png``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser_util import (
    MAP_IFRAME,
    browser,
    chromium_path,
    dashboard,
    drawn_features,
    missing_assets,
    open_page,
    wait_for_app,
    wait_for_map,
    whole_map_in_view,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(chromium_path() is None,
                       reason="chromium is absent (apt-get install chromium)"),
]

DEMO = "demo-helsinki"
TIMEOUT_MS = 60_000
DOWNLOAD_LABEL = "Download resultaat per zeshoek (GeoJSON)"  # the demo has no buurten
EXCEPTION = '[data-testid="stException"]'


@pytest.fixture(scope="module")
def browser_ctx() -> Iterator[tuple[str, Any]]:
    from playwright.sync_api import sync_playwright

    with dashboard(timeout=90) as app, sync_playwright() as pw, browser(pw) as (ctx, _):
        ctx.set_default_timeout(TIMEOUT_MS)
        yield app.url, ctx


def _open(browser_ctx: tuple[str, Any], path: str, shot: str) -> Iterator[Any]:
    url, ctx = browser_ctx
    yield from open_page(ctx, url + path, shot, timeout_ms=TIMEOUT_MS)


@pytest.fixture(scope="module")
def demo_page(browser_ctx: tuple[str, Any]) -> Iterator[Any]:
    yield from _open(browser_ctx, f"/?gebied={DEMO}", f"browser_{DEMO}.png")


@pytest.fixture(scope="module")
def default_page(browser_ctx: tuple[str, Any]) -> Iterator[Any]:
    yield from _open(browser_ctx, "/", "browser_default.png")


@pytest.fixture(scope="module")
def demo_map(demo_page: Any) -> Any:
    assert not missing_assets(), (
        "the map's JavaScript (loaded from CDNs in production) is not available offline: "
        f"missing {missing_assets()}; apt-get install libjs-leaflet libjs-d3")
    return wait_for_map(demo_page, TIMEOUT_MS)


def test_title_visible(demo_page: Any) -> None:
    title = demo_page.get_by_role("heading", name="Ontmoetingskaart", exact=True)
    assert title.first.is_visible()
    assert demo_page.title() == "Ontmoetingskaart"


def test_headline_cards(demo_page: Any) -> None:
    metrics = demo_page.locator('[data-testid="stMetric"]')
    metrics.first.wait_for()
    text = metrics.first.inner_text()
    assert re.search(r"\d+ \(\d+ %\)", text), text
    assert demo_page.get_by_text("Grootste tekorten").first.is_visible()
    assert demo_page.get_by_text(re.compile(r"Ontmoetingsplekken: \d+")).first.is_visible()


def test_ranking_table_is_visible(demo_page: Any) -> None:
    heading = demo_page.get_by_role("heading", name=re.compile("Ranglijst"))
    heading.first.scroll_into_view_if_needed()
    assert heading.first.is_visible()
    table = demo_page.locator('[data-testid="stDataFrame"]').first
    table.scroll_into_view_if_needed()
    assert table.is_visible()


def test_map_layers_and_legends(demo_map: Any) -> None:
    assert demo_map.locator(".leaflet-container").first.is_visible()

    control = demo_map.locator(".leaflet-control-layers")
    assert control.first.is_visible()
    entries = control.first.locator("label").all_inner_texts()
    assert any("aandeel binnen bereik" in e for e in entries), entries
    assert any("Bibliotheek" in e for e in entries), entries
    assert any("Gebieden buiten bereik" in e for e in entries), entries

    legend = demo_map.locator(".ok-categories")
    assert legend.first.is_visible()
    assert "Ontmoetingsplekken" in legend.first.inner_text()

    share = demo_map.locator(".ok-share")
    assert share.first.is_visible()
    text = share.first.inner_text()
    assert "binnen loopafstand" in text and "0 %" in text and "100 %" in text

    drawn = drawn_features(demo_map)
    assert drawn["painted"] > 0 or drawn["paths"] > 0, drawn


def test_download_button(demo_page: Any) -> None:
    button = demo_page.get_by_role("button", name=DOWNLOAD_LABEL)
    assert button.first.is_visible()


def test_demo_has_no_exception(demo_page: Any) -> None:
    assert demo_page.locator(EXCEPTION).count() == 0, demo_page.locator(EXCEPTION).all_inner_texts()
    assert "Traceback" not in demo_page.locator('[data-testid="stMain"]').inner_text()


def test_default_area_is_a_real_dutch_area_with_its_coverage_said(default_page: Any) -> None:
    """The dashboard opens on the most complete real Dutch area, draws its map and says what
    part of the gemeente its figures cover (buurten outside the data have none)."""
    wait_for_map(default_page, TIMEOUT_MS)
    main = default_page.locator('[data-testid="stMain"]')
    text = main.inner_text()
    assert "Helsinki" not in text.split("\n")[2:5]  # not the demo
    assert re.search(r"\d+ van \d+ buurten, [\d.]+ van [\d.]+ 65-plussers", text), text[:2000]
    assert "Welke plekken de gegevens kennen" in text
    assert default_page.locator(EXCEPTION).count() == 0, (
        default_page.locator(EXCEPTION).all_inner_texts())
    assert "Traceback" not in text


def test_clicking_the_map_adds_a_scenario_place(browser_ctx: tuple[str, Any]) -> None:
    """A planner clicks on the map, presses 'Nieuwe plek op …', and sees before → after."""
    for page in _open(browser_ctx, f"/?gebied={DEMO}", "browser_scenario.png"):
        frame = wait_for_map(page, TIMEOUT_MS)
        whole_map_in_view(page)
        box = page.locator(MAP_IFRAME).first.bounding_box()
        assert box is not None
        # points off the legends and the layer control; a click that lands on a meeting place
        # offers to close it instead ("Sluit: …"), so the next point is tried
        button = page.get_by_role("button", name=re.compile("Nieuwe plek op"))
        either = page.get_by_role("button", name=re.compile("Nieuwe plek op|Sluit: "))
        for fx, fy in ((0.30, 0.35), (0.55, 0.45), (0.70, 0.85), (0.45, 0.20)):
            page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
            either.first.wait_for(timeout=TIMEOUT_MS)
            wait_for_app(page, TIMEOUT_MS)
            if button.count():
                break
            whole_map_in_view(page)
        button.first.wait_for(timeout=TIMEOUT_MS)
        before = page.locator('[data-testid="stMetric"]').first.inner_text()
        button.first.click()
        page.get_by_text("door scenario").first.wait_for(timeout=TIMEOUT_MS)
        wait_for_app(page, TIMEOUT_MS)
        frame = wait_for_map(page, TIMEOUT_MS)
        entries = frame.locator(".leaflet-control-layers label").all_inner_texts()
        assert any("Scenario: nieuwe plekken" in e for e in entries), entries
        after = page.locator('[data-testid="stMetric"]').first.inner_text()
        assert "door scenario" in after and before != after
        assert page.get_by_role("button", name=re.compile("Scenario wissen")).first.is_visible()
        assert page.locator(EXCEPTION).count() == 0


_ZOOM_JS = """() => {
  const k = Object.keys(window).find(k => k.startsWith('map_') && window[k] && window[k].getZoom);
  return k ? window[k].getZoom() : null;
}"""


def test_selecting_a_ranking_row_zooms_the_map_to_that_area(browser_ctx: tuple[str, Any]) -> None:
    for page in _open(browser_ctx, f"/?gebied={DEMO}", "browser_ranking_zoom.png"):
        frame = wait_for_map(page, TIMEOUT_MS)
        before = frame.evaluate(_ZOOM_JS)
        assert before is not None
        table = page.locator('[data-testid="stDataFrame"]').first
        table.scroll_into_view_if_needed()
        box = table.bounding_box()
        assert box is not None
        # the row-selection checkbox of the first row (left edge, below the header)
        page.mouse.click(box["x"] + 12, box["y"] + 35 + 17)
        page.wait_for_function(
            """(z) => {
                 const f = document.querySelector('iframe[title="streamlit_folium.st_folium"]');
                 const w = f && f.contentWindow;
                 if (!w) return false;
                 const k = Object.keys(w).find(k => k.startsWith('map_') && w[k] && w[k].getZoom);
                 return k && w[k].getZoom() >= 16 && w[k].getZoom() !== z;
               }""", arg=before, timeout=TIMEOUT_MS)
        assert page.locator(EXCEPTION).count() == 0
