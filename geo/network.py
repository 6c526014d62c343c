"""The walk network as arrays: one pure builder behind every entry point.

:func:`build_network` turns a table of walkable ways (from a local file via :func:`geo.osm.read_osm`
or from the online path in :mod:`geo.online`) into a :class:`WalkNetwork`: nodes with projected
coordinates and undirected segments between consecutive OSM nodes, with their lengths in metres.
Nothing is simplified away, so every OSM node is a routable node and distances are exact along
the mapped geometry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse import csgraph

from geo.errors import InputError
from geo.osm import OsmExtract, read_osm

#: Dutch national grid (Rijksdriehoeksstelsel); metric, used for every area in the Netherlands.
RD_CRS = "EPSG:28992"
#: lon/lat box of the Netherlands (incl. the Wadden and Zeeland), for choosing the projection.
NL_LONLAT_BOX = (3.2, 50.7, 7.3, 53.7)
#: Smallest edge weight; csgraph treats an explicit zero as "no edge".
MIN_WEIGHT = 1e-6


def metric_crs_for(bounds_lonlat: tuple[float, float, float, float]) -> str:
    """RD New inside the Netherlands, else the UTM zone of the centre."""
    minx, miny, maxx, maxy = bounds_lonlat
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    bx0, by0, bx1, by1 = NL_LONLAT_BOX
    if bx0 <= cx <= bx1 and by0 <= cy <= by1:
        return RD_CRS
    zone = int((cx + 180) // 6) + 1
    return f"EPSG:{32600 + zone if cy >= 0 else 32700 + zone}"


@dataclass
class WalkNetwork:
    """Nodes and undirected segments of the walkable network in a metric CRS."""

    crs: str
    node_osm_id: np.ndarray  # int64 (n,)
    x: np.ndarray  # float64 (n,)
    y: np.ndarray  # float64 (n,)
    edge_u: np.ndarray  # int64 (m,)
    edge_v: np.ndarray  # int64 (m,)
    edge_len: np.ndarray  # float64 (m,), metres
    edge_way: np.ndarray  # int64 (m,), row in ``ways``
    ways: pd.DataFrame  # way attributes (osm_id, highway, surface, ...)
    node_tags: dict[int, dict[str, str]] = field(default_factory=dict)  # by node index
    source: str = ""

    @property
    def n_nodes(self) -> int:
        return len(self.x)

    @property
    def n_edges(self) -> int:
        return len(self.edge_u)

    def edge_attr(self, name: str) -> np.ndarray:
        """A way attribute broadcast to edges (object array, None where untagged)."""
        return self.ways[name].to_numpy(dtype=object)[self.edge_way]

    def edge_in(self, name: str, values) -> np.ndarray:
        """Per segment: whether its way's ``name`` is one of ``values`` (False where the ways
        lack the column); tested once per way, not per segment."""
        if name not in self.ways:
            return np.zeros(self.n_edges, dtype=bool)
        return np.isin(self.ways[name].to_numpy(dtype=object), list(values))[self.edge_way]

    def edge_untagged(self, name: str) -> np.ndarray:
        """Per segment: whether its way lacks ``name`` (None/NaN, or no such column)."""
        if name not in self.ways:
            return np.ones(self.n_edges, dtype=bool)
        return pd.isna(self.ways[name].to_numpy(dtype=object))[self.edge_way]

    def adjacency(self, edge_mask: np.ndarray | None = None) -> sp.csr_matrix:
        """Symmetric CSR matrix of segment lengths; parallel segments keep the shortest.

        Same matrix as :func:`csr_min` of both directions of the (masked) segments, built
        without sorting: the entries are sorted once per network (:attr:`_entry_order`), and a
        mask keeps that order.
        """
        order = self._entry_order
        m = self.n_edges
        if edge_mask is not None:
            order = order[np.r_[edge_mask, edge_mask][order]]
        seg = np.where(order < m, order, order - m)
        rows = np.where(order < m, self.edge_u[seg], self.edge_v[seg])
        cols = np.where(order < m, self.edge_v[seg], self.edge_u[seg])
        w = np.maximum(self.edge_len[seg], MIN_WEIGHT)
        if len(rows):  # parallel segments: the first of each (row, col) run is the shortest
            first = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])]
            rows, cols, w = rows[first], cols[first], w[first]
        indptr = np.r_[0, np.cumsum(np.bincount(rows, minlength=self.n_nodes))]
        return sp.csr_matrix((w, cols, indptr), shape=(self.n_nodes, self.n_nodes))

    @cached_property
    def _entry_order(self) -> np.ndarray:
        """Both directions of every segment (u->v as 0..m-1, v->u as m..2m-1) sorted by row,
        column and length: the order :meth:`adjacency` reads them in."""
        u, v, w = self.edge_u, self.edge_v, np.maximum(self.edge_len, MIN_WEIGHT)
        return np.lexsort((np.r_[w, w], np.r_[v, u], np.r_[u, v]))

    @cached_property
    def components(self) -> np.ndarray:
        """Connected-component label per node (0 = the largest component)."""
        _, labels = csgraph.connected_components(self.adjacency(), directed=False)
        sizes = np.bincount(labels)
        order = np.argsort(-sizes, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        return rank[labels]

    def segments(self) -> np.ndarray:
        """Shapely LineStrings, one per segment (for snapping and drawing)."""
        coords = np.stack(
            [np.c_[self.x[self.edge_u], self.y[self.edge_u]],
             np.c_[self.x[self.edge_v], self.y[self.edge_v]]],
            axis=1,
        )
        return shapely.linestrings(coords)

    def to_networkx(self, edge_mask: np.ndarray | None = None):
        """The same graph as networkx (reference implementation for tests and benchmarks)."""
        import networkx as nx

        g = nx.Graph()
        g.add_nodes_from(range(self.n_nodes))
        u, v, w = self.edge_u, self.edge_v, self.edge_len
        if edge_mask is not None:
            u, v, w = u[edge_mask], v[edge_mask], w[edge_mask]
        for a, b, length in zip(u.tolist(), v.tolist(), w.tolist(), strict=True):
            if g.has_edge(a, b) and g[a][b]["length"] <= length:
                continue
            g.add_edge(a, b, length=length)
        return g


def csr_min(rows, cols, weights, n_rows: int, n_cols: int) -> sp.csr_matrix:
    """CSR matrix keeping the minimum weight of duplicate (row, col) entries (scipy would sum)."""
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    w = np.maximum(np.asarray(weights, dtype=np.float64), MIN_WEIGHT)
    order = np.lexsort((w, cols, rows))
    rows, cols, w = rows[order], cols[order], w[order]
    if len(rows):
        first = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])]
        rows, cols, w = rows[first], cols[first], w[first]
    return sp.csr_matrix((w, (rows, cols)), shape=(n_rows, n_cols))


def build_network(
    ways: pd.DataFrame,
    *,
    crs: str | None = None,
    node_tags: dict[int, dict[str, str]] | None = None,
    source: str = "",
) -> WalkNetwork:
    """Build a :class:`WalkNetwork` from walkable ways.

    ``ways`` has one row per way with ``node_ids``, ``lon`` and ``lat`` (aligned arrays; NaN
    marks a node without location, whose segments are dropped) plus any tag columns.
    ``crs`` is the metric CRS to project to (default: RD New in the Netherlands, else UTM).
    ``node_tags`` maps OSM node ids to their tags (kerbs, barriers).
    """
    if ways.empty:
        raise InputError("geen beloopbare wegen (no walkable ways)",
                         fix="kies een OSM-uitsnede die het gebied dekt")
    counts = ways["node_ids"].map(len).to_numpy()
    ids = np.concatenate(ways["node_ids"].to_numpy()).astype(np.int64)
    lon = np.concatenate(ways["lon"].to_numpy()).astype(np.float64)
    lat = np.concatenate(ways["lat"].to_numpy()).astype(np.float64)
    way_of = np.repeat(np.arange(len(ways)), counts)
    # a segment joins entry i and i+1 of the same way; both ends need a location
    same_way = way_of[1:] == way_of[:-1]
    valid = ~np.isnan(lon)
    seg = same_way & valid[1:] & valid[:-1] & (ids[1:] != ids[:-1])
    a_idx = np.nonzero(seg)[0]
    b_idx = a_idx + 1

    uniq, inverse = np.unique(ids, return_inverse=True)
    used = np.zeros(len(uniq), dtype=bool)
    used[inverse[a_idx]] = True
    used[inverse[b_idx]] = True
    # coordinates per unique node (first valid occurrence)
    node_lon = np.full(len(uniq), np.nan)
    node_lat = np.full(len(uniq), np.nan)
    node_lon[inverse[valid]] = lon[valid]
    node_lat[inverse[valid]] = lat[valid]
    # renumber to used nodes only
    new_index = np.full(len(uniq), -1, dtype=np.int64)
    new_index[used] = np.arange(int(used.sum()))
    if crs is None:
        crs = metric_crs_for(
            (np.nanmin(lon), np.nanmin(lat), np.nanmax(lon), np.nanmax(lat))
        )
    tf = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = tf.transform(node_lon[used], node_lat[used])
    u = new_index[inverse[a_idx]]
    v = new_index[inverse[b_idx]]
    length = np.hypot(x[u] - x[v], y[u] - y[v])
    node_osm = uniq[used]
    tags_by_index: dict[int, dict[str, str]] = {}
    if node_tags:
        pos = np.searchsorted(node_osm, np.fromiter(node_tags.keys(), dtype=np.int64))
        for (osm_id, tags), i in zip(node_tags.items(), pos, strict=True):
            if i < len(node_osm) and node_osm[i] == osm_id:
                tags_by_index[int(i)] = tags
    attrs = ways.drop(columns=["node_ids", "lon", "lat"]).reset_index(drop=True)
    return add_area_crossings(WalkNetwork(
        crs=crs,
        node_osm_id=node_osm,
        x=np.asarray(x, dtype=np.float64),
        y=np.asarray(y, dtype=np.float64),
        edge_u=u,
        edge_v=v,
        edge_len=length,
        edge_way=way_of[a_idx].astype(np.int64),
        ways=attrs,
        node_tags=tags_by_index,
        source=source,
    ))


#: Pedestrian areas with more outline nodes than this are crossed between their junctions and
#: this many evenly spaced outline nodes (all pairs would grow quadratically).
AREA_CROSSING_MAX_NODES = 80


def add_area_crossings(net: WalkNetwork, *, max_nodes: int = AREA_CROSSING_MAX_NODES
                       ) -> WalkNetwork:
    """Let walkers cross ``area=yes`` squares instead of only walking round their outline.

    For every closed way tagged ``area=yes`` (a pedestrian square, a platform), each junction
    of its outline (a node where another way meets it) is joined by a straight segment to
    every other outline node when that segment lies inside the area (concave corners are
    walked round): people enter a square where a path meets it and head straight for where
    they are going. Large outlines keep every junction plus ``max_nodes`` evenly spaced nodes.
    The new segments belong to the area's way (same tags), so profiles treat them like the
    square itself. Returns ``net`` with the segments appended (the original segments keep
    their order and indices).
    """
    if "area" not in net.ways.columns or net.n_edges == 0:
        return net
    is_area = net.ways["area"].to_numpy(dtype=object) == "yes"
    if not is_area.any():
        return net
    # a way may come in pieces (an online graph stores one row per segment): group by OSM id
    way_id = (net.ways["osm_id"].to_numpy() if "osm_id" in net.ways.columns
              else np.arange(len(net.ways)))
    e_id = way_id[net.edge_way]
    # how many ways touch each node, to find where other paths meet an outline
    pairs = np.unique(np.c_[np.r_[net.edge_u, net.edge_v], np.r_[e_id, e_id]], axis=0)
    n_ways = np.bincount(pairs[:, 0], minlength=net.n_nodes)
    order = np.argsort(e_id, kind="stable")
    sorted_id = e_id[order]
    new_u, new_v, new_way = [], [], []
    for w in np.unique(way_id[is_area]).tolist():
        lo = np.searchsorted(sorted_id, w, side="left")
        hi = np.searchsorted(sorted_id, w, side="right")
        e = order[lo:hi]
        if len(e) < 3:
            continue
        segs = shapely.linestrings(np.stack([np.c_[net.x[net.edge_u[e]], net.y[net.edge_u[e]]],
                                             np.c_[net.x[net.edge_v[e]], net.y[net.edge_v[e]]]],
                                            axis=1))
        polys = [p for p in shapely.get_parts(shapely.polygonize(segs)) if p.area >= 1.0]
        if not polys:
            continue  # not a closed outline (e.g. clipped at the extract's edge)
        poly = shapely.union_all(polys)
        cand = np.unique(np.r_[net.edge_u[e], net.edge_v[e]])
        if len(cand) > max_nodes:
            junction = cand[n_ways[cand] > 1]
            spaced = _spaced_along(poly, cand, net, max_nodes)
            cand = np.unique(np.r_[junction, spaced])
        i, j = np.triu_indices(len(cand), 1)
        a, b = cand[i], cand[j]
        meet = (n_ways[a] > 1) | (n_ways[b] > 1)  # one end where another path meets the square
        a, b = a[meet], b[meet]
        lines = shapely.linestrings(np.stack([np.c_[net.x[a], net.y[a]],
                                              np.c_[net.x[b], net.y[b]]], axis=1))
        inside = poly.buffer(0.05)
        shapely.prepare(inside)
        ok = shapely.covers(inside, lines)
        new_u.append(a[ok])
        new_v.append(b[ok])
        new_way.append(np.full(int(ok.sum()), net.edge_way[e[0]], dtype=np.int64))
    if not new_u or not sum(len(x) for x in new_u):
        return net
    u = np.concatenate(new_u)
    v = np.concatenate(new_v)
    length = np.hypot(net.x[u] - net.x[v], net.y[u] - net.y[v])
    net.__dict__["n_osm_edges"] = net.n_edges  # segments before these are OSM's own
    net.edge_u = np.r_[net.edge_u, u]
    net.edge_v = np.r_[net.edge_v, v]
    net.edge_len = np.r_[net.edge_len, length]
    net.edge_way = np.r_[net.edge_way, np.concatenate(new_way)]
    return net


def _spaced_along(poly, nodes: np.ndarray, net: WalkNetwork, n: int) -> np.ndarray:
    """``n`` of ``nodes`` evenly spaced along the outline of ``poly``, in an order that depends
    on the geometry only (the outline normalised), not on how a reader stored the segments: the
    same square read from an OSM file or from a GraphML file gets the same crossings."""
    along = shapely.line_locate_point(shapely.normalize(poly).boundary,
                                      shapely.points(net.x[nodes], net.y[nodes]))
    ordered = nodes[np.lexsort((net.node_osm_id[nodes], along))]
    return ordered[np.linspace(0, len(ordered) - 1, n).astype(int)]


def network_from_extract(extract: OsmExtract, *, crs: str | None = None) -> WalkNetwork:
    """Network from an already-read OSM extract."""
    return build_network(
        extract.ways, crs=crs, node_tags=extract.node_tags, source=str(extract.path)
    )


def network_from_file(path: str | Path, *, crs: str | None = None) -> WalkNetwork:
    """Network from a local OSM file (.osm.pbf, .osm, .osm.bz2)."""
    return network_from_extract(read_osm(path, feature_keys=(), buildings=False), crs=crs)
