"""seeded_pass against networkx on random small graphs (STYLE.md §2.7): repeated seeds, zero and
infinite offsets, ties in weights and offsets, parallel edges (kept shortest by csr_min),
directed edges, unreachable parts and a search limit."""

from __future__ import annotations

import networkx as nx
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.network import MIN_WEIGHT, csr_min
from geo.routing import seeded_pass

#: Few distinct values, so that equal path lengths (ties) are common.
WEIGHTS = [0.0, 1.0, 1.0, 2.0, 3.0, 2.5]
OFFSETS = [0.0, 0.0, 0.5, 1.0, 2.0, 4.0, np.inf]


@st.composite
def problems(draw):
    n = draw(st.integers(1, 14))
    edge = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.sampled_from(WEIGHTS))
    edges = draw(st.lists(edge, max_size=3 * n))
    symmetric = draw(st.booleans())
    seed = st.tuples(st.integers(0, n - 1), st.sampled_from(OFFSETS), st.integers(0, 5))
    seeds = draw(st.lists(seed, max_size=8))
    limit = draw(st.sampled_from([np.inf, np.inf, 0.0, 2.0, 3.5, 6.0]))
    return n, edges, symmetric, seeds, limit


@settings(max_examples=300, deadline=None)
@given(problems())
def test_seeded_pass_equals_networkx_with_a_super_source(problem):
    n, edges, symmetric, seeds, limit = problem
    if symmetric:
        edges = edges + [(v, u, w) for u, v, w in edges]
    edges = [(u, v, w) for u, v, w in edges if u != v]
    u = np.array([e[0] for e in edges], dtype=np.int64)
    v = np.array([e[1] for e in edges], dtype=np.int64)
    w = np.array([e[2] for e in edges], dtype=np.float64)
    adj = csr_min(u, v, w, n, n)
    s_node = np.array([s[0] for s in seeds], dtype=np.int64)
    s_off = np.array([s[1] for s in seeds], dtype=np.float64)
    s_lab = np.array([s[2] for s in seeds], dtype=np.int64)

    dist, label = seeded_pass(adj, s_node, s_off, s_lab, limit=limit)

    # reference: networkx, parallel edges reduced to the shortest by hand
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    for a, b, length in edges:
        length = max(length, MIN_WEIGHT)
        if not g.has_edge(a, b) or g[a][b]["w"] > length:
            g.add_edge(a, b, w=length)
    pair = dict(nx.all_pairs_dijkstra_path_length(g, weight="w"))
    offers = [(a, o, lab) for a, o, lab in seeds if np.isfinite(o)]
    expected = np.array([min((o + pair[a].get(x, np.inf) for a, o, _ in offers),
                             default=np.inf) for x in range(n)])
    expected = np.where(expected <= limit, expected, np.inf)
    # either side of the limit is fine right at it
    near_limit = np.isfinite(limit) & (np.abs(np.minimum(expected, 1e9) - limit) < 1e-4)
    fin = np.isfinite(expected)

    assert dist.shape == label.shape == (n,)
    assert np.array_equal(fin | near_limit, np.isfinite(dist) | near_limit)
    both = fin & np.isfinite(dist)
    assert np.allclose(dist[both], expected[both], atol=1e-4)
    assert (label[~np.isfinite(dist)] == -1).all()
    # every reached node carries the label of a seed that really reaches it at that distance
    for x in np.nonzero(np.isfinite(dist))[0]:
        assert any(lab == label[x] and abs(o + pair[a].get(x, np.inf) - dist[x]) < 1e-4
                   for a, o, lab in offers), (x, dist[x], label[x], offers)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 10).flatmap(lambda n: st.tuples(
    st.just(n),
    st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.sampled_from(WEIGHTS)),
             max_size=4 * n),
    st.integers(0, 2**16))))
def test_adjacency_equals_csr_min_of_both_directions(case):
    """WalkNetwork.adjacency (entries sorted once per network) gives exactly the csr_min matrix,
    parallel segments and masks included."""
    import pandas as pd

    from geo.network import WalkNetwork

    n, edges, seed = case
    u = np.array([e[0] for e in edges], dtype=np.int64)
    v = np.array([e[1] for e in edges], dtype=np.int64)
    w = np.array([e[2] for e in edges], dtype=np.float64)
    net = WalkNetwork("EPSG:28992", np.arange(n), np.zeros(n), np.zeros(n), u, v, w,
                      np.zeros(len(u), dtype=np.int64), pd.DataFrame({"highway": ["path"]}))
    mask = np.random.default_rng(seed).random(len(u)) < 0.7
    for m in (None, mask):
        uu, vv, ww = (u, v, w) if m is None else (u[m], v[m], w[m])
        ref = csr_min(np.r_[uu, vv], np.r_[vv, uu], np.r_[ww, ww], n, n)
        got = net.adjacency(m)
        for a, b in ((ref.indptr, got.indptr), (ref.indices, got.indices),
                     (ref.data, got.data)):
            assert np.array_equal(a, b)
