"""GeoJSON export: RFC 7946 (WGS84, lon/lat, CCW exteriors), readable by GIS, written atomically."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from geo.export import to_geojson, write_geojson
from geo.profiles import load_profiles
from layers.analysis import SCHEMA, prepare, run
from layers.datasets import DEMO_ID, discover


@pytest.fixture(scope="module")
def result(helsinki_pbf):
    demo = next(a for a in discover(include_demo=True) if a.id == DEMO_ID)
    return run(prepare(demo), load_profiles()[0]["older"])


def test_geojson_is_rfc7946_and_opens_with_pyogrio(result, tmp_path):
    path = write_geojson(result.table, tmp_path / "buurten.geojson")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection"
    assert "crs" not in doc  # RFC 7946 drops the crs member: WGS84 is implied
    coords = np.array([c for f in doc["features"]
                       for c in f["geometry"]["coordinates"][0]])
    # lon/lat order: Helsinki is at lon ~24.9, lat ~60.2
    assert np.all((coords[:, 0] > 24.8) & (coords[:, 0] < 25.1))
    assert np.all((coords[:, 1] > 60.1) & (coords[:, 1] < 60.3))
    for f in doc["features"]:
        ring = shapely.LinearRing(f["geometry"]["coordinates"][0])
        assert ring.is_ccw  # exterior counterclockwise
    info = pyogrio.read_info(path)
    assert info["features"] == len(result.table)
    back = gpd.read_file(path, engine="pyogrio")
    assert back.crs.to_epsg() == 4326
    assert list(back.columns[:len(SCHEMA)]) == SCHEMA
    assert back["buurtcode"].tolist() == result.table["buurtcode"].tolist()


def test_missing_numbers_become_null_not_nan(result):
    text = to_geojson(result.table)
    assert "NaN" not in text
    doc = json.loads(text)
    assert doc["features"][0]["properties"]["inwoners_65plus"] is None


def test_an_interrupted_write_keeps_the_previous_file(result, tmp_path, monkeypatch):
    target = tmp_path / "out.geojson"
    write_geojson(result.table, target)
    before = target.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr("pathlib.Path.write_text", boom)
    with pytest.raises(OSError, match="disk full"):
        write_geojson(result.table.head(2), target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.geojson"]  # no temp file left
