"""`ontmoet prepare` says what became of every row of a municipality's own list: dropped
(outside the Netherlands or the area, duplicate, no name), corrected (lat/lon swapped) or
merged with an OSM place, in the same words on stderr, in `meldingen` and in notities.csv.

Real Delft files (OSM extract, CBS buurten); the list's real place is the TU Delft Library
as the OSM extract has it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import cli
from geo.osm import read_osm
from layers.notes import read_notes
from layers.taxonomy import load_taxonomy


@pytest.fixture(scope="module")
def delft(shared_data_dir) -> dict[str, Path]:
    d = shared_data_dir / "delft"
    files = {"osm": d / "tudelft.osm.pbf", "buurten": d / "delft_buurten_proj.gpkg"}
    missing = [p for p in files.values() if not p.exists()]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"real data missing in CI: {missing}")
        pytest.skip(f"real data missing: {missing}")
    return files


@pytest.fixture(scope="module")
def library(delft) -> tuple[float, float]:
    """(lat, lon) of the TU Delft Library in the real OSM extract."""
    tax = load_taxonomy()
    ex = read_osm(delft["osm"], feature_keys=tax.osm_keys,
                  feature_filter=lambda t: tax.classify(t) == "bibliotheek")
    f = ex.features.to_crs(4326)
    p = f.geometry[f["tags"].map(lambda t: t.get("name")) == "TU Delft Library"].iloc[0]
    p = p.representative_point()
    return p.y, p.x


def _dutch(v: float) -> str:
    return f"{v:.7f}".replace(".", ",")


def _prepare(capsys, delft, tmp_path, *lists: Path):
    args = ["--json", "--quiet", "--cache-dir", str(tmp_path / "cache"), "prepare", "--osm",
            str(delft["osm"]), "--buurten", str(delft["buurten"]), "--naam", "t"]
    for li in lists:
        args += ["--voorzieningen", str(li)]
    code = cli.main(args)
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out), err


def test_new_york_row_and_merged_row_are_reported_everywhere(capsys, delft, library,
                                                             tmp_path):
    lat, lon = library
    li = tmp_path / "LIST.csv"
    li.write_text("naam;categorie;lat;lon\n"
                  "Buurthuis New York;buurthuis;40,7128;-74,0060\n"
                  f"TU Delft Library;bibliotheek;{_dutch(lat)};{_dutch(lon)}\n",
                  encoding="utf-8")
    data, err = _prepare(capsys, delft, tmp_path, li)
    meld = data["meldingen"]
    # every line on stderr is a melding, in the same words
    assert [ln.removeprefix("ontmoet: ") for ln in err.strip().splitlines()] == meld
    assert meld[0] == "LIST.csv: 1 van 2 rijen gebruikt, 1 overgeslagen, 1 samengevoegd met " \
                      "een andere plek"
    ny = next(m for m in meld if m.startswith("1 rij buiten Nederland"))
    assert "LIST.csv rij 2" in ny and "notities.csv" in ny
    merged = next(m for m in meld if m.startswith("1 rij samengevoegd"))
    assert "LIST.csv rij 3" in merged and "'TU Delft Library'" in merged
    notes = read_notes(data["notitiebestand"])
    rows = {(n["bestand"], n["rij"]): n for n in notes if n["bestand"] == "LIST.csv"}
    assert set(rows) == {("LIST.csv", "2"), ("LIST.csv", "3")}
    assert rows[("LIST.csv", "2")]["soort"].startswith("rij buiten Nederland")
    assert "OpenStreetMap" in rows[("LIST.csv", "3")]["melding"]
    # per-buurt fallbacks are grouped: one line per kind, each buurt in the file
    buurt_lines = [m for m in meld if "buurten zonder woongebouwen" in m
                   or "buurt zonder woongebouwen" in m]
    buurt_rows = [n for n in notes if n["soort"].startswith("buurt")]
    assert 1 <= len(buurt_lines) <= 2 and len(buurt_rows) > len(buurt_lines)
    assert sum(int(m.split()[0]) for m in buurt_lines) == len(buurt_rows)


def test_swapped_outside_duplicate_and_nameless_rows(capsys, delft, library, tmp_path):
    lat, lon = library
    import geopandas as gpd

    b = gpd.read_file(delft["buurten"]).to_crs(28992)
    x0, y0, x1, y1 = b.total_bounds
    outside = gpd.points_from_xy([x1 + 5000], [y0], crs=28992).to_crs(4326)[0]
    li = tmp_path / "lijst.csv"
    li.write_text("naam;lat;lon\n"
                  f"TU Delft Library;{_dutch(lon)};{_dutch(lat)}\n"  # swapped
                  f"Buiten;{_dutch(outside.y)};{_dutch(outside.x)}\n"
                  f"Buurtkamer;{_dutch(lat + 0.003)};{_dutch(lon)}\n"
                  f"Buurtkamer;{_dutch(lat + 0.003)};{_dutch(lon)}\n"
                  f";{_dutch(lat)};{_dutch(lon)}\n", encoding="utf-8")
    data, _ = _prepare(capsys, delft, tmp_path, li)
    meld = data["meldingen"]
    assert meld[0].startswith("lijst.csv: 2 van 5 rijen gebruikt, 3 overgeslagen, "
                              "1 gecorrigeerd")
    for start, row in (("1 rij met lat en lon omgedraaid", 2), ("1 rij buiten het gebied", 3),
                       ("1 dubbele rij", 5), ("1 rij onbruikbaar", 6)):
        line = next(m for m in meld if m.startswith(start))
        assert f"lijst.csv rij {row}" in line
    kinds = {int(n["rij"]) for n in read_notes(data["notitiebestand"])
             if n["bestand"] == "lijst.csv"}
    assert kinds == {2, 3, 5, 6}


def test_a_list_used_whole_says_so(capsys, delft, library, tmp_path):
    lat, lon = library
    li = tmp_path / "heel.csv"
    li.write_text(f"naam;lat;lon\nBuurtkamer;{_dutch(lat + 0.003)};{_dutch(lon)}\n",
                  encoding="utf-8")
    data, err = _prepare(capsys, delft, tmp_path, li)
    assert data["meldingen"][0] == "heel.csv: de enige rij gebruikt, niets gewijzigd"
    assert "heel.csv: de enige rij gebruikt" in err


def test_coverage_writes_notities_beside_the_exports_and_counts_match(capsys, tmp_path):
    """The Helsinki demo has no list, but OSM nodes merged into their building: each group
    line's count equals its rows in notities.csv, which lies beside the exports."""
    from layers.datasets import DEMO_ID
    from layers.notes import KINDS

    code = cli.main(["--json", "--quiet", "coverage", DEMO_ID, "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    notes_path = tmp_path / "notities.csv"
    assert str(notes_path) in data["bestanden"] and (tmp_path / "buurten.csv").exists()
    assert data["meldingen"] and all(m.endswith(f"lijst in {notes_path}")
                                     for m in data["meldingen"])
    rows = read_notes(notes_path)
    for m in data["meldingen"]:
        n = int(m.split()[0])
        kind = next(k for k, (one, many, _) in KINDS.items()
                    if m.startswith(f"{n} {one}:") or m.startswith(f"{n} {many}:"))
        assert n == sum(r["soort"].startswith(KINDS[kind][0]) for r in rows)
    # the same lines are among the result's notes that the dashboard and the PDF show
    assert set(data["meldingen"]) <= {ln.replace(" — lijst in notities.csv",
                                                 f" — lijst in {notes_path}")
                                      for ln in data["notities"]}


def test_buurten_of_another_municipality_are_named_when_left_out(capsys, delft, tmp_path):
    """The Delft boundary file also holds neighbouring gemeenten's buurten; with Delft's CBS
    table they are left out, and the command line says how many and which."""
    import geopandas as gpd

    pop = delft["osm"].parent / "cbs_wijkenbuurten_2023_delft_buurten_population.csv"
    if not pop.exists():
        pytest.skip(f"{pop} missing")
    b = gpd.read_file(delft["buurten"])
    other = sorted(b.loc[b["gemeentecode"] != "GM0503", "buurtcode"])
    args = ["--json", "--quiet", "--cache-dir", str(tmp_path / "cache"), "prepare", "--osm",
            str(delft["osm"]), "--buurten", str(delft["buurten"]), "--bevolking", str(pop),
            "--naam", "t"]
    assert cli.main(args) == 0
    out, err = capsys.readouterr()
    line = next(m for m in json.loads(out)["meldingen"] if "andere gemeente" in m)
    assert line.startswith(f"{len(other)} buurtgrenzen liggen in een andere gemeente")
    assert other[0] in line and line in err
    # reader messages name the files as given, not their copies in the area folder
    assert "cbs_wijkenbuurten_2023_delft_buurten_population.csv:" in err
    assert "bevolking_0_" not in err and "buurten_0_" not in err
