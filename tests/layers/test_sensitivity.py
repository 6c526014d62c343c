"""Result notes on the Helsinki demo: fragments and moved homes, and the cycleway sensitivity,
checked against a second run in which a profile rule closes every fietspad."""

from __future__ import annotations

import re

import numpy as np

from geo.routing import SegmentIndex
from geo.walkrules import Rule
from layers.analysis import MAX_SNAP_M, run
from layers.sensitivity import cycleway_sensitivity, routing_entries


def _number(notes: list[str], start: str, pattern: str) -> int:
    note = next(n for n in notes if n.startswith(start))
    return int(re.search(pattern, note).group(1).replace(".", ""))


def test_cycleway_sensitivity_equals_a_run_without_fietspaden(demo_prepared, all_profiles):
    prep = demo_prepared
    for pid in ("older", "rollator"):
        profile = all_profiles[pid]
        with_ = run(prep, profile)
        only = _number(with_.notes, "Fietspaden:", r"\((\S+) woonadressen\)")
        fietspad = (Rule((("highway", ("cycleway",)),), "no"),
                    Rule((("highway", ("path",)), ("bicycle", ("designated",)), ("foot", ("-",))),
                         "no"))
        closed = profile.with_(walk_rules=fietspad + profile.walk_rules)
        without = run(prep, closed)
        lim = profile.max_distance_m
        a = with_.origins["dist_m"].to_numpy() <= lim
        b = without.origins["dist_m"].to_numpy() <= lim
        assert only == int((a & ~b).sum())
        assert only > 0  # the demo has fietspaden that matter (foot=designated ones)
        # the headline difference is the same people (here: buildings)
        assert with_.headline["binnen"] - without.headline["binnen"] == (a & ~b).sum() - (
            b & ~a).sum()


def test_homes_are_not_lost_on_fragments(demo_prepared, all_profiles):
    prep = demo_prepared
    result = run(prep, all_profiles["older"])
    state = prep.routing_state(all_profiles["older"])
    frag = state["fragments"]
    moved = frag["moved"]
    assert frag["parts"] > 0 and moved.any()
    noted = _number(result.notes, "Snappen:", r"; (\S+) woonadressen")
    assert noted == int(moved.sum())
    # without the rule these homes land on a fragment without any meeting place ...
    idx = state["index"]
    x, y = prep.origins["x"].to_numpy()[moved], prep.origins["y"].to_numpy()[moved]
    plain = SegmentIndex(prep.net, state.get("mask")).snap(x, y, max_dist=MAX_SNAP_M)
    on_target = np.isin(plain.edge, idx.target_ids)
    assert not on_target.any()
    # ... and with it they reach one
    assert np.isfinite(result.origins["dist_m"].to_numpy()[moved]).all()


def test_sensitivity_is_cached_per_limit(demo_prepared, all_profiles):
    prep = demo_prepared
    older = all_profiles["older"]
    state = prep.routing_state(older)
    use = np.ones(len(prep._access[2]), dtype=bool)
    a = cycleway_sensitivity(prep, state, older, use, max_snap_m=MAX_SNAP_M)
    b = cycleway_sensitivity(prep, state, older.with_(minutes=30), use, max_snap_m=MAX_SNAP_M)
    assert a["segments"] == b["segments"] and a is not b


def test_routing_entries_from_the_whole_network_snap_equal_a_fresh_snap(demo_prepared,
                                                                          all_profiles):
    """Each profile (and its network without fietspaden) snaps again only the points whose
    segment it closes; that gives what snapping every point afresh gives."""
    from geo.profiles import edge_mask, walk_rules_of
    from geo.walkrules import edge_rules

    prep = demo_prepared
    net = prep.net
    ax, ay, _ = prep._access
    oxy = (prep.origins["x"].to_numpy(), prep.origins["y"].to_numpy())
    base = prep.plain_snaps()
    checked = 0
    for profile in all_profiles.values():
        mask = edge_mask(net, profile)
        full = np.ones(net.n_edges, dtype=bool) if mask is None else mask
        cyc = edge_rules(net, walk_rules_of(profile)).cycleway
        for m, b in ((mask, base), (full & ~cyc, None)):
            if b is None:  # the profile's own entries are the base of its fietspad-free net
                b = routing_entries(net, mask, (ax, ay), oxy, max_snap_m=MAX_SNAP_M,
                                    base=base)["plain"]
            fresh = routing_entries(net, m, (ax, ay), oxy, max_snap_m=MAX_SNAP_M)
            got = routing_entries(net, m, (ax, ay), oxy, max_snap_m=MAX_SNAP_M, base=b)
            for k in ("origins", "access"):
                f, g = fresh[k], got[k]
                assert np.array_equal(f.ok, g.ok)
                assert np.allclose(f.dist[f.ok], g.dist[g.ok], atol=1e-6)
                assert (g.dist[~g.ok] <= f.dist[~f.ok] + 1e-6).all()  # a lower bound there
            assert np.array_equal(fresh["fragments"]["moved"], got["fragments"]["moved"])
            assert fresh["fragments"]["parts"] == got["fragments"]["parts"]
            checked += int(m is not None)
    assert checked >= len(all_profiles)  # masks were exercised, not only the whole network
