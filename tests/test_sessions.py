"""Nothing lost, nothing shared (issue 7): dashboard sessions keep their scenarios and uploads
to themselves, a session's uploaded copy never changes the shared prepared area, and an export
interrupted mid-write leaves the previous good file in place."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geo.errors import InputError
from geo.export import write_csv, write_gpkg
from geo.io import atomic_path
from layers.analysis import run
from layers.datasets import DEMO_ID
from layers.scenario import AddedPlace, Scenario
from layers.summary import with_uploads

APP = str(Path(__file__).resolve().parent.parent / "app.py")
BEYOND = re.compile(r"buiten loopafstand$")
#: A real Utrecht library (WGS84, rounded to about 10 m), as a municipality's list names it.
#: Hand-written fixture in the documented shape of a facility list (see geo.facilities).
UPLOAD_CSV = b"naam;categorie;lat;lon\nBibliotheek Neude;bibliotheek;52,0934;5,1191\n"


def _session() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["gebied"] = DEMO_ID
    at.run()
    assert not at.exception, at.exception
    return at


def _beyond(at: AppTest) -> int:
    metric = next(m for m in at.metric if BEYOND.search(m.label))
    return int(metric.value.split()[0].replace(".", ""))


def _places_shown(at: AppTest) -> int:
    text = next(m.value for m in at.markdown if "Ontmoetingsplekken:" in m.value)
    return int(re.search(r"Ontmoetingsplekken: ([\d.]+)", text).group(1).replace(".", ""))


@pytest.fixture
def two_sessions(demo_prepared):
    return _session(), _session()


def test_a_scenario_stays_in_its_own_session(two_sessions, demo_prepared, all_profiles):
    a, b = two_sessions
    base = run(demo_prepared, all_profiles["older"])
    assert _beyond(a) == _beyond(b) == base.headline["buiten"]
    o = base.origins
    far = o[(o["dist_m"] > 500) & (o["dist_m"] < 5000)].sort_values("dist_m").iloc[-1]
    sc = Scenario().add(AddedPlace(float(far.x), float(far.y), naam="Nieuwe buurtkamer 1"))
    a.session_state["scenario"] = sc
    a.run()
    b.run()
    assert not a.exception and not b.exception
    after = run(demo_prepared, all_profiles["older"], scenario=sc).headline["buiten"]
    assert _beyond(a) == after < base.headline["buiten"]
    # the other session: same numbers as before, no scenario, no before/after table
    assert _beyond(b) == base.headline["buiten"]
    assert "scenario" not in b.session_state
    assert not any("verandering per gebied" in h.value for h in b.header)
    assert any("verandering per gebied" in h.value for h in a.header)
    # and resetting it in the other session does not touch the first
    b.session_state["scenario"] = Scenario()
    b.run()
    a.run()
    assert _beyond(a) == after


def test_an_upload_stays_in_its_own_session(two_sessions):
    a, b = two_sessions
    before = _places_shown(a)
    assert before == _places_shown(b)
    a.file_uploader(key=f"upl_fac_{DEMO_ID}").set_value(("lijst.csv", UPLOAD_CSV, "text/csv"))
    a.run()
    b.run()
    assert not a.exception and not b.exception
    # a Dutch list does not belong in the Helsinki demo: the row is refused, per row, in A only
    shown_a = " ".join(w.value for w in [*a.warning, *a.error])
    assert "0 van 1 rijen gebruikt" in shown_a
    assert any("rij 2" in c.value for c in a.caption), [c.value for c in a.caption]
    assert _places_shown(a) == before
    # the other session sees nothing of it
    assert _places_shown(b) == before
    assert "upload_prep" not in b.session_state
    assert "0 van 1 rijen gebruikt" not in " ".join(w.value for w in [*b.warning, *b.error])
    # a new session after the upload starts from the shared area as well
    assert _places_shown(_session()) == before


def _real_cafes(pbf: Path) -> gpd.GeoDataFrame:
    """HAND-WRITTEN FIXTURE built from real data: the named cafés of the Helsinki extract as a
    municipality's own list of meeting places (shape of geo.facilities.read_facility_list)."""
    import osmium

    rows = [(o.tags["name"], o.location.lon, o.location.lat)
            for o in osmium.FileProcessor(str(pbf), osmium.osm.NODE)
            if o.tags.get("amenity") == "cafe" and "name" in o.tags]
    names, lon, lat = zip(*rows, strict=True)
    return gpd.GeoDataFrame(
        {"naam": names, "categorie_lokaal": "buurtkamer", "bron": "lokale lijst: cafes.csv",
         "rij": np.arange(2, len(rows) + 2)},
        geometry=gpd.points_from_xy(lon, lat), crs=4326)


def test_uploaded_copy_leaves_the_shared_prepared_area_unchanged(demo_prepared, all_profiles,
                                                                 helsinki_pbf):
    prep = demo_prepared
    profile = all_profiles["older"]
    base = run(prep, profile)
    places = prep.places.copy(deep=True)
    access = tuple(np.array(a, copy=True) for a in prep._access)
    notes = list(prep.notes)
    cafes = _real_cafes(helsinki_pbf)
    assert len(cafes) > 20

    copy = with_uploads(prep, facilities=cafes)
    result = run(copy, profile)
    # the copy really has more places, and they change its numbers
    assert len(copy.places) > len(prep.places)
    assert set(cafes["naam"]) & set(result.places["naam"].dropna())
    assert result.headline["buiten"] < base.headline["buiten"]
    assert copy._by_mask is not prep._by_mask and copy.notes is not prep.notes
    # the shared one is exactly as it was, and so are its results
    pd.testing.assert_frame_equal(prep.places, places)
    for was, now in zip(access, prep._access, strict=True):
        np.testing.assert_array_equal(was, now)
    assert prep.notes == notes
    again = run(prep, profile)
    assert again.headline == base.headline
    assert set(again.places["naam"].dropna()) <= set(places["naam"].dropna())


# --------------------------------------------------------------------------- atomic writes
def test_interrupted_write_leaves_the_previous_file(tmp_path):
    target = tmp_path / "resultaat.geojson"
    target.write_text('{"vorige": "goede versie"}', encoding="utf-8")
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        tmp.write_text('{"half', encoding="utf-8")
        raise KeyboardInterrupt  # Ctrl-C in the middle of the write
    assert target.read_text(encoding="utf-8") == '{"vorige": "goede versie"}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["resultaat.geojson"]


def test_failed_first_write_leaves_no_file(tmp_path):
    target = tmp_path / "nieuw.csv"
    with pytest.raises(InputError), atomic_path(target) as tmp:
        tmp.write_text("a;b\n1;", encoding="utf-8")
        raise InputError("schijf vol (test)", path=target, fix="maak ruimte vrij")
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def demo_layers(demo_prepared, all_profiles):
    from layers.outputs import export_layers

    return export_layers(run(demo_prepared, all_profiles["older"]))


def _gpkg_content(path: Path) -> dict[str, int]:
    import pyogrio

    return {name: len(pyogrio.read_dataframe(path, layer=name))
            for name, _ in pyogrio.list_layers(path)}


def test_geopackage_interrupted_between_layers_keeps_the_previous_export(
        tmp_path, monkeypatch, demo_layers):
    import pyogrio

    target = tmp_path / "ontmoetingskaart.gpkg"
    write_gpkg(demo_layers, target)
    good = _gpkg_content(target)
    good_bytes = target.read_bytes()
    assert set(demo_layers) <= set(good) and len(good) >= 5

    real = pyogrio.write_dataframe
    calls = []

    def stop_at_second_layer(df, path, *args, **kw):
        calls.append(kw.get("layer"))
        if len(calls) == 2:  # the first layer is already in the new file
            raise KeyboardInterrupt
        return real(df, path, *args, **kw)

    monkeypatch.setattr(pyogrio, "write_dataframe", stop_at_second_layer)
    changed = {k: v.head(1) for k, v in demo_layers.items()}
    with pytest.raises(KeyboardInterrupt):
        write_gpkg(changed, target)
    monkeypatch.undo()
    assert len(calls) == 2
    assert target.read_bytes() == good_bytes
    assert _gpkg_content(target) == good
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_csv_export_failing_mid_write_keeps_the_previous_export(tmp_path, monkeypatch,
                                                               demo_layers):
    target = tmp_path / "buurten.csv"
    write_csv(demo_layers["buurten"], target)
    good = target.read_bytes()

    def half_then_fail(self, path, *args, **kw):
        Path(path).write_text("buurtcode;inwon", encoding="utf-8")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_then_fail)
    with pytest.raises(OSError, match="No space left"):
        write_csv(demo_layers["buurten"].head(2), target)
    monkeypatch.undo()
    assert target.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]
