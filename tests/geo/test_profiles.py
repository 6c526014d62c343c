"""Profiles: limits from speed x minutes, and what a profile cannot pass, on the real network."""

from __future__ import annotations

import numpy as np
import pytest

from geo.errors import InputError
from geo.network import network_from_extract
from geo.osm import read_osm
from geo.profiles import edge_mask, load_profiles
from geo.routing import SegmentIndex, nearest_sources


@pytest.fixture(scope="module")
def net(helsinki_pbf):
    return network_from_extract(read_osm(helsinki_pbf, feature_keys=()))


def test_default_profile_is_the_older_walker_at_500_m():
    profiles, default = load_profiles()
    assert default == "older"
    assert profiles["older"].max_distance_m == pytest.approx(500.0)
    assert profiles["fit"].max_distance_m == pytest.approx(800.0)


def test_bad_settings_are_refused_with_a_fix():
    older = load_profiles()[0]["older"]
    with pytest.raises(InputError, match="km/u"):
        older.with_(speed_kmh=0)
    with pytest.raises(InputError, match="minuten"):
        older.with_(minutes=-5)


def test_steps_are_walkable_for_older_but_not_for_wheelchair(net):
    profiles = load_profiles()[0]
    assert edge_mask(net, profiles["older"]) is None
    mask = edge_mask(net, profiles["wheelchair"])
    steps = net.edge_attr("highway") == "steps"
    assert steps.any()
    assert not mask[steps].any()
    # same sources (snapped where a wheelchair can go); routes may only get longer without steps
    idx = SegmentIndex(net, mask)
    rng = np.random.default_rng(0)
    pick = rng.choice(np.nonzero(mask)[0], 30, replace=False)
    src = idx.snap((net.x[net.edge_u[pick]] + net.x[net.edge_v[pick]]) / 2,
                   (net.y[net.edge_u[pick]] + net.y[net.edge_v[pick]]) / 2)
    walk = nearest_sources(net, src, adjacency=net.adjacency())
    chair = nearest_sources(net, src, adjacency=net.adjacency(mask))
    assert (chair.dist >= walk.dist - 1e-9).all()
    # some nodes are only (or only quickly) reached over steps
    assert ((chair.dist > walk.dist + 1.0) | (np.isinf(chair.dist) & np.isfinite(walk.dist))).any()
    # and the nodes at the top of a flight of steps are unreachable or further in a wheelchair
    top = np.unique(np.r_[net.edge_u[steps], net.edge_v[steps]])
    assert (chair.dist[top] >= walk.dist[top]).all()
