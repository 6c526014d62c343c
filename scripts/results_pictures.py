"""The README pictures of issue 13, made from the real data in ../shared/data:

* ``docs/choice_amsterdam.png``: Amsterdam Centrum (the real 0.8 km² OSM extract, the CBS
  buurten wholly inside it): every home coloured by the number of kinds of meeting place within
  500 m, and per buurt the share of 65+ with a real choice;
* ``docs/ageing_utrecht.png``: Utrecht, change in residents 65+ per buurt 2023→2024 (CBS);
* ``docs/compare_delft.png``: the one-page before/after PDF for closing the place of the TU
  Delft extract whose closure loses the most 65+ reach, rendered with pdftoppm.

Run from a checkout: ``.venv/bin/python scripts/results_pictures.py`` (needs poppler-utils).
Pictures of results only; no data file is written outside a temporary folder.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import BoundaryNorm, ListedColormap, TwoSlopeNorm  # noqa: E402

from geo.boundaries import read_boundaries  # noqa: E402
from geo.profiles import load_profiles  # noqa: E402
from geo.settings import default_data_dir  # noqa: E402
from layers import choice as ch  # noqa: E402
from layers.ageing import ageing_for_area  # noqa: E402
from layers.analysis import prepare, run  # noqa: E402
from layers.compare import compare  # noqa: E402
from layers.compare_report import write_comparison_pdf  # noqa: E402
from layers.datasets import discover, find_area  # noqa: E402
from layers.fmt import fmt_int, fmt_pct  # noqa: E402
from layers.scenario import Scenario  # noqa: E402
from tests.layers.real_data import amsterdam_centre, delft_tu  # noqa: E402

DOCS = REPO_ROOT / "docs"
NOTE = "Kaart © OpenStreetMap-bijdragers (ODbL); buurten en inwoners © CBS (CC BY 4.0)."


def choice_picture(tmp: Path) -> Path:
    older = load_profiles()[0]["older"]
    r = run(prepare(amsterdam_centre(tmp / "ams")), older)
    c = ch.category_reach(r)
    cols = ch.choice_columns(r)
    fig, ax = plt.subplots(figsize=(9, 7.5), dpi=110)
    t = r.table
    t.boundary.plot(ax=ax, color="black", lw=0.8)
    o = r.origins
    top = max(4, len(c.categories))
    cmap = ListedColormap(plt.get_cmap("viridis")(np.linspace(0, 1, top + 1)))
    known = ~np.isnan(c.dist).any(axis=1)  # homes in buurten outside the data: unknown
    x, y = o["x"].to_numpy(), o["y"].to_numpy()
    ax.scatter(x[~known], y[~known], s=5, c="#bdbdbd", lw=0,
               label="woning buiten de gegevens (onbekend)")
    sc = ax.scatter(x[known], y[known], c=c.n_categories[known], cmap=cmap,
                    norm=BoundaryNorm(np.arange(-0.5, top + 1.5), top + 1), s=7, lw=0)
    no = known & ~c.real_choice
    ax.scatter(x[no], y[no], s=16, facecolor="none", edgecolor="red", lw=0.6)
    pts = r.places.geometry.representative_point()
    inst = (r.places["sfeer"] == "institutioneel").to_numpy()
    ax.scatter(pts.x[inst], pts.y[inst], marker="s", s=60, c="white", edgecolors="black",
               label="institutioneel (bibliotheek, buurthuis)")
    ax.scatter(pts.x[~inst], pts.y[~inst], marker="^", s=70, c="white", edgecolors="black",
               label="gemeenschappelijk (park, kerk, vereniging)")
    names = t["buurtnaam"].where(t["buurtnaam"].notna(), t["buurtcode"])
    for g, share, name in zip(t.geometry, cols["aandeel_echte_keuze"], names, strict=True):
        p = g.representative_point()
        what = f"{fmt_pct(share)} echte keuze" if share == share else "buiten de gegevens"
        ax.annotate(f"{name}\n{what}", (p.x, p.y), ha="center",
                    fontsize=7, bbox={"facecolor": "white", "alpha": 0.8, "pad": 1.5,
                                      "edgecolor": "none"})
    fig.colorbar(sc, ax=ax, shrink=0.6, ticks=range(top + 1),
                 label="soorten ontmoetingsplekken binnen 500 m")
    ax.scatter([], [], s=16, facecolor="none", edgecolor="red", label="woning zonder echte keuze")
    ax.legend(loc="lower left", fontsize=7, framealpha=0.9)
    head = ch.headline(r)
    counted = int((~ch.unknown_reach(t)).sum())
    ax.set_title(f"Amsterdam Centrum: {fmt_int(head['echte_keuze'])} van "
                 f"{fmt_int(head['totaal'])} 65-plussers ({fmt_pct(head['aandeel_echte_keuze'])})"
                 f" in de {counted} buurten die de gegevens dekken hebben een echte keuze\n"
                 "(≥ 2 soorten plekken en beide sferen binnen 500 m)", fontsize=10)
    ax.set_axis_off()
    ax.set_aspect("equal")
    fig.text(0.01, 0.01, NOTE, fontsize=7)
    return _save(fig, "choice_amsterdam.png")


def ageing_picture() -> Path:
    area = find_area(discover(include_demo=False), "utrecht")
    ageing = ageing_for_area(area)
    b = read_boundaries(default_data_dir() / "utrecht" / "cbs_buurten_2024_utrecht_wgs84.geojson")
    b = b[["buurtcode", "geometry"]].to_crs("EPSG:28992").merge(ageing.table, on="buurtcode")
    fig, ax = plt.subplots(figsize=(9, 8), dpi=110)
    small = b[["inwoners_65plus_vorig", "inwoners_65plus"]].min(axis=1) < 10
    pct = (100 * b["groei_65plus_pct"]).where(~small)  # CBS rule: fewer than 10, not shown
    b.assign(pct=pct).plot(ax=ax, column="pct", cmap="RdBu_r", edgecolor="#333333", lw=0.4,
                           norm=TwoSlopeNorm(0, vmin=-20, vmax=20), legend=True,
                           legend_kwds={"label": "verandering 65-plussers (%)", "shrink": 0.6},
                           missing_kwds={"color": "#bdbdbd", "hatch": "///"})
    for _, row in b[~small].nlargest(6, "groei_65plus").iterrows():
        p = row.geometry.representative_point()
        ax.annotate(f"{row['buurtnaam']}\n+{fmt_int(row['groei_65plus'])}", (p.x, p.y),
                    ha="center", fontsize=7, bbox={"facecolor": "white", "alpha": 0.85,
                                                   "pad": 1.5, "edgecolor": "none"})
    before, now = ageing.totals()
    ax.set_title(f"Utrecht: 65-plussers per buurt {ageing.label} (CBS kerncijfers): "
                 f"{fmt_int(before)} → {fmt_int(now)}", fontsize=10)
    ax.set_axis_off()
    ax.set_aspect("equal")
    fig.text(0.01, 0.01, "Buurten © CBS Wijk- en Buurtkaart 2024 (gegeneraliseerd), kerncijfers "
             "© CBS (CC BY 4.0). Grijs gearceerd: onbekend of minder dan 10 65-plussers.",
             fontsize=7)
    return _save(fig, "ageing_utrecht.png")


def compare_picture(tmp: Path) -> Path:
    older = load_profiles()[0]["older"]
    prep = prepare(delft_tu())
    base = run(prep, older)
    options = {pid: compare(base, run(prep, older, scenario=Scenario(removed=(pid,))))
               for pid in base.places["place_id"]}
    pid = max(options, key=lambda p: options[p].totals()["verloren"])
    name = base.places.set_index("place_id").at[pid, "naam"]
    cmp = options[pid]
    cmp.labels = ("nu", f"{name} dicht")
    pdf = write_comparison_pdf(cmp, tmp / "v.pdf",
                               title="Ontmoetingskaart – Delft (TU-wijk): een plek dicht")
    subprocess.run(["pdftoppm", "-r", "80", "-png", "-singlefile", str(pdf),
                    str(tmp / "v")], check=True)
    out = DOCS / "compare_delft.png"
    out.write_bytes((tmp / "v.png").read_bytes())
    return out


def _save(fig, name: str) -> Path:
    out = DOCS / name
    fig.savefig(out, bbox_inches="tight")
    plt.close(fig)
    return out


def main() -> int:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for path in (choice_picture(tmp), ageing_picture(), compare_picture(tmp)):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
