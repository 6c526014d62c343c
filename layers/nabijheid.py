"""CBS "Nabijheid voorzieningen" per buurt, to check our park distances against CBS's.

CBS measures the distance over roads from every address to the nearest park or plantsoen and
averages it per buurt (km, one decimal). Ours is the median walking distance over footpaths from
residential buildings. Expect agreement in rank, not in metres: hence Spearman's rank correlation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from geo import cbs
from geo.errors import InputError

#: Our category -> words of the CBS column title (lower case).
TOPICS = {
    "park": "afstand tot park of plantsoen",
    "bibliotheek": "afstand tot bibliotheek",
}


def read_cbs_distance(path: str | Path, topic: str = "park") -> pd.Series:
    """CBS's distance to the nearest facility of ``topic`` per buurt, in metres.

    NaN where CBS publishes no figure ("." — the 2023 edition has none for parks at all).
    """
    column = TOPICS[topic]
    table = cbs.read_table(path)
    rows = [r for r in table.rows if not cbs.is_blank_row(r)]
    if not rows:
        raise InputError("leeg bestand (empty file)", path=path,
                         fix="download 'Nabijheid voorzieningen; buurtcijfers' van CBS StatLine")
    header = [h.lower() for h in rows[0]]
    park = next((i for i, h in enumerate(header) if column in h), None)
    code = next((i for i, h in enumerate(header) if "codering" in h), None)
    if park is None or code is None:
        raise InputError(
            f"kolom '{column}' of de regiocode ontbreekt; gevonden: {rows[0][:6]}…",
            path=path, fix=f"kies in StatLine het onderwerp '{column}'")
    codes = [cbs.normalize_code(r[code]) for r in rows[1:]]
    km = cbs.clean_numeric([r[park] for r in rows[1:]])
    s = pd.Series(km.to_numpy() * 1000.0, index=codes, name=f"cbs_afstand_{topic}_m")
    return s[s.index.str.startswith("BU")]


def compare_distances(ours: pd.Series, cbs_m: pd.Series) -> dict:
    """Spearman rank correlation between our median distance and CBS's, per buurt."""
    both = pd.concat([ours.rename("ours"), cbs_m.rename("cbs")], axis=1, join="inner").dropna()
    both = both[np.isfinite(both["ours"])]
    if len(both) < 3:
        return {"n": len(both), "spearman": float("nan"), "p": float("nan"), "table": both}
    rho, p = spearmanr(both["ours"], both["cbs"])
    return {"n": len(both), "spearman": float(rho), "p": float(p), "table": both}
