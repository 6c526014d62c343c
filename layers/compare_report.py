"""Drawing a :class:`layers.compare.Comparison`: the map of gained and lost reach and the
one-page A4 PDF a wethouder can take into a meeting (style of :mod:`layers.report`: Dutch,
matplotlib, readable in black and white: gained is hatched ``///``, lost ``\\\\\\``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from geo.io import atomic_path  # noqa: E402
from layers.compare import (  # noqa: E402
    Comparison,
    change_homes,
    choice_homes,
    gained_lost_areas,
    small,
)
from layers.fmt import fmt_int, fmt_pct  # noqa: E402
from layers.report import (  # noqa: E402
    A4_INCH,
    METHOD,
    _count,
    _scale_bar,
    _sources,
    _wrap,
    clip,
    draw_table,
)

GAINED, LOST = "#1b9e77", "#d95f02"
CHOICE_LOST = "#7570b3"
GAINED_FILL, LOST_FILL, NO_CHANGE = "#c7e9c0", "#fdd0a2", "#ffffff"
RANK_ROWS = 14


def _fill(ax, geom, **kw) -> None:
    for part in shapely.get_parts(geom):
        if part.is_empty or part.geom_type != "Polygon":
            continue
        xy = np.asarray(part.exterior.coords)
        ax.fill(xy[:, 0], xy[:, 1], **kw)


def _moved_places(cmp: Comparison):
    """Places only in the 'after' run (new) and only in the 'before' run (closed or gone),
    matched by position (1 m)."""
    a = cmp.after.places.to_crs(cmp.after.table.crs).geometry.representative_point()
    b = cmp.before.places.to_crs(cmp.after.table.crs).geometry.representative_point()
    tree_b, tree_a = shapely.STRtree(b.values), shapely.STRtree(a.values)
    has_b = np.array([len(tree_b.query(p, predicate="dwithin", distance=1.0)) > 0
                      for p in a.values], dtype=bool)
    has_a = np.array([len(tree_a.query(p, predicate="dwithin", distance=1.0)) > 0
                      for p in b.values], dtype=bool)
    return a, a[~has_b], b[~has_a]


def _extent(cmp: Comparison, gained, lost) -> tuple[float, float, float, float]:
    """The buurten where anything is within reach in either run (all buurten otherwise)."""
    from layers.compare import reach_area

    geoms = cmp.after.table.geometry.values
    reach = shapely.union_all([reach_area(cmp.after), gained, lost])
    near = geoms[shapely.intersects(geoms, reach)] if not reach.is_empty else geoms
    x0, y0, x1, y1 = shapely.total_bounds(near if len(near) else geoms)
    pad = 0.03 * max(x1 - x0, y1 - y0)
    return x0 - pad, y0 - pad, x1 + pad, y1 + pad


def draw_change_map(ax, cmp: Comparison, *, legend: bool = True) -> None:
    """Buurten by net change, gained/lost reach areas, homes that changed, places."""
    after = cmp.after.table
    t = after[["buurtcode", "geometry"]].merge(cmp.table, on="buurtcode", how="left")
    people = cmp.after.prepared.counts_people
    hidden = small(t, people)
    for g, d, h in zip(t.geometry.values, t["verschil"].to_numpy(dtype=float), hidden,
                       strict=True):
        if not np.isfinite(d):
            _fill(ax, g, facecolor="0.85", edgecolor="black", lw=0.4, hatch="..")
            continue
        colour = NO_CHANGE if h or d == 0 else GAINED_FILL if d > 0 else LOST_FILL
        _fill(ax, g, facecolor=colour, edgecolor="black", lw=0.4)
    gained, lost = gained_lost_areas(cmp)
    from layers.compare import reach_area

    _fill(ax, shapely.difference(reach_area(cmp.after), gained), facecolor="0.75",
          edgecolor="0.45", lw=0.3, alpha=0.8)
    _fill(ax, gained, facecolor="none", edgecolor=GAINED, lw=0.6, hatch="///")
    _fill(ax, lost, facecolor="none", edgecolor=LOST, lw=0.6, hatch="\\\\\\")
    won_c, gone_c = choice_homes(cmp)
    ax.scatter(won_c["x"], won_c["y"], s=14, marker="^", color=GAINED, lw=0, zorder=3)
    ax.scatter(gone_c["x"], gone_c["y"], s=14, marker="v", color=CHOICE_LOST, lw=0, zorder=3)
    won, gone = change_homes(cmp)
    ax.scatter(won["x"], won["y"], s=10, marker="+", color=GAINED, lw=0.9, zorder=3)
    ax.scatter(gone["x"], gone["y"], s=9, marker="x", color=LOST, lw=0.9, zorder=3)
    kept, new, closed = _moved_places(cmp)
    ax.scatter(kept.x, kept.y, s=22, marker="o", facecolor="white", edgecolor="black", lw=0.8,
               zorder=4)
    ax.scatter(new.x, new.y, s=110, marker="*", facecolor=GAINED, edgecolor="black", lw=0.8,
               zorder=5)
    ax.scatter(closed.x, closed.y, s=60, marker="X", facecolor=LOST, edgecolor="black", lw=0.8,
               zorder=5)
    x0, y0, x1, y1 = _extent(cmp, gained, lost)
    _scale_bar(ax, x0, y0, x1, y1)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    if not legend:
        return
    handles = [
        Patch(facecolor="0.75", edgecolor="0.45", label="bereik (beide)"),
        Patch(facecolor="none", edgecolor=GAINED, hatch="///", label="bereik erbij"),
        Patch(facecolor="none", edgecolor=LOST, hatch="\\\\\\", label="bereik kwijt"),
        Patch(facecolor=GAINED_FILL, edgecolor="black", label="buurt: meer bereik"),
        Patch(facecolor=LOST_FILL, edgecolor="black", label="buurt: minder bereik"),
        Patch(facecolor="0.85", edgecolor="black", hatch="..", label="bereik onbekend"),
        plt.Line2D([], [], ls="", marker="o", mfc="white", mec="black", label="plek (beide)"),
        plt.Line2D([], [], ls="", marker="*", mfc=GAINED, mec="black", ms=10, label="nieuwe plek"),
        plt.Line2D([], [], ls="", marker="X", mfc=LOST, mec="black", ms=8,
                   label="plek dicht / weg"),
    ]
    if cmp.per_home:
        handles += [plt.Line2D([], [], ls="", marker="+", color=GAINED, label="woning erbij"),
                    plt.Line2D([], [], ls="", marker="x", color=LOST, label="woning kwijt"),
                    plt.Line2D([], [], ls="", marker="^", color=GAINED,
                               label="echte keuze erbij"),
                    plt.Line2D([], [], ls="", marker="v", color=CHOICE_LOST,
                               label="echte keuze kwijt")]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, -0.01), ncol=4,
              fontsize=6.5, frameon=False)


def _rank_rows(cmp: Comparison) -> list[list[str]]:
    t = cmp.table
    people = cmp.after.prepared.counts_people
    choice = (t["echte_keuze_na"] - t["echte_keuze_voor"]).abs()
    changed = (t["gewonnen"] > 0) | (t["verloren"] > 0) | (t["verschil"] != 0) | (choice > 0)
    t = t[~small(t, people) & t["verschil"].notna() & changed]
    t = t.assign(_abs=-t["verschil"].abs(), _ch=-choice.reindex(t.index)).sort_values(
        ["_abs", "_ch", "buurtcode"]).head(RANK_ROWS)
    return [[clip(r.buurtnaam, 22), _count(r.totaal, people), _count(r.binnen_bereik_voor, people),
             _count(r.binnen_bereik_na, people), f"+{fmt_int(r.gewonnen)}",
             f"−{fmt_int(r.verloren)}",
             f"{_count(r.echte_keuze_voor, people)} → {_count(r.echte_keuze_na, people)}"]
            for r in t.itertuples()]


def write_comparison_pdf(cmp: Comparison, path: str | Path, *, title: str | None = None) -> Path:
    """One A4 page: headline before → after, the change map, the buurten that changed most,
    what was compared, method and sources. Written atomically; returns the path."""
    path = Path(path)
    tot = cmp.totals()
    unit = cmp.unit
    prof = cmp.after.profile
    name = title or f"Ontmoetingskaart – {cmp.after.prepared.area.name}: voor en na"
    with plt.rc_context({"pdf.fonttype": 42, "hatch.linewidth": 0.5}):
        fig = plt.figure(figsize=A4_INCH)
        try:
            fig.text(0.05, 0.965, clip(name, 70), fontsize=15, weight="bold")
            fig.text(0.05, 0.945, clip(f"{cmp.labels[0]} → {cmp.labels[1]}; "
                                       f"{prof.describe()}", 120), fontsize=8)
            fig.text(0.05, 0.93, f"Gemaakt op {dt.date.today():%d-%m-%Y}. Getelde groep: "
                     f"{unit}; alleen buurten met bekend bereik aan beide kanten.", fontsize=8)
            diff = tot["binnen_bereik_na"] - tot["binnen_bereik_voor"]
            b0, b1 = tot["binnen_bereik_voor"], tot["binnen_bereik_na"]
            boxes = [(f"binnen bereik {clip(cmp.labels[0], 18)}", fmt_int(b0),
                      _share(b0, tot["totaal"])),
                     (f"binnen bereik {clip(cmp.labels[1], 18)}", fmt_int(b1),
                      _share(b1, tot["totaal"])),
                     ("verandering", f"{'+' if diff > 0 else ''}{fmt_int(diff)}",
                      f"+{fmt_int(tot['gewonnen'])} / −{fmt_int(tot['verloren'])}")]
            for i, (label, value, sub) in enumerate(boxes):
                x = 0.05 + i * 0.31
                fig.patches.append(plt.Rectangle((x, 0.855), 0.29, 0.065,
                                                 transform=fig.transFigure, facecolor="0.93",
                                                 edgecolor="black", lw=0.6))
                fig.text(x + 0.01, 0.902, label, fontsize=8)
                fig.text(x + 0.01, 0.867, value, fontsize=17, weight="bold")
                fig.text(x + 0.28, 0.867, sub, fontsize=9, ha="right")
            draw_change_map(fig.add_axes((0.05, 0.45, 0.9, 0.395)), cmp)
            _table(fig.add_axes((0.05, 0.13, 0.6, 0.235)), cmp)
            side = [f"Vergeleken ({unit})", f"{clip(cmp.labels[0], 40)}:",
                    _lines(_caption(cmp.before)), f"{clip(cmp.labels[1], 40)}:",
                    _lines(_caption(cmp.after)), "",
                    f"plekken: {len(cmp.before.places)} → {len(cmp.after.places)}",
                    "echte keuze (≥ 2 soorten, beide sferen):",
                    f"{fmt_int(tot['echte_keuze_voor'])} → {fmt_int(tot['echte_keuze_na'])} "
                    f"{unit} ({_share(tot['echte_keuze_voor'], tot['totaal'])} → "
                    f"{_share(tot['echte_keuze_na'], tot['totaal'])})", "",
                    *(_wrap(n, 44) for n in cmp.notes)]
            fig.text(0.68, 0.355, "\n".join(side), fontsize=7.5, va="top", linespacing=1.4)
            foot = [METHOD, "Gewonnen/verloren: woningen die binnen de loopafstand komen of "
                    "eruit vallen; aantallen personen onder 10 staan als '< 10' (CBS-regel).",
                    *_sources(cmp.after)]
            fig.text(0.05, 0.115, "Bronnen en methode", fontsize=8, weight="bold")
            fig.text(0.05, 0.105, "\n".join(_wrap(s, 150) for s in foot), fontsize=6.5,
                     va="top", linespacing=1.35)
            meta = {"Title": clip(name, 70), "Creator": "Ontmoetingskaart"}
            with atomic_path(path) as tmp, PdfPages(tmp, metadata=meta) as pdf:
                pdf.savefig(fig)
        finally:
            plt.close(fig)
    return path


def _lines(text: str, width: int = 44, n: int = 3) -> str:
    """At most ``n`` wrapped lines of untrusted text, '…' when cut."""
    import textwrap

    parts = textwrap.wrap(clip(text, width * n), width) or ["–"]
    return "\n".join(parts[:n])


def _share(v: float, total: float) -> str:
    return fmt_pct(v / total) if total else "–"


def _caption(r) -> str:
    return r.caption() if r.choices is not None else r.profile.describe()


def _table(ax, cmp: Comparison) -> None:
    draw_table(ax, "Buurten die het meest veranderen", _rank_rows(cmp),
               ["buurt", "totaal", clip(cmp.labels[0], 9), clip(cmp.labels[1], 9), "erbij",
                "kwijt", "echte keuze"], [0.3, 0.09, 0.1, 0.1, 0.09, 0.09, 0.23],
               empty="Geen buurt verandert.")
