"""Snapping and multi-source shortest paths on a :class:`~geo.network.WalkNetwork`.

Points are snapped onto the nearest allowed *segment* (not the nearest node): a point splits its
segment at the foot of the perpendicular, and the walk from the point onto the network (the snap
distance) counts in every distance. Sources (meeting places) enter the graph as virtual nodes
joined to both ends of their segment; one ``scipy.sparse.csgraph.dijkstra(min_only=True)`` pass
then gives every node its distance to the nearest source and which source that is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse import csgraph

from geo.network import MIN_WEIGHT, WalkNetwork


@dataclass(frozen=True)
class Snapped:
    """Points snapped onto segments. ``edge`` is -1 where a point is beyond ``max_dist``."""

    edge: np.ndarray  # int64 (k,)
    t: np.ndarray  # float64 (k,): position along the segment from edge_u (0) to edge_v (1)
    dist: np.ndarray  # float64 (k,): straight-line distance from the point to the segment

    def __len__(self) -> int:
        return len(self.edge)

    @property
    def ok(self) -> np.ndarray:
        return self.edge >= 0

    def subset(self, idx: np.ndarray) -> Snapped:
        return Snapped(self.edge[idx], self.t[idx], self.dist[idx])

    @staticmethod
    def concat(parts: list[Snapped]) -> Snapped:
        if not parts:
            return Snapped(np.empty(0, np.int64), np.empty(0), np.empty(0))
        return Snapped(
            np.concatenate([p.edge for p in parts]),
            np.concatenate([p.t for p in parts]),
            np.concatenate([p.dist for p in parts]),
        )


#: A part of the network that is not connected to the main part, holds no meeting place and
#: has less than this much path (metres) is a fragment: no snap target (see snap_targets).
FRAGMENT_MAX_M = 1000.0


class SegmentIndex:
    """A spatial index over the allowed segments of a network, reused across snaps.

    ``targets`` (optional, see :func:`snap_targets`) restricts snapping to segments of parts
    of the network that can matter; a point with no target segment within ``max_dist`` falls
    back to its nearest allowed segment.
    """

    def __init__(self, net: WalkNetwork, edge_mask: np.ndarray | None = None, *,
                 targets: np.ndarray | None = None) -> None:
        self.net = net
        self.edge_ids = (
            np.arange(net.n_edges) if edge_mask is None else np.nonzero(edge_mask)[0]
        )
        segs = net.segments()
        self.tree = shapely.STRtree(segs[self.edge_ids])
        self.target_ids: np.ndarray | None = None
        if targets is not None:
            t = self.edge_ids[np.asarray(targets, dtype=bool)[self.edge_ids]]
            if len(t) < len(self.edge_ids):
                self.target_ids = t
                self.target_tree = shapely.STRtree(segs[t])

    def snap(self, x: np.ndarray, y: np.ndarray, *, max_dist: float = np.inf) -> Snapped:
        """Snap points (in the network CRS) onto their nearest allowed (target) segment."""
        if self.target_ids is None:
            return self._snap(self.tree, self.edge_ids, x, y, max_dist)
        out = self._snap(self.target_tree, self.target_ids, x, y, max_dist)
        miss = np.nonzero(~out.ok)[0]
        if len(miss):
            x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
            alt = self._snap(self.tree, self.edge_ids, x[miss], y[miss], max_dist)
            out.edge[miss], out.t[miss], out.dist[miss] = alt.edge, alt.t, alt.dist
        return out

    def moved(self, x: np.ndarray, y: np.ndarray, *, max_dist: float = np.inf) -> np.ndarray:
        """Which points :meth:`snap` keeps off a fragment: their nearest allowed segment is
        not a target, and a target segment lies within ``max_dist``."""
        if self.target_ids is None:
            return np.zeros(len(x), dtype=bool)
        plain = self._snap(self.tree, self.edge_ids, x, y, max_dist)
        on_target = np.isin(plain.edge, self.target_ids)
        return plain.ok & ~on_target & (self.snap(x, y, max_dist=max_dist).edge != plain.edge)

    def _snap(self, tree: shapely.STRtree, ids: np.ndarray, x: np.ndarray, y: np.ndarray,
              max_dist: float) -> Snapped:
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        k = len(x)
        edge = np.full(k, -1, dtype=np.int64)
        t = np.zeros(k)
        dist = np.full(k, np.inf)
        if k == 0 or len(ids) == 0:
            return Snapped(edge, t, dist)
        pts = shapely.points(x, y)
        # query_nearest may return ties; keep the first hit per point
        hits = tree.query_nearest(pts, all_matches=False)
        pi, ti = hits[0], hits[1]
        e = ids[ti]
        net = self.net
        ax, ay = net.x[net.edge_u[e]], net.y[net.edge_u[e]]
        bx, by = net.x[net.edge_v[e]], net.y[net.edge_v[e]]
        dx, dy = bx - ax, by - ay
        seg2 = dx * dx + dy * dy
        with np.errstate(invalid="ignore", divide="ignore"):
            tt = np.where(seg2 > 0, ((x[pi] - ax) * dx + (y[pi] - ay) * dy) / seg2, 0.0)
        tt = np.clip(tt, 0.0, 1.0)
        d = np.hypot(x[pi] - (ax + tt * dx), y[pi] - (ay + tt * dy))
        keep = d <= max_dist
        edge[pi[keep]] = e[keep]
        t[pi[keep]] = tt[keep]
        dist[pi] = d
        return Snapped(edge, t, dist)


def snap_targets(net: WalkNetwork, edge_mask: np.ndarray | None, anchor_edges: np.ndarray, *,
                 max_fragment_m: float = FRAGMENT_MAX_M) -> tuple[np.ndarray, np.ndarray]:
    """Which allowed segments are snap targets, and the connected-part label of each segment.

    A part of the (masked) network is a target when it is the largest part, holds one of the
    ``anchor_edges`` (segments a meeting place snapped to) or has at least ``max_fragment_m``
    of path; the rest are fragments (a square's outline that joins nothing, a footway cut off
    by an OSM gap) that would swallow homes and report them unreachable.
    """
    mask = np.ones(net.n_edges, dtype=bool) if edge_mask is None else np.asarray(edge_mask)
    _, labels = csgraph.connected_components(net.adjacency(mask), directed=False)
    part = labels[net.edge_u]
    length = np.bincount(part[mask], weights=net.edge_len[mask], minlength=labels.max() + 1)
    keep = length >= max_fragment_m
    keep[int(np.argmax(length))] = True
    anchors = np.asarray(anchor_edges, dtype=np.int64)
    keep[part[anchors[anchors >= 0]]] = True
    return mask & keep[part], np.where(mask, part, -1)


@dataclass(frozen=True)
class DistanceField:
    """Distance from every network node to its nearest source, and which source that is."""

    dist: np.ndarray  # float64 (n,), metres; inf where no source is reachable (within limit)
    source: np.ndarray  # int64 (n,), index into the sources; -1 where unreachable
    sources: Snapped


def _virtual_edges(net: WalkNetwork, snapped: Snapped) -> tuple[np.ndarray, ...]:
    """Offsets from snapped points to both ends of their segment."""
    e = snapped.edge
    along_u = snapped.t * net.edge_len[e]
    along_v = (1.0 - snapped.t) * net.edge_len[e]
    return net.edge_u[e], net.edge_v[e], snapped.dist + along_u, snapped.dist + along_v


def source_graph(
    net: WalkNetwork, sources: Snapped, *, adjacency: sp.csr_matrix | None = None
) -> tuple[sp.csr_matrix, np.ndarray]:
    """The network plus one virtual node per snapped source, joined to its segment's ends.

    Returns the directed CSR graph and the indices of the virtual nodes (one per source;
    sources that did not snap get no edges).
    """
    n = net.n_nodes
    adj = net.adjacency() if adjacency is None else adjacency.tocsr()
    k = len(sources)
    ok = sources.ok
    vu, vv, du, dv = _virtual_edges(net, sources.subset(np.nonzero(ok)[0]))
    # The network rows stay as they are (already canonical: csr_min); each snapped source
    # appends one row holding its segment's two ends (u != v), so nothing is re-sorted per call.
    indptr = np.r_[adj.indptr, adj.indptr[-1] + 2 * np.cumsum(ok)]
    cols = np.c_[vu, vv].ravel()
    w = np.maximum(np.c_[du, dv].ravel(), MIN_WEIGHT)
    g = sp.csr_matrix((np.r_[adj.data, w], np.r_[adj.indices, cols], indptr),
                      shape=(n + k, n + k))
    return g, n + np.arange(k)


def nearest_sources(
    net: WalkNetwork,
    sources: Snapped,
    *,
    adjacency: sp.csr_matrix | None = None,
    limit: float = np.inf,
) -> DistanceField:
    """One multi-source Dijkstra pass: distance from each node to the nearest source.

    ``adjacency`` is the (possibly profile-masked) network from :meth:`WalkNetwork.adjacency`;
    ``limit`` stops the search early (nodes beyond it get ``inf``).
    """
    n = net.n_nodes
    if not sources.ok.any():
        return DistanceField(np.full(n, np.inf), np.full(n, -1, np.int64), sources)
    adj = net.adjacency() if adjacency is None else adjacency.tocsr()
    # One super source joined to every segment end that carries a source, with the cheapest
    # offset per end; the nearest source of a node is the one whose end starts its branch of
    # the shortest-path tree. One single-source pass instead of a virtual node per source.
    ok = np.nonzero(sources.ok)[0]
    vu, vv, du, dv = _virtual_edges(net, sources.subset(ok))
    dist, src = seeded_pass(adj, np.concatenate([vu, vv]), np.concatenate([du, dv]),
                            np.concatenate([ok, ok]), limit=limit)
    return DistanceField(dist, src, sources)


def seeded_pass(
    adj: sp.csr_matrix,
    seeds: np.ndarray,
    offsets: np.ndarray,
    labels: np.ndarray,
    *,
    limit: float = np.inf,
) -> tuple[np.ndarray, np.ndarray]:
    """One Dijkstra pass over ``adj`` from seed nodes that start at ``offsets`` instead of 0:
    a super source joined to each seed node with its cheapest offset (a node may be offered
    several times; infinite offsets are ignored). Returns every node's distance and the label
    of the seed whose branch of the shortest-path tree reaches it (found by pointer jumping,
    log(depth) vectorised steps); -1 where unreachable."""
    n = adj.shape[0]
    best = np.full(n, np.inf)
    np.minimum.at(best, seeds, offsets)
    seed_label = np.full(n, -1, dtype=np.int64)
    wins = np.isfinite(offsets) & (offsets <= best[seeds])  # cheapest per node (ties: any)
    seed_label[seeds[wins]] = labels[wins]
    seeds = np.nonzero(seed_label >= 0)[0]
    offsets = best[seeds]
    indptr = np.concatenate([adj.indptr, [adj.indptr[-1] + len(seeds)]])
    g = sp.csr_matrix(
        (np.concatenate([adj.data, np.maximum(offsets, MIN_WEIGHT)]),
         np.concatenate([adj.indices, seeds]), indptr), shape=(n + 1, n + 1))
    dist, pred = csgraph.dijkstra(g, directed=True, indices=n, limit=limit,
                                  return_predecessors=True)
    dist, pred = dist[:n], pred[:n]
    up = np.where((pred >= 0) & (pred != n), pred, np.arange(n))
    while True:  # up the tree until every node points at a child of the super source
        nxt = up[up]
        if np.array_equal(nxt, up):
            break
        up = nxt
    return dist, np.where(np.isfinite(dist), seed_label[up], -1)


def distances_at(net: WalkNetwork, field: DistanceField, points: Snapped) -> tuple[
    np.ndarray, np.ndarray
]:
    """Distance from snapped points to their nearest source (snap distances included).

    A point whose own segment carries a source may reach it along that segment directly;
    that shortcut is taken into account. Points that did not snap get ``inf`` / -1.
    """
    k = len(points)
    out = np.full(k, np.inf)
    which = np.full(k, -1, dtype=np.int64)
    ok = np.nonzero(points.ok)[0]
    if len(ok) == 0:
        return out, which
    p = points.subset(ok)
    u, v, du, dv = _virtual_edges(net, p)
    via_u = field.dist[u] + du
    via_v = field.dist[v] + dv
    best = np.minimum(via_u, via_v)
    src = np.where(via_u <= via_v, field.source[u], field.source[v])
    # same-segment shortcut
    s = field.sources
    s_ok = np.nonzero(s.ok)[0]
    if len(s_ok):
        order = np.argsort(s.edge[s_ok], kind="stable")
        s_sorted = s_ok[order]
        s_edges = s.edge[s_sorted]
        lo = np.searchsorted(s_edges, p.edge, side="left")
        hi = np.searchsorted(s_edges, p.edge, side="right")
        for j in np.nonzero(hi > lo)[0]:
            cand = s_sorted[lo[j]:hi[j]]
            direct = (
                p.dist[j] + s.dist[cand]
                + np.abs(p.t[j] - s.t[cand]) * net.edge_len[p.edge[j]]
            )
            m = int(np.argmin(direct))
            if direct[m] < best[j]:
                best[j] = direct[m]
                src[j] = cand[m]
    out[ok] = best
    which[ok] = src
    return out, which
