"""One-page A4 report (PDF, Dutch) of an analysis, for a wijk or the whole area.

The page holds: a map of the buurten in a grey ramp (darker = fewer residents within reach;
hatched = no figures) with the ranking numbers, the meeting places and the homes beyond reach;
the headline numbers; the ranking of buurten; before → after when a scenario is given; the
suggested sites when a siting result is given; the share with a real choice of meeting places
and, with two CBS years, the buurten where 65+ grow and reach is low; the profile, limit and
method; the data sources with their dates and licences. It is drawn with matplotlib and
readable in black and white. Names come from OSM or CBS and are untrusted: they are cleaned and
truncated, never allowed to break the layout.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from geo.errors import InputError  # noqa: E402
from geo.io import atomic_path  # noqa: E402
from layers.analysis import DEMAND_SUFFIX, Result  # noqa: E402
from layers.fmt import fmt_int, fmt_m, fmt_pct  # noqa: E402
from layers.sources import data_categories_sentence  # noqa: E402

A4_INCH = (8.27, 11.69)
#: Buurten listed in the ranking (the worst first) and numbered on the map.
RANK_ROWS = 14
#: Longest name shown, in characters.
NAME_CHARS = 30
#: Person counts below this are shown as "< 10" (CBS small-count rule).
SMALL_COUNT = 10
#: Short Dutch name of what is counted, by demand suffix.
UNIT = {"65plus": "65-plussers", "inwoners": "inwoners", "woongebouwen": "woongebouwen"}
LICENCES = {"osm": "OpenStreetMap-bijdragers, ODbL 1.0", "cbs": "CBS, CC BY 4.0"}
METHOD = ("Methode: looproutes over het voetpadennetwerk van OpenStreetMap (segmenten, niet "
          "hemelsbreed); woningen en plekken op het dichtstbijzijnde pad geplaatst; kortste "
          "afstand per woning tot de dichtstbijzijnde ontmoetingsplek (Dijkstra). Inwoners per "
          "buurt verdeeld over de woongebouwen naar vloeroppervlak.")


def clip(text: object, n: int = NAME_CHARS) -> str:
    """One line of at most ``n`` characters: control characters removed, '…' when cut."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return "–"
    s = re.sub(r"[\x00-\x1f\x7f\u2028\u2029]+", " ", str(text)).strip()
    s = re.sub(r"\s+", " ", s)
    s = s if len(s) <= n else s[: n - 1].rstrip() + "…"
    return s.replace("$", r"\$")  # a bare '$' would start matplotlib's mathtext


def _count(v: float, persons: bool) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "onbekend"
    if persons and 0 < v < SMALL_COUNT:
        return f"< {SMALL_COUNT}"
    return fmt_int(v)


def _subset(result: Result, wijk: str | None) -> tuple[pd.DataFrame, str]:
    t = result.table
    if wijk is None:
        return t, result.prepared.area.name
    part = t[t["wijkcode"].astype(str) == str(wijk)]
    if part.empty:
        known = sorted({str(w) for w in t["wijkcode"].dropna()})
        raise InputError(f"wijk {wijk!r} komt niet voor in de uitkomst",
                         fix=f"kies een van {known[:10]}" if known else
                         "dit gebied heeft geen wijken; maak het rapport voor het hele gebied")
    return part, f"{result.prepared.area.name}, wijk {clip(wijk, 20)}"


def headline_for(result: Result, wijk: str | None = None) -> dict:
    """Totals within / beyond reach for the whole area (the result's headline) or one wijk,
    computed from the raw per-area numbers."""
    if wijk is None:
        return dict(result.headline)
    t, _ = _subset(result, wijk)
    suffix = DEMAND_SUFFIX[result.prepared.demand]
    within = float(np.nansum(t[f"binnen_bereik_{suffix}"]))
    beyond = float(np.nansum(t[f"buiten_bereik_{suffix}"]))
    total = within + beyond
    return {**result.headline, "totaal": total, "binnen": within, "buiten": beyond,
            "aandeel_buiten": beyond / total if total else float("nan"), "gebieden": len(t)}


def ranking(result: Result, wijk: str | None = None, n: int = RANK_ROWS) -> pd.DataFrame:
    """The ``n`` areas with the most demand beyond reach (ties: lower share within first)."""
    t, _ = _subset(result, wijk)
    if "status" in t:  # areas outside the data have no figures to rank
        t = t[t["status"] != "buiten"]
    suffix = DEMAND_SUFFIX[result.prepared.demand]
    t = t.assign(_b=t[f"buiten_bereik_{suffix}"].fillna(-1),
                 _s=t["aandeel_binnen_bereik"].fillna(2))
    return t.sort_values(["_b", "_s"], ascending=[False, True]).head(n)


def _coverage_lines(result: Result, head: dict) -> list[str]:
    """What part of the gemeente the figures cover, and which kinds of place the data knows."""
    out = []
    if head.get("dekking"):
        out.append(f"Gedekt door het loopnetwerk in de gegevens: {head['dekking']}; "
                   "gearceerde buurten liggen buiten de gegevens (geen cijfers), in buurten aan "
                   "de rand is binnen bereik een ondergrens.")
    sentence = data_categories_sentence(result.prepared)
    if sentence:
        out.append(f"Plekken: {sentence}")
    return out


def _sources(result: Result) -> list[str]:
    prep = result.prepared
    out = []
    if prep.area.osm:
        p = prep.area.osm[0]
        date = None
        if p.is_dir() and (p / "meta.json").exists():
            try:
                date = json.loads((p / "meta.json").read_text(encoding="utf-8")).get("date")
            except (OSError, ValueError):
                date = None
        if date is None:
            date = dt.date.fromtimestamp(p.stat().st_mtime).isoformat() + " (bestandsdatum)"
        out.append(f"Kaartdata en ontmoetingsplekken: {clip(p.name, 40)}, {date}; "
                   f"© {LICENCES['osm']}.")
    cbs = [clip(n, 110) for n in prep.notes if n.startswith("Inwoners:")]
    if cbs:
        out.append(f"{cbs[0]} © {LICENCES['cbs']}.")
    if prep.area_kind == "buurt":
        out.append(f"Buurtgrenzen: CBS Wijk- en Buurtkaart © {LICENCES['cbs']}.")
    else:
        out.append("Geen buurtgrenzen en geen inwonertallen: H3-zeshoeken met woongebouwen "
                   "uit OSM als schatting.")
    return out


def _draw_map(ax, result: Result, table: pd.DataFrame, ranked: pd.DataFrame, siting) -> None:
    limit = result.profile.max_distance_m
    share = table["aandeel_binnen_bereik"].to_numpy(dtype=float)
    known = np.isfinite(share)
    grey = np.where(known, 0.30 + 0.65 * np.nan_to_num(share), 1.0)
    geoms = table.geometry.values
    for g, level, ok in zip(geoms, grey, known, strict=True):
        for part in shapely.get_parts(g):
            xy = np.asarray(part.exterior.coords)
            ax.fill(xy[:, 0], xy[:, 1], facecolor=str(level), edgecolor="black", lw=0.4,
                    hatch=None if ok else "///")
    bx0, by0, bx1, by1 = shapely.total_bounds(geoms)
    o = result.origins
    sel = shapely.contains_xy(shapely.union_all(geoms), o["x"].to_numpy(), o["y"].to_numpy())
    beyond = o[sel & ~(o["dist_m"].to_numpy() <= limit)]
    ax.scatter(beyond["x"], beyond["y"], s=9, marker="x", color="black", lw=0.8, zorder=3)
    pts = shapely.point_on_surface(result.places.geometry.values)
    px, py = shapely.get_x(pts), shapely.get_y(pts)
    inside = (px >= bx0) & (px <= bx1) & (py >= by0) & (py <= by1)
    ax.scatter(px[inside], py[inside], s=26, marker="o", facecolor="white", edgecolor="black",
               lw=1.0, zorder=4)
    if siting is not None and len(siting.picks):
        ax.scatter(siting.picks["x"], siting.picks["y"], s=120, marker="*", facecolor="white",
                   edgecolor="black", lw=1.0, zorder=5)
        for _, p in siting.picks.iterrows():
            ax.annotate(f"N{p['rang']}", (p["x"], p["y"]), xytext=(5, 5),
                        textcoords="offset points", fontsize=7, weight="bold", zorder=6)
    pos = {code: i + 1 for i, code in enumerate(ranked["buurtcode"])}
    for code, g, level in zip(table["buurtcode"], geoms, grey, strict=True):
        if code in pos:
            c = shapely.point_on_surface(g)
            ax.text(c.x, c.y, str(pos[code]), ha="center", va="center", fontsize=7,
                    weight="bold", color="white" if level < 0.6 else "black", zorder=6)
    _scale_bar(ax, bx0, by0, bx1, by1)
    ax.set_xlim(bx0, bx1)
    ax.set_ylim(by0, by1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    handles = [
        Patch(facecolor="0.95", edgecolor="black", label="alles binnen bereik"),
        Patch(facecolor="0.30", edgecolor="black", label="niets binnen bereik"),
        Patch(facecolor="1.0", edgecolor="black", hatch="///", label="geen cijfers"),
        plt.Line2D([], [], ls="", marker="o", mfc="white", mec="black",
                   label="ontmoetingsplek"),
        plt.Line2D([], [], ls="", marker="x", color="black",
                   label=f"woning verder dan {fmt_m(limit)}"),
    ]
    if siting is not None and len(siting.picks):
        handles.append(plt.Line2D([], [], ls="", marker="*", mfc="white", mec="black", ms=10,
                                  label="voorgestelde plek (N1…)"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, -0.01), ncol=3,
              fontsize=7, frameon=False)


def _scale_bar(ax, x0, y0, x1, y1) -> None:
    width = x1 - x0
    nice = [50, 100, 200, 250, 500, 1000, 2000, 5000, 10000]
    length = max([v for v in nice if v <= width / 4] or [nice[0]])
    sx, sy = x1 - length - width * 0.03, y0 + (y1 - y0) * 0.03
    ax.plot([sx, sx + length], [sy, sy], color="black", lw=3, solid_capstyle="butt", zorder=7)
    ax.text(sx + length / 2, sy + (y1 - y0) * 0.015, fmt_m(length), ha="center", fontsize=7,
            zorder=7, bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})


def _rank_table(ax, result: Result, ranked: pd.DataFrame) -> None:
    suffix = DEMAND_SUFFIX[result.prepared.demand]
    persons = suffix != "woongebouwen"
    total_col = {"65plus": "inwoners_65plus", "inwoners": "inwoners",
                 "woongebouwen": "woongebouwen"}[suffix]
    unit = {"65plus": "65+", "inwoners": "inw.", "woongebouwen": "woongeb."}[suffix]
    rows = [[str(i + 1), clip(r["buurtnaam"], 24), _count(r[total_col], persons),
             _count(r[f"binnen_bereik_{suffix}"], persons),
             _count(r[f"buiten_bereik_{suffix}"], persons),
             fmt_pct(r["aandeel_binnen_bereik"]), fmt_m(r["mediaan_afstand_m"])]
            for i, (_, r) in enumerate(ranked.iterrows())]
    drew = draw_table(ax, f"Buurten met de meeste {result.headline['telt']} buiten bereik",
                      rows, ["#", "buurt", unit, "binnen", "buiten", "aandeel", "mediaan"],
                      [0.05, 0.36, 0.13, 0.1, 0.1, 0.11, 0.13], empty="Geen buurten.")
    if drew and any(cell == "onbekend" for row in rows for cell in row):  # why unknown
        ax.text(0, 0, "onbekend: geen route naar een ontmoetingsplek, of niemand om te tellen "
                "(aantal geheim of ontbrekend bij CBS)",
                transform=ax.transAxes, fontsize=6, va="top", style="italic")


def draw_table(ax, title: str, rows: list[list[str]], labels: list[str], widths: list[float],
               *, empty: str) -> bool:
    """A small table of ``rows`` under a bold ``title`` on ``ax`` (the report's style: 7 pt,
    thin lines, grey bold header), or ``empty`` when there are no rows; whether it drew one."""
    ax.set_axis_off()
    ax.set_title(title, fontsize=8.5, loc="left", weight="bold")
    if not rows:
        ax.text(0, 0.9, empty, fontsize=8)
        return False
    tab = ax.table(cellText=rows, colLabels=labels, colWidths=widths, loc="upper left",
                   cellLoc="left")
    tab.auto_set_font_size(False)
    tab.set_fontsize(7)
    tab.scale(1, 1.05)
    for (r, _c), cell in tab.get_celld().items():
        cell.set_linewidth(0.3)
        if r == 0:
            cell.set_text_props(weight="bold")
            cell.set_facecolor("0.88")
    return True


def choice_line(result: Result, table: pd.DataFrame) -> str:
    """'Echte keuze: 279 van 340 65-plussers (82 %)' over the areas of ``table`` whose reach
    is known (empty when the result has no places)."""
    from layers.choice import MIN_CATEGORIES, choice_columns, unknown_reach

    if result.nearest is None or not len(result.places):
        return ""
    suffix = DEMAND_SUFFIX[result.prepared.demand]
    c = choice_columns(result).loc[table.index]
    known = ~unknown_reach(table)
    total = float(np.nansum((table[f"binnen_bereik_{suffix}"]
                             + table[f"buiten_bereik_{suffix}"])[known]))
    real = float(np.nansum(c[f"echte_keuze_{suffix}"][known]))
    share = fmt_pct(real / total) if total else "–"
    return (f"Echte keuze (≥ {MIN_CATEGORIES} soorten plekken,\nbeide sferen binnen bereik): "
            f"{fmt_int(real)} van\n{fmt_int(total)} {UNIT[suffix]} ({share})")


def ageing_lines(result: Result, ageing, table: pd.DataFrame, n: int = 3) -> list[str]:
    """The report's ageing section: 65+ in both years and the top ``n`` growing shortfalls
    among the buurten of ``table``."""
    from layers.ageing import growing_shortfalls
    from layers.choice import choice_columns

    codes = set(table["buurtcode"])
    a = ageing.table[ageing.table["buurtcode"].isin(codes)]
    before, now = float(np.nansum(a["inwoners_65plus_vorig"])), float(
        np.nansum(a["inwoners_65plus"]))
    diff = now - before
    lines = [f"Groeiende tekorten {ageing.label}",
             f"65-plussers: {fmt_int(before)} → {fmt_int(now)} "
             f"({'+' if diff > 0 else ''}{fmt_int(diff)})"]
    reach = table
    if result.nearest is not None and len(result.places):
        reach = pd.concat([table, choice_columns(result).loc[table.index]], axis=1)
    ranked = growing_shortfalls(ageing, reach)
    for i, r in enumerate(ranked.head(n).itertuples(), start=1):
        lines.append(f"{i}. {clip(r.buurtnaam, 20)}: +{fmt_int(r.groei_65plus)}, "
                     f"bereik {fmt_pct(r.aandeel_binnen_bereik)}")
    if ranked.empty:
        lines.append("geen groeiende buurt met laag bereik")
    return lines


def _side_text(result: Result, head: dict, before: Result | None, wijk, siting,
               table: pd.DataFrame | None = None, ageing=None) -> str:
    unit = UNIT[DEMAND_SUFFIX[result.prepared.demand]]
    lines = []
    table = result.table if table is None else table
    choice = choice_line(result, table)
    if choice:
        lines += [choice, ""]
    if ageing is not None:
        lines += [*ageing_lines(result, ageing, table), ""]
    if before is not None:
        b = headline_for(before, wijk)
        lines += ["Voor → na (scenario)", f"binnen bereik: {fmt_int(b['binnen'])} → "
                  f"{fmt_int(head['binnen'])}",
                  f"buiten bereik: {fmt_int(b['buiten'])} → {fmt_int(head['buiten'])}",
                  f"aandeel buiten: {fmt_pct(b['aandeel_buiten'])} → "
                  f"{fmt_pct(head['aandeel_buiten'])}"]
        if result.choices is not None and result.choices.scenario:
            lines.append(clip(f"scenario: {result.choices.scenario.describe()}", 44))
        lines.append("")
    if siting is not None:
        lines.append(f"Voorgestelde nieuwe plekken ({len(siting.picks)})")
        for _, p in siting.picks.iterrows():
            name = p["soort"] if pd.isna(p["naam"]) else p["naam"]
            lines.append(f"N{p['rang']} {clip(name, 24)}: +{fmt_int(p['winst'])}")
        lines.append(f"samen +{fmt_int(siting.total)} {unit}")
        lines += [clip(n, 44) for n in siting.notes[:2]]
    return "\n".join(lines)


def write_report(result: Result, path: str | Path, *, wijk: str | None = None,
                 scenario_before: Result | None = None, siting=None, ageing=None) -> Path:
    """Write a one-page A4 PDF report (Dutch) of ``result`` for ``wijk`` (a wijkcode) or the
    whole area; ``scenario_before`` (the result without the scenario) adds a before → after
    block, ``siting`` (a :class:`layers.siting.SitingResult`) the suggested places. ``ageing`` (a
    :class:`layers.ageing.Ageing`; by default read from the area when it has two CBS years,
    ``False`` for none) adds the growing shortfalls.
    The file is written atomically; returns its path."""
    if ageing is None:
        from layers.ageing import safe_ageing

        ageing = safe_ageing(result.prepared.area)[0]
    table, title = _subset(result, wijk)
    head = headline_for(result, wijk)
    ranked = ranking(result, wijk)
    with plt.rc_context({"pdf.fonttype": 42, "hatch.linewidth": 0.5}):
        return _render(result, Path(path), table, title, head, ranked, scenario_before, wijk,
                       siting, ageing or None)


def _render(result, path, table, title, head, ranked, scenario_before, wijk, siting,
            ageing=None) -> Path:
    prof = result.profile
    fig = plt.figure(figsize=A4_INCH)
    try:
        fig.text(0.05, 0.965, clip(f"Ontmoetingskaart – {title}", 70), fontsize=15,
                 weight="bold")
        caption = result.caption() if result.choices is not None else prof.describe()
        fig.text(0.05, 0.945, clip(caption, 120), fontsize=8)
        fig.text(0.05, 0.93, f"Gemaakt op {dt.date.today():%d-%m-%Y}. Profiel "
                 f"'{clip(prof.label, 30)}': {fmt_m(prof.max_distance_m)} lopen "
                 f"({_num(prof.speed_kmh)} km/u × {_num(prof.minutes)} min).",
                 fontsize=8)
        unit = UNIT[DEMAND_SUFFIX[result.prepared.demand]]
        boxes = [(f"totaal {unit}", fmt_int(head["totaal"]), ""),
                 ("binnen bereik", fmt_int(head["binnen"]),
                  fmt_pct(1 - head["aandeel_buiten"]) if head["totaal"] else "–"),
                 ("buiten bereik", fmt_int(head["buiten"]), fmt_pct(head["aandeel_buiten"]))]
        for i, (label, value, sub) in enumerate(boxes):
            x = 0.05 + i * 0.31
            fig.patches.append(plt.Rectangle((x, 0.855), 0.29, 0.065, transform=fig.transFigure,
                                             facecolor="0.93", edgecolor="black", lw=0.6))
            fig.text(x + 0.01, 0.902, label, fontsize=8)
            fig.text(x + 0.01, 0.867, value, fontsize=17, weight="bold")
            fig.text(x + 0.28, 0.867, sub, fontsize=11, ha="right")
        ax_map = fig.add_axes((0.05, 0.43, 0.9, 0.415))
        _draw_map(ax_map, result, table, ranked, siting)
        _rank_table(fig.add_axes((0.05, 0.13, 0.58, 0.235)), result, ranked)
        side = _side_text(result, head, scenario_before, wijk, siting, table, ageing)
        fig.text(0.66, 0.355, side, fontsize=7.5, va="top", linespacing=1.4)
        foot = [METHOD, f"Telt: {head['telt']}; {fmt_int(head['gebieden'])} gebieden. Aantallen "
                f"personen onder {SMALL_COUNT} staan als '< {SMALL_COUNT}' (CBS-regel).",
                *_coverage_lines(result, head), *_sources(result)]
        fig.text(0.05, 0.115, "Bronnen en methode", fontsize=8, weight="bold")
        fig.text(0.05, 0.105, "\n".join(_wrap(s, 150) for s in foot), fontsize=6.5, va="top",
                 linespacing=1.35)
        meta = {"Title": clip(f"Ontmoetingskaart – {title}", 70), "Creator": "Ontmoetingskaart"}
        with atomic_path(path) as tmp, PdfPages(tmp, metadata=meta) as pdf:
            pdf.savefig(fig)
    finally:
        plt.close(fig)
    return path


def _num(v: float) -> str:
    return f"{v:g}".replace(".", ",")


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text
