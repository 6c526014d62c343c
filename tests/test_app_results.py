"""Dashboard (AppTest) for issue 13: save a scenario and compare it with the base on the
Helsinki demo; the choice and ageing layers stay off by default (nearest place first); the
ageing table of Utrecht's two CBS years shows even where the area cannot be routed yet."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo.profiles import load_profiles
from layers.analysis import run
from layers.compare import compare
from layers.fmt import fmt_int
from layers.scenario import Scenario

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def _app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=180)


def test_save_a_scenario_and_compare_it_with_the_base(demo_prepared, downloads):
    older = load_profiles()[0]["older"]
    base = run(demo_prepared, older)
    pid = max(base.places["place_id"], key=lambda p: compare(base, run(
        demo_prepared, older, scenario=Scenario(removed=(p,)))).totals()["verloren"])
    at = _app()
    at.query_params["gebied"] = "demo-helsinki"
    at.run()
    from layers.choice import headline

    real = fmt_int(headline(base)["echte_keuze"])
    assert any(c.value.startswith("Echte keuze") and f": {real} van" in c.value
               for c in at.caption)
    at.session_state["scenario"] = Scenario(removed=(pid,))
    at.run()
    at.text_input(key="scenario_naam").set_value("Zonder de drukste plek").run()
    at.button(key="bewaar").click().run()
    assert not at.exception
    assert list(at.session_state["bewaard"]) == ["Zonder de drukste plek"]
    at.selectbox(key="vergelijk_voor").set_value("Basis (zonder scenario)").run()
    at.selectbox(key="vergelijk_na").set_value("Zonder de drukste plek").run()
    direct = compare(base, run(demo_prepared, older, scenario=Scenario(removed=(pid,))))
    lost = direct.totals()["verloren"]
    assert lost > 0
    values = [m.value for m in at.metric]
    assert f"+0 / −{fmt_int(lost)}" in values
    assert downloads["image/png"][:8] == b"\x89PNG\r\n\x1a\n"  # map of gained/lost reach
    at.button(key="vergelijk_pdf").click().run()
    assert downloads["vergelijking.pdf"][:5] == b"%PDF-"
    assert b'"gesloten"' in downloads["scenario.json"]


@pytest.fixture
def downloads(monkeypatch):
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    seen: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def record(self, path_or_data, mimetype, kind, filename=None):
        if isinstance(path_or_data, bytes | str):
            data = path_or_data.encode() if isinstance(path_or_data, str) else path_or_data
            seen[filename or mimetype] = data
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    return seen


def test_utrecht_shows_the_growth_of_65plus(shared_data_dir):
    at = _app()
    at.query_params["gebied"] = "utrecht"
    at.run()
    assert not at.exception
    label = next(e.label for e in at.expander if e.label.startswith("Vergrijzing"))
    assert label == "Vergrijzing 2023→2024: groeiende tekorten"
    text = " ".join(m.value for m in at.markdown)
    assert f"{fmt_int(39405)} → {fmt_int(40285)}" in text
