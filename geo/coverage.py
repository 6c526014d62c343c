"""Coverage arithmetic: spreading area totals over origins, and aggregating distances per area.

Functions return pandas objects aligned with their input (index = origin or area id), in the
manner of momepy, and conserve totals exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def spread_totals(
    origin_area: np.ndarray | pd.Series,
    origin_weight: np.ndarray | pd.Series,
    area_totals: pd.Series,
) -> pd.Series:
    """Split each area's total over its origins in proportion to their weights.

    ``origin_area`` names the area of every origin; ``area_totals`` is indexed by area id.
    Origins with total weight 0 in an area share it equally. Areas without any origin and
    NaN totals (unknown, e.g. CBS secrecy) give nothing; the sum over origins of each area
    equals its total. Returns a Series aligned with the origins.
    """
    area = pd.Series(np.asarray(origin_area))
    w = pd.Series(np.asarray(origin_weight, dtype=np.float64)).clip(lower=0).fillna(0)
    w_sum = w.groupby(area).transform("sum")
    n = w.groupby(area).transform("size")
    share = np.where(w_sum > 0, w / w_sum.where(w_sum > 0, 1), 1.0 / n)
    total = area.map(area_totals).astype(np.float64)
    return pd.Series(share * total.to_numpy(), index=pd.RangeIndex(len(area)))


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Weighted quantile (inverse of the weighted empirical CDF); NaN without weight."""
    values = np.asarray(values, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    keep = weights > 0
    if not keep.any():
        return float("nan")
    v, w = values[keep], weights[keep]
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cum = np.cumsum(w)
    i = int(np.searchsorted(cum, q * cum[-1], side="left"))
    return float(v[min(i, len(v) - 1)])


def positions_in(index: pd.Index, values) -> np.ndarray:
    """Position of each of ``values`` in ``index`` (-1 where absent), as ``get_indexer``; a
    categorical ``values`` (a Series or Categorical) is looked up once per category."""
    if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        cat = pd.Categorical(values)
        lut = np.r_[index.get_indexer(cat.categories), -1]  # code -1 (missing) -> -1
        return lut[cat.codes]
    return index.get_indexer(np.asarray(values))


def aggregate_by_area(
    origin_area: np.ndarray,
    origin_weight: np.ndarray,
    origin_dist: np.ndarray,
    limit_m: float,
    areas: pd.Index,
) -> pd.DataFrame:
    """Per area: total weight, weight within / beyond ``limit_m``, share within, median and 90th
    percentile distance (weighted by the origins' weights; ``inf`` = unreachable).

    Every id of ``areas`` appears exactly once; areas without origins get 0 and NaN.
    """
    code = positions_in(pd.Index(areas), origin_area)
    w = np.asarray(origin_weight, dtype=np.float64)
    d = np.asarray(origin_dist, dtype=np.float64)
    known = code >= 0  # origins of areas not asked for are ignored
    code, w, d = code[known], w[known], d[known]
    n = len(areas)
    total = np.bincount(code, weights=w, minlength=n)
    within = np.bincount(code, weights=np.where(d <= limit_m, w, 0.0), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, within / np.where(total > 0, total, 1.0), np.nan)
    median, p90 = _grouped_quantile(code, w, d, (0.5, 0.9), n)
    return pd.DataFrame(
        {"total": total, "within": within, "beyond": total - within, "share": share,
         # an unreachable median is not a distance: report it as missing
         "median_m": np.where(np.isfinite(median), median, np.nan),
         "p90_m": np.where(np.isfinite(p90), p90, np.nan)},
        index=areas,
    )


def _grouped_quantile(code: np.ndarray, w: np.ndarray, d: np.ndarray, qs: tuple[float, ...],
                      n: int) -> list[np.ndarray]:
    """:func:`weighted_quantile` per area code 0..n-1 for each q of ``qs``, vectorised (same
    definition and ties; one sort for all): NaN for areas without weight."""
    outs = [np.full(n, np.nan) for _ in qs]
    keep = w > 0
    c, dv, wv = code[keep], d[keep], w[keep]
    if len(c) == 0:
        return outs
    # by area, then distance: one float sort (ties in distance share their value, so their
    # order does not change a quantile); unreachable (inf) last within the area
    span = float(np.max(dv[np.isfinite(dv)], initial=0.0)) + 1.0
    order = np.argsort(c * (2.0 * span) + np.where(np.isfinite(dv), dv, span))
    c, dv, wv = c[order], dv[order], wv[order]
    counts = np.bincount(c, minlength=n)
    ends = np.cumsum(counts)
    start = ends - counts
    cum = np.cumsum(wv)
    before = np.r_[0.0, cum][start]
    cum_g = cum - before[c]
    has = counts > 0
    total = np.zeros(n)
    total[has] = cum_g[ends[has] - 1]
    for out, q in zip(outs, qs, strict=True):
        below = cum_g < q * total[c]
        first = start + np.bincount(c, weights=below, minlength=n).astype(np.int64)
        first = np.minimum(first, ends - 1)
        out[has] = dv[first[has]]
    return outs
