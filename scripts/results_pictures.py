"""The README pictures of issue 13, made from the real data in ../shared/data:

* ``docs/choice_delft.png``: Delft (the whole city's OSM ways, parks layer and address points):
  per buurt the share of 65+ with a real choice, and the places by sphere;
* ``docs/ageing_utrecht.png``: Utrecht, change in residents 65+ per buurt 2023→2024 (CBS);
* ``docs/compare_delft.png``: the one-page before/after PDF for closing the Delft library
  whose closure costs the most 65+ their real choice, rendered with pdftoppm.

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
from matplotlib.colors import TwoSlopeNorm  # noqa: E402

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
from tests.layers.real_data import delft_city  # noqa: E402

DOCS = REPO_ROOT / "docs"
NOTE = "Kaart © OpenStreetMap-bijdragers (ODbL); buurten en inwoners © CBS (CC BY 4.0)."


def choice_picture(tmp: Path) -> Path:
    del tmp
    older = load_profiles()[0]["older"]
    r = run(prepare(delft_city()), older)
    cols = ch.choice_columns(r)
    t = r.table.assign(share=cols["aandeel_echte_keuze"].to_numpy())
    fig, ax = plt.subplots(figsize=(9, 9), dpi=110)
    known = t["share"].notna()
    t[~known].plot(ax=ax, color="#e0e0e0", edgecolor="#777777", lw=0.4, hatch="///")
    t[known].plot(ax=ax, column="share", cmap="viridis", vmin=0, vmax=1, edgecolor="#333333",
                  lw=0.4, legend=True, legend_kwds={"label": "aandeel 65-plussers met echte "
                                                             "keuze", "shrink": 0.55})
    pts = r.places.geometry.representative_point()
    inst = (r.places["sfeer"] == "institutioneel").to_numpy()
    park = (r.places["categorie"] == "park").to_numpy()
    ax.scatter(pts.x[park], pts.y[park], marker=".", s=18, c="#7fbf7b", edgecolors="none",
               label="park / plantsoen (gemeenschappelijk)")
    ax.scatter(pts.x[~inst & ~park], pts.y[~inst & ~park], marker="^", s=45, c="white",
               edgecolors="black", label="kerk, vereniging (gemeenschappelijk)")
    ax.scatter(pts.x[inst], pts.y[inst], marker="s", s=45, c="white", edgecolors="black",
               label="buurthuis, bibliotheek (institutioneel)")
    x0, y0, x1, y1 = t.total_bounds
    ax.set_xlim(x0 - 200, x1 + 200)
    ax.set_ylim(y0 - 200, y1 + 200)
    ax.legend(loc="lower left", fontsize=7, framealpha=0.9)
    head = ch.headline(r)
    ax.set_title(f"Delft: {fmt_int(head['echte_keuze'])} van {fmt_int(head['totaal'])} "
                 f"65-plussers ({fmt_pct(head['aandeel_echte_keuze'])}) hebben een echte keuze"
                 "\n(≥ 2 soorten ontmoetingsplekken en beide sferen binnen 500 m lopen)",
                 fontsize=10)
    ax.set_axis_off()
    ax.set_aspect("equal")
    fig.text(0.01, 0.01, NOTE + " Buurthuizen en bibliotheken alleen waar OSM ze op een "
             "adrespunt heeft (ondergrens). Grijs: geen cijfers.", fontsize=7)
    return _save(fig, "choice_delft.png")


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
    """Close, one at a time, each library of whole-city Delft; draw the one that costs the
    most 65+ their real choice."""
    older = load_profiles()[0]["older"]
    prep = prepare(delft_city())
    base = run(prep, older)
    libs = base.places.loc[base.places["categorie"] == "bibliotheek", "place_id"]
    options = {pid: compare(base, run(prep, older, scenario=Scenario(removed=(pid,))))
               for pid in libs}

    def lost_choice(pid: str) -> float:
        tot = options[pid].totals()
        return tot["echte_keuze_voor"] - tot["echte_keuze_na"]

    pid = max(options, key=lost_choice)
    cmp = options[pid]
    cmp.labels = ("nu", "één bibliotheek dicht")
    pdf = write_comparison_pdf(cmp, tmp / "v.pdf",
                               title="Ontmoetingskaart – Delft: één bibliotheek dicht")
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
