"""The `ontmoet` command end to end on real data: the Helsinki OSM extract (demo) and the
population-only Utrecht CBS tables; outputs opened the way GIS tools open them."""

from __future__ import annotations

import functools
import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

import cli
from geo.profiles import load_profiles
from geo.settings import REPO_ROOT
from layers.analysis import SCHEMA, prepare, run
from layers.datasets import DEMO_ID, discover
from tests.http_util import LocalServer


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def direct(helsinki_pbf):
    """What the dashboard computes for 4 km/h × 5 min with the older profile."""
    demo = next(a for a in discover(include_demo=True) if a.id == DEMO_ID)
    return run(prepare(demo), load_profiles()[0]["older"].with_(speed_kmh=4.0, minutes=5.0))


def ontmoet(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([*argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("sub", [[], ["prepare"], ["coverage"], ["export"], ["batch"]])
def test_every_subcommand_has_help(sub, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main([*sub, "--help"])
    assert exc.value.code == 0
    assert "usage: ontmoet" in capsys.readouterr().out


@pytest.fixture
def tables_only(shared_data_dir, tmp_path) -> Path:
    """A data folder holding only Utrecht's real CBS tables (links, nothing copied): the
    situation of a gemeente that has its figures but no network and no boundaries yet."""
    folder = tmp_path / "data" / "utrecht"
    folder.mkdir(parents=True)
    for p in sorted((shared_data_dir / "utrecht").glob("cbs_kwb_*utrecht.xlsx")):
        (folder / p.name).symlink_to(p)
    return tmp_path / "data"


def test_console_script_is_declared_and_exit_code_2_names_what_is_missing(tables_only,
                                                                           tmp_path):
    toml = (REPO_ROOT / "pyproject.toml").read_text()
    assert 'ontmoet = "cli:main"' in toml
    assert 'py-modules = ["cli", "cli_act", "cli_compare"]' in toml
    # CBS tables only -> bad input, exit 2, the reason on stderr
    p = subprocess.run([sys.executable, str(REPO_ROOT / "cli.py"), "--data-dir",
                        str(tables_only), "--cache-dir", str(tmp_path), "coverage",
                        "utrecht", "--quiet"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 2, p.stderr
    assert p.stdout == ""
    assert "OSM-extract" in p.stderr and "ontbreekt" in p.stderr
    assert "Buurtgrenzen ontbreken" in p.stderr


def test_real_utrecht_without_meeting_places_has_no_figures(shared_data_dir, tmp_path, capsys):
    """The real Utrecht folder has network, boundaries and figures but no meeting places: no
    buurt is reported 'beyond reach' because the data lacks places."""
    code, out, err = ontmoet(capsys, "--data-dir", str(shared_data_dir), "--cache-dir",
                             str(tmp_path), "coverage", "utrecht", "--quiet")
    assert code == 2 and out == ""
    assert "geen ontmoetingsplekken in de gegevens" in err and "--voorzieningen" in err


def test_prepare_of_utrecht_says_what_is_missing_and_how_to_add_it(tables_only, tmp_path,
                                                                   capsys):
    code, out, err = ontmoet(capsys, "--data-dir", str(tables_only), "--cache-dir",
                             str(tmp_path), "prepare", "utrecht", "--quiet")
    assert code == 2 and out == ""
    assert "OSM-extract" in err and "ontmoet prepare --gemeente Utrecht" in err


def test_what_is_missing_names_the_dashboard_and_commands_that_parse(tables_only,
                                                                     helsinki_pbf, tmp_path):
    """Every line of AreaData.missing() names the dashboard way and both `ontmoet prepare`
    ways, and the commands it prints are valid `ontmoet` command lines."""
    import shlex

    utrecht = next(a for a in discover(tables_only, include_demo=False, cache_dir=tmp_path)
                   if a.id == "utrecht")
    # a folder holding only the real Helsinki extract: boundaries and figures are missing
    (tmp_path / "data" / "stad").mkdir(parents=True)
    (tmp_path / "data" / "stad" / "helsinki.osm.pbf").write_bytes(helsinki_pbf.read_bytes())
    stad = next(a for a in discover(tmp_path / "data", include_demo=False, cache_dir=tmp_path)
                if a.id == "stad")
    for area, n in ((utrecht, 2), (stad, 2)):
        lines = area.missing()
        assert len(lines) == n
        for line in lines:
            assert "Dashboard: zet" in line and str(area.folder) in line
            cmds = re.findall(r"`(ontmoet prepare [^`]*)`", line)
            assert len(cmds) == 2
            for cmd in cmds:
                cli.build_parser().parse_args(shlex.split(cmd)[1:])  # exits 2 if invalid
            assert f"--naam {area.id}" in cmds[0] and f"--gemeente {area.name}" in cmds[1]
    # files that are there are named, so re-preparing keeps them
    assert f"--bevolking {utrecht.population[0]}" in utrecht.missing()[0]
    assert f"--osm {stad.osm[0]}" in stad.missing()[0]
    assert "Eigen bestanden uploaden" in stad.missing()[0]  # routable: uploads are offered


def test_prepare_from_local_files_makes_an_area_that_discover_finds(helsinki_pbf, cache,
                                                                    tmp_path, capsys):
    code, out, _ = ontmoet(capsys, "--cache-dir", str(cache), "--data-dir", str(tmp_path),
                           "--json", "prepare", "--osm", str(helsinki_pbf), "--naam",
                           "Helsinki lokaal")
    assert code == 0
    info = json.loads(out)
    assert info["gebied"] == "helsinki-lokaal" and info["knopen"] > 1000 and info["plekken"] > 0
    area = next(a for a in discover(tmp_path, cache_dir=cache) if a.id == "helsinki-lokaal")
    assert len(area.osm) == 1 and area.osm[0].read_bytes() == helsinki_pbf.read_bytes()
    meta = json.loads((area.folder / "meta.json").read_text())
    assert meta["bestanden"][area.osm[0].name]["bron"] == str(helsinki_pbf)


def test_bad_local_input_is_exit_2_and_writes_nothing(cache, tmp_path, capsys):
    code, _, err = ontmoet(capsys, "--cache-dir", str(tmp_path), "prepare", "--osm",
                           str(tmp_path / "geen.osm.pbf"), "--naam", "x")
    assert code == 2 and "niet gevonden" in err
    assert not (tmp_path / "gebieden").exists()
    code, _, err = ontmoet(capsys, "coverage", "bestaat-niet", "--cache-dir", str(cache))
    assert code == 2 and "demo-helsinki" in err  # lists the areas there are
    code, _, err = ontmoet(capsys, "coverage", DEMO_ID, "--profiel", "skateboard")
    assert code == 2 and "older" in err


def test_coverage_numbers_equal_the_analysis(direct, tmp_path, capsys):
    code, out, _ = ontmoet(capsys, "--json", "coverage", DEMO_ID, "--snelheid", "4",
                           "--minuten", "5", "--out", str(tmp_path), "--quiet")
    assert code == 0
    s = json.loads(out)
    assert s["max_afstand_m"] == pytest.approx(333.3, abs=0.1)
    for k in ("totaal", "binnen", "buiten", "gebieden"):
        assert s[k] == direct.headline[k]
    t = pd.read_csv(tmp_path / "buurten.csv", sep=";", decimal=",", encoding="utf-8-sig")
    d = direct.table
    assert t["buurtcode"].tolist() == d["buurtcode"].tolist()
    for col in ("binnen_bereik_woongebouwen", "mediaan_afstand_m"):
        assert np.allclose(t[col], d[col], equal_nan=True)
    # shares are exported to 3 decimals (layers.outputs.DECIMALS)
    assert np.allclose(t["aandeel_binnen_bereik"], d["aandeel_binnen_bereik"], atol=5e-4,
                       rtol=0, equal_nan=True)
    assert (tmp_path / "buurten.geojson").exists() and (tmp_path / "plekken.geojson").exists()


def test_coverage_prints_a_dutch_summary(capsys, tmp_path):
    code, out, _ = ontmoet(capsys, "coverage", DEMO_ID, "--out", str(tmp_path), "--quiet",
                           "--categorie", "park")
    assert code == 0
    assert re.search(r"Woongebouwen binnen bereik\s+\d+", out)
    assert re.search(r"Woongebouwen buiten bereik\s+\d+ \(\d+ %\)", out)
    assert "= 500 m" in out and "Mediane afstand (gewogen)" in out


def test_export_gpkg_has_the_layers_crs_and_field_descriptions(direct, tmp_path, capsys):
    path = tmp_path / "kaart.gpkg"
    code, _, _ = ontmoet(capsys, "export", DEMO_ID, "--format", "gpkg", "--out", str(path),
                         "--snelheid", "4", "--minuten", "5", "--quiet")
    # the GeoPackage and, beside it, the notes on every input row not used as given
    assert code == 0 and sorted(p.name for p in tmp_path.iterdir()) == ["kaart.gpkg",
                                                                         "notities.csv"]
    layers = dict(pyogrio.list_layers(path))
    assert {"buurten", "wijken", "plekken", "servicegebieden", "gaten",
            "veldbeschrijvingen"} <= set(layers)
    b = gpd.read_file(path, layer="buurten", engine="pyogrio")
    # Helsinki: the network's UTM zone (Dutch areas: RD New, EPSG:28992)
    assert b.crs == direct.table.crs and b.crs.to_epsg() == 32635
    assert list(b.columns[:len(SCHEMA)]) == SCHEMA
    assert b["binnen_bereik_woongebouwen"].sum() == direct.headline["binnen"]
    con = sqlite3.connect(path)
    desc = dict(con.execute("SELECT column_name, description FROM gpkg_data_columns "
                            "WHERE table_name = 'buurten'").fetchall())
    con.close()
    assert "65" in desc["inwoners_65plus"] and "m" in desc["mediaan_afstand_m"]
    # the demo counts buildings: its count columns are described in those words
    assert desc["binnen_bereik_woongebouwen"].startswith("Woongebouwen binnen")
    assert desc["buiten_bereik_woongebouwen"].startswith("Woongebouwen ")
    fields = gpd.read_file(path, layer="veldbeschrijvingen", engine="pyogrio")
    assert set(fields["kolom"]) >= set(SCHEMA)


def test_export_geojson_is_wgs84_lon_lat(tmp_path, capsys):
    code, _, _ = ontmoet(capsys, "export", DEMO_ID, "--format", "geojson", "--out",
                         str(tmp_path), "--quiet")
    assert code == 0
    doc = json.loads((tmp_path / "plekken.geojson").read_text(encoding="utf-8"))
    lon, lat = np.array([f["geometry"]["coordinates"] for f in doc["features"]
                         if f["geometry"]["type"] == "Point"]).T
    assert ((lon > 24.8) & (lon < 25.1)).all() and ((lat > 60.1) & (lat < 60.3)).all()


def test_export_csv_has_bom_semicolons_and_decimal_commas(direct, tmp_path, capsys):
    code, _, _ = ontmoet(capsys, "export", DEMO_ID, "--format", "csv", "--out", str(tmp_path),
                         "--snelheid", "4", "--minuten", "5", "--quiet")
    assert code == 0
    raw = (tmp_path / "buurten.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header = raw[3:].split(b"\n")[0].decode()
    assert header.split(";")[:len(SCHEMA)] == SCHEMA
    assert b"0,5" in raw or b"1,0" in raw  # decimal comma (share and distances)
    plekken = pd.read_csv(tmp_path / "plekken.csv", sep=";", decimal=",", encoding="utf-8-sig")
    assert len(plekken) == len(direct.places) and plekken["lon"].between(24.8, 25.1).all()


def test_export_parquet_is_geoparquet(direct, tmp_path, capsys):
    code, _, _ = ontmoet(capsys, "export", DEMO_ID, "--format", "parquet", "--out",
                         str(tmp_path), "--snelheid", "4", "--minuten", "5", "--quiet")
    assert code == 0
    b = gpd.read_parquet(tmp_path / "buurten.parquet")
    assert b.crs == direct.table.crs
    assert b["buurtcode"].tolist() == direct.table["buurtcode"].tolist()


def test_an_unreachable_data_service_is_exit_3(tmp_path, capsys, monkeypatch):
    import layers.bundle
    from geo.pdok import fetch_buurten

    with LocalServer(lambda p, q: (503, b"")) as srv:
        monkeypatch.setattr(layers.bundle, "fetch_buurten",
                            functools.partial(fetch_buurten, base_url=srv.url, backoff_s=0.01))
        code, out, err = ontmoet(capsys, "--cache-dir", str(tmp_path), "prepare",
                                 "--gemeente", "GM0344", "--quiet")
    assert code == 3 and out == ""
    assert "PDOK" in err and "werk offline" in err
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
