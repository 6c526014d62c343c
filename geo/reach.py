"""Per-place reach within a distance limit: which network parts and which points each place
serves. Unlike :func:`geo.routing.nearest_sources` (one pass, nearest place only) these answer
"how many places lie within reach" and "what is each place's service area", so they run one
bounded Dijkstra per place, in chunks to keep memory flat.

A *group* is one place; its sources are its access points (a park has many).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse import csgraph

from geo.network import WalkNetwork
from geo.routing import Snapped, _virtual_edges, source_graph

CHUNK = 32


def group_distances(
    net: WalkNetwork,
    sources: Snapped,
    group: np.ndarray,
    *,
    adjacency: sp.csr_matrix,
    limit: float,
    chunk: int = CHUNK,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(group_ids, D)`` chunk by chunk: ``D[i, node]`` is the distance from group
    ``group_ids[i]`` (its nearest access point) to each node, ``inf`` beyond ``limit``."""
    n = net.n_nodes
    usable = np.nonzero(sources.ok)[0]
    if len(usable) == 0:
        return
    g, virt = source_graph(net, sources, adjacency=adjacency)
    ids = np.unique(group[usable])
    for lo in range(0, len(ids), chunk):
        part = ids[lo:lo + chunk]
        rows = usable[np.isin(group[usable], part)]
        d = csgraph.dijkstra(g, directed=True, indices=virt[rows], limit=limit)[:, :n]
        pos = np.searchsorted(part, group[rows])
        out = np.full((len(part), n), np.inf)
        np.minimum.at(out, pos, d)
        yield part, out


def _point_dist(net: WalkNetwork, d_nodes: np.ndarray, points: Snapped) -> np.ndarray:
    """Distances (groups x points) through either end of each point's segment."""
    ok = points.ok
    u, v, du, dv = _virtual_edges(net, points.subset(np.nonzero(ok)[0]))
    out = np.full((d_nodes.shape[0], len(points)), np.inf)
    out[:, ok] = np.minimum(d_nodes[:, u] + du, d_nodes[:, v] + dv)
    return out


def _same_segment(net: WalkNetwork, sources: Snapped, points: Snapped) -> tuple[np.ndarray, ...]:
    """(point, source, direct distance) for every point and source on the same segment."""
    s_ok = np.nonzero(sources.ok)[0]
    p_ok = np.nonzero(points.ok)[0]
    order = np.argsort(sources.edge[s_ok], kind="stable")
    s_sorted = s_ok[order]
    s_edges = sources.edge[s_sorted]
    lo = np.searchsorted(s_edges, points.edge[p_ok], side="left")
    hi = np.searchsorted(s_edges, points.edge[p_ok], side="right")
    reps = hi - lo
    pi = np.repeat(p_ok, reps)
    si = s_sorted[np.concatenate([np.arange(a, b) for a, b in zip(lo, hi, strict=True)])
                  if reps.sum() else np.empty(0, np.int64)]
    direct = (points.dist[pi] + sources.dist[si]
              + np.abs(points.t[pi] - sources.t[si]) * net.edge_len[points.edge[pi]])
    return pi, si, direct


def places_within(
    net: WalkNetwork,
    sources: Snapped,
    group: np.ndarray,
    points: Snapped,
    *,
    adjacency: sp.csr_matrix,
    limit: float,
) -> np.ndarray:
    """For each point, how many groups (places) lie within ``limit`` metres."""
    count = np.zeros(len(points), dtype=np.int64)
    pi, si, direct = _same_segment(net, sources, points)
    near = direct <= limit
    pairs = set(zip(pi[near].tolist(), group[si[near]].tolist(), strict=True))
    for part, d in group_distances(net, sources, group, adjacency=adjacency, limit=limit):
        within = _point_dist(net, d, points) <= limit  # (len(part), k)
        for gi, g_id in enumerate(part):
            extra = [p for p, g2 in pairs if g2 == g_id and not within[gi, p]]
            within[gi, extra] = True
        count += within.sum(axis=0)
    return count


def reachable_lines(
    net: WalkNetwork, d_nodes: np.ndarray, own: Snapped, limit: float
) -> np.ndarray:
    """The parts of the network within ``limit`` of one place, as straight line pieces.

    ``d_nodes`` is the place's distance to every node; ``own`` its snapped access points (a
    segment carrying an access point is reachable along itself, around that point)."""
    u, v, length = net.edge_u, net.edge_v, net.edge_len
    with np.errstate(invalid="ignore"):
        a = np.clip(limit - d_nodes[u], 0, length)
        b = np.clip(limit - d_nodes[v], 0, length)
    a = np.nan_to_num(a, nan=0.0, neginf=0.0)
    b = np.nan_to_num(b, nan=0.0, neginf=0.0)
    pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (edge, from_t, to_t)
    full = (a + b >= length) & ((a > 0) | (b > 0))
    e = np.nonzero(full)[0]
    pieces.append((e, np.zeros(len(e)), np.ones(len(e))))
    e = np.nonzero(~full & (a > 0))[0]
    pieces.append((e, np.zeros(len(e)), a[e] / length[e]))
    e = np.nonzero(~full & (b > 0))[0]
    pieces.append((e, 1.0 - b[e] / length[e], np.ones(len(e))))
    ok = own.ok & (own.dist <= limit)
    if ok.any():
        e = own.edge[ok]
        r = (limit - own.dist[ok]) / net.edge_len[e]
        pieces.append((e, np.clip(own.t[ok] - r, 0, 1), np.clip(own.t[ok] + r, 0, 1)))
    e = np.concatenate([p[0] for p in pieces])
    t0 = np.concatenate([p[1] for p in pieces])
    t1 = np.concatenate([p[2] for p in pieces])
    keep = t1 > t0
    e, t0, t1 = e[keep], t0[keep], t1[keep]
    ax, ay = net.x[net.edge_u[e]], net.y[net.edge_u[e]]
    dx, dy = net.x[net.edge_v[e]] - ax, net.y[net.edge_v[e]] - ay
    coords = np.stack([np.c_[ax + t0 * dx, ay + t0 * dy], np.c_[ax + t1 * dx, ay + t1 * dy]],
                      axis=1)
    return shapely.linestrings(coords)


def service_areas(
    net: WalkNetwork,
    sources: Snapped,
    group: np.ndarray,
    *,
    adjacency: sp.csr_matrix,
    limit: float,
    buffer_m: float = 25.0,
    progress=None,
) -> dict[int, shapely.Geometry]:
    """Per group: the reachable network within ``limit``, buffered by ``buffer_m`` into a
    polygon (the shape of the streets people can walk, not a convex hull).

    ``progress(fraction, text)`` is called after each place."""
    out: dict[int, shapely.Geometry] = {}
    n_groups = len(np.unique(group[sources.ok])) or 1
    done = 0
    for part, d in group_distances(net, sources, group, adjacency=adjacency, limit=limit):
        for gi, g_id in enumerate(part):
            done += 1
            if progress is not None:
                progress(done / n_groups, "Verzorgingsgebieden tekenen")
            own = sources.subset(np.nonzero(group == g_id)[0])
            lines = reachable_lines(net, d[gi], own, limit)
            if len(lines):
                out[int(g_id)] = buffer_union(lines, buffer_m)
    return out


def buffer_union(lines: np.ndarray, buffer_m: float) -> shapely.Geometry:
    """Buffer line pieces and dissolve them; pieces are unioned in spatial order, which is
    several times faster than buffering a MultiLineString."""
    c = shapely.centroid(lines)
    order = np.lexsort((shapely.get_x(c) // 200, shapely.get_y(c) // 200))
    return shapely.union_all(shapely.buffer(lines[order], buffer_m, quad_segs=2))


def nearest_service_lines(
    net: WalkNetwork, dist: np.ndarray, source: np.ndarray, limit: float
) -> tuple[np.ndarray, np.ndarray]:
    """The network within ``limit`` of its nearest source, as line pieces, with that source.

    One pass instead of one per place: each reachable piece belongs to the source nearest to
    it (a segment reached from both ends is split where both distances are equal), so the
    pieces partition the covered network the way :func:`geo.routing.nearest_sources` does.
    """
    u, v, length = net.edge_u, net.edge_v, net.edge_len
    du, dv = dist[u], dist[v]
    with np.errstate(invalid="ignore"):
        a = np.nan_to_num(np.clip(limit - du, 0, length), nan=0.0)
        b = np.nan_to_num(np.clip(limit - dv, 0, length), nan=0.0)
        meet = np.clip((length + dv - du) / 2.0, 0, length)  # where both sides are equal
    meet = np.where(np.isnan(meet), 0.0, np.where(np.isposinf(meet), length,
                                                 np.where(np.isneginf(meet), 0.0, meet)))
    reach_u = np.where(np.isfinite(dv), np.minimum(a, meet), a)
    reach_v = np.where(np.isfinite(du), np.minimum(b, length - meet), b)
    e_all = np.arange(net.n_edges)
    parts = []
    m = reach_u > 0
    parts.append((e_all[m], np.zeros(m.sum()), reach_u[m] / length[m], source[u[m]]))
    m = reach_v > 0
    parts.append((e_all[m], 1.0 - reach_v[m] / length[m], np.ones(m.sum()), source[v[m]]))
    e = np.concatenate([p[0] for p in parts])
    t0 = np.concatenate([p[1] for p in parts])
    t1 = np.concatenate([p[2] for p in parts])
    who = np.concatenate([p[3] for p in parts])
    keep = (t1 > t0) & (who >= 0)
    e, t0, t1, who = e[keep], t0[keep], t1[keep], who[keep]
    ax, ay = net.x[net.edge_u[e]], net.y[net.edge_u[e]]
    dx, dy = net.x[net.edge_v[e]] - ax, net.y[net.edge_v[e]] - ay
    coords = np.stack([np.c_[ax + t0 * dx, ay + t0 * dy], np.c_[ax + t1 * dx, ay + t1 * dy]],
                      axis=1)
    return shapely.linestrings(coords), who
