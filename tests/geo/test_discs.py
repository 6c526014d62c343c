"""The traced union of discs against shapely's buffer union and plain connectivity."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import connected_components
from scipy.spatial.distance import cdist

from geo.discs import disc_groups, disc_union

R = 30.0


def exact_union(x, y):
    """The reference: a 64-segment buffer per point, dissolved (0.1 % under the circles)."""
    return shapely.union_all(shapely.buffer(shapely.points(x, y), R, quad_segs=16))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40), span=st.sampled_from([60.0, 200.0, 600.0]),
       seed=st.integers(0, 10_000), offset=st.floats(-1e5, 1e5))
def test_traced_union_is_the_buffer_union_in_the_same_parts(n, span, seed, offset):
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(0, span, n) + offset, rng.uniform(0, span, n) + 4e5
    polys = disc_union(x, y, R)
    assert shapely.is_valid(polys).all()
    ref = exact_union(x, y)
    got = shapely.union_all(polys)
    # between its vertices on the circles the outline cuts a little off each arc, and where two
    # circles meet it cuts across the notch (at most a cell deep): the same land within a few
    # per cent, and nowhere more than a cell (radius / 3) off
    assert 0.96 * ref.area <= got.area <= 1.02 * ref.area
    assert shapely.difference(got, ref).area < 0.02 * ref.area
    assert shapely.difference(got, shapely.buffer(ref, R / 3)).is_empty
    assert shapely.difference(shapely.buffer(ref, -1.0), got).is_empty
    # polygons that do not overlap, each point inside one, each polygon one group of discs
    # that touch (directly or through others)
    assert np.isclose(shapely.area(polys).sum(), got.area, rtol=1e-3)
    pts = shapely.points(x, y)
    holds = shapely.contains(polys[:, None], pts[None, :])
    assert (holds.sum(axis=0) == 1).all()
    groups = connected_components(cdist(np.c_[x, y], np.c_[x, y]) <= 2 * R, directed=False)[1]
    got_groups = disc_groups(x, y, R)  # the same partition (labels may differ)
    assert len(set(zip(got_groups, groups, strict=True))) == len(set(groups)) == len(
        set(got_groups))
    for row in holds:
        assert len(np.unique(groups[row])) == 1


def test_discs_a_hair_apart_stay_apart_and_a_hair_over_join():
    for gap, parts in ((0.2, 2), (-0.2, 1), (5.0, 2), (-5.0, 1)):
        x = np.array([1000.0, 1000.0 + 2 * R + gap])
        got = disc_union(x, np.array([5000.0, 5000.0]), R)
        assert len(got) == parts, gap


def test_a_ring_of_discs_leaves_a_hole_and_no_points_give_nothing():
    a = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    got = disc_union(100 * np.cos(a), 100 * np.sin(a), R)
    assert len(got) == 1 and len(got[0].interiors) == 1
    assert got[0].interiors[0].convex_hull.contains(shapely.Point(0, 0))
    assert len(disc_union(np.empty(0), np.empty(0), R)) == 0


def test_a_small_grid_limit_gives_the_same_areas_in_more_traces(monkeypatch):
    """Groups spread far apart are traced in batches whose grids stay small; a group too large
    for the grid gets a coarser cell (at most half the radius, so no disc falls between the
    nodes). Either way every point is in exactly one polygon."""
    import geo.discs as discs

    rng = np.random.default_rng(7)
    centres = rng.uniform(0, 50_000, (12, 2))
    xy = np.concatenate([c + rng.uniform(0, 250, (20, 2)) for c in centres])
    x, y = xy[:, 0], xy[:, 1]
    default = disc_union(x, y, R)
    monkeypatch.setattr(discs, "MAX_NODES", 20_000)  # a 141 x 141 grid at most
    small = disc_union(x, y, R)
    assert np.isclose(shapely.area(small).sum(), shapely.area(default).sum(), rtol=1e-9)
    monkeypatch.setattr(discs, "MAX_NODES", 500)  # too small for a group: coarser cell
    coarse = disc_union(x, y, R)
    for polys in (default, small, coarse):
        assert shapely.is_valid(polys).all()
        holds = shapely.contains(polys[:, None], shapely.points(x, y)[None, :])
        assert (holds.sum(axis=0) == 1).all()
    assert len(default) == len(small) == len(coarse) == len(np.unique(disc_groups(x, y, R)))
