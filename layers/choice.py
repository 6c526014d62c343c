"""Choice within reach: per home, how many *kinds* of meeting place (categories of
``data/taxonomy.toml``) lie within the profile's walking limit, and whether both spheres of the
sociale basis do (institutioneel: library, buurthuis, senior meeting point; gemeenschappelijk:
park, church hall, association, buurtkamer). A home has a **real choice** when at least
:data:`MIN_CATEGORIES` categories and both :data:`REQUIRED_SPHERES` are within reach.

Method: one :func:`geo.routing.nearest_sources` pass per category over the profile's network
(``Prepared.routing_state``), with the places the result used (its filters and scenario), then
:func:`geo.routing.distances_at` at every home, as the nearest-place analysis does; so a
category is within reach exactly when its nearest place of that category is. Per buurt and wijk
the homes' shares of the counted group (65+) are summed, like momepy's per-element values
aggregated to an enclosing unit. Areas whose reach is unknown (``aandeel_binnen_bereik`` NaN:
secret or missing CBS figures, no residents, or outside the extract) stay NaN, never 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.routing import Snapped, distances_at, nearest_sources
from layers.analysis import DEMAND_SUFFIX, Result

#: At least this many categories within reach, and both spheres, make a real choice.
MIN_CATEGORIES = 2
REQUIRED_SPHERES = ("institutioneel", "gemeenschappelijk")
#: Columns a result table may carry to say an area lies (partly) outside the OSM extract.
EXTENT_COLUMNS = ("status", "dekking", "extent_status", "extractdekking")
OUTSIDE = "buiten"


@dataclass(frozen=True)
class Choice:
    """Which categories every origin (home) of a result reaches within the limit."""

    categories: tuple[str, ...]  # category ids, one column of ``within`` / ``dist`` each
    spheres: tuple[str, ...]  # sphere of each category
    dist: np.ndarray  # float64 (n_origins, n_categories), m; inf beyond the limit/unreachable,
    # NaN for homes the result leaves out (outside the data)
    within: np.ndarray  # bool (n_origins, n_categories)

    @property
    def n_categories(self) -> np.ndarray:
        """Distinct categories within reach, per origin."""
        return self.within.sum(axis=1)

    def has_sphere(self, sphere: str) -> np.ndarray:
        cols = [i for i, s in enumerate(self.spheres) if s == sphere]
        if not cols:
            return np.zeros(len(self.within), dtype=bool)
        return np.asarray(self.within[:, cols].any(axis=1))

    @property
    def both_spheres(self) -> np.ndarray:
        out = np.ones(len(self.within), dtype=bool)
        for s in REQUIRED_SPHERES:
            out &= self.has_sphere(s)
        return out

    @property
    def real_choice(self) -> np.ndarray:
        return (self.n_categories >= MIN_CATEGORIES) & self.both_spheres


def category_reach(result: Result) -> Choice:
    """Per origin of ``result`` and per category of the places it used: the walking distance to
    the nearest place of that category (``inf`` beyond the limit), and whether it is within the
    limit. Cached in ``result.cache``."""
    if "choice" in result.cache:
        return result.cache["choice"]
    prep = result.prepared
    assert prep.net is not None and result.nearest is not None and result.owner is not None
    state = prep.routing_state(result.profile)
    limit = result.profile.max_distance_m
    sources: Snapped = result.nearest.sources  # scenario places included, closed ones unsnapped
    row_cat = result.places.set_index("row")["categorie"]
    cat_of_source = pd.Series(result.owner).map(row_cat).to_numpy()
    cats = tuple(sorted(str(c) for c in row_cat.unique()))
    n = len(prep.origins) if prep.origins is not None else 0
    dist = np.full((n, len(cats)), np.inf)
    for j, c in enumerate(cats):
        use = sources.ok & (cat_of_source == c)
        if not use.any():
            continue
        sub = sources.only(use)
        field = nearest_sources(prep.net, sub, adjacency=state["adjacency"], limit=limit)
        d, _ = distances_at(prep.net, field, state["origins"])
        dist[:, j] = np.where(d <= limit, d, np.inf)
    # homes the result leaves out (areas outside the data: no distance) stay unknown
    dist[np.isnan(result.origins["dist_m"].to_numpy(dtype=float))] = np.nan
    out = Choice(cats, tuple(prep.taxonomy.sphere_of(c) for c in cats), dist, dist <= limit)
    result.cache["choice"] = out
    return out


def unknown_reach(table: pd.DataFrame) -> np.ndarray:
    """Areas whose reach is unknown: NaN share within reach, or an extent status 'buiten'."""
    out = table["aandeel_binnen_bereik"].isna().to_numpy().copy()
    for col in EXTENT_COLUMNS:
        if col in table:
            out |= (table[col].astype(str).str.lower() == OUTSIDE).to_numpy()
    return out


def choice_columns(result: Result, areas: pd.Series | None = None,
                   table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per area (default: the result's buurten/hexagons; or the areas named by ``areas``, one
    code per origin, e.g. wijkcodes, with ``table`` their rows): the counted group with a real
    choice (``echte_keuze_<suffix>``, whole units), its share (``aandeel_echte_keuze``), the
    share with both spheres (``aandeel_beide_sferen``) and the weighted mean number of
    categories within reach (``gem_categorieen``). Indexed like ``table``; NaN where the
    area's reach is unknown or it has nobody to count."""
    if areas is None and table is None:  # the result's own areas: made once per result
        return result.derived("choice_columns",
                              lambda: _choice_columns(result, None, None)).copy()
    return _choice_columns(result, areas, table)


def _choice_columns(result: Result, areas: pd.Series | None,
                    table: pd.DataFrame | None) -> pd.DataFrame:
    ch = category_reach(result)
    o = result.origins
    t = result.table if table is None else table
    code_col = "buurtcode" if table is None else t.columns[0]
    codes = o["area"] if areas is None else areas
    idx = pd.Index(t[code_col]).get_indexer(np.asarray(codes))
    w = o[result.prepared.weight_col].to_numpy(dtype=float)
    ok = (idx >= 0) & np.isfinite(w)
    idx, w = idx[ok], w[ok]
    m = len(t)

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(idx, weights=w * values[ok], minlength=m)

    size = np.bincount(idx, weights=w, minlength=m)
    unknown = unknown_reach(t) | ~(size > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = total(ch.real_choice.astype(float)) / size
        both = total(ch.both_spheres.astype(float)) / size
        mean = total(ch.n_categories.astype(float)) / size
    suffix = DEMAND_SUFFIX[result.prepared.demand]
    count = np.round(total(ch.real_choice.astype(float)))
    return pd.DataFrame({
        f"echte_keuze_{suffix}": np.where(unknown, np.nan, count),
        "aandeel_echte_keuze": np.where(unknown, np.nan, share),
        "aandeel_beide_sferen": np.where(unknown, np.nan, both),
        "gem_categorieen": np.where(unknown, np.nan, np.round(mean, 2)),
    }, index=t.index)


def choice_table(result: Result) -> pd.DataFrame:
    """The result's per-area table with the choice columns added."""
    return pd.concat([result.table, choice_columns(result)], axis=1)


def wijk_choice(result: Result, wijken: pd.DataFrame) -> pd.DataFrame:
    """The choice columns per wijk (``wijken`` as :func:`layers.outputs.wijk_table` gives);
    a wijk is unknown only when all its buurten are."""
    t = result.table
    wijk_of = dict(zip(t["buurtcode"], t["wijkcode"], strict=True))
    known = t[~unknown_reach(t)]
    o = result.origins
    codes = o["area"].where(o["area"].isin(set(known["buurtcode"]))).map(wijk_of)
    w = wijken[["wijkcode", "aandeel_binnen_bereik"]].copy()
    w["aandeel_binnen_bereik"] = np.where(w["wijkcode"].isin(set(known["wijkcode"])), 0.0,
                                          np.nan)
    return choice_columns(result, codes, w)


def headline(result: Result) -> dict:
    """Whole-area totals: the counted group, how many have a real choice and the share, from
    the raw (unsuppressed) numbers of the areas whose reach is known."""
    cols = choice_columns(result)
    suffix = DEMAND_SUFFIX[result.prepared.demand]
    known = ~unknown_reach(result.table)
    size = (result.table[f"binnen_bereik_{suffix}"] + result.table[f"buiten_bereik_{suffix}"])
    total = float(np.nansum(size[known]))
    real = float(np.nansum(cols[f"echte_keuze_{suffix}"][known]))
    ch = category_reach(result)
    return {"totaal": total, "echte_keuze": real,
            "aandeel_echte_keuze": real / total if total else float("nan"),
            "categorieen": len(ch.categories),
            "sferen": sorted(set(ch.spheres))}


def origin_columns(result: Result) -> pd.DataFrame:
    """Per origin: categories within reach, both spheres, real choice (for the origins layer)."""
    ch = category_reach(result)
    unknown = np.isnan(ch.dist).any(axis=1) if ch.dist.shape[1] else np.zeros(len(ch.dist), bool)
    out = {"categorieen_binnen_bereik": pd.array(ch.n_categories, dtype="Int64")}
    for s in REQUIRED_SPHERES:
        out[f"sfeer_{s}"] = pd.array(ch.has_sphere(s), dtype="boolean")
    out["echte_keuze"] = pd.array(ch.real_choice, dtype="boolean")
    frame = pd.DataFrame(out, index=result.origins.index)
    frame.loc[unknown] = pd.NA  # outside the data: unknown, not 'nothing within reach'
    return frame
