"""SegmentGrid (the numpy grid snap) against SegmentIndex (shapely STRtree) on the real Helsinki
network and against brute force on random networks (STYLE.md §2.7)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.network import WalkNetwork, network_from_extract
from geo.osm import read_osm
from geo.routing import (
    SegmentGrid,
    SegmentIndex,
    Snapped,
    TargetedGrid,
    snap_targets,
    snap_within,
)


def _consistent(net: WalkNetwork, s: Snapped, x: np.ndarray, y: np.ndarray) -> None:
    """The reported segment and foot position give the reported distance."""
    ok = s.ok
    e = s.edge[ok]
    fx = net.x[net.edge_u[e]] + s.t[ok] * (net.x[net.edge_v[e]] - net.x[net.edge_u[e]])
    fy = net.y[net.edge_u[e]] + s.t[ok] * (net.y[net.edge_v[e]] - net.y[net.edge_u[e]])
    assert np.allclose(np.hypot(x[ok] - fx, y[ok] - fy), s.dist[ok], atol=1e-6)
    assert ((s.t >= 0) & (s.t <= 1)).all()


def _points(net: WalkNetwork, *, seed: int, spread_m: float, far: int,
            margin_m: float) -> tuple[np.ndarray, np.ndarray]:
    """3000 points near the network's nodes, and ``far`` points anywhere in its box grown by
    ``margin_m`` (far away inside it, and outside it)."""
    rng = np.random.default_rng(seed)
    pick = rng.choice(net.n_nodes, 3000)
    x = np.r_[net.x[pick] + rng.normal(0, spread_m, 3000),
              rng.uniform(net.x.min() - margin_m, net.x.max() + margin_m, far)]
    y = np.r_[net.y[pick] + rng.normal(0, spread_m, 3000),
              rng.uniform(net.y.min() - margin_m, net.y.max() + margin_m, far)]
    return x, y


def test_grid_snap_equals_the_strtree_snap_on_helsinki(helsinki_pbf):
    net = network_from_extract(read_osm(helsinki_pbf, feature_keys=()))
    x, y = _points(net, seed=3, spread_m=30, far=1000, margin_m=2000)
    hw = net.edge_attr("highway")
    for mask in (None, ~np.isin(hw, ["footway", "steps", "path"])):
        for max_dist in (np.inf, 250.0, 20.0):
            ref = SegmentIndex(net, mask).snap(x, y, max_dist=max_dist)
            got = SegmentGrid(net, mask).snap(x, y, max_dist=max_dist)
            assert np.allclose(got.dist, ref.dist, atol=1e-6)
            assert np.array_equal(got.ok, ref.ok)
            if mask is not None:
                assert mask[got.edge[got.ok]].all()
            _consistent(net, got, x, y)
            # ties aside (a foot on a shared node), the same segment
            assert (got.edge == ref.edge).mean() > 0.9


def test_masked_view_and_snap_within_equal_a_grid_of_their_own_on_helsinki(helsinki_pbf):
    """A view of the whole network's grid limited to some segments, and a snap that starts
    from the points' snap onto the whole network, give what a grid filed for those segments
    gives (without exact_far: the same snaps, and no distance or the same where none)."""
    net = network_from_extract(read_osm(helsinki_pbf, feature_keys=()))
    x, y = _points(net, seed=11, spread_m=40, far=500, margin_m=1000)
    hw = net.edge_attr("highway")
    full = SegmentGrid(net)
    for mask in (~np.isin(hw, ["footway", "steps", "path"]), np.isin(hw, ["footway", "path"])):
        own, view = SegmentGrid(net, mask), full.masked(mask)
        assert np.array_equal(np.sort(view.edge_ids), np.sort(own.edge_ids))
        for max_dist in (np.inf, 250.0, 20.0):
            ref = own.snap(x, y, max_dist=max_dist)
            got = view.snap(x, y, max_dist=max_dist)
            assert np.allclose(got.dist, ref.dist, atol=1e-6) and np.array_equal(got.ok, ref.ok)
            assert mask[got.edge[got.ok]].all()
            _consistent(net, got, x, y)
            cheap = view.snap(x, y, max_dist=max_dist, exact_far=False)
            assert np.array_equal(cheap.ok, ref.ok)
            assert (np.isinf(cheap.dist) | np.isclose(cheap.dist, ref.dist))[~ref.ok].all()
            assert np.allclose(cheap.dist[ref.ok], ref.dist[ref.ok], atol=1e-6)
            prior = full.snap(x, y, max_dist=max_dist)
            within = snap_within(view, x, y, prior, max_dist=max_dist, closed=~mask)
            assert np.array_equal(within.ok, ref.ok)
            assert np.allclose(within.dist[ref.ok], ref.dist[ref.ok], atol=1e-6)
            # where nothing snaps: the distance to the whole network, a lower bound
            assert (within.dist[~ref.ok] <= ref.dist[~ref.ok] + 1e-6).all()
            assert mask[within.edge[within.ok]].all()


def test_targeted_grid_equals_the_strtree_with_snap_targets_on_helsinki(helsinki_pbf):
    """Snapping onto snap targets (no fragments) with the grid gives the STRtree's answer:
    the same distances, the same points kept off fragments."""
    net = network_from_extract(read_osm(helsinki_pbf, feature_keys=()))
    rng = np.random.default_rng(5)
    pick = rng.choice(net.n_nodes, 3000)
    x = net.x[pick] + rng.normal(0, 40, 3000)
    y = net.y[pick] + rng.normal(0, 40, 3000)
    anchors = SegmentIndex(net).snap(x[:50], y[:50], max_dist=250.0)
    targets, _ = snap_targets(net, None, anchors.edge[anchors.ok])
    assert not targets.all()  # Helsinki has fragments: the fallback is exercised
    ref = SegmentIndex(net, targets=targets)
    got = TargetedGrid(net, targets=targets)
    for max_dist in (250.0, 30.0):
        a, b = ref.snap(x, y, max_dist=max_dist), got.snap(x, y, max_dist=max_dist)
        assert np.allclose(b.dist, a.dist, atol=1e-6) and np.array_equal(b.ok, a.ok)
        assert np.array_equal(got.moved(x, y, max_dist=max_dist),
                              ref.moved(x, y, max_dist=max_dist))


def _random_net(xy: list[tuple[float, float]], edges: list[tuple[int, int]]) -> WalkNetwork:
    x = np.array([p[0] for p in xy])
    y = np.array([p[1] for p in xy])
    u = np.array([e[0] for e in edges], dtype=np.int64)
    v = np.array([e[1] for e in edges], dtype=np.int64)
    return WalkNetwork("EPSG:28992", np.arange(len(x)), x, y, u, v, np.hypot(x[u] - x[v],
                       y[u] - y[v]), np.zeros(len(u), dtype=np.int64),
                       pd.DataFrame({"highway": ["footway"]}))


coord = st.floats(-300, 300, allow_nan=False).map(lambda v: round(v, 1))


@st.composite
def networks_and_points(draw):
    n = draw(st.integers(2, 12))
    xy = draw(st.lists(st.tuples(coord, coord), min_size=n, max_size=n))
    pair = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))
    edges = draw(st.lists(pair, min_size=1, max_size=3 * n))
    pts = draw(st.lists(st.tuples(st.floats(-900, 900, allow_nan=False), coord),
                        min_size=1, max_size=20))
    cell = draw(st.sampled_from([1.0, 7.5, 25.0, 400.0]))
    max_dist = draw(st.sampled_from([np.inf, 50.0, 0.0]))
    return xy, edges, pts, cell, max_dist


@settings(max_examples=200, deadline=None)
@given(networks_and_points())
def test_grid_snap_finds_the_nearest_segment_of_random_networks(case):
    xy, edges, pts, cell, max_dist = case
    net = _random_net(xy, edges)
    x = np.array([p[0] for p in pts])
    y = np.array([p[1] for p in pts])
    got = SegmentGrid(net, cell_m=cell).snap(x, y, max_dist=max_dist)
    segs = net.segments()
    brute = np.array([shapely.distance(shapely.Point(a, b), segs).min()
                      for a, b in zip(x, y, strict=True)])
    assert np.allclose(got.dist, brute, atol=1e-6)
    edge = np.abs(brute - max_dist) < 1e-9  # float noise decides right at the limit
    assert np.array_equal(got.ok[~edge], brute[~edge] <= max_dist)
    _consistent(net, got, x, y)
