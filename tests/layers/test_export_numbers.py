"""Every numeric column of every export format, read back: counts of people are whole numbers,
shares and distances carry the decimals the field descriptions state, and the values equal what
the dashboard shows.

Real data: Delft (TU Delft OSM extract, CBS buurten and kerncijfers, where the 65+ count of some
buurten comes from a percentage: 31.500000000000004 before) and the Helsinki demo (buildings).
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest

from geo.profiles import load_profiles
from layers.analysis import prepare, run
from layers.datasets import discover, find_area
from layers.exports import write_export
from layers.fmt import fmt_int
from layers.outputs import DECIMALS, FIELD_DESCRIPTIONS, WHOLE_COLUMNS, area_layer
from layers.summary import ranking
from tests.realdata import need

#: Coordinates the CSV adds for spreadsheets (geo.export.COORD_PRECISION).
COORDS = {"lon": 6, "lat": 6}


@pytest.fixture(scope="module")
def delft_result(shared_data_dir):
    """The real Delft area the dashboard opens on (whole-city OSM ways, CBS 2023 figures)."""
    need("delft/delft_osm_roads_proj.gpkg")
    area = find_area(discover(shared_data_dir, include_demo=False), "delft")
    return run(prepare(area), load_profiles()[0]["older"])


@pytest.fixture(scope="module")
def demo_result(demo_prepared):
    return run(demo_prepared, load_profiles()[0]["older"])


@pytest.fixture(scope="module", params=["delft", "demo"])
def exported(request, tmp_path_factory):
    result = request.getfixturevalue(f"{request.param}_result")
    out = tmp_path_factory.mktemp(f"export_{request.param}")
    files = {fmt: write_export(result, fmt, out / fmt) for fmt in ("csv", "geojson", "parquet")}
    files["gpkg"] = write_export(result, "gpkg", out / "gpkg" / "k.gpkg")
    return result, files


def _layer_files(files: list[Path]) -> list[Path]:
    return [f for f in files if f.name != "notities.csv"]


def _decimals_ok(value: float, n: int) -> bool:
    return abs(round(value, n) - value) < 1e-9


def test_csv_numbers_read_as_a_person_types_them(exported):
    result, files = exported
    seen_whole = set()
    for path in _layer_files(files["csv"]):
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), path  # BOM: Excel reads UTF-8
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter=";"))
        for col in rows[0] if rows else []:
            cells = [r[col] for r in rows if r[col] != ""]
            numeric = cells and all(re.fullmatch(r"-?\d+(,\d+)?(e-?\d+)?", c) for c in cells)
            if not numeric or col in ("buurtcode", "wijkcode", "place_id"):
                continue
            if col in WHOLE_COLUMNS:
                seen_whole.add(col)
                bad = [c for c in cells if not re.fullmatch(r"-?\d+", c)]
                assert not bad, (path.name, col, bad[:3])  # no 25,0 or 31,500000000000004
            else:
                n = {**DECIMALS, **COORDS}.get(col)
                assert n is not None, f"{path.name}: numeric column {col!r} has no stated rounding"
                bad = [c for c in cells if not re.fullmatch(rf"-?\d+(,\d{{1,{n}}})?", c)]
                assert not bad, (path.name, col, bad[:3])
    counted = {"inwoners_65plus", "binnen_bereik_65plus"} if result.prepared.counts_people \
        else {"woongebouwen", "binnen_bereik_woongebouwen"}
    assert counted <= seen_whole


def test_geojson_parquet_and_gpkg_keep_whole_numbers_whole(exported):
    _result, files = exported
    for path in _layer_files(files["geojson"]):
        feats = json.loads(path.read_text(encoding="utf-8"))["features"]
        for f in feats:
            for col, v in f["properties"].items():
                if col in WHOLE_COLUMNS and v is not None:
                    assert isinstance(v, int) and not isinstance(v, bool), (path.name, col, v)
                elif col in DECIMALS and v is not None:
                    assert _decimals_ok(v, DECIMALS[col]), (path.name, col, v)
    for path in _layer_files(files["parquet"]):
        df = gpd.read_parquet(path)
        for col in df.columns:
            if col in WHOLE_COLUMNS:
                assert str(df[col].dtype) in ("Int64", "int64"), (path.name, col, df[col].dtype)
            elif col in DECIMALS:
                v = df[col].dropna().to_numpy(float)
                assert np.allclose(v, np.round(v, DECIMALS[col])), (path.name, col)
    gpkg = files["gpkg"][0]
    for layer, _geom in pyogrio.list_layers(gpkg):
        if layer == "veldbeschrijvingen":
            continue
        info = pyogrio.read_info(gpkg, layer=layer)
        types = dict(zip(info["fields"], info["dtypes"], strict=True))
        for col, t in types.items():
            if col in WHOLE_COLUMNS:
                assert t.startswith("int"), (layer, col, t)
            elif col in DECIMALS:
                v = pyogrio.read_dataframe(gpkg, layer=layer, columns=[col],
                                           read_geometry=False)[col].dropna().to_numpy(float)
                assert np.allclose(v, np.round(v, DECIMALS[col])), (layer, col)


def test_rounding_is_stated_in_the_field_descriptions():
    for col in ("inwoners_65plus", "binnen_bereik_65plus", "mediaan_afstand_m",
                "aandeel_binnen_bereik", "afstand_m", "oppervlakte_ha"):
        assert re.search(r"afgerond|geheel getal|decimalen|op 0,1", FIELD_DESCRIPTIONS[col]), col


def test_exported_counts_equal_the_dashboard(delft_result):
    """The ranking's screen text and the exported numbers are the same values."""
    t = area_layer(delft_result).set_index("buurtcode")
    shown = ranking(delft_result).set_index("buurtcode")
    # buurten outside the data are in the export (with their status) but not in the ranking
    assert set(shown.index) == set(t.index[t["status"] != "buiten"])
    compared = 0
    for code, row in shown.iterrows():
        if row["totaal"].startswith("<") or row["totaal"] in ("–", "onbekend"):
            continue
        assert row["totaal"].removeprefix("≈ ") == fmt_int(t.loc[code, "inwoners_65plus"]), code
        assert row["buiten_bereik"] == fmt_int(t.loc[code, "buiten_bereik_65plus"]), code
        compared += 1
    assert compared > 10


def test_ranking_shows_no_none_or_nan(delft_result):
    """Delft has buurten without CBS 65+ figures and without a route: they read 'onbekend'."""
    shown = ranking(delft_result)
    cells = [v for col in shown.columns for v in shown[col]]
    assert all(isinstance(v, str) for v in cells)
    assert not [v for v in cells if v.lower() in ("none", "nan", "<na>", "")]
    assert (shown["mediaan_m"] == "onbekend").any()


def test_estimated_counts_are_marked_in_exports_and_on_screen(delft_result, tmp_path):
    """Delft's 65+ counts come from CBS's percentagePersonen65JaarEnOuder: estimates. The
    population reader marks them (inwoners_65plus_geschat); exports and screen say so."""
    from layers.outputs import ESTIMATED

    files = write_export(delft_result, "csv", tmp_path)
    with open(tmp_path / "buurten.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    known = [r for r in rows if r["inwoners_65plus"] != ""]
    assert known and all(r[ESTIMATED] == "True" for r in known)
    with open(tmp_path / "wijken.csv", encoding="utf-8-sig", newline="") as fh:
        assert any(r[ESTIMATED] == "True" for r in csv.DictReader(fh, delimiter=";"))
    shown = ranking(delft_result)
    counted = shown[~shown["totaal"].isin(["onbekend"]) & ~shown["totaal"].str.startswith("<")]
    assert len(counted) > 10 and counted["totaal"].str.startswith("≈ ").all()
    assert tmp_path / "notities.csv" in files
