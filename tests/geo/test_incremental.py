"""What-if updates of the distance field equal a full pass, on the real Helsinki network."""

from __future__ import annotations

import numpy as np
import pytest

from geo.incremental import add_sources, remove_sources
from geo.routing import Snapped, nearest_sources


def _same(a, b):
    fa, fb = np.isfinite(a.dist), np.isfinite(b.dist)
    assert np.array_equal(fa, fb)
    assert np.allclose(a.dist[fa], b.dist[fb], atol=1e-6)


@pytest.mark.parametrize("pid", ["older", "wheelchair"])
def test_removing_any_place_equals_a_full_pass_and_never_brings_anything_closer(
        demo_prepared, all_profiles, pid):
    prep = demo_prepared
    state = prep.routing_state(all_profiles[pid])
    acc, adj, owner = state["access"], state["adjacency"], prep._access[2]
    full = nearest_sources(prep.net, acc, adjacency=adj)
    changed = 0
    for place in np.unique(owner):
        gone = np.nonzero(owner == place)[0]
        got = remove_sources(prep.net, full, gone, adjacency=adj)
        edge = acc.edge.copy()
        edge[gone] = -1
        _same(got, nearest_sources(prep.net, Snapped(edge, acc.t, acc.dist), adjacency=adj))
        assert (got.dist >= full.dist - 1e-9).all()  # a removal never shrinks a distance
        assert not np.isin(got.source, gone).any()
        changed += int((got.dist > full.dist + 1e-9).any())
    assert changed > 0  # the test exercised real repairs


def test_adding_places_equals_a_full_pass_and_never_pushes_anything_away(demo_prepared,
                                                                         all_profiles):
    prep = demo_prepared
    state = prep.routing_state(all_profiles["older"])
    acc, adj = state["access"], state["adjacency"]
    full = nearest_sources(prep.net, acc, adjacency=adj)
    rng = np.random.default_rng(7)
    nodes = rng.choice(prep.net.n_nodes, 4, replace=False)
    new = state["index"].snap(prep.net.x[nodes] + 5.0, prep.net.y[nodes] - 5.0)
    got = add_sources(prep.net, full, new, adjacency=adj)
    ref = nearest_sources(prep.net, Snapped.concat([acc, new]), adjacency=adj)
    _same(got, ref)
    assert (got.dist <= full.dist + 1e-9).all()
    assert (got.source >= len(acc)).any()  # some nodes now have a new nearest place
