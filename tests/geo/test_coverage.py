"""Coverage arithmetic against naive reference implementations."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.coverage import aggregate_by_area, positions_in, spread_totals, weighted_quantile


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 60),
    k=st.integers(1, 6),
    seed=st.integers(0, 10_000),
)
def test_spread_conserves_every_area_total(n, k, seed):
    rng = np.random.default_rng(seed)
    area = rng.integers(0, k, n).astype(str)
    weight = rng.choice([0.0, 1.0, 2.5, 80.0], n)
    totals = pd.Series(rng.integers(0, 5000, k).astype(float), index=np.arange(k).astype(str))
    got = spread_totals(area, weight, totals)
    per_area = got.groupby(area).sum()
    for a, s in per_area.items():
        assert abs(s - totals[a]) < 1e-6 * max(1.0, totals[a])
    assert (got >= 0).all()


def test_spread_keeps_unknown_totals_unknown():
    got = spread_totals(np.array(["a", "a", "b"]), np.array([1.0, 3.0, 1.0]),
                        pd.Series({"a": 100.0, "b": np.nan}))
    assert got.tolist()[:2] == [25.0, 75.0]
    assert np.isnan(got.iloc[2])


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 5000), st.integers(0, 6)), min_size=1, max_size=40),
       st.sampled_from([0.1, 0.5, 0.9]))
def test_weighted_quantile_equals_repeating_values(pairs, q):
    values = np.array([p[0] for p in pairs])
    weights = np.array([p[1] for p in pairs], dtype=float)
    got = weighted_quantile(values, weights, q)
    repeated = np.repeat(values, weights.astype(int))
    if len(repeated) == 0:
        assert np.isnan(got)
    else:
        assert got == np.quantile(repeated, q, method="inverted_cdf")


def test_aggregate_matches_a_plain_loop():
    rng = np.random.default_rng(3)
    area = rng.choice(["BU1", "BU2", "BU3"], 500)
    w = rng.uniform(0, 3, 500)
    d = rng.uniform(0, 1200, 500)
    d[:20] = np.inf  # unreachable origins count as beyond
    areas = pd.Index(["BU1", "BU2", "BU3", "BU4"])  # BU4 has no origins
    got = aggregate_by_area(area, w, d, 500.0, areas)
    assert list(got.index) == list(areas)
    for a in ["BU1", "BU2", "BU3"]:
        sel = area == a
        assert np.isclose(got.at[a, "total"], w[sel].sum())
        assert np.isclose(got.at[a, "within"], w[sel & (d <= 500)].sum())
        assert np.isclose(got.at[a, "beyond"], w[sel & (d > 500)].sum())
        assert np.isclose(got.at[a, "share"], w[sel & (d <= 500)].sum() / w[sel].sum())
    assert got.at["BU4", "total"] == 0 and np.isnan(got.at["BU4", "share"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 4), st.integers(0, 3), st.integers(0, 900)),
             min_size=0, max_size=60),
    st.sampled_from([0.5, 0.9]),
)
def test_vectorised_area_quantiles_equal_the_naive_per_area_quantile(rows, q):
    """aggregate_by_area's median/p90 equal weighted_quantile area by area (ties, zero weights,
    empty areas included)."""
    area = np.array([f"A{a}" for a, _, _ in rows], dtype=object)
    w = np.array([float(x) for _, x, _ in rows])
    d = np.array([float(x) for _, _, x in rows])
    areas = pd.Index([f"A{i}" for i in range(6)])
    got = aggregate_by_area(area, w, d, 500.0, areas)
    col = "median_m" if q == 0.5 else "p90_m"
    for a in areas:
        sel = area == a
        want = weighted_quantile(d[sel], w[sel], q)
        assert (np.isnan(want) and np.isnan(got.at[a, col])) or got.at[a, col] == want


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "x", None]), max_size=40))
def test_positions_of_a_categorical_equal_get_indexer(values):
    index = pd.Index(["c", "a", "b"])
    plain = index.get_indexer(pd.Series(values, dtype=object))
    got = positions_in(index, pd.Series(values, dtype=object).astype("category"))
    assert np.array_equal(got, plain)
