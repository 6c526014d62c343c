"""Overpass JSON (osmnx cache files) read into an OsmExtract, checked against osmnx's own
parsing of the same responses and against the PBF made from them."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely

from geo.errors import InputError
from geo.network import network_from_extract
from geo.osm import is_walkable, read_osm
from geo.overpass import overpass_kind, read_geocode_polygon, read_overpass
from tests.realdata import need

UT = "utrecht/osmnx_cache/"
UTRECHT_NETWORK = [UT + h + ".json" for h in (
    "25d4bede3e035bee81f226108e1004a8047de7d6", "11c3672c584e55993ba8f55b6293b1a098a5daac",
    "ec3af170ebfaa8826220ad9c54b847d6dad5485e", "8710a770c7f1943fedb6fdde25faaed048d82f3c",
    "4be10493d663e90f8715917b91ed3c7631565f2a", "918211c9e8e142467d5117e361878ac3b5cb37f4",
    "f426e55161468dde7ab8a5714fcd61f304a8922c")]
AMS = "amsterdam/osmnx_cache/"
PARKS = AMS + "156de24010d49d8d0867666e6279e16cfe5078fd.json"
LIBRARIES = AMS + "46b13f83ad74c3e4dc4b59d222d6f500e91137a5.json"
AMS_GEOCODE = AMS + "419b359cb4476574b3cb66d659f50010ff747e3c.json"
UT_GEOCODE = UT + "e629b078e1edee3b31fc2ab1b062996b13db2104.json"
UT_PLACES = UT + "90bf1cd26532b1ce89045d401ff0a8a1d2c1eab5.json"
EVERYWHERE = shapely.box(-180, -90, 180, 90)


def _json(rel: str) -> dict:
    return json.loads(need(rel).read_bytes())


@pytest.fixture(scope="module")
def utrecht():
    return read_overpass([need(p) for p in UTRECHT_NETWORK])


def test_kinds():
    assert {overpass_kind(need(p)) for p in UTRECHT_NETWORK} == {"network"}
    for p in (PARKS, LIBRARIES, UT_PLACES):
        assert overpass_kind(need(p)) == "features"
    for p in (AMS_GEOCODE, UT_GEOCODE):
        assert overpass_kind(need(p)) == "geocode"
    assert overpass_kind(need("amsterdam/cbs_columns.json")) is None
    assert overpass_kind(need("amsterdam/buurten.geojson")) is None


def test_one_network_response_against_osmnx():
    import osmnx as ox

    rel = UTRECHT_NETWORK[0]
    ext = read_overpass(need(rel))
    before = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = [*before, "foot", "access"]
    try:
        g = ox.graph._create_graph([_json(rel)], bidirectional=False)
    finally:
        ox.settings.useful_tags_way = before

    def tags(d: dict) -> dict:
        return {k: d[k] for k in ("highway", "foot", "access") if isinstance(d.get(k), str)}

    # undirected: a two-way street is in the graph in both directions (unsimplified graph,
    # so one edge per OSM segment)
    seen: dict[tuple, float] = {}
    for u, v, d in g.edges(data=True):
        if is_walkable(tags(d)):
            seen.setdefault((min(u, v), max(u, v), d["osmid"]), d["length"])
    ref = sum(seen.values())
    assert network_from_extract(ext).edge_len.sum() == pytest.approx(ref, rel=0.01)


def test_merged_responses_equal_the_pbf_made_from_them(utrecht):
    pbf = read_osm(need("utrecht/utrecht_osm_bike_drive_2026-07.osm.pbf"), buildings=False)
    assert set(utrecht.ways["osm_id"]) == set(pbf.ways["osm_id"])
    assert len(utrecht.ways) == len(pbf.ways)
    a, b = network_from_extract(utrecht), network_from_extract(pbf)
    assert a.edge_len.sum() == pytest.approx(b.edge_len.sum(), rel=1e-6)
    assert a.n_nodes == b.n_nodes
    assert set(utrecht.node_tags) == set(pbf.node_tags)


def test_network_columns_extent_and_notes(utrecht):
    w = utrecht.ways
    # every tag the ways carry is a column, not only the profile tags
    assert {"foot", "sidewalk", "surface", "lit", "cycleway:both", "maxspeed"} <= set(w.columns)
    assert not w["highway"].isin(["motorway", "motorway_link"]).any()
    # concave hull of the way nodes; the README's "bike+drive about 17.5 km²"
    area = gpd.GeoSeries([utrecht.extent], crs=4326).to_crs(28992).area.iloc[0] / 1e6
    assert 15 < area < 20
    assert any("footway" in n for n in utrecht.notes)


def test_parks_against_osmnx():
    import osmnx as ox

    ext = read_overpass(need(PARKS), feature_keys=("leisure",),
                        feature_filter=lambda t: t.get("leisure") == "park")
    ref = ox.features._create_gdf([_json(PARKS)], EVERYWHERE, {"leisure": "park"})
    areas = ref[ref.geom_type.isin(["Polygon", "MultiPolygon"])]
    points = ref[ref.geom_type == "Point"]
    # osmnx also keeps open park ways as lines; OSM areas are closed, like read_osm's
    assert len(ext.features) == len(areas) + len(points)
    assert (ext.features["osm_type"] == "relation").sum() == 5  # README
    ours = ext.features.to_crs(28992).area.sum()
    assert ours == pytest.approx(areas.to_crs(28992).area.sum(), rel=1e-3)
    assert ours / 1e6 == pytest.approx(28.4, abs=0.05)  # README: 28.4 km² of park polygons


def test_libraries_and_merging_feature_files():
    ext = read_overpass([need(PARKS), need(LIBRARIES)], feature_keys=("amenity", "leisure"),
                        feature_filter=lambda t: t.get("amenity") == "library"
                        or t.get("leisure") == "park")
    libs = ext.features[ext.features["tags"].map(lambda t: t.get("amenity") == "library")]
    assert len(libs) == 40 and set(libs["osm_type"]) == {"node"}  # README
    assert ext.ways.empty and ext.extent is None


def test_relations_assembled_like_pyosmium():
    """The Utrecht place polygons were assembled with pyosmium (data README)."""
    ext = read_overpass(need(UT_PLACES), feature_keys=("place",))
    rel = ext.features[ext.features["osm_type"] == "relation"].set_index("osm_id")
    ref = gpd.read_file(need("utrecht/utrecht_osm_place_boundaries_2026-01.geojson"))
    ref = ref.set_index("osm_relation")
    assert set(rel.index) == set(ref.index)
    a = rel.to_crs(28992).area.sort_index()
    b = ref.to_crs(28992).area.sort_index()
    assert (abs(a.to_numpy() / b.to_numpy() - 1) < 1e-6).all()


def test_geocode_polygon():
    ut = read_geocode_polygon(need(UT_GEOCODE))
    assert ut.index[0] == "relation/419203"
    ref = gpd.read_file(need("utrecht/utrecht_osm_gemeente_boundary_rel419203.geojson"))
    assert ut.iloc[0].equals(ref.geometry.iloc[0])
    assert ut.to_crs(28992).area.iloc[0] / 1e6 == pytest.approx(99.207, abs=0.01)
    ams = read_geocode_polygon(need(AMS_GEOCODE))
    assert ams.index[0] == "relation/271110" and ams.iloc[0].geom_type == "MultiPolygon"


def test_bad_input(tmp_path):
    with pytest.raises(InputError, match="elements"):
        read_overpass(need("amsterdam/cbs_columns.json"))
    with pytest.raises(InputError, match="polygoon|lijst"):
        read_geocode_polygon(need(PARKS))
    broken = tmp_path / "afgebroken.json"
    broken.write_bytes(need(PARKS).read_bytes()[:5000])
    with pytest.raises(InputError, match="onleesbaar"):
        read_overpass(broken)
