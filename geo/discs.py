"""The union of equal discs around many points, as polygons, without buffering each point.

Buffering the 25,000 homes beyond reach in Delft by 30 m and dissolving the discs with
:func:`shapely.union_all` takes 0.6-0.9 s. This module contours a distance field instead: on a
grid of spacing ``cell`` it computes, at each node near a point, the exact distance to the
nearest point, and traces the line where that distance equals the radius (marching squares
with :mod:`contourpy`, as matplotlib's ``contourf`` does). Along each grid edge the line is
placed by linear interpolation, so the outline runs through points on the true circles: a
lone disc gets about ``8 * radius / cell`` vertices (24 at the default ``cell = radius / 3``)
and 2.3 % less area than the circle (the 16-segment buffer it replaces: 2.6 % less). Where
two circles meet, the outline cuts straight across the notch between them, up to about a
cell deep; over the 25,000 Delft discs the traced land differs from the buffer union by 1-2 %.

A grid cannot see a gap between two discs much narrower than a cell, so the separate areas are
fixed exactly first: points whose discs overlap or touch (at most ``2 * radius`` apart,
directly or through other points) form a group (a k-d tree and connected components). Groups
are traced in a few batches, and within a batch no two groups come near the same grid node,
so two areas are never joined across a gap. The other way round, two discs that overlap by less
than about a metre may come out as two polygons, as they do with a 16-segment buffer.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

#: Grid nodes at most per trace (its field in float64: 64 MB). A group of points too large for
#: this at the requested cell gets a coarser cell (for all groups, at most half the radius);
#: a gemeente-wide spread of small groups is traced in more batches instead.
MAX_NODES = 8_000_000


def disc_groups(x: np.ndarray, y: np.ndarray, radius: float) -> np.ndarray:
    """Group label (0, 1, ...) per point: points whose discs of ``radius`` overlap or touch,
    directly or through other points, share a label (the parts of the exact union)."""
    if len(x) == 0:
        return np.empty(0, dtype=np.int64)
    # Points in one square of side radius * sqrt(2) (diagonal 2 * radius) all touch, so the
    # graph is built between squares: a third of the point pairs, each square pair once.
    side = radius * np.sqrt(2) * (1 - 1e-9)
    sx = np.floor((x - x.min()) / side).astype(np.int64)
    sy = np.floor((y - y.min()) / side).astype(np.int64)
    square = np.unique(sx * (sy.max() + 1) + sy, return_inverse=True)[1]
    m = square.max() + 1
    pairs = cKDTree(np.column_stack([x, y])).query_pairs(2 * radius, output_type="ndarray")
    a, b = square[pairs[:, 0]], square[pairs[:, 1]]
    cross = a != b
    graph = coo_matrix((np.ones(cross.sum(), dtype=bool), (a[cross], b[cross])),
                       shape=(m, m))
    return connected_components(graph, directed=False)[1][square]


def disc_union(x: np.ndarray, y: np.ndarray, radius: float, *,
               cell: float | None = None) -> np.ndarray:
    """Polygons (a numpy array of shapely Polygons, with holes) covering the places within
    ``radius`` of a point ``(x, y)``, in the points' units (metres). No polygon holds points
    of two groups (:func:`disc_groups`); each point lies inside a polygon.

    ``cell`` is the grid spacing (default ``radius / 3``): the outline lies within about a
    cell of the exact union (see the module docstring). It grows by itself when one group of
    touching discs spans more than :data:`MAX_NODES` grid nodes."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if radius <= 0:
        raise ValueError("radius must be positive")
    if len(x) == 0:
        return np.empty(0, dtype=object)
    cell = float(cell or radius / 3.0)
    groups = disc_groups(x, y, radius)
    n = groups.max() + 1
    lo_x, lo_y = np.full(n, np.inf), np.full(n, np.inf)
    hi_x, hi_y = np.full(n, -np.inf), np.full(n, -np.inf)
    np.minimum.at(lo_x, groups, x)
    np.minimum.at(lo_y, groups, y)
    np.maximum.at(hi_x, groups, x)
    np.maximum.at(hi_y, groups, y)
    # a group too large for the grid: a coarser one for all, but never coarser than half the
    # radius (beyond that a lone disc could fall between the nodes); then the grid is larger
    while (_nodes(hi_x - lo_x, hi_y - lo_y, radius, cell).max() > MAX_NODES
           and cell * 1.5 <= radius / 2):
        cell *= 1.5
    box = (lo_x, lo_y, hi_x, hi_y)
    return np.concatenate([_trace(x[sel], y[sel], radius, cell)
                           for sel in _batches(groups, box, radius, cell)])


def _nodes(width, height, radius: float, cell: float):
    """Grid nodes of a trace whose points span ``width`` x ``height`` (see :func:`_trace`)."""
    k = np.ceil(radius / cell) + 1
    return (width / cell + 2 * k + 4) * (height / cell + 2 * k + 4)


def _batches(groups: np.ndarray, box: tuple, radius: float, cell: float) -> list[np.ndarray]:
    """Masks of points, group by group, sorted into as few batches as a greedy pass finds: in a
    batch the boxes around two groups (their points' box, ``radius + 2 * cell`` wider on every
    side) never overlap, so their points never share a grid node and cannot be joined by one
    outline, and the batch's grid stays within :data:`MAX_NODES`."""
    pad = radius + 2 * cell
    lo_x, lo_y, hi_x, hi_y = box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad
    n = len(lo_x)
    batch = np.full(n, -1)
    # each batch's box (where its grid lies)
    b_lo_x, b_lo_y = np.full(n, np.inf), np.full(n, np.inf)
    b_hi_x, b_hi_y = np.full(n, -np.inf), np.full(n, -np.inf)
    for i in np.argsort(-(hi_x - lo_x) * (hi_y - lo_y), kind="stable"):  # largest first
        clash = ((batch >= 0) & (lo_x[i] < hi_x) & (lo_x < hi_x[i]) & (lo_y[i] < hi_y)
                 & (lo_y < hi_y[i]))
        taken = np.zeros(n + 1, dtype=bool)
        taken[batch[clash]] = True
        w = np.maximum(b_hi_x, hi_x[i]) - np.minimum(b_lo_x, lo_x[i])
        h = np.maximum(b_hi_y, hi_y[i]) - np.minimum(b_lo_y, lo_y[i])
        taken[:n] |= np.isfinite(b_lo_x) & (_nodes(w, h, 0.0, cell) > MAX_NODES)
        b = int(np.argmin(taken))  # the first batch free for it (an empty one at worst)
        batch[i] = b
        b_lo_x[b], b_lo_y[b] = min(b_lo_x[b], lo_x[i]), min(b_lo_y[b], lo_y[i])
        b_hi_x[b], b_hi_y[b] = max(b_hi_x[b], hi_x[i]), max(b_hi_y[b], hi_y[i])
    return [batch[groups] == b for b in range(batch.max() + 1)]


def _trace(x: np.ndarray, y: np.ndarray, radius: float, cell: float) -> np.ndarray:
    """Polygons where the distance to the nearest point is at most ``radius``, traced on a
    grid aligned to multiples of ``cell`` (so every trace of the same points is the same)."""
    import contourpy

    k = int(np.ceil(radius / cell)) + 1  # window half-size in cells: reaches radius + cell
    # a border of k + 1 cells beyond the points keeps every outline closed
    x0 = (np.floor(x.min() / cell) - k - 1) * cell
    y0 = (np.floor(y.min() / cell) - k - 1) * cell
    nx = int(np.ceil((x.max() - x0) / cell)) + k + 2
    ny = int(np.ceil((y.max() - y0) / cell)) + k + 2
    # Each node in a point's window gets its exact distance to the nearest point. A node with a
    # true distance up to radius + cell (all that the tracing reads: one step from the outline)
    # lies in its nearest point's window; every other node keeps a value above the radius.
    far = radius + 2 * cell
    field = np.full(ny * nx, far)
    ix = np.floor((x - x0) / cell).astype(np.int64)
    iy = np.floor((y - y0) / cell).astype(np.int64)
    ox, oy = (a.ravel() for a in np.meshgrid(np.arange(-k, k + 2), np.arange(-k, k + 2)))
    # the window is round: offsets whose node can lie within radius + cell of a point in the
    # cell [0, 1) x [0, 1) (a square window would hold 60 % more nodes)
    gap = np.hypot(np.maximum(0, np.maximum(-ox, ox - 1)), np.maximum(0, np.maximum(-oy, oy - 1)))
    ox, oy = ox[gap * cell <= radius + cell], oy[gap * cell <= radius + cell]
    bx, by = x0 + ix * cell - x, y0 + iy * cell - y  # from each point to its cell's corner
    base = iy * nx + ix
    step = max(1, 2_000_000 // len(ox))  # keeps the temporary arrays near 100 MB
    for s in range(0, len(x), step):
        ex = bx[s:s + step, None] + ox * cell
        ey = by[s:s + step, None] + oy * cell
        d2 = ex * ex + ey * ey
        near = d2 < far * far
        np.minimum.at(field, (base[s:s + step, None] + (oy * nx + ox))[near], np.sqrt(d2[near]))
    gen = contourpy.contour_generator(
        np.arange(nx) * cell + x0, np.arange(ny) * cell + y0, field.reshape(ny, nx),
        name="serial", fill_type=contourpy.FillType.OuterOffset)
    filled = gen.filled(-1.0, radius)  # OuterOffset: (points, offsets) per outer ring
    points, offsets = cast(list[np.ndarray], filled[0]), cast(list[np.ndarray], filled[1])
    polys = np.array([shapely.Polygon(pts[offs[0]:offs[1]],
                                      [pts[a:b] for a, b in zip(offs[1:-1], offs[2:],
                                                                strict=True)])
                      for pts, offs in zip(points, offsets, strict=True)], dtype=object)
    bad = ~shapely.is_valid(polys)
    if bad.any():  # an outline pinched at one node; keep the output valid
        fixed = shapely.get_parts(shapely.make_valid(polys[bad]))
        polys = np.concatenate([polys[~bad], fixed[shapely.get_type_id(fixed) == 3]])
    return polys
