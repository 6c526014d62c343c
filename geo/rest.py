"""Rest-aware reach: a walk counts only when no stretch between rests is longer than a limit.

Rest points are benches and other seats from OSM (:func:`is_rest_point`). A walker starts at
home, may sit down at any rest point, and must reach a place with no stretch (home → rest,
rest → rest, rest → place, or home → place) longer than ``max_stretch_m``. The rest-aware
distance is the length of the shortest such walk.

**Model.** Every snapped point (home, access point of a place, rest point) *splits* its segment:
a foot node on the segment and a spur to the point itself of its snap distance
(:func:`split_graph`). Passing a bench's foot is not resting; sitting down means walking the
spur to the bench and back, which counts.

**Method (exact).** Build a *hop graph* whose nodes are the rest points and the homes plus one
super-source standing for all places. Its arcs are every pair within ``max_stretch_m`` over the
network, weighted by the shortest network distance: super-source → rest and super-source → home
(distance to the nearest place), rest ↔ rest, rest → home. One Dijkstra from the super-source
gives each home its rest-aware distance. Exactness: any valid walk is a sequence of stretches
between consecutive rests; replacing each stretch by a shortest path between its ends keeps it
valid (it only gets shorter) and never lengthens the walk, so an optimal walk is a path in the
hop graph; conversely every hop-graph path is a valid walk. Homes have only incoming arcs, so a
walk never "rests" at another home. The distances come from bounded ``csgraph.dijkstra`` runs
(limit ``max_stretch_m``) from the rest points in blocks; tests compare with a label-setting
search over (node, distance since the last rest) on the real Helsinki network.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from geo.network import WalkNetwork, csr_min
from geo.routing import Snapped

#: Points per dijkstra block are chosen so a block holds about this many distances (~80 MB).
BLOCK_CELLS = 10_000_000


def is_rest_point(tags: dict[str, str]) -> bool:
    """Benches, picnic tables, and stops or platforms that have a bench."""
    if tags.get("amenity") == "bench" or tags.get("leisure") == "picnic_table":
        return True
    at_stop = tags.get("highway") == "bus_stop" or tags.get("public_transport") == "platform"
    return at_stop and tags.get("bench") == "yes"


#: OSM keys that pre-select rest points when reading an extract with :func:`geo.osm.read_osm`.
REST_KEYS = ("amenity", "leisure", "highway", "public_transport")


def split_graph(net: WalkNetwork, groups: list[Snapped], *,
                edge_mask: np.ndarray | None = None) -> tuple[sp.csr_matrix, list[np.ndarray]]:
    """The network with every snapped point splitting its segment.

    Returns the symmetric CSR graph and, per group, the node index of each point (-1 for points
    that did not snap). Node ``n + i`` is the foot of the i-th point on its segment, node
    ``n + K + i`` the point itself (K = all points of all groups).
    """
    n = net.n_nodes
    allp = Snapped.concat(groups)
    k = len(allp)
    ok = np.nonzero(allp.ok)[0]
    e, t = allp.edge[ok], allp.t[ok]
    order = np.lexsort((t, e))
    ok, e, t = ok[order], e[order], t[order]
    foot = n + ok
    length = net.edge_len[e]
    first = np.r_[True, e[1:] != e[:-1]]
    last = np.r_[e[1:] != e[:-1], True]
    split_edges = np.unique(e)
    keep = np.ones(net.n_edges, dtype=bool) if edge_mask is None else edge_mask.copy()
    keep[split_edges] = False
    rows = [net.edge_u[keep], foot[first], foot[last], foot[:-1][~last[:-1]], foot]
    cols = [net.edge_v[keep], net.edge_u[e[first]], net.edge_v[e[last]], foot[1:][~last[:-1]],
            n + k + ok]
    w = [net.edge_len[keep], t[first] * length[first], (1 - t[last]) * length[last],
         (t[1:] - t[:-1])[~last[:-1]] * length[:-1][~last[:-1]], allp.dist[ok]]
    r, c, ww = np.concatenate(rows), np.concatenate(cols), np.concatenate(w)
    g = csr_min(np.r_[r, c], np.r_[c, r], np.r_[ww, ww], n + 2 * k, n + 2 * k)
    out, start = [], 0
    for grp in groups:
        idx = np.arange(start, start + len(grp))
        out.append(np.where(grp.ok, n + k + idx, -1))
        start += len(grp)
    return g, out


def _bounded_rows(g: sp.csr_matrix, sources: np.ndarray, limit: float):
    """Blocks of (source positions, dense distance rows) of bounded searches from ``sources``."""
    block = max(1, BLOCK_CELLS // g.shape[0])
    for b0 in range(0, len(sources), block):
        pos = np.arange(b0, min(b0 + block, len(sources)))
        yield pos, csgraph.dijkstra(g, directed=False, indices=sources[pos], limit=limit)


def rest_aware_distances(net: WalkNetwork, origins: Snapped, places: Snapped, rests: Snapped,
                         *, max_stretch_m: float, edge_mask: np.ndarray | None = None,
                         limit: float = np.inf) -> np.ndarray:
    """Per origin, the shortest walk to any place in which no stretch between rests (or from
    home / to the place) exceeds ``max_stretch_m``; ``inf`` where there is none (within
    ``limit``). Snap distances count, as in :mod:`geo.routing`."""
    g, (o_node, p_node, r_node) = split_graph(net, [origins, places, rests],
                                              edge_mask=edge_mask)
    out = np.full(len(origins), np.inf)
    o_ok = np.nonzero(o_node >= 0)[0]
    p_ok = p_node[p_node >= 0]
    if not len(o_ok) or not len(p_ok):
        return out
    r_ok = r_node[r_node >= 0]
    n_r, n_o = len(r_ok), len(o_ok)
    to_place = csgraph.dijkstra(g, directed=False, indices=p_ok, min_only=True,
                                limit=max_stretch_m)
    z = n_r + n_o  # hop graph: rests 0..n_r-1, origins n_r.., super-source z
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    ws: list[np.ndarray] = []
    key = np.r_[r_ok, o_node[o_ok]]
    first = to_place[key]
    fin = np.isfinite(first)
    rows.append(np.full(int(fin.sum()), z))
    cols.append(np.nonzero(fin)[0])
    ws.append(first[fin])
    for pos, d in _bounded_rows(g, r_ok, max_stretch_m):
        hop = d[:, key]
        ri, kj = np.nonzero(np.isfinite(hop))
        rows.append(pos[ri])
        cols.append(kj)
        ws.append(hop[ri, kj])
    h = csr_min(np.concatenate(rows), np.concatenate(cols), np.concatenate(ws), z + 1, z + 1)
    dist = csgraph.dijkstra(h, directed=True, indices=z, limit=limit)
    out[o_ok] = dist[n_r:n_r + n_o]
    return out
