"""Routing on the real Helsinki network against networkx as the naive reference."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import shapely

from geo.network import network_from_extract
from geo.osm import read_osm
from geo.routing import SegmentIndex, Snapped, distances_at, nearest_sources

PLACE_AMENITIES = ("library", "place_of_worship", "community_centre", "theatre", "cinema")


@pytest.fixture(scope="module")
def extract(helsinki_pbf):
    return read_osm(helsinki_pbf, feature_keys=("amenity",))


@pytest.fixture(scope="module")
def net(extract):
    return network_from_extract(extract)


@pytest.fixture(scope="module")
def sources(extract, net):
    f = extract.features[extract.features["tags"].map(
        lambda t: t.get("amenity") in PLACE_AMENITIES)].to_crs(net.crs)
    pts = shapely.point_on_surface(f.geometry.values)
    snapped = SegmentIndex(net).snap(shapely.get_x(pts), shapely.get_y(pts))
    assert len(snapped) >= 20
    return snapped


def _split_graph(net, points: dict[str, Snapped]) -> nx.Graph:
    """networkx graph in which every snapped point splits its segment (the naive reference)."""
    g = net.to_networkx()
    by_edge: dict[int, list] = {}
    for label, snapped in points.items():
        for i in np.nonzero(snapped.ok)[0]:
            by_edge.setdefault(int(snapped.edge[i]), []).append(
                ((label, int(i)), float(snapped.t[i]), float(snapped.dist[i])))
    for e, pts in by_edge.items():
        u, v, length = int(net.edge_u[e]), int(net.edge_v[e]), float(net.edge_len[e])
        if g.has_edge(u, v) and g[u][v]["length"] >= length - 1e-9:
            g.remove_edge(u, v)  # replaced by the split chain below
        chain = sorted(pts, key=lambda p: p[1])
        prev, prev_t = u, 0.0
        for node, t, d in chain:
            foot = ("foot", node)
            g.add_edge(prev, foot, length=(t - prev_t) * length)
            g.add_edge(foot, node, length=d)
            prev, prev_t = foot, t
        g.add_edge(prev, v, length=(1.0 - prev_t) * length)
    return g


def test_node_distances_equal_networkx_multi_source_dijkstra(net, sources):
    field = nearest_sources(net, sources)
    g = net.to_networkx()
    for i in np.nonzero(sources.ok)[0]:
        e = sources.edge[i]
        along = sources.t[i] * net.edge_len[e]
        g.add_edge(("s", i), int(net.edge_u[e]), length=sources.dist[i] + along)
        g.add_edge(("s", i), int(net.edge_v[e]),
                   length=sources.dist[i] + net.edge_len[e] - along)
    ref = nx.multi_source_dijkstra_path_length(
        g, [("s", i) for i in np.nonzero(sources.ok)[0]], weight="length")
    expected = np.array([ref.get(n, np.inf) for n in range(net.n_nodes)])
    assert np.array_equal(np.isfinite(expected), np.isfinite(field.dist))
    fin = np.isfinite(expected)
    assert fin.sum() > 0.9 * net.n_nodes
    assert np.max(np.abs(expected[fin] - field.dist[fin])) < 0.5


def test_origin_distances_equal_split_graph_reference(net, sources):
    """Origins (snapped onto segments, incl. the same-segment shortcut) against networkx on a
    graph where every snapped point really splits its segment."""
    rng = np.random.default_rng(7)
    pick = rng.choice(net.n_edges, size=300, replace=False)
    t = rng.uniform(0, 1, size=300)
    x = net.x[net.edge_u[pick]] * (1 - t) + net.x[net.edge_v[pick]] * t + rng.normal(0, 8, 300)
    y = net.y[net.edge_u[pick]] * (1 - t) + net.y[net.edge_v[pick]] * t + rng.normal(0, 8, 300)
    # also put origins on the very segments of some sources (same-segment shortcut)
    se = sources.edge[sources.ok][:10]
    x = np.r_[x, (net.x[net.edge_u[se]] + net.x[net.edge_v[se]]) / 2]
    y = np.r_[y, (net.y[net.edge_u[se]] + net.y[net.edge_v[se]]) / 2]
    origins = SegmentIndex(net).snap(x, y)
    field = nearest_sources(net, sources)
    dist, which = distances_at(net, field, origins)

    g = _split_graph(net, {"s": sources, "o": origins})
    ref = nx.multi_source_dijkstra_path_length(
        g, [("s", int(i)) for i in np.nonzero(sources.ok)[0]], weight="length")
    expected = np.array([ref.get(("o", i), np.inf) for i in range(len(origins))])
    assert np.array_equal(np.isfinite(expected), np.isfinite(dist))
    fin = np.isfinite(expected)
    assert np.max(np.abs(expected[fin] - dist[fin])) < 0.5
    # the reported nearest source really is at that distance
    assert (which[fin] >= 0).all()


def test_snap_distance_is_the_distance_to_the_nearest_segment(net):
    rng = np.random.default_rng(1)
    x = rng.uniform(net.x.min(), net.x.max(), 200)
    y = rng.uniform(net.y.min(), net.y.max(), 200)
    s = SegmentIndex(net).snap(x, y)
    segs = net.segments()
    brute = np.array([shapely.distance(shapely.Point(a, b), segs).min()
                      for a, b in zip(x, y, strict=True)])
    assert np.allclose(s.dist, brute, atol=1e-6)
    assert ((s.t >= 0) & (s.t <= 1)).all()


def test_limit_stops_the_search(net, sources):
    full = nearest_sources(net, sources)
    cut = nearest_sources(net, sources, limit=200.0)
    inside = full.dist <= 200.0
    assert np.allclose(cut.dist[inside], full.dist[inside])
    assert np.isinf(cut.dist[~inside]).all()


def test_max_snap_distance_reports_far_points(net):
    far_x = np.array([net.x.min() - 5000.0])
    far_y = np.array([net.y.min() - 5000.0])
    s = SegmentIndex(net).snap(far_x, far_y, max_dist=250.0)
    assert not s.ok.any()
    assert s.dist[0] > 5000.0
