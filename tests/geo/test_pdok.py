"""PDOK WFS client against a local server answering in the shape PDOK documents for
``wijkenbuurten:buurten`` (GeoJSON FeatureCollection, RD New).

HAND-WRITTEN FIXTURE: the features below are not PDOK data. Their geometry is real, derived at
test time from the Helsinki OSM extract (its bounding box split into a west and an east half,
projected to RD New); codes use the non-existent gemeente GM9999; residents carry CBS's
secrecy code -99997, so no number is invented.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import osmium
import pytest
import shapely

from geo import pdok
from geo.errors import InputError, ServiceUnavailableError
from tests.http_util import LocalServer


@pytest.fixture(scope="module")
def features(helsinki_pbf) -> list[dict]:
    box = osmium.io.Reader(str(helsinki_pbf)).header().box()
    w, s, e, n = box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat
    mid = (w + e) / 2
    halves = gpd.GeoSeries([shapely.box(w, s, mid, n), shapely.box(mid, s, e, n),
                            shapely.box(mid, s, e, n)], crs=4326).to_crs(28992)
    feats = []
    for i, (geom, water) in enumerate(zip(halves, ["NEE", "NEE", "JA"], strict=True)):
        feats.append({
            "type": "Feature", "id": f"buurten.{i + 1}",
            "geometry": shapely.geometry.mapping(geom),
            "properties": {"buurtcode": f"BU9999000{i % 2}", "buurtnaam": f"Proefbuurt {i % 2}",
                           "wijkcode": "WK999900", "gemeentecode": "GM9999",
                           "gemeentenaam": "Proefgemeente", "water": water, "jaar": 2024,
                           "aantalInwoners": -99997, "percentagePersonen65JaarEnOuder": -99997},
        })
    return json.loads(json.dumps(feats))  # plain JSON types, as the service sends


def wfs(features):
    """Answer GetFeature like PDOK: filter by gemeente, page by startIndex/count."""

    def answer(path, q):
        wanted = [f for f in features
                  if ">GM9999<" in q["filter"] or ">proefgemeente<" in q["filter"].lower()]
        start, count = int(q["startIndex"]), int(q["count"])
        page = wanted[start:start + count]
        doc = {"type": "FeatureCollection", "numberReturned": len(page), "features": page}
        return 200, json.dumps(doc).encode()

    return answer


def test_buurten_of_a_gemeente_are_fetched_cached_and_read_as_boundaries(features, tmp_path):
    with LocalServer(wfs(features)) as srv:
        item = pdok.fetch_buurten("GM9999", cache_dir=tmp_path, base_url=srv.url + "/wfs")
        again = pdok.fetch_buurten("GM9999", cache_dir=tmp_path, base_url=srv.url + "/wfs")
    assert len(srv.requests) == 1 and again.path == item.path  # reused
    path, q = srv.requests[0]
    assert path == "/wfs" and q["typeNames"] == "wijkenbuurten:buurten"
    assert q["outputFormat"] == "application/json" and q["srsName"] == "EPSG:28992"
    assert "<fes:ValueReference>gemeentecode</fes:ValueReference>" in q["filter"]
    assert "CBS" in item.meta["source"] and item.meta["downloaded"][:2] == "20"
    # (geo.boundaries.read_boundaries rightly refuses geometry outside the Netherlands, so the
    # Helsinki-derived fixture is checked with GDAL directly)
    b = gpd.read_file(item.path, engine="pyogrio")
    assert b.crs.to_epsg() == 28992
    assert sorted(b["buurtcode"]) == ["BU99990000", "BU99990001"]  # the water part left out
    assert (b["aantalInwoners"] == -99997).all()  # passed on as published: CBS secrecy code
    src = gpd.GeoSeries([shapely.geometry.shape(f["geometry"]) for f in features[:2]])
    assert np.allclose(sorted(b.area), sorted(src.area), rtol=1e-9)
    assert pdok.gemeente_of(item) == ("GM9999", "Proefgemeente")


def test_a_name_filters_on_gemeentenaam_and_pages_are_merged(features, tmp_path, monkeypatch):
    monkeypatch.setattr(pdok, "PAGE_SIZE", 1)
    with LocalServer(wfs(features)) as srv:
        item = pdok.fetch_buurten("Proefgemeente", cache_dir=tmp_path, base_url=srv.url)
    assert [int(q["startIndex"]) for _, q in srv.requests] == [0, 1, 2, 3]
    assert 'matchCase="false"' in srv.requests[0][1]["filter"]
    assert len(json.loads(item.path.read_text())["features"]) == 2


def test_an_unknown_gemeente_is_bad_input_not_a_service_failure(features, tmp_path):
    with LocalServer(wfs(features)) as srv, pytest.raises(InputError, match="niet gevonden"):
        pdok.fetch_buurten("GM0000", cache_dir=tmp_path, base_url=srv.url)
    assert not list(tmp_path.rglob("*.geojson"))


def test_an_exception_report_instead_of_geojson_is_a_service_failure(tmp_path):
    xml = b'<?xml version="1.0"?><ows:ExceptionReport>overloaded</ows:ExceptionReport>'
    with LocalServer(lambda p, q: (200, xml)) as srv, pytest.raises(
            ServiceUnavailableError, match="PDOK.*geen GeoJSON.*offline"):
        pdok.fetch_buurten("GM9999", cache_dir=tmp_path, base_url=srv.url)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_service_down_says_which_service_and_how_to_work_offline(tmp_path):
    with LocalServer(lambda p, q: (503, b"")) as srv, pytest.raises(
            ServiceUnavailableError, match="PDOK WFS CBS Wijken en Buurten.*--buurten"):
        pdok.fetch_buurten("GM9999", cache_dir=tmp_path, base_url=srv.url, backoff_s=0.01)
    assert len(srv.requests) == 4  # first try + 3 retries
