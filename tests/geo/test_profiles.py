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


def _write(tmp_path, text: str):
    from geo.profiles import PROFILES_FILE

    base = PROFILES_FILE.read_text(encoding="utf-8")
    p = tmp_path / "profiles.toml"
    start, end = base.index("[profiles.fit]"), base.index("[profiles.older]")
    p.write_text(base[:start] + text + "\n\n" + base[end:], encoding="utf-8")
    assert p.read_text(encoding="utf-8") != base
    return p


def test_unknown_profile_key_is_refused_naming_key_allowed_keys_and_file(tmp_path):
    p = _write(tmp_path, '[profiles.fit]\nlabel = "Fit"\nspeed_kmh = 4.8\nminutes = 10\n'
                         'avoid_highways = ["steps"]')
    with pytest.raises(InputError) as exc:
        load_profiles(p)
    msg = str(exc.value)
    assert "avoid_highways" in msg and "avoid_highway" in msg.replace("avoid_highways", "")
    assert str(p) in msg and "toegestaan" in msg


def test_missing_speed_is_an_input_error_not_a_key_error(tmp_path):
    p = _write(tmp_path, '[profiles.fit]\nlabel = "Fit"')
    with pytest.raises(InputError, match="speed_kmh") as exc:
        load_profiles(p)
    assert str(p) in str(exc.value)


def test_bad_walk_rule_is_refused(tmp_path):
    p = _write(tmp_path, '[profiles.fit]\nspeed_kmh = 4.8\nminutes = 10\n'
                         '[[profiles.fit.walk_rules]]\nwhen = { highway = ["steps"] }\n'
                         'walk = "maybe"')
    with pytest.raises(InputError, match="maybe"):
        load_profiles(p)
    p = _write(tmp_path, '[profiles.fit]\nspeed_kmh = 4.8\nminutes = 10\n'
                         '[[profiles.fit.walk_rules]]\nwhen = { highway = ["steps"] }\n'
                         'walk = "no"\nwhom = "y"')
    with pytest.raises(InputError, match="whom"):
        load_profiles(p)


def test_profile_rules_come_before_the_common_ones(all_profiles):
    from geo.profiles import default_rules

    base = default_rules()
    assert all_profiles["older"].walk_rules == base
    own = all_profiles["rollator"].walk_rules[: -len(base)]
    assert own and own[0].walk == "no" and ("moped", ("designated",)) in own[0].when
