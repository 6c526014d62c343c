"""Update a nearest-source distance field when sources are added or removed, without a new
pass over the whole network.

* **Adding** sources: one Dijkstra pass from the new sources only; every node keeps the smaller
  of its old distance and the new one. A node's nearest source can only change to a new one.
* **Removing** sources: only the nodes whose nearest source was removed (the *affected* set)
  need new distances. Every other node keeps its distance and source, because removing a
  source cannot make anything closer. The affected nodes are repaired by a Dijkstra pass on
  the sub-network they form, seeded from their unaffected neighbours (old distance + edge)
  and from the remaining sources whose segment ends at an affected node. The work is
  proportional to the size of the affected set, not to the network.

Both give exactly the field a full :func:`geo.routing.nearest_sources` pass would give
(tests compare them on real networks).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from geo.network import WalkNetwork
from geo.routing import DistanceField, Snapped, _virtual_edges, nearest_sources, seeded_pass


def add_sources(
    net: WalkNetwork, field: DistanceField, new: Snapped, *, adjacency: sp.csr_matrix
) -> DistanceField:
    """The field with ``new`` sources appended (their indices follow the old ones)."""
    offset = len(field.sources)
    sources = Snapped.concat([field.sources, new])
    if not new.ok.any():
        return DistanceField(field.dist, field.source, sources)
    extra = nearest_sources(net, new, adjacency=adjacency)
    better = extra.dist < field.dist
    dist = np.where(better, extra.dist, field.dist)
    src = np.where(better, extra.source + offset, field.source)
    return DistanceField(dist, src, sources)


def remove_sources(
    net: WalkNetwork,
    field: DistanceField,
    removed: np.ndarray,
    *,
    adjacency: sp.csr_matrix,
) -> DistanceField:
    """The field with the sources ``removed`` (indices into ``field.sources``) taken out.

    Removed sources keep their index (so other sources keep theirs) but no longer snap.
    ``adjacency`` must be symmetric (a walk network), as :meth:`WalkNetwork.adjacency` gives.
    """
    removed = np.unique(np.asarray(removed, dtype=np.int64))
    s = field.sources
    edge = s.edge.copy()
    edge[removed] = -1
    sources = Snapped(edge, s.t, s.dist)
    affected = np.isin(field.source, removed)
    if not affected.any():
        return DistanceField(field.dist, field.source, sources)
    n = net.n_nodes
    a_nodes = np.nonzero(affected)[0]
    local = np.full(n, -1, dtype=np.int64)
    local[a_nodes] = np.arange(len(a_nodes))

    # seeds: cheapest way into each affected node from outside the affected set
    sub_rows = adjacency[a_nodes]  # symmetric: row v lists the neighbours u of v
    coo = sub_rows.tocoo()
    outside = ~affected[coo.col]
    cand_node = coo.row[outside]
    cand_dist = field.dist[coo.col[outside]] + coo.data[outside]
    cand_src = field.source[coo.col[outside]]
    # ... and from remaining sources on segments that end at an affected node
    keep = np.nonzero(sources.ok)[0]
    if len(keep):
        vu, vv, du, dv = _virtual_edges(net, sources.subset(keep))
        for ends, d in ((vu, du), (vv, dv)):
            hit = affected[ends]
            cand_node = np.r_[cand_node, local[ends[hit]]]
            cand_dist = np.r_[cand_dist, d[hit]]
            cand_src = np.r_[cand_src, keep[hit]]

    dist = field.dist.copy()
    src = field.source.copy()
    dist[a_nodes] = np.inf
    src[a_nodes] = -1
    if np.isfinite(cand_dist).any():
        # a pass over the sub-network of affected nodes, seeded from outside
        d, lab = seeded_pass(sub_rows[:, a_nodes].tocsr(), cand_node, cand_dist, cand_src)
        reached = np.isfinite(d)
        dist[a_nodes[reached]] = d[reached]
        src[a_nodes[reached]] = lab[reached]
    return DistanceField(dist, src, sources)
