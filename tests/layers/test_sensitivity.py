"""Result notes on the Helsinki demo: fragments and moved homes, and the cycleway sensitivity,
checked against a second run in which a profile rule closes every fietspad."""

from __future__ import annotations

import re

import numpy as np

from geo.routing import SegmentIndex
from geo.walkrules import Rule
from layers.analysis import MAX_SNAP_M, run
from layers.sensitivity import cycleway_sensitivity


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
