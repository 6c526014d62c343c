"""layers/notes.py: grouping, the per-list summary and notities.csv; GeoJSON areas turned into
points and repaired boundary geometries become notes too."""

from __future__ import annotations

import geopandas as gpd
import pytest

from geo.facilities import RowProblem, read_facility_list
from geo.osm import read_osm
from layers.notes import (
    EXAMPLES,
    Note,
    from_boundaries,
    from_row_problems,
    group_lines,
    read_notes,
    use_summary,
    write_notes,
)
from layers.taxonomy import load_taxonomy


def test_group_lines_count_examples_and_where_the_list_is():
    notes = [Note("buurt_knopen", f"BU{i:08d}: {i} netwerkknopen") for i in range(62)]
    notes.append(Note("buiten_nl", "lon=-74, lat=40.7 ligt niet in Nederland", 2, "a.csv"))
    lines = group_lines(notes)
    assert lines[0].startswith("62 buurten zonder woongebouwen in OSM: inwoners verdeeld over ")
    assert lines[0].count("netwerkknopen;") + lines[0].count("netwerkknopen …") == EXAMPLES
    assert lines[0].endswith("… — lijst in notities.csv")
    assert lines[1].startswith("1 rij buiten Nederland: overgeslagen") and "a.csv rij 2" in lines[1]
    assert not group_lines(notes, listed_in=None)[1].endswith("notities.csv")


def test_use_summary_counts_rows_once():
    notes = from_row_problems([RowProblem(3, "naam", "dubbel", soort="dubbel"),
                               RowProblem(4, "lat/lon", "omgedraaid", soort="omgedraaid")],
                              "l.csv")
    notes.append(Note("samengevoegd", "merged", 4, "l.csv"))
    assert use_summary("l.csv", 5, notes) == ("l.csv: 4 van 5 rijen gebruikt, 1 overgeslagen, "
                                              "1 gecorrigeerd, 1 samengevoegd met een andere "
                                              "plek")
    assert use_summary("ander.csv", 5, notes) == "ander.csv: alle 5 rijen gebruikt, niets " \
                                                 "gewijzigd"


def test_notes_file_round_trips_with_bom_and_semicolons(tmp_path):
    notes = [Note("dubbel", "naam: 'A; B' dubbel", 7, "lijst.csv"), Note("buurt_punt", "BU1: x")]
    path = write_notes(notes, tmp_path / "notities.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = read_notes(path)
    assert [(r["bestand"], r["rij"], r["melding"]) for r in rows] == [
        ("lijst.csv", "7", "naam: 'A; B' dubbel"), ("", "", "BU1: x")]
    assert rows[0]["soort"].startswith("dubbele rij: overgeslagen")
    assert read_notes(write_notes([], tmp_path / "leeg.csv")) == []


@pytest.fixture(scope="module")
def delft_osm(shared_data_dir):
    p = shared_data_dir / "delft" / "tudelft.osm.pbf"
    if not p.exists():
        pytest.skip(f"{p} missing")
    return p


def test_geojson_area_moved_to_a_point_is_a_note(delft_osm, tmp_path):
    """A park outline (real OSM polygon) in a GeoJSON list is used as a point inside it."""
    tax = load_taxonomy()
    ex = read_osm(delft_osm, feature_keys=tax.osm_keys,
                  feature_filter=lambda t: tax.classify(t) == "park")
    f = ex.features[ex.features.geom_type.isin(["Polygon", "MultiPolygon"])].head(1)
    gj = gpd.GeoDataFrame({"naam": [f["tags"].iloc[0].get("name", "park")]},
                          geometry=f.geometry.to_crs(4326).to_numpy(), crs=4326)
    path = tmp_path / "parken.geojson"
    gj.to_file(path, driver="GeoJSON")
    out, problems = read_facility_list(path)
    assert len(out) == 1 and not problems
    notes = from_row_problems(out.attrs["corrected"], path.name)
    assert [(n.kind, n.row) for n in notes] == [("vlak_als_punt", 1)]
    assert "vervangen door een punt" in notes[0].text


def test_boundary_repairs_and_drops_are_notes():
    b = gpd.GeoDataFrame({"buurtcode": ["BU1"]}, geometry=[None])
    b.attrs.update(problems=["object 2 (BU2), geometry: geen geometrie, weggelaten"],
                   repaired=["BU3"])
    notes = from_boundaries(b, "buurten.gpkg")
    assert [n.kind for n in notes] == ["buurt_weggelaten", "buurt_gerepareerd"]
    assert all(n.file == "buurten.gpkg" for n in notes)
