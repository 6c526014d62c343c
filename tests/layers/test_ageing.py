"""Ageing per buurt on Utrecht's two real CBS years (kerncijfers 2023 and 2024), checked
against the figures read independently from the xlsx files with openpyxl, and the growing
shortfalls on Utrecht's real street network."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import openpyxl
import pandas as pd
import pytest

import cli
from geo.population import read_kerncijfers
from geo.settings import default_data_dir
from layers.ageing import (
    LOW_REACH,
    MIN_65PLUS,
    STATUS_GONE,
    STATUS_NEW,
    STATUS_RECODED,
    STATUS_SAME,
    ageing_for_area,
    compare_years,
    growing_shortfalls,
)
from layers.analysis import prepare, run
from layers.mapview import build_map
from layers.report import write_report
from tests.layers.real_data import utrecht_core, utrecht_years

#: Sums of a_65_oo over the buurt rows, as stated in ../shared/data/README.md.
README_65PLUS = {2023: 39_405, 2024: 40_285}


def raw_65plus(path) -> pd.Series:
    """a_65_oo per buurt straight from the xlsx (openpyxl, no project code)."""
    ws = openpyxl.load_workbook(path, read_only=True).active
    rows = list(ws.iter_rows(values_only=True))
    head = list(rows[0])
    code, recs, n = head.index("gwb_code_10"), head.index("recs"), head.index("a_65_oo")
    data = {r[code].strip(): r[n] for r in rows[1:] if r[recs] == "Buurt"}
    return pd.to_numeric(pd.Series(data), errors="coerce")


@pytest.fixture(scope="module")
def years():
    return utrecht_years()


@pytest.fixture(scope="module")
def ageing(years):
    y2023, y2024 = years
    return compare_years(read_kerncijfers(y2023), read_kerncijfers(y2024),
                         year_before=2023, year=2024)


@pytest.fixture(scope="module")
def core(tmp_path_factory, older):
    area = utrecht_core(tmp_path_factory.mktemp("utrecht"), ["Bibliotheek Neude", "Griftpark"])
    return area, run(prepare(area), older)


def test_totals_equal_the_cbs_figures(years, ageing):
    raw = {y: raw_65plus(p) for y, p in zip((2023, 2024), years, strict=True)}
    assert {y: int(s.sum()) for y, s in raw.items()} == README_65PLUS
    assert ageing.totals() == (README_65PLUS[2023], README_65PLUS[2024])
    assert ageing.label == "2023→2024"


def test_growth_per_buurt_equals_the_raw_difference(years, ageing):
    before, after = (raw_65plus(p) for p in years)
    t = ageing.table.set_index("buurtcode")
    assert len(t) == 111 and set(t.index) == set(after.index)
    assert (t["status_code"] == STATUS_SAME).all()  # Utrecht kept its codes in 2024
    want = (after - before).reindex(t.index)
    assert np.allclose(t["groei_65plus"], want, equal_nan=True)
    assert t["groei_65plus"].sum() == README_65PLUS[2024] - README_65PLUS[2023]
    assert (t["groei_65plus"] > 0).sum() > 10 and (t["groei_65plus"] < 0).sum() > 10


def test_changed_new_and_vanished_codes_are_reported(years):
    """CBS renumbering, applied in memory to the real 2024 table: one buurt gets a new code
    (same name), one is dropped and one code appears with a new name."""
    y2023, y2024 = years
    before, after = read_kerncijfers(y2023), read_kerncijfers(y2024)
    bu = after.index[after["niveau"] == "Buurt"]
    after = after.copy()
    renamed_from = after.at[bu[0], "code"]
    after.at[bu[0], "code"] = "BU03449901"
    gone = after.at[bu[1], "code"]
    after = after.drop(index=bu[1])
    new_from = after.at[bu[2], "code"]
    after.at[bu[2], "code"], after.at[bu[2], "naam"] = "BU03449902", "Nieuwbouwbuurt"
    a = compare_years(before, after, year_before=2023, year=2024)
    t = a.table.set_index("buurtcode")
    assert t.at["BU03449901", "status_code"] == STATUS_RECODED
    assert t.at["BU03449901", "vorige_code"] == renamed_from
    assert np.isfinite(t.at["BU03449901", "groei_65plus"])  # compared across the new code
    assert t.at[gone, "status_code"] == STATUS_GONE and np.isnan(t.at[gone, "groei_65plus"])
    assert t.at["BU03449902", "status_code"] == STATUS_NEW
    assert t.at[new_from, "status_code"] == STATUS_GONE
    text = " ".join(a.notes)
    assert f"{renamed_from} → BU03449901" in text and gone in text and "BU03449902" in text


def test_growing_shortfalls_on_utrecht_streets(years, core):
    """Growth × share beyond reach, recomputed from the raw CBS figures and the result."""
    area, result = core
    assert len(result.places) == 2
    ageing = ageing_for_area(area)
    ranked = growing_shortfalls(ageing, result.table)
    before, after = (raw_65plus(p) for p in years)
    share = result.table.set_index("buurtcode")["aandeel_binnen_bereik"]
    growth = (after - before).reindex(share.index)
    ok = ((growth > 0) & (share < LOW_REACH) & (before.reindex(share.index) >= MIN_65PLUS)
          & (after.reindex(share.index) >= MIN_65PLUS))
    expect = (growth * (1 - share))[ok]
    assert len(ranked) == ok.sum() > 0
    assert set(ranked["buurtcode"]) == set(expect.index)
    assert np.allclose(ranked["extra_buiten_bereik"],
                       expect.reindex(ranked["buurtcode"]).to_numpy())
    assert ranked["extra_buiten_bereik"].is_monotonic_decreasing
    # a growing buurt near the library or park is not a shortfall
    assert ((growth > 0) & (share >= LOW_REACH)).any()


def test_without_reach_nothing_is_ranked(ageing):
    assert growing_shortfalls(ageing, None).empty
    t = pd.DataFrame({"buurtcode": ageing.table["buurtcode"], "aandeel_binnen_bereik": np.nan})
    assert growing_shortfalls(ageing, t).empty  # NaN reach is unknown, not low


def test_map_layer_and_report_section(core, tmp_path):
    area, result = core
    ageing = ageing_for_area(area)
    html = build_map(result, ageing=ageing).get_root().render()
    assert "Vergrijzing: verandering 65-plussers 2023" in html  # the arrow is JSON-escaped
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils (pdftotext) is not installed")
    pdf = write_report(result, tmp_path / "r.pdf")  # ageing read from the area's two years
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Groeiende tekorten 2023→2024" in text
    top = growing_shortfalls(ageing, result.table).iloc[0]
    assert f"+{int(top['groei_65plus'])}" in text


def test_cli_vergrijzing_json(capsys):
    code = cli.main(["vergrijzing", "utrecht", "--json", "--quiet",
                     "--data-dir", str(default_data_dir())])
    out = capsys.readouterr().out
    assert code == 0
    import json

    data = json.loads(out)
    assert (data["jaar_vorig"], data["jaar"]) == (2023, 2024)
    assert data["inwoners_65plus_vorig"] == README_65PLUS[2023]
    assert data["groei_65plus"] == README_65PLUS[2024] - README_65PLUS[2023]
    assert len(data["buurten"]) == 111
