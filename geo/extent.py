"""Where the network data is: the covered land, each area's covered share, and how far each
origin lies from the edge of the data.

A distance computed on a partial extract is only as good as the extract: a home near the edge of
the data may have a nearer meeting place just outside it, and a home outside the data has no
distance at all. This module answers both questions on a raster, which is fast and simple:

* **covered land** — the usable network segments dilated by :data:`COVER_M`, without strips
  narrower than 2 × :data:`OPEN_M` (lone roads a cut kept whole), holes filled (a park without
  paths is land without paths, not the edge of the data), and cut to the file's own polygon
  when it states one (``OsmExtract.extent``: a PBF header box, OSM XML ``<bounds>``, the
  standalone nodes' box of a cut, a GraphML graph's hull);
* **covered share** of an area — the share of its raster cells that are covered;
* **edge distance** of a point — the Euclidean distance to the nearest uncovered cell
  (``scipy.ndimage.distance_transform_edt``), a lower bound of how far away data is missing.

Cells are :data:`CELL_M` metres; distances are exact to about one cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray
from scipy import ndimage

#: Raster cell size, m.
CELL_M = 20.0
#: Land within this distance of a usable path counts as covered, m: the distance up to which
#: the analysis snaps a home or a place onto a path (``layers.analysis.MAX_SNAP_M``), so covered
#: land is where a home can be routed at all. Water and fields farther from any path are not
#: covered, which is what the data says.
COVER_M = 250.0
#: Half the width below which a strip of covered land is a lone road, not an area, m.
OPEN_M = 300.0
#: Share of an area's land that must be covered for its figures to be computed.
MIN_COVERED_SHARE = 0.95


@dataclass(frozen=True)
class Extent:
    """Covered land as a boolean raster in a metric CRS (row 0 = south)."""

    crs: str
    x0: float
    y0: float
    cell: float
    covered: NDArray[np.bool_]
    edge_m: NDArray[np.float64]  # distance of each cell centre to the nearest uncovered cell
    how: str  # Dutch: where the covered land comes from

    def _cells(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[
            NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
        col = np.floor((np.asarray(x, dtype=float) - self.x0) / self.cell).astype(np.int64)
        row = np.floor((np.asarray(y, dtype=float) - self.y0) / self.cell).astype(np.int64)
        inside = ((row >= 0) & (row < self.covered.shape[0]) & (col >= 0)
                  & (col < self.covered.shape[1]))
        return row, col, inside

    def edge_distance(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[
            np.float64]:
        """Metres from each point to the edge of the data; 0 outside the covered land."""
        row, col, inside = self._cells(x, y)
        out = np.zeros(len(row))
        out[inside] = self.edge_m[row[inside], col[inside]]
        return out

    def is_covered(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.bool_]:
        row, col, inside = self._cells(x, y)
        out = np.zeros(len(row), dtype=bool)
        out[inside] = self.covered[row[inside], col[inside]]
        return out

    def covered_share(self, polygons: NDArray[np.object_]) -> NDArray[np.float64]:
        """Share (0–1) of each polygon's area that is covered (by cell centres; polygons smaller
        than a cell are judged by their inner point)."""
        out = np.zeros(len(polygons))
        for i, poly in enumerate(polygons):
            if poly is None or poly.is_empty:
                continue
            minx, miny, maxx, maxy = poly.bounds
            c0 = int(np.floor((minx - self.x0) / self.cell))
            c1 = int(np.ceil((maxx - self.x0) / self.cell))
            r0 = int(np.floor((miny - self.y0) / self.cell))
            r1 = int(np.ceil((maxy - self.y0) / self.cell))
            cols = np.arange(c0, c1)
            rows = np.arange(r0, r1)
            cx, cy = np.meshgrid(self.x0 + (cols + 0.5) * self.cell,
                                 self.y0 + (rows + 0.5) * self.cell)
            cx, cy = cx.ravel(), cy.ravel()
            shapely.prepare(poly)
            hit = shapely.contains_xy(poly, cx, cy)
            if not hit.any():
                p = poly.representative_point()
                out[i] = float(self.is_covered(np.array([p.x]), np.array([p.y]))[0])
                continue
            out[i] = float(self.is_covered(cx[hit], cy[hit]).mean())
        return out

    def polygon(self) -> shapely.Geometry:
        """The covered land as a (multi)polygon, for maps and exports (cell-exact)."""
        rows, cols = np.nonzero(self.covered)
        if not len(rows):
            return shapely.Polygon()
        # merge runs of covered cells per row into boxes, then union
        boxes = []
        for r in np.unique(rows):
            cs = np.sort(cols[rows == r])
            breaks = np.nonzero(np.diff(cs) > 1)[0]
            starts = np.r_[cs[0], cs[breaks + 1]]
            ends = np.r_[cs[breaks], cs[-1]] + 1
            y0 = self.y0 + r * self.cell
            boxes += [shapely.box(self.x0 + s * self.cell, y0, self.x0 + e * self.cell,
                                  y0 + self.cell) for s, e in zip(starts, ends, strict=True)]
        return shapely.union_all(boxes).simplify(self.cell / 2)


def extent_of(
    x_segments: NDArray[np.float64],
    y_segments: NDArray[np.float64],
    *,
    crs: str,
    polygon_lonlat: shapely.Geometry | None = None,
    cell: float = CELL_M,
    cover_m: float = COVER_M,
    margin_m: float = 2000.0,
) -> Extent:
    """The covered land of a network.

    Parameters
    ----------
    x_segments, y_segments
        ``(m, 2)`` arrays: the two end points of every usable segment, in ``crs`` (metres).
    crs
        The metric CRS of the coordinates.
    polygon_lonlat
        The file's own polygon in EPSG:4326, when it states one; the covered land is cut to it.
    cell, cover_m
        Raster cell size and the dilation of the segments when there is no polygon, metres.
    margin_m
        Raster margin around the segments, metres (room for distances to the edge).
    """
    xs = np.asarray(x_segments, dtype=float)
    ys = np.asarray(y_segments, dtype=float)
    minx, miny = float(np.nanmin(xs)) - margin_m, float(np.nanmin(ys)) - margin_m
    maxx, maxy = float(np.nanmax(xs)) + margin_m, float(np.nanmax(ys)) + margin_m
    ncol = int(np.ceil((maxx - minx) / cell))
    nrow = int(np.ceil((maxy - miny) / cell))
    touched = np.zeros((nrow, ncol), dtype=bool)
    # sample every segment at least every half cell, so no cell on a path is missed
    length = np.hypot(xs[:, 1] - xs[:, 0], ys[:, 1] - ys[:, 0])
    steps = np.maximum(1, np.ceil(length / (cell / 2)).astype(np.int64))
    seg = np.repeat(np.arange(len(xs)), steps + 1)
    start = np.repeat(np.cumsum(steps + 1) - (steps + 1), steps + 1)
    t = (np.arange(len(seg)) - start) / steps[seg]
    px = xs[seg, 0] + (xs[seg, 1] - xs[seg, 0]) * t
    py = ys[seg, 0] + (ys[seg, 1] - ys[seg, 0]) * t
    col = np.clip(((px - minx) / cell).astype(np.int64), 0, ncol - 1)
    row = np.clip(((py - miny) / cell).astype(np.int64), 0, nrow - 1)
    touched[row, col] = True
    # cells within cover_m of a touched cell: distance transform of the complement
    dist = ndimage.distance_transform_edt(~touched, sampling=cell)
    covered = dist <= cover_m
    # morphological opening: a lone road that a clipped extract keeps whole (a route
    # relation's member, a road crossing the cut) leaves a corridor 2 × cover_m wide;
    # land narrower than 2 × OPEN_M is not an area the data covers
    inner = ndimage.distance_transform_edt(covered, sampling=cell) > OPEN_M
    covered = ndimage.distance_transform_edt(~inner, sampling=cell) <= OPEN_M + cell
    covered &= dist <= cover_m
    covered = ndimage.binary_fill_holes(covered)
    how = f"het land binnen {cover_m:.0f} m van een bruikbaar pad"
    if polygon_lonlat is not None and not polygon_lonlat.is_empty:
        tf = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        poly = shapely.transform(polygon_lonlat,
                                 lambda c: np.c_[tf.transform(c[:, 0], c[:, 1])])
        cx, cy = np.meshgrid(minx + (np.arange(ncol) + 0.5) * cell,
                             miny + (np.arange(nrow) + 0.5) * cell)
        shapely.prepare(poly)
        covered &= shapely.contains_xy(poly, cx.ravel(), cy.ravel()).reshape(nrow, ncol)
        how += ", binnen het gebied dat het bestand zelf opgeeft"
    padded = np.pad(covered, 1, constant_values=False)
    edge = ndimage.distance_transform_edt(padded, sampling=cell)[1:-1, 1:-1]
    edge = np.where(covered, edge - cell / 2, 0.0).clip(min=0.0)
    return Extent(crs=crs, x0=minx, y0=miny, cell=cell, covered=covered, edge_m=edge, how=how)

