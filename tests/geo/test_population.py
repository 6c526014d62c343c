"""Population readers (CBS kerncijfers, PDOK-named CSV and Parquet), tested on the real tables."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from geo.boundaries import read_boundaries
from geo.cbs import CODE_RE, parse_number, read_table
from geo.errors import InputError
from geo.population import (
    COLUMNS,
    is_kerncijfers_file,
    is_population_table,
    municipal_totals,
    read_kerncijfers,
    read_population_table,
)
from tests.conftest import find_files
from tests.realdata import need


@pytest.fixture(scope="module")
def kwb_files(shared_data_dir: Path) -> list[Path]:
    files = [f for f in find_files(shared_data_dir, ("*.xlsx", "*.csv")) if is_kerncijfers_file(f)]
    if not files:
        pytest.skip("no CBS kerncijfers table in the shared data folder")
    return files


#: A buurtcode: BU + 4 digits (gemeente) + 4 digits or capitals (Amsterdam: BU0363AA01).
BUURTCODE = r"BU\d{4}[0-9A-Z]{4}"


def _year(path: Path) -> int | None:
    return read_kerncijfers(path)["jaar"].iloc[0]


def test_sniff_rejects_other_tables(shared_data_dir: Path, kwb_files: list[Path]) -> None:
    others = [f for f in find_files(shared_data_dir, ("*.csv",)) if f not in kwb_files]
    for f in others:
        assert not is_kerncijfers_file(f)
    assert not is_kerncijfers_file(shared_data_dir / "does-not-exist.csv")


def test_each_buurt_once_and_normalized(kwb_files: list[Path]) -> None:
    for f in kwb_files:
        df = read_kerncijfers(f)
        assert list(df.columns) == COLUMNS
        buurten = df[df["niveau"] == "Buurt"]
        assert buurten["code"].is_unique, f
        assert buurten["code"].str.fullmatch(BUURTCODE).all(), f
        assert (buurten["wijkcode"] == "WK" + buurten["code"].str[2:8]).all()
        assert (buurten["gemeentecode"] == "GM" + buurten["code"].str[2:6]).all()
        assert set(df["niveau"]) <= {"Gemeente", "Wijk", "Buurt"}
        assert df["inwoners"].dtype == "float64"
        assert df["inwoners_65plus"].dtype == "float64"
        known = buurten.dropna(subset=["inwoners", "inwoners_65plus"])
        assert (known["inwoners_65plus"] <= known["inwoners"]).all()
        year = df["jaar"].iloc[0]
        assert isinstance(year, int) and 2000 <= year < 2100


def test_utrecht_has_111_buurten(kwb_files: list[Path]) -> None:
    utrecht = [read_kerncijfers(f) for f in kwb_files]
    utrecht = [d for d in utrecht if (d["gemeentecode"] == "GM0344").any()]
    if not utrecht:
        pytest.skip("no Utrecht (GM0344) table")
    for df in utrecht:
        buurten = df[(df["niveau"] == "Buurt") & (df["gemeentecode"] == "GM0344")]
        assert len(buurten) == 111
        assert buurten["code"].nunique() == 111


def test_buurt_sum_matches_gemeente_row(kwb_files: list[Path]) -> None:
    checked = 0
    for f in kwb_files:
        df = read_kerncijfers(f)
        totals = municipal_totals(df)
        if not totals:
            continue
        buurten = df[(df["niveau"] == "Buurt") & (df["gemeentecode"] == totals["gemeentecode"])]
        for col in ("inwoners", "inwoners_65plus"):
            s = buurten[col].sum()
            assert abs(s - totals[col]) / totals[col] < 0.005, (f, col, s, totals[col])
        checked += 1
    if not checked:
        pytest.skip("no table with a gemeente row")


def test_xlsx_and_csv_of_same_year_agree(kwb_files: list[Path]) -> None:
    by_year: dict[int | None, dict[str, Path]] = {}
    for f in kwb_files:
        by_year.setdefault(_year(f), {})[f.suffix.lower()] = f
    pairs = [(d[".xlsx"], d[".csv"]) for d in by_year.values() if {".xlsx", ".csv"} <= d.keys()]
    if not pairs:
        pytest.skip("no xlsx + csv pair of the same year")
    for xlsx, csv_path in pairs:
        a = read_kerncijfers(xlsx)
        b = read_kerncijfers(csv_path)
        a = a[a["niveau"] == "Buurt"].set_index("code").sort_index()
        b = b[b["niveau"] == "Buurt"].set_index("code").sort_index()
        cols = ["naam", "wijkcode", "inwoners", "inwoners_65plus", "jaar"]
        pd.testing.assert_frame_equal(a[cols], b[cols])


def _kwb_csvs(kwb_files: list[Path]) -> list[Path]:
    """The kerncijfers CSVs in CBS's own 2023+ naming (gwb_code, a_inw, a_65_oo), not the
    PDOK-named extracts (aantalInwoners, percentagePersonen65JaarEnOuder)."""
    out = []
    for f in kwb_files:
        if f.suffix.lower() == ".csv":
            with f.open(encoding="utf-8-sig", newline="") as fh:
                if {"gwb_code", "a_inw", "a_65_oo"} <= set(next(csv.reader(fh))):
                    out.append(f)
    return out


def test_real_secrecy_dots_are_nan(kwb_files: list[Path]) -> None:
    """The real CSVs carry '.' for secret cells (e.g. energy columns): never a number."""
    csvs = _kwb_csvs(kwb_files)
    if not csvs:
        pytest.skip("no kerncijfers csv")
    with csvs[0].open(encoding="utf-8-sig", newline="") as fh:
        cells = [c for row in csv.reader(fh) for c in row if c.strip() in {".", "x"}]
    assert cells, "expected secret cells in a real CBS table"
    assert all(math.isnan(parse_number(c)) for c in cells)


def _real_header_and_row(kwb_files: list[Path]) -> tuple[list[str], list[str]]:
    csvs = _kwb_csvs(kwb_files)
    if not csvs:
        pytest.skip("no kerncijfers csv")
    with csvs[0].open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1]


@pytest.mark.parametrize("marker", ["-99997", "-99995", ".", "x", "", "-", "?"])
def test_secrecy_codes_become_nan(tmp_path: Path, kwb_files: list[Path], marker: str) -> None:
    header, row = _real_header_and_row(kwb_files)
    secret = list(row)
    secret[header.index("a_65_oo")] = marker
    other = list(row)
    code_cols = [i for i, h in enumerate(header) if h in ("gwb_code_10", "gwb_code")]
    for i in code_cols:
        other[i] = other[i][:-1] + ("9" if other[i][-1] != "9" else "8")
    other[header.index("a_inw")] = marker
    path = tmp_path / "kwb_2024_secret.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter=";").writerows([header, secret, other])
    df = read_kerncijfers(path).set_index("code")
    code = row[header.index("gwb_code")]
    assert math.isnan(df.loc[code, "inwoners_65plus"])
    assert df.loc[code, "inwoners"] == float(row[header.index("a_inw")])
    assert math.isnan(df.drop(index=code)["inwoners"].iloc[0])
    assert df["jaar"].iloc[0] == 2024  # from the file name


def test_old_names_and_percentage(tmp_path: Path) -> None:
    path = tmp_path / "kwb-2019.csv"
    path.write_text(
        "WijkenEnBuurten;Gemeentenaam_1;SoortRegio_2;AANT_INW;P_65_EO_JR\n"
        "GM0344  ;Utrecht;Gemeente;1000;10\n"
        "BU03440111;Utrecht;Buurt;200;25\n"
        "BU03440112;Utrecht;Buurt;-99997;-99997\n",
        encoding="cp1252",
    )
    df = read_kerncijfers(path).set_index("code")
    assert df.loc["GM0344", "niveau"] == "Gemeente"
    assert df.loc["BU03440111", "inwoners_65plus"] == pytest.approx(50.0)
    assert math.isnan(df.loc["BU03440112", "inwoners"])
    assert math.isnan(df.loc["BU03440112", "inwoners_65plus"])
    assert df.loc["BU03440111", "jaar"] == 2019


def test_missing_file_names_file(tmp_path: Path) -> None:
    path = tmp_path / "geen_kwb.csv"
    with pytest.raises(InputError, match="geen_kwb.csv"):
        read_kerncijfers(path)


def test_empty_file_names_file(tmp_path: Path) -> None:
    path = tmp_path / "leeg.csv"
    path.write_bytes(b"")
    with pytest.raises(InputError, match="leeg.csv"):
        read_kerncijfers(path)
    blank = tmp_path / "alleen_bom.csv"
    blank.write_bytes(b"\xef\xbb\xbf\n\n")
    with pytest.raises(InputError, match="alleen_bom.csv"):
        read_kerncijfers(blank)


def test_csv_without_code_column(tmp_path: Path) -> None:
    path = tmp_path / "zonder_code.csv"
    path.write_text("regio,a_inw,a_65_oo\nOog in Al,4155,505\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_kerncijfers(path)
    assert "zonder_code.csv" in str(exc.value)
    assert "code" in str(exc.value)


def test_csv_without_resident_column(shared_data_dir: Path, kwb_files: list[Path]) -> None:
    others = [f for f in find_files(shared_data_dir, ("*.csv",)) if f not in kwb_files]
    others = [f for f in others if _has_cbs_codes(f)]  # e.g. CBS Nabijheid voorzieningen
    if not others:
        pytest.skip("no other CBS table to try")
    with pytest.raises(InputError, match="inwoners"):
        read_kerncijfers(others[0])


def _has_cbs_codes(path: Path) -> bool:
    rows = read_table(path, max_rows=20).rows
    return any(CODE_RE.match(c.strip()) for row in rows for c in row)


def test_statline_export_titles(tmp_path: Path) -> None:
    """StatLine CSV exports use long titles, padded cells and a BOM."""
    path = tmp_path / "Kerncijfers_wijken_en_buurten_2022_export.csv"
    text = (
        '"Wijken en buurten";"Regioaanduiding/Codering (code)";'
        '"Bevolking/Aantal inwoners (aantal)";'
        '"Bevolking/Leeftijdsgroepen/65 jaar of ouder (aantal)"\n'
        '"Nederland";"NL00      ";"17811291";"3476880"\n'
        '"Oog in Al";"BU03440112";"    4155";"     505"\n'
        '"Klein";"BU03440113";"      40";"       ."\n'
    )
    path.write_bytes(text.encode("utf-8-sig"))
    assert is_kerncijfers_file(path)
    df = read_kerncijfers(path).set_index("code")
    assert list(df.index) == ["BU03440112", "BU03440113"]  # the Nederland row is left out
    assert df.loc["BU03440112", "naam"] == "Oog in Al"
    assert df.loc["BU03440112", "inwoners_65plus"] == 505
    assert math.isnan(df.loc["BU03440113", "inwoners_65plus"])
    assert df.loc["BU03440113", "jaar"] == 2022


# --------------------------------------------------------------------------- PDOK-named tables
# The CBS Wijk- en Buurtkaart publishes 65+ only as a whole percentage: the reader turns it into
# an estimate in whole persons and flags it; references below come straight from the raw files.

DELFT_CSV = "delft/cbs_wijkenbuurten_2023_delft_buurten_population.csv"
AMSTERDAM_CSV = "amsterdam/cbs_wijkenbuurten_2023_amsterdam_buurten_population.csv"
AMSTERDAM_PARQUET = "amsterdam/data.parquet"


def _check_estimates(got: pd.DataFrame, inw: pd.Series, pct: pd.Series) -> None:
    """65+ per buurt within 0.5 persons of residents × percentage, whole persons, flagged; a
    secret (negative or missing) percentage stays NaN and unflagged."""
    got = got.set_index("code")
    secret = pct.isna() | (pct < 0) | inw.isna() | (inw < 0)
    exact = (inw * pct / 100).where(~secret)
    est = got.loc[exact.index, "inwoners_65plus"]
    assert (est[~secret] - exact[~secret]).abs().max() <= 0.5
    assert (est[~secret] == est[~secret].round()).all()
    assert est[secret].isna().all()
    flag = got.loc[exact.index, "inwoners_65plus_geschat"]
    assert flag.dtype == bool and (flag == ~secret).all()
    assert abs(est.sum() - exact.sum()) <= 0.5 * (~secret).sum()


def test_delft_pdok_csv_estimates_65plus() -> None:
    path = need(DELFT_CSV)
    raw = pd.read_csv(path, dtype={"buurtcode": str})
    raw = raw[raw["gemeentecode"] == "GM0503"].set_index("buurtcode")
    assert raw["aantalInwoners"].sum() == 106_080  # data README (CBS 2023)
    assert is_population_table(path)
    df = read_population_table(path)
    assert list(df.columns) == COLUMNS
    bu = df[df["niveau"] == "Buurt"]
    assert len(bu) == len(raw) == 91
    assert bu["inwoners"].sum() == raw["aantalInwoners"].sum()
    assert int(bu["inwoners_65plus"].isna().sum()) == 17
    _check_estimates(bu, raw["aantalInwoners"], raw["percentagePersonen65JaarEnOuder"])
    known = int(bu["inwoners_65plus"].notna().sum())
    assert abs(bu["inwoners_65plus"].sum() - 17_323) <= 0.5 * known  # data README
    assert any("geschat" in n for n in df.attrs["notes"])


def test_delft_gpkg_estimates_65plus_and_secrecy_stays_unknown() -> None:
    path = need("delft/delft_buurten_proj.gpkg")
    raw = gpd.read_file(path)
    raw = raw[raw["gemeentecode"] == "GM0503"].set_index("buurtcode")
    b = read_boundaries(path)
    b = b[b["gemeentecode"] == "GM0503"].rename(columns={"buurtcode": "code"})
    assert b["inwoners"].sum() == raw["aantalInwoners"].sum() == 106_080
    assert int(b["inwoners_65plus"].isna().sum()) == 17  # -99997 in the file: unknown, not 0
    _check_estimates(b, raw["aantalInwoners"].astype(float),
                     raw["percentagePersonen65JaarEnOuder"].astype(float))


def test_amsterdam_csv_and_parquet_agree() -> None:
    csv_path, pq_path = need(AMSTERDAM_CSV), need(AMSTERDAM_PARQUET)
    raw = pd.read_parquet(pq_path).set_index("code")
    assert is_population_table(csv_path) and is_population_table(pq_path)
    frames = [read_population_table(p) for p in (csv_path, pq_path)]
    for df in frames:
        assert list(df.columns) == COLUMNS
        bu = df[df["niveau"] == "Buurt"]
        assert len(bu) == 519 and bu["code"].str.fullmatch(BUURTCODE).all()
        assert bu["inwoners"].sum() == raw["population"].sum() == 917_890
        assert int(bu["inwoners_65plus"].isna().sum()) == 67
        _check_estimates(bu, raw["population"], raw["pct_65plus"])
        wk = bu.set_index("code")["wijkcode"]
        assert wk["BU0363AA01"] == "WK0363AA"
    cols = ["code", "naam", "wijkcode", "inwoners", "inwoners_65plus", "inwoners_65plus_geschat"]
    pd.testing.assert_frame_equal(frames[0][cols], frames[1][cols])


def test_population_table_sniff_by_header(shared_data_dir: Path) -> None:
    """Only the tables with CBS codes and residents: not the address lists, the CBS proximity
    table, the Amsterdam column map or the boundaries."""
    for rel in ("delft/Full_Delft_walk_addresses.csv",
                "delft/Full_Delft_walk_building_addresses.csv",
                "utrecht/cbs_nabijheid_voorzieningen_buurt_2023_utrecht.csv",
                "amsterdam/cbs_columns.json", "amsterdam/buurten.geojson"):
        assert not is_population_table(need(rel)), rel
    assert not is_population_table(shared_data_dir / "does-not-exist.parquet")
