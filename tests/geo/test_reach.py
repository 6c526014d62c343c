"""Per-place reach on the real Helsinki network, against a naive one-place-at-a-time pass."""

from __future__ import annotations

import numpy as np
import shapely

from geo.reach import nearest_service_lines, places_within, service_areas
from geo.routing import Snapped, distances_at, nearest_sources


def test_places_within_reach_equal_one_pass_per_place(demo_prepared, all_profiles):
    prep, profile = demo_prepared, all_profiles["older"]
    state = prep.routing_state(profile)
    acc, owner, limit = state["access"], prep._access[2], profile.max_distance_m
    got = places_within(prep.net, acc, owner, state["origins"], adjacency=state["adjacency"],
                        limit=limit)
    want = np.zeros(len(got), dtype=np.int64)
    for place in np.unique(owner):
        one = Snapped(np.where(owner == place, acc.edge, -1), acc.t, acc.dist)
        d, _ = distances_at(prep.net, nearest_sources(prep.net, one, adjacency=state["adjacency"]),
                            state["origins"])
        want += d <= limit
    assert np.array_equal(got, want)
    assert got.max() > 1  # homes in the centre have a choice of places


def test_service_areas_follow_streets_not_hulls(demo_prepared, all_profiles):
    prep, profile = demo_prepared, all_profiles["older"]
    state = prep.routing_state(profile)
    owner = prep._access[2]
    first = np.unique(owner)[:3]
    keep = np.isin(owner, first)
    acc = state["access"]
    sub = Snapped(np.where(keep, acc.edge, -1), acc.t, acc.dist)
    areas = service_areas(prep.net, sub, owner, adjacency=state["adjacency"],
                          limit=profile.max_distance_m)
    assert set(areas) == set(first.tolist())
    field = nearest_sources(prep.net, sub, adjacency=state["adjacency"])
    for place, geom in areas.items():
        assert geom.is_valid and geom.area > 0
        # every node this place reaches within the limit lies in its area ...
        one = Snapped(np.where(owner == place, acc.edge, -1), acc.t, acc.dist)
        d = nearest_sources(prep.net, one, adjacency=state["adjacency"]).dist
        inside = d <= profile.max_distance_m
        pts = shapely.points(prep.net.x[inside], prep.net.y[inside])
        assert shapely.covered_by(pts, geom.buffer(0.01)).all()
        # ... nodes well beyond it mostly do not (a parallel path across a fence may lie within
        # the buffer), and the area is smaller than its convex hull
        far = (d > profile.max_distance_m + 100) & np.isfinite(d)
        hit = shapely.intersects(shapely.points(prep.net.x[far], prep.net.y[far]), geom)
        assert far.sum() > 100 and hit.mean() < 0.05
        assert geom.area < geom.convex_hull.area
    lines, src = nearest_service_lines(prep.net, field.dist, field.source, profile.max_distance_m)
    assert set(np.unique(owner[src])) <= set(first.tolist())
