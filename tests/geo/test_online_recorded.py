"""The online path (``ontmoet prepare --gemeente``) on REAL recorded osmnx answers, offline.

``../shared/data/utrecht/osmnx_cache/`` holds OSMnx 2.x cache files: Overpass network answers
for the core of Utrecht and Nominatim's geocode of "Utrecht, Netherlands";
``../shared/data/amsterdam/osmnx_cache/`` all parks and libraries of Amsterdam and its geocode.
The geocodes are read by osmnx from a temporary copy of the cache folder (their file names match
osmnx's request, so osmnx itself finds them); the Overpass answers reach osmnx through its cache
under the name of *our* query (``tests/overpass_replay.py``). Nothing reaches the internet.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import osmnx as ox
import pytest
import shapely

from geo.network import network_from_extract, network_from_file
from geo.online import (
    OSMNX_CACHE,
    fetch_bundle,
    osmnx_settings,
    polygon_fetchers,
    query_polygon,
    read_bundle,
)
from layers.bundle import border_m
from layers.taxonomy import load_taxonomy
from tests.overpass_replay import OverpassReplay, load, merge, query_polygons
from tests.realdata import need as real

#: the four bike-network answers (the data README's table); the drive answers are left out
UTRECHT_BIKE = ["25d4bede3e035bee81f226108e1004a8047de7d6",
                "11c3672c584e55993ba8f55b6293b1a098a5daac",
                "ec3af170ebfaa8826220ad9c54b847d6dad5485e",
                "8710a770c7f1943fedb6fdde25faaed048d82f3c"]
UTRECHT_GEOCODE = "e629b078e1edee3b31fc2ab1b062996b13db2104"
AMSTERDAM_PARKS = "156de24010d49d8d0867666e6279e16cfe5078fd"
AMSTERDAM_LIBRARIES = "46b13f83ad74c3e4dc4b59d222d6f500e91137a5"
AMSTERDAM_GEOCODE = "419b359cb4476574b3cb66d659f50010ff747e3c"



def cache_file(city: str, name: str) -> Path:
    return real(f"{city}/osmnx_cache/{name}.json")


def geocode(city: str, name: str, query: str, tmp_path: Path) -> gpd.GeoDataFrame:
    """osmnx's own geocoder, answered from a temporary copy of the real cache file."""
    folder = tmp_path / OSMNX_CACHE
    folder.mkdir(exist_ok=True)
    shutil.copy(cache_file(city, name), folder / f"{name}.json")
    with osmnx_settings(tmp_path):
        return ox.geocode_to_gdf(query)


@pytest.fixture
def utrecht(tmp_path):
    g = geocode("utrecht", UTRECHT_GEOCODE, "Utrecht, Netherlands", tmp_path)
    assert int(g["osm_id"].iloc[0]) == 419203  # the gemeente, as the data README says
    return g


def _as_osm_xml(answer: dict, path: Path) -> Path:
    """The same Overpass answer as an OSM XML file, for our own reader (the reference)."""
    with osmium.SimpleWriter(str(path)) as w:
        for e in sorted(answer["elements"], key=lambda e: (e["type"] != "node", e["id"])):
            tags = e.get("tags", {})
            if e["type"] == "node":
                w.add_node(osmium.osm.mutable.Node(id=e["id"], location=(e["lon"], e["lat"]),
                                                   tags=tags))
            elif e["type"] == "way":
                w.add_way(osmium.osm.mutable.Way(id=e["id"], nodes=e["nodes"], tags=tags))
    return path


def test_border_is_the_largest_walking_limit_plus_the_snapping_distance(all_profiles):
    from layers.analysis import MAX_SNAP_M

    assert border_m(all_profiles) == max(p.max_distance_m for p in all_profiles.values()) + (
        MAX_SNAP_M)
    longer = {"x": all_profiles["fit"].with_(minutes=20)}
    assert border_m(longer) == pytest.approx(1600 + MAX_SNAP_M)


def test_utrecht_network_through_the_online_path_from_real_overpass_answers(
        utrecht, tmp_path, monkeypatch):
    replay = OverpassReplay(network=[cache_file("utrecht", n) for n in UTRECHT_BIKE])
    replay.install(monkeypatch)
    grens = border_m()
    poly = query_polygon(utrecht, border_m=grens)
    tags = {**{k: True for k in load_taxonomy().osm_keys}, "building": True}
    folder = fetch_bundle("Utrecht", cache_dir=tmp_path, feature_tags=tags, polygon=poly,
                          extent={"grens_m": grens})

    # what osmnx asked Overpass for: the gemeente grown by the border, not clipped at it
    gemeente = utrecht.to_crs(28992).union_all()
    net_q = [q for q in replay.queries if 'way["highway"]' in q]
    feat_q = [q for q in replay.queries if 'way["highway"]' not in q]
    assert len(net_q) == 1 and len(feat_q) == 1
    for q, extra in ((net_q[0], 500.0), (feat_q[0], 0.0)):  # osmnx adds 500 m for the graph
        asked = gpd.GeoSeries(query_polygons(q), crs=4326).to_crs(28992).union_all()
        assert asked.contains(gemeente.buffer(grens + extra - 5))  # 6-decimal rounding: < 1 m
        assert not asked.contains(gemeente.buffer(grens + extra + 100))
    # osmnx read the answers from its cache folder inside ours
    assert len(list((tmp_path / OSMNX_CACHE).glob("*.json"))) == 1 + 2  # geocode + 2 queries

    online = network_from_extract(read_bundle(folder))
    answer = merge([load(cache_file("utrecht", n)) for n in UTRECHT_BIKE])
    local = network_from_file(_as_osm_xml(answer, tmp_path / "utrecht.osm"))
    # the core lies well inside the gemeente: nothing is truncated, and osmnx's graph and our
    # own reader of the same ways give the same walkable network
    assert np.array_equal(np.sort(online.node_osm_id), np.sort(local.node_osm_id))
    assert online.edge_len.sum() == pytest.approx(local.edge_len.sum(), rel=1e-3)
    assert online.edge_len.sum() > 200_000  # m; the data README: ~315 km walkable (pyrosm)
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["extent"] == {"grens_m": grens}
    # a second call reuses the bundle; a different border fetches again
    n = len(replay.queries)
    assert fetch_bundle("Utrecht", cache_dir=tmp_path, feature_tags=tags, polygon=poly,
                        extent={"grens_m": grens}) == folder
    assert len(replay.queries) == n
    read_bundle(folder)  # Utrecht has no recorded places: an empty feature layer reads fine
    assert read_bundle(folder).features.empty


def _recorded_features(answer: dict, key: str, value: str) -> dict[tuple[str, int], object]:
    """Independent reading of an Overpass answer: nodes and closed ways with ``key=value``,
    with their geometry (relations, which need ring assembly, are left to osmnx)."""
    coords = {e["id"]: (e["lon"], e["lat"]) for e in answer["elements"] if e["type"] == "node"}
    out = {}
    for e in answer["elements"]:
        if e.get("tags", {}).get(key) != value:
            continue
        if e["type"] == "node":
            out[("node", e["id"])] = shapely.Point(coords[e["id"]])
        elif e["type"] == "way":
            ring = [coords[n] for n in e["nodes"]]
            closed = len(ring) >= 4 and ring[0] == ring[-1]
            out[("way", e["id"])] = shapely.Polygon(ring) if closed else shapely.LineString(ring)
    return out


def test_amsterdam_parks_and_libraries_through_the_features_path_clipped_to_the_border(
        tmp_path, monkeypatch):
    buurten = gpd.read_file(real("amsterdam/buurten.geojson"))
    grens = border_m()
    poly = query_polygon(buurten, border_m=grens)
    replay = OverpassReplay(features={
        ("leisure", "park"): cache_file("amsterdam", AMSTERDAM_PARKS),
        ("amenity", "library"): cache_file("amsterdam", AMSTERDAM_LIBRARIES)})
    replay.install(monkeypatch)
    _graph, features = polygon_fetchers(poly)
    with osmnx_settings(tmp_path):
        got = features("Amsterdam", {"leisure": "park", "amenity": "library"})

    parks = _recorded_features(load(cache_file("amsterdam", AMSTERDAM_PARKS)), "leisure", "park")
    libs = _recorded_features(load(cache_file("amsterdam", AMSTERDAM_LIBRARIES)), "amenity",
                              "library")
    recorded = {**parks, **libs}
    inside = {k for k, g in recorded.items() if g.intersects(poly)}
    got_keys = set(got.index)
    simple = {k for k in got_keys if k[0] != "relation"}
    # every node and way inside the grown gemeente, and nothing else
    assert simple == inside
    assert len(inside) < len(recorded)  # the answers (a convex hull) reach beyond the border
    assert got.geometry.intersects(poly).all()
    # the border matters: places just outside the gemeente are kept
    gemeente = shapely.make_valid(buurten.union_all())
    outside = [k for k in inside if not recorded[k].intersects(gemeente)]
    assert outside
    lib_names = set(got.loc[got["amenity"] == "library", "name"])
    assert len(lib_names) >= 30 and any(n.startswith("OBA") for n in lib_names)
    cats = got.drop(columns="geometry").apply(
        lambda r: load_taxonomy().classify({k: str(v) for k, v in r.items() if v == v}),
        axis=1)
    assert {"park", "bibliotheek"} <= set(cats.dropna())


def test_prepare_gemeente_fetches_osm_for_the_pdok_buurten_grown_by_the_border(
        tmp_path, monkeypatch):
    """``ontmoet prepare --gemeente GM0344`` end to end: PDOK (a local server answering with
    the real CBS 2024 buurt polygons of Utrecht under PDOK's field names; residents carry CBS's
    secrecy code, so no figure is invented), then osmnx for the union of those buurten grown
    by the border, answered by the real recorded Utrecht network."""
    from layers.bundle import area_online
    from tests.http_util import LocalServer

    doc = json.loads(real("utrecht/cbs_buurten_2024_utrecht.geojson").read_text())
    feats = [{"type": "Feature", "id": f"buurten.{i}", "geometry": f["geometry"],
              "properties": {"buurtcode": f["properties"]["statcode"],
                             "buurtnaam": f["properties"]["statnaam"],
                             "wijkcode": "WK" + f["properties"]["statcode"][2:8],
                             "gemeentecode": "GM0344", "gemeentenaam": "Utrecht",
                             "water": "NEE", "aantalInwoners": -99997,
                             "percentagePersonen65JaarEnOuder": -99997}}
             for i, f in enumerate(doc["features"])]

    def wfs(_path, q):
        start, count = int(q["startIndex"]), int(q["count"])
        page = feats[start:start + count] if ">GM0344<" in q["filter"] else []
        return 200, json.dumps({"type": "FeatureCollection", "features": page}).encode()

    replay = OverpassReplay(network=[cache_file("utrecht", n) for n in UTRECHT_BIKE])
    replay.install(monkeypatch)
    (tmp_path / "data").mkdir()
    with LocalServer(wfs) as srv:
        area, notices = area_online("GM0344", cache_dir=tmp_path / "cache",
                                    data_dir=tmp_path / "data", pdok_url=srv.url + "/wfs")
    assert notices == []
    grens = border_m()
    meta = json.loads((area.folder / "meta.json").read_text())
    assert meta["gemeentecode"] == "GM0344" and meta["osm_grens_m"] == grens
    assert area.osm and (area.osm[0] / "network.graphml").exists()
    buurten = gpd.GeoDataFrame.from_features(doc["features"], crs=28992).union_all()
    feat_q = [q for q in replay.queries if 'way["highway"]' not in q]
    asked = gpd.GeoSeries(query_polygons(feat_q[0]), crs=4326).to_crs(28992).union_all()
    assert asked.contains(buurten.buffer(grens - 5))
    assert not asked.contains(buurten.buffer(grens + 100))
    net = network_from_extract(read_bundle(area.osm[0]))
    assert net.edge_len.sum() > 200_000
