"""End to end on every real Dutch municipality in the shared data that has an OSM extract, buurt
boundaries and CBS figures. Today none has all three (see ../shared/data/README.md); these tests
run, with no code change, as soon as one does."""

from __future__ import annotations

import json

import networkx as nx
import numpy as np
import pyogrio
import pytest

from geo.export import write_geojson
from geo.population import municipal_totals
from geo.profiles import load_profiles
from geo.routing import nearest_sources
from geo.settings import default_data_dir
from layers.analysis import prepare, run
from layers.datasets import discover


def _complete():
    return [a for a in discover(default_data_dir(), include_demo=False)
            if a.osm and a.boundaries and a.population]


COMPLETE = _complete()
pytestmark = pytest.mark.skipif(
    not COMPLETE,
    reason="no municipality in the shared data has OSM + buurt boundaries + CBS figures yet",
)


@pytest.fixture(scope="module", params=[a.id for a in COMPLETE] or ["none"])
def result(request):
    area = next(a for a in COMPLETE if a.id == request.param)
    prep = prepare(area)
    return run(prep, load_profiles()[0]["older"])


def test_every_buurt_once_and_65plus_adds_up_to_the_municipal_total(result):
    prep = result.prepared
    pop = prep.population
    buurten = pop[pop["niveau"] == "Buurt"]
    t = result.table
    assert t["buurtcode"].is_unique
    assert set(t["buurtcode"]) == set(buurten["code"])
    total = municipal_totals(pop)["inwoners_65plus"]
    assert abs(t["inwoners_65plus"].sum() - total) <= 0.005 * total
    known = t["inwoners_65plus"].notna()
    assert (t.loc[known, "binnen_bereik_65plus"] + t.loc[known, "buiten_bereik_65plus"]
            == t.loc[known, "inwoners_65plus"].round()).all()


def test_network_distances_equal_networkx(result):
    prep = result.prepared
    state = prep.routing_state(result.profile)
    acc = state["access"]
    field = nearest_sources(prep.net, acc, adjacency=state["adjacency"])
    g = prep.net.to_networkx()
    ok = np.nonzero(acc.ok)[0]
    for i in ok:
        e = acc.edge[i]
        along = acc.t[i] * prep.net.edge_len[e]
        g.add_edge(("s", i), int(prep.net.edge_u[e]), length=acc.dist[i] + along)
        g.add_edge(("s", i), int(prep.net.edge_v[e]),
                   length=acc.dist[i] + prep.net.edge_len[e] - along)
    ref = nx.multi_source_dijkstra_path_length(g, [("s", i) for i in ok], weight="length")
    expected = np.array([ref.get(n, np.inf) for n in range(prep.net.n_nodes)])
    fin = np.isfinite(expected)
    assert np.array_equal(fin, np.isfinite(field.dist))
    assert np.max(np.abs(expected[fin] - field.dist[fin])) < 0.5


def test_geojson_download_is_valid_wgs84(result, tmp_path):
    path = write_geojson(result.table, tmp_path / "buurten.geojson")
    doc = json.loads(path.read_text(encoding="utf-8"))
    lon, lat = np.array(doc["features"][0]["geometry"]["coordinates"][0]).T[:2] \
        if doc["features"][0]["geometry"]["type"] == "Polygon" else \
        np.array(doc["features"][0]["geometry"]["coordinates"][0][0]).T[:2]
    assert (lon > 3).all() and (lon < 7.5).all() and (lat > 50.5).all() and (lat < 54).all()
    assert pyogrio.read_info(path)["features"] == len(result.table)
