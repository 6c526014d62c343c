"""Snapping without false islands, and how much a result rests on fietspaden.

* :func:`routing_entries` builds what :meth:`layers.analysis.Prepared.routing_state` keeps per
  profile mask: the segment index snaps homes and places only onto parts of the network that
  are connected to the main network, hold a meeting place or are not tiny
  (:func:`geo.routing.snap_targets`), and counts the fragments and the homes this moved.
* :func:`cycleway_sensitivity` answers "how many residents are within reach only thanks to
  fietspad segments": the same places, once with the profile's network and once without its
  cycleway segments (homes snapped again), and the demand within the limit in the first but
  not in the second.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np

from geo.network import WalkNetwork
from geo.profiles import Profile, describe_rules, rules_report, walk_rules_of
from geo.routing import (
    FRAGMENT_MAX_M,
    DistanceField,
    SegmentGrid,
    Snapped,
    TargetedGrid,
    distances_at,
    nearest_sources,
    snap_targets,
    snap_within,
)
from geo.walkrules import edge_rules
from layers.fmt import fmt_int

T = TypeVar("T")


def routing_entries(net: WalkNetwork, mask: np.ndarray | None, access_xy: tuple, origins_xy:
                    tuple, *, max_snap_m: float, base: dict | None = None) -> dict:
    """Adjacency, segment index and snapped origins/access points for one edge mask, snapping
    onto snap targets only; ``fragments`` reports the parts left out and the homes moved.

    ``base``: the ``plain`` entry of the routing entries of a superset of ``mask`` (or of
    :func:`plain_snaps`): the same points snapped onto more segments, so that only the points
    whose segment ``mask`` closes are snapped again. The result keeps its own ``plain`` entry
    (points on their nearest allowed segment, fragments included) for smaller masks.
    """
    ax, ay = access_xy
    ox, oy = origins_xy
    if base is not None and base["grid"].edge_ids.size == (
            net.n_edges if mask is None else int(np.count_nonzero(mask))):
        plain = base  # the same segments: nothing to snap again
    else:  # a view of the base's grid (nothing filed again), or a grid of its own
        grid = SegmentGrid(net, mask) if base is None else base["grid"].masked(mask)
        closed = None
        if base is not None:
            closed = np.zeros(net.n_edges, dtype=bool)
            closed[base["grid"].edge_ids] = True
            if mask is not None:
                closed &= ~mask
        plain = {"grid": grid} | {
            k: (grid.snap(*xy, max_dist=max_snap_m) if base is None else
                snap_within(grid, *xy, base[k], max_dist=max_snap_m, closed=closed))
            for k, xy in (("access", (ax, ay)), ("origins", (ox, oy)))}
    acc0: Snapped = plain["access"]
    adjacency = net.adjacency(mask)
    targets, part = snap_targets(net, mask, acc0.edge[acc0.ok], adjacency=adjacency)
    idx = TargetedGrid(net, mask, targets=targets, grid=plain["grid"])
    origins, moved = idx.from_plain(ox, oy, plain["origins"], max_dist=max_snap_m)
    allowed = part >= 0
    frag = allowed & ~targets
    return {
        "adjacency": adjacency,
        "index": idx,
        "origins": origins,
        "access": idx.from_plain(ax, ay, acc0, max_dist=max_snap_m)[0],
        "plain": plain,
        "fragments": {
            "parts": int(len(np.unique(part[frag]))),
            "segments": int(frag.sum()),
            "moved": moved,
        },
    }


def plain_snaps(net: WalkNetwork, access_xy: tuple, origins_xy: tuple, *,
                max_snap_m: float) -> dict:
    """Access points and origins snapped onto every segment of the network (the ``base`` of
    :func:`routing_entries`): done once per prepared area, each profile then snaps again only
    the points whose nearest segment it closes."""
    grid = SegmentGrid(net, None)
    return {"grid": grid,
            "access": grid.snap(*access_xy, max_dist=max_snap_m),
            "origins": grid.snap(*origins_xy, max_dist=max_snap_m)}


def _kept(cache: dict, key, make: Callable[[], T], size: int) -> T:
    """``make()`` kept in ``cache`` under ``key``; the oldest entry goes when ``size`` are kept."""
    if key not in cache:
        value = make()
        if len(cache) >= size:
            cache.pop(next(iter(cache)))
        cache[key] = value
    return cache[key]


def base_field(net: WalkNetwork, state: dict, use: np.ndarray, *,
               cache_size: int = 16) -> DistanceField:
    """The nearest-place field (no limit) of routing entries ``state`` with the access points
    ``use`` (per access point, whether its place counts), cached in ``state`` per ``use``."""
    return _kept(state.setdefault("fields", {}), use.tobytes(), lambda: nearest_sources(
        net, state["access"].only(use), adjacency=state["adjacency"]), cache_size)


def base_at_origins(net: WalkNetwork, state: dict, use: np.ndarray, *,
                    cache_size: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """:func:`geo.routing.distances_at` the origins of :func:`base_field` (cached alike)."""
    return _kept(state.setdefault("at_origins", {}), use.tobytes(), lambda: distances_at(
        net, base_field(net, state, use, cache_size=cache_size), state["origins"]), cache_size)


def cycleway_sensitivity(prep, state: dict, profile: Profile, use: np.ndarray, *,
                         max_snap_m: float, counted: np.ndarray | None = None) -> dict:
    """Demand within the profile's limit only thanks to fietspad segments.

    ``use``: per access point (``prep._access``), whether its place counts. Both runs use
    these places and the profile's rules; the second also closes every allowed cycleway
    segment (:attr:`geo.walkrules.EdgeRules.cycleway`). Returns ``homes`` (origins) and
    ``weight`` (demand, in ``prep.weight_col``) within only thanks to cycleways, and
    ``segments`` (cycleway segments the profile may use). ``counted`` (per origin) limits the
    count to origins whose area the data covers; unknown weights count as 0.
    """
    er = edge_rules(prep.net, walk_rules_of(profile))
    if not er.cycleway.any():
        return {"homes": 0, "weight": 0.0, "segments": 0}
    limit = profile.max_distance_m
    key = (use.tobytes(), limit,  # one mask serves profiles that differ in speed or minutes
           None if counted is None else counted.tobytes())
    return _kept(state.setdefault("cycleway", {}), key, lambda: _only_via_cycleways(
        prep, state, er.cycleway, use, limit, max_snap_m=max_snap_m, counted=counted), 8)


def _only_via_cycleways(prep, state: dict, cycleway: np.ndarray, use: np.ndarray,
                        limit: float, *, max_snap_m: float,
                        counted: np.ndarray | None) -> dict:
    net = prep.net
    # with cycleways: the profile's own distances (cached; run reads them too)
    within = base_at_origins(net, state, use)[0] <= limit
    if counted is not None:
        within &= counted
    # without: only origins within reach can lose it, so only they are snapped again onto the
    # network without fietspaden; one pass that stops at the limit
    rows = np.nonzero(within)[0]
    made = state.get("cycleway_state")
    if made is None or not np.array_equal(made[0], rows):
        base = np.ones(net.n_edges, dtype=bool) if "mask" not in state else state["mask"]
        ax, ay, _ = prep._access
        plain = state.get("plain")
        if plain is not None:
            plain = plain | {"origins": plain["origins"].subset(rows)}
        made = state["cycleway_state"] = (rows, routing_entries(
            net, base & ~cycleway, (ax, ay),
            (prep.origins["x"].to_numpy()[rows], prep.origins["y"].to_numpy()[rows]),
            max_snap_m=max_snap_m, base=plain))
    st = made[1]
    field = nearest_sources(net, st["access"].only(use), adjacency=st["adjacency"], limit=limit)
    only = np.zeros(len(within), dtype=bool)
    only[rows] = ~(distances_at(net, field, st["origins"])[0] <= limit)
    w = np.nan_to_num(prep.origins[prep.weight_col].to_numpy(dtype=float))
    return {"homes": int(only.sum()), "weight": float(w[only].sum()),
            "segments": int(cycleway.sum())}


def notes(prep, state: dict, profile: Profile, use: np.ndarray | None, *,
          max_snap_m: float, what: str, counted: np.ndarray | None = None) -> list[str]:
    """Dutch result notes: the walking rules, the fragments, and the cycleway sensitivity.
    ``what`` names the demand (e.g. "65-plussers")."""
    out = []
    key = ("rules", walk_rules_of(profile))
    if key not in state:
        state[key] = describe_rules(rules_report(prep.net, profile))
    out.append(state[key])
    frag = state.get("fragments")
    if frag is not None and frag["parts"]:
        moved = frag["moved"]
        w = float(np.nansum(prep.origins[prep.weight_col].to_numpy(dtype=float)[moved]))
        out.append(
            f"Snappen: {frag['parts']} losse stukjes netwerk ({frag['segments']} segmenten; niet "
            f"verbonden, geen ontmoetingsplek, minder dan {FRAGMENT_MAX_M:.0f} m pad) zijn geen "
            f"snappunt; {fmt_int(int(moved.sum()))} woonadressen ({fmt_int(round(w))} {what}) "
            "zijn daardoor op het netwerk ernaast gezet.")
    if use is not None:
        s = cycleway_sensitivity(prep, state, profile, use, max_snap_m=max_snap_m,
                                 counted=counted)
        if s["segments"]:
            out.append(
                f"Fietspaden: {fmt_int(round(s['weight']))} {what} ({fmt_int(s['homes'])} "
                f"woonadressen) zijn alleen via een fietspad binnen "
                f"{profile.max_distance_m:.0f} m; er telt alleen een fietspad zonder trottoir "
                "of voetpad ernaast (of met foot=yes).")
    return out
