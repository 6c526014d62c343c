"""Snapping and multi-source shortest paths on a :class:`~geo.network.WalkNetwork`.

Points are snapped onto the nearest allowed *segment* (not the nearest node): a point splits its
segment at the foot of the perpendicular, and the walk from the point onto the network (the snap
distance) counts in every distance. Sources (meeting places) enter the graph as virtual nodes
joined to both ends of their segment; one ``scipy.sparse.csgraph.dijkstra(min_only=True)`` pass
then gives every node its distance to the nearest source and which source that is.
"""

from __future__ import annotations

import copy
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

    def only(self, use: np.ndarray) -> Snapped:
        """The same points, those where ``use`` is False as not snapped (e.g. the access points
        of places a filter leaves out)."""
        return Snapped(np.where(use, self.edge, -1), self.t, self.dist)

    @staticmethod
    def none(k: int) -> Snapped:
        """``k`` points that did not snap (edge -1, distance inf)."""
        return Snapped(np.full(k, -1, dtype=np.int64), np.zeros(k), np.full(k, np.inf))

    def with_rows(self, rows: np.ndarray, other: Snapped) -> Snapped:
        """A copy with ``rows`` replaced by ``other`` (aligned with ``rows``)."""
        out = Snapped(self.edge.copy(), self.t.copy(), self.dist.copy())
        out.edge[rows], out.t[rows], out.dist[rows] = other.edge, other.t, other.dist
        return out

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
        out = Snapped.none(k)
        if k == 0 or len(ids) == 0:
            return out
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
        out.edge[pi[keep]] = e[keep]
        out.t[pi[keep]] = tt[keep]
        out.dist[pi] = d
        return out


class TargetedGrid:
    """:class:`SegmentGrid` snapping onto snap targets first (see :func:`snap_targets`), with
    the fallback and :meth:`moved` of :class:`SegmentIndex` (which stays the STRtree
    reference the tests compare against). ``grid``: an already built :class:`SegmentGrid` of
    the same mask; the grid of the targets alone is built when first needed."""

    def __init__(self, net: WalkNetwork, edge_mask: np.ndarray | None = None, *,
                 targets: np.ndarray | None = None, grid: SegmentGrid | None = None) -> None:
        self.net = net
        self.grid = SegmentGrid(net, edge_mask) if grid is None else grid
        self.edge_ids = self.grid.edge_ids
        self._target_grid: SegmentGrid | None = None
        self.is_target: np.ndarray | None = None  # per segment; None: every segment is one
        if targets is not None:
            t = self.edge_ids[np.asarray(targets, dtype=bool)[self.edge_ids]]
            if len(t) < len(self.edge_ids):
                self.is_target = np.zeros(net.n_edges, dtype=bool)
                self.is_target[t] = True

    @property
    def target_ids(self) -> np.ndarray | None:
        """The snap targets' segment ids (None when every allowed segment is one)."""
        return None if self.is_target is None else np.nonzero(self.is_target)[0]

    @property
    def target_grid(self) -> SegmentGrid | None:
        if self._target_grid is None and self.is_target is not None:
            self._target_grid = self.grid.masked(self.is_target)
        return self._target_grid

    def snap(self, x: np.ndarray, y: np.ndarray, *, max_dist: float = np.inf) -> Snapped:
        """Snap points onto their nearest target segment, else their nearest allowed one."""
        target_grid = self.target_grid
        if target_grid is None:
            return self.grid.snap(x, y, max_dist=max_dist)
        out = target_grid.snap(x, y, max_dist=max_dist, exact_far=False)
        miss = np.nonzero(~out.ok)[0]
        if len(miss):
            x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
            alt = self.grid.snap(x[miss], y[miss], max_dist=max_dist)
            out.edge[miss], out.t[miss], out.dist[miss] = alt.edge, alt.t, alt.dist
        return out

    def moved(self, x: np.ndarray, y: np.ndarray, *, max_dist: float = np.inf) -> np.ndarray:
        """Which points :meth:`snap` keeps off a fragment (as :meth:`SegmentIndex.moved`)."""
        plain = self.grid.snap(x, y, max_dist=max_dist)
        return self.from_plain(x, y, plain, max_dist=max_dist)[1]

    def from_plain(self, x: np.ndarray, y: np.ndarray, plain: Snapped, *,
                   max_dist: float = np.inf) -> tuple[Snapped, np.ndarray]:
        """:meth:`snap` and :meth:`moved` from the points' plain snap onto the allowed segments
        (``self.grid``): only points whose nearest segment is a fragment are snapped again."""
        if self.is_target is None:
            return plain, np.zeros(len(plain), dtype=bool)
        off = plain.ok & ~self.is_target[np.maximum(plain.edge, 0)]
        rows = np.nonzero(off)[0]
        out = plain
        target_grid = self.target_grid
        if len(rows) and target_grid is not None:
            x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
            again = target_grid.snap(x[rows], y[rows], max_dist=max_dist, exact_far=False)
            # the others stay on their fragment, as snap() leaves them
            out = plain.with_rows(rows[again.ok], again.subset(again.ok))
        return out, off & (out.edge != plain.edge)


def snap_within(grid: SegmentGrid, x: np.ndarray, y: np.ndarray, prior: Snapped, *,
                max_dist: float, closed: np.ndarray | None) -> Snapped:
    """``grid.snap(x, y, max_dist=max_dist)`` from ``prior``, the same points snapped with the
    same ``max_dist`` onto a superset of the grid's segments: a point whose prior segment is
    still allowed keeps it (nothing the grid holds can be nearer); a point on a ``closed``
    segment is snapped again. A point that does not snap (now or before) keeps its prior
    ``dist``, to the nearest segment of the superset: a lower bound of its distance here.
    ``closed``: per network segment, in the superset but not in the grid; ``None`` when both
    hold the same segments (``prior`` is returned)."""
    if closed is None:
        return prior
    rows = np.nonzero(prior.ok & closed[np.maximum(prior.edge, 0)])[0]
    if not len(rows):
        return prior
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    again = grid.snap(x[rows], y[rows], max_dist=max_dist, exact_far=False)
    again.dist[~again.ok] = prior.dist[rows][~again.ok]
    return prior.with_rows(rows, again)


def snap_targets(net: WalkNetwork, edge_mask: np.ndarray | None, anchor_edges: np.ndarray, *,
                 max_fragment_m: float = FRAGMENT_MAX_M,
                 adjacency: sp.csr_matrix | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Which allowed segments are snap targets, and the connected-part label of each segment.

    A part of the (masked) network is a target when it is the largest part, holds one of the
    ``anchor_edges`` (segments a meeting place snapped to) or has at least ``max_fragment_m``
    of path; the rest are fragments (a square's outline that joins nothing, a footway cut off
    by an OSM gap) that would swallow homes and report them unreachable.
    """
    mask = np.ones(net.n_edges, dtype=bool) if edge_mask is None else np.asarray(edge_mask)
    adj = net.adjacency(edge_mask) if adjacency is None else adjacency  # of the same mask
    _, labels = csgraph.connected_components(adj, directed=False)
    part = labels[net.edge_u]
    length = np.bincount(part[mask], weights=net.edge_len[mask], minlength=labels.max() + 1)
    keep = length >= max_fragment_m
    keep[int(np.argmax(length))] = True
    anchors = np.asarray(anchor_edges, dtype=np.int64)
    keep[part[anchors[anchors >= 0]]] = True
    return mask & keep[part], np.where(mask, part, -1)


#: Cell size (metres) of the grid :class:`SegmentGrid` files segments in.
GRID_M = 25.0
#: Most cells a :class:`SegmentGrid` holds (its cell table is 4 bytes per cell).
MAX_CELLS = 4_000_000
#: Points whose nearest candidate lies more cells away than this ask a KD-tree of pieces.
GRID_FAR = 6
#: Points beyond GRID_FAR look as far as ``max_dist`` in the grid (not the KD-tree) while
#: they look in at most this many cells together.
FAR_CELLS = 2_000_000
#: The KD-tree cuts segments into pieces of at most this length (metres).
PIECE_M = 20.0


def _ragged(lo: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``concatenate([arange(l, l + c) for l, c in zip(lo, counts)])``, vectorised."""
    total = int(counts.sum())
    starts = np.cumsum(counts) - counts
    return np.arange(total) - np.repeat(starts - lo, counts)


class _PieceTree:
    """Exact nearest segment for points far from the network: a ``cKDTree`` over the midpoints
    of pieces of at most :data:`PIECE_M` of every segment. A point's K nearest midpoints name
    candidate segments; their best is proven nearest when the K-th midpoint, less half a piece,
    is no nearer (no unseen segment can be nearer); otherwise K grows fourfold."""

    def __init__(self, net: WalkNetwork, edge_ids: np.ndarray) -> None:
        from scipy.spatial import cKDTree

        self.net = net
        length = net.edge_len[edge_ids]
        parts = np.maximum(1, np.ceil(length / PIECE_M)).astype(np.int64)
        self.edge = np.repeat(edge_ids, parts)
        frac = (_ragged(np.zeros(len(parts), dtype=np.int64), parts) + 0.5) / np.repeat(
            parts, parts)
        u, v = net.edge_u[self.edge], net.edge_v[self.edge]
        self.half = float((length / parts).max() / 2.0)
        self.tree = cKDTree(np.c_[net.x[u] + frac * (net.x[v] - net.x[u]),
                                  net.y[u] + frac * (net.y[v] - net.y[u])])

    def nearest(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
        net = self.net
        k = len(x)
        edge = np.full(k, -1, dtype=np.int64)
        t = np.zeros(k)
        dist = np.full(k, np.inf)
        rows = np.arange(k)
        kk = 0
        while len(rows):
            kk = min(max(16, 4 * kk), self.tree.n)
            mid, j = self.tree.query(np.c_[x[rows], y[rows]], k=kk)
            mid, j = mid.reshape(len(rows), kk), j.reshape(len(rows), kk)
            e = self.edge[j]
            ax, ay = net.x[net.edge_u[e]], net.y[net.edge_u[e]]
            dx, dy = net.x[net.edge_v[e]] - ax, net.y[net.edge_v[e]] - ay
            seg2 = dx * dx + dy * dy
            inv = np.divide(1.0, seg2, out=np.zeros_like(seg2), where=seg2 > 0)
            px, py = x[rows, None], y[rows, None]
            tt = np.clip(((px - ax) * dx + (py - ay) * dy) * inv, 0.0, 1.0)
            d = np.hypot(px - (ax + tt * dx), py - (ay + tt * dy))
            b = np.argmin(d, axis=1)
            at = np.arange(len(rows))
            edge[rows], t[rows], dist[rows] = e[at, b], tt[at, b], d[at, b]
            if kk == self.tree.n:
                break
            rows = rows[mid[:, -1] - self.half < dist[rows]]
        return edge, t, dist


class SegmentGrid:
    """Exact nearest-segment snapping for many points at once, by a uniform grid in numpy.

    Same interface and result as :class:`SegmentIndex` (``net``, ``edge_ids``, ``snap``; of two
    equally near segments it may pick the other), built and queried without a tree: every
    allowed segment is filed in each :data:`GRID_M` cell its bounding box touches (one sort).
    A point looks at the segments filed in its own cell, then in the (2r+1)² cells around it
    (r = 1 first) that can hold a nearer one, and computes their exact distances in numpy.
    Every segment within r cells of the point is among them (or farther than one already
    seen), so the best one is proven nearest when it is no farther than r x :data:`GRID_M`;
    the other points look once more, as far as their best candidate, which proves their
    nearest. Points without a candidate within :data:`GRID_FAR` cells or ``max_dist`` (few:
    far from any path) ask a KD-tree of short pieces of the segments (:class:`_PieceTree`,
    built on demand). Points farther than ``max_dist`` do not snap but keep their distance.
    """

    def __init__(self, net: WalkNetwork, edge_mask: np.ndarray | None = None, *,
                 cell_m: float = GRID_M) -> None:
        self.net = net
        self.edge_ids = (
            np.arange(net.n_edges) if edge_mask is None else np.nonzero(edge_mask)[0]
        )
        e = self.edge_ids
        xu, xv = net.x[net.edge_u[e]], net.x[net.edge_v[e]]
        yu, yv = net.y[net.edge_u[e]], net.y[net.edge_v[e]]
        self._x0 = float(min(xu.min(), xv.min())) if len(e) else 0.0
        self._y0 = float(min(yu.min(), yv.min())) if len(e) else 0.0
        span = (max(xu.max(), xv.max()) - self._x0, max(yu.max(), yv.max()) - self._y0) \
            if len(e) else (0.0, 0.0)
        # at most MAX_CELLS cells (a big extract gets bigger cells)
        self.cell = max(float(cell_m), float(np.sqrt(span[0] * span[1] / MAX_CELLS)))
        ix0, ix1 = self._cells(np.minimum(xu, xv), self._x0), self._cells(np.maximum(xu, xv),
                                                                           self._x0)
        iy0, iy1 = self._cells(np.minimum(yu, yv), self._y0), self._cells(np.maximum(yu, yv),
                                                                           self._y0)
        self._ny = int(iy1.max()) + 1 if len(e) else 1
        self._nx = int(ix1.max()) + 1 if len(e) else 1
        wx, wy = ix1 - ix0 + 1, iy1 - iy0 + 1
        per = wx * wy  # cells per segment's bounding box
        seg = np.repeat(np.arange(len(e)), per)
        j = _ragged(np.zeros(len(e), dtype=np.int64), per)
        cx = np.repeat(ix0, per) + j // np.repeat(wy, per)
        cy = np.repeat(iy0, per) + j % np.repeat(wy, per)
        key = cx * self._ny + cy
        order = np.argsort(key, kind="stable")
        # entries of cell c are self._seg[start[c]:start[c + 1]]
        self._start = np.r_[0, np.cumsum(np.bincount(key, minlength=self._nx * self._ny))
                            ].astype(np.int32 if len(key) < 2**31 else np.int64)
        self._seg = e[seg[order]]
        # each filed entry's segment as start point, direction and 1/length², in filing order
        sx, sy = net.x[net.edge_u[self._seg]], net.y[net.edge_u[self._seg]]
        dx, dy = net.x[net.edge_v[self._seg]] - sx, net.y[net.edge_v[self._seg]] - sy
        seg2 = dx * dx + dy * dy
        inv = np.divide(1.0, seg2, out=np.zeros_like(seg2), where=seg2 > 0)
        self._geom = (sx, sy, dx, dy, inv)
        self._keep: np.ndarray | None = None  # per filed entry, in a masked() view
        self._piece_tree: _PieceTree | None = None

    def masked(self, edge_mask: np.ndarray | None) -> SegmentGrid:
        """This grid limited to the segments of ``edge_mask`` (per network segment; ``None``:
        all), without filing anything again: a view sharing the cell table, whose rounds skip
        the other entries. Snapping with it equals a grid built for those segments alone."""
        if edge_mask is None:
            return self
        allowed = np.asarray(edge_mask, dtype=bool)
        out = copy.copy(self)
        out.edge_ids = self.edge_ids[allowed[self.edge_ids]]
        keep = allowed[self._seg]
        if self._keep is not None:
            keep &= self._keep
        out._keep = None if keep.all() else keep
        out._piece_tree = None
        return out

    def _pieces(self) -> _PieceTree:
        if self._piece_tree is None:
            self._piece_tree = _PieceTree(self.net, self.edge_ids)
        return self._piece_tree

    def _cells(self, v: np.ndarray, v0: float) -> np.ndarray:
        return np.floor((v - v0) / self.cell).astype(np.int64)

    def _exact(self, px: np.ndarray, py: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, ...]:
        """Foot position ``t`` and squared distance from points to filed entries ``pos`` (same
        shapes), as :meth:`SegmentIndex.snap` computes them."""
        ax, ay, dx, dy, inv = (a[pos] for a in self._geom)
        ax -= px  # now: segment start relative to the point
        ay -= py
        t = ax * dx
        t += ay * dy
        t *= inv
        np.negative(t, out=t)
        np.clip(t, 0.0, 1.0, out=t)
        dx *= t
        dx += ax
        dy *= t
        dy += ay
        dx *= dx
        dy *= dy
        dx += dy
        return t, dx

    def _round(self, x: np.ndarray, y: np.ndarray, r: int, bound: np.ndarray | None = None,
               ring: bool = False) -> tuple[np.ndarray, ...]:
        """Best segment among those filed within ``r`` cells of each point (-1/inf if none),
        skipping cells no nearer to the point than its ``bound`` (a known upper bound), and
        with ``ring`` the point's own cell."""
        k = len(x)
        ix, iy = self._cells(x, self._x0), self._cells(y, self._y0)
        d = np.arange(-r, r + 1)
        cx = ix[:, None, None] + d[None, :, None]
        cy = iy[:, None, None] + d[None, None, :]
        inside = (cx >= 0) & (cx < self._nx) & (cy >= 0) & (cy < self._ny)
        if bound is not None:  # distance from the point to each cell's square
            lx = self._x0 + cx * self.cell - x[:, None, None]
            ly = self._y0 + cy * self.cell - y[:, None, None]
            gx = np.maximum(np.maximum(lx, -lx - self.cell), 0.0)
            gy = np.maximum(np.maximum(ly, -ly - self.cell), 0.0)
            inside &= gx * gx + gy * gy < (bound * bound)[:, None, None]
        if ring:
            inside[:, r, r] = False
        key = np.where(inside, cx * self._ny + cy, 0).reshape(k, -1)
        lo = self._start[key]
        counts = np.where(inside.reshape(k, -1), self._start[key + 1] - lo, 0).ravel()
        pos = _ragged(lo.ravel(), counts)
        n_per = counts.reshape(k, -1).sum(axis=1)
        pt = np.repeat(np.arange(k), n_per)
        if self._keep is not None:  # a masked view: only its own segments
            use = self._keep[pos]
            pos, pt = pos[use], pt[use]
            n_per = np.bincount(pt, minlength=k)
        t, d2 = self._exact(x[pt], y[pt], pos)
        best_e = np.full(k, -1, dtype=np.int64)
        best_t = np.zeros(k)
        best_d = np.full(k, np.inf)
        has = n_per > 0
        if has.any():
            starts = (np.cumsum(n_per) - n_per)[has]
            best_d[has] = np.minimum.reduceat(d2, starts)
            hit = np.flatnonzero(d2 == best_d[pt])
            first = hit[np.unique(pt[hit], return_index=True)[1]]
            best_e[pt[first]] = self._seg[pos[first]]
            best_t[pt[first]] = t[first]
            best_d = np.sqrt(best_d)
        return best_e, best_t, best_d

    def snap(self, x: np.ndarray, y: np.ndarray, *, max_dist: float = np.inf,
             exact_far: bool = True) -> Snapped:
        """Snap points (in the network CRS) onto their nearest allowed segment; ``edge`` is -1
        beyond ``max_dist`` (``dist`` still gives the distance to the nearest segment, or
        ``inf`` without ``exact_far`` where that is cheaper)."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        k = len(x)
        if k == 0 or len(self.edge_ids) == 0:
            return Snapped.none(k)
        # first every point looks in its own cell, then 1 cell around, in the cells that
        # can hold something nearer than what its own cell gave
        edge, t, dist = self._round(x, y, 0)
        be, bt, bd = self._round(x, y, 1, bound=np.nextafter(dist, np.inf), ring=True)
        nearer = bd < dist
        edge[nearer], t[nearer], dist[nearer] = be[nearer], bt[nearer], bd[nearer]
        # dist: the nearest so far, proven where it is within 1 cell
        rows = np.nonzero(dist > self.cell)[0]
        # one more look, as far as the best candidate so far, proves the nearest; points
        # without one nearby (farther than max_dist, or beyond GRID_FAR cells) ask a tree
        r = np.ceil(dist[rows] / self.cell)
        near = (r <= GRID_FAR) & (dist[rows] <= max_dist)
        for rr in np.unique(r[near]).astype(np.int64):
            sub = rows[near][r[near] == rr]
            edge[sub], t[sub], dist[sub] = self._round(
                x[sub], y[sub], int(rr), bound=np.nextafter(dist[sub], np.inf))
        far = rows[~near]
        reach = int(np.ceil(max_dist / self.cell)) if np.isfinite(max_dist) else MAX_CELLS
        if len(far) and not exact_far and len(far) * (2 * reach + 1) ** 2 <= FAR_CELLS:
            # look as far as max_dist in the grid (cells within max_dist only, in two steps),
            # sparing a KD-tree build for the whole network; what is found is proven nearest;
            # the distance of the rest does not matter to the caller
            bound = np.full(len(far), np.nextafter(max_dist, np.inf))
            for rr in sorted({min(2 * GRID_FAR // 3, reach), reach}):
                if not len(far):
                    break
                fe, ft, fd = self._round(x[far], y[far], rr, bound=bound)
                found = fd <= min(max_dist, rr * self.cell)
                edge[far[found]], t[far[found]], dist[far[found]] = (
                    fe[found], ft[found], fd[found])
                bound = np.minimum(bound, np.nextafter(fd, np.inf))[~found]
                far = far[~found]
            dist[far] = np.inf
            far = far[:0]
        if len(far):
            edge[far], t[far], dist[far] = self._pieces().nearest(x[far], y[far])
        edge[dist > max_dist] = -1
        t[dist > max_dist] = 0.0
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
        carries = np.zeros(net.n_edges, dtype=bool)
        carries[s_edges] = True
        js = np.nonzero(carries[p.edge])[0]  # points on a segment that carries sources
        if len(js):
            lo = np.searchsorted(s_edges, p.edge[js], side="left")
            n_c = np.searchsorted(s_edges, p.edge[js], side="right") - lo
            cand = s_sorted[_ragged(lo, n_c)]
            j = np.repeat(js, n_c)
            direct = (p.dist[j] + s.dist[cand]
                      + np.abs(p.t[j] - s.t[cand]) * net.edge_len[p.edge[j]])
            starts = np.cumsum(n_c) - n_c
            low = np.minimum.reduceat(direct, starts)
            hit = np.flatnonzero(direct == np.repeat(low, n_c))
            first = hit[np.unique(j[hit], return_index=True)[1]]  # first minimum per point
            better = direct[first] < best[j[first]]
            best[j[first][better]] = direct[first][better]
            src[j[first][better]] = cand[first][better]
    out[ok] = best
    which[ok] = src
    return out, which
