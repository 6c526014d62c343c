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
    df = pd.DataFrame(
        {"area": np.asarray(origin_area), "w": np.asarray(origin_weight, dtype=np.float64),
         "d": np.asarray(origin_dist, dtype=np.float64)}
    )
    df["within"] = np.where(df["d"] <= limit_m, df["w"], 0.0)
    g = df.groupby("area", sort=False)
    out = pd.DataFrame(index=areas)
    out["total"] = g["w"].sum().reindex(areas).fillna(0.0)
    out["within"] = g["within"].sum().reindex(areas).fillna(0.0)
    out["beyond"] = out["total"] - out["within"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share"] = np.where(out["total"] > 0, out["within"] / out["total"], np.nan)
    med = {}
    p90 = {}
    for key, part in g:
        med[key] = weighted_quantile(part["d"].to_numpy(), part["w"].to_numpy(), 0.5)
        p90[key] = weighted_quantile(part["d"].to_numpy(), part["w"].to_numpy(), 0.9)
    out["median_m"] = pd.Series(med).reindex(areas)
    out["p90_m"] = pd.Series(p90).reindex(areas)
    # an unreachable median is not a distance: report it as missing
    out.loc[~np.isfinite(out["median_m"].astype(float)), "median_m"] = np.nan
    out.loc[~np.isfinite(out["p90_m"].astype(float)), "p90_m"] = np.nan
    return out
