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


class SegmentIndex:
    """A spatial index over the allowed segments of a network, reused across snaps."""

    def __init__(self, net: WalkNetwork, edge_mask: np.ndarray | None = None) -> None:
        self.net = net
        self.edge_ids = (
            np.arange(net.n_edges) if edge_mask is None else np.nonzero(edge_mask)[0]
        )
        self.tree = shapely.STRtree(net.segments()[self.edge_ids])

    def snap(self, x: np.ndarray, y: np.ndarray, *, max_dist: float = np.inf) -> Snapped:
        """Snap points (in the network CRS) onto their nearest allowed segment."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        k = len(x)
        edge = np.full(k, -1, dtype=np.int64)
        t = np.zeros(k)
        dist = np.full(k, np.inf)
        if k == 0 or len(self.edge_ids) == 0:
            return Snapped(edge, t, dist)
        pts = shapely.points(x, y)
        # query_nearest may return ties; keep the first hit per point
        hits = self.tree.query_nearest(pts, all_matches=False)
        pi, ti = hits[0], hits[1]
        e = self.edge_ids[ti]
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
    """One Dijkstra pass over ``adj`` from seed nodes that start at ``offsets`` (metres, >= 0)
    instead of 0.

    Parameters
    ----------
    adj
        Square CSR graph (n nodes), e.g. :meth:`WalkNetwork.adjacency`.
    seeds, offsets, labels
        Aligned arrays: seed node, its start distance, and the label it carries. A node may be
        offered several times (the cheapest offer wins; ties: any); infinite offsets are
        ignored.
    limit
        Nodes farther than this get ``inf`` / -1.

    Returns
    -------
    dist, label
        Every node's distance, and the label of the seed whose branch of the shortest-path
        tree reaches it (-1 where unreachable).

    Method: seeds with offset 0 start the pass themselves; every other offer enters through a
    virtual node of its own, joined to its seed node by one edge of its offset. One
    ``csgraph.dijkstra(min_only=True)`` pass from all of them returns, with the distances, the
    start node of every node's branch (scipy's ``sources``), so the label needs no walk up the
    tree. The graph is the original CSR arrays with one row appended per virtual node.
    """
    n = adj.shape[0]
    seeds = np.asarray(seeds, dtype=np.int64)
    offsets = np.asarray(offsets, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    dist = np.full(n, np.inf)
    label = np.full(n, -1, dtype=np.int64)
    fin = np.isfinite(offsets)
    if not fin.any():
        return dist, label
    seeds, offsets, labels = seeds[fin], offsets[fin], labels[fin]
    zero = offsets <= 0.0
    z_nodes, first = np.unique(seeds[zero], return_index=True)
    z_labels = labels[zero][first]
    pos = np.nonzero(~zero)[0]
    k = len(pos)
    indptr = np.concatenate([adj.indptr, adj.indptr[-1] + np.arange(1, k + 1)])
    g = sp.csr_matrix((np.concatenate([adj.data, offsets[pos]]),
                       np.concatenate([adj.indices, seeds[pos]]), indptr), shape=(n + k, n + k))
    starts = np.concatenate([z_nodes, n + np.arange(k)])
    d, _, src = csgraph.dijkstra(g, directed=True, indices=starts, min_only=True,
                                 return_predecessors=True, limit=limit)
    label_of = np.full(n + k, -1, dtype=np.int64)
    label_of[z_nodes] = z_labels
    label_of[n:] = labels[pos]
    src = src[:n]
    dist = d[:n]
    label = np.where(src >= 0, label_of[np.maximum(src, 0)], -1)
    return dist, label


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
