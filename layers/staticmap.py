"""A PNG of the current map (choropleth, gap areas, places, scenario and suggested places), for
slides and notes. Drawn with matplotlib in the same viridis scale as the dashboard map."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import LinearSegmentedColormap  # noqa: E402

from layers.analysis import Result  # noqa: E402
from layers.fmt import fmt_m  # noqa: E402
from layers.mapview import NO_DATA, VIRIDIS  # noqa: E402
from layers.outputs import gap_layer  # noqa: E402


def map_png(result: Result, *, suggestions=None, dpi: int = 150) -> bytes:
    """The map as PNG bytes (A4-landscape proportions)."""
    cmap = LinearSegmentedColormap.from_list("ok", VIRIDIS)
    t = result.table
    fig, ax = plt.subplots(figsize=(11, 7.5), dpi=dpi)
    try:
        known = t["aandeel_binnen_bereik"].notna()
        if (~known).any():
            t[~known].plot(ax=ax, color=NO_DATA, edgecolor="#333333", linewidth=0.5)
        if known.any():
            t[known].plot(ax=ax, column="aandeel_binnen_bereik", cmap=cmap, vmin=0, vmax=1,
                          edgecolor="#333333", linewidth=0.5, alpha=0.8, legend=True,
                          legend_kwds={"label": "aandeel binnen loopafstand (0–1)",
                                       "shrink": 0.6})
        gaps = gap_layer(result)
        if len(gaps):
            gaps.plot(ax=ax, color="#d7301f", alpha=0.5, edgecolor="#7f0000", linewidth=0.5)
        p = result.places
        pts = p.geometry.representative_point()
        own = (p["bron"] != "Scenario").to_numpy()
        ax.scatter(pts.x[own], pts.y[own], s=22, c="white", edgecolors="black", linewidths=0.8,
                   zorder=4, label="ontmoetingsplek")
        if (~own).any():
            ax.scatter(pts.x[~own], pts.y[~own], s=70, marker="D", c="#ff7f00",
                       edgecolors="black", zorder=5, label="scenario: nieuwe plek")
        if suggestions is not None and len(suggestions):
            s = suggestions.to_crs(t.crs).geometry
            ax.scatter(s.x, s.y, s=140, marker="*", c="white", edgecolors="black", zorder=6,
                       label="voorgestelde plek")
        ax.set_axis_off()
        ax.set_aspect("equal")
        ax.set_title(f"Ontmoetingskaart — {result.prepared.area.name}: "
                     f"{result.profile.describe()} (max. {fmt_m(result.profile.max_distance_m)})",
                     fontsize=11)
        ax.legend(loc="lower left", fontsize=8, framealpha=0.9)
        fig.text(0.01, 0.01, "Kaartgegevens © OpenStreetMap-bijdragers (ODbL); buurten en "
                 "inwoners © CBS (CC BY 4.0). Rood: woningen buiten bereik.", fontsize=7)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", bbox_inches="tight")
        return buf.getvalue()
    finally:
        plt.close(fig)
