"""Municipal facility lists in Dutch spreadsheet conventions.

Coordinates are those of real places in Utrecht (WGS84, rounded to 4 decimals ≈ 10 m);
the expected RD values are computed with pyproj, not typed in.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from pyproj import Transformer
from shapely.geometry import Point

from geo.errors import InputError
from geo.facilities import RowProblem, read_facility_list

PLACES = {  # name: (lat, lon)
    "Domtoren": (52.0907, 5.1214),
    "Utrecht Centraal": (52.0894, 5.1099),
    "Neude": (52.0934, 5.1191),
    "Griftpark": (52.0987, 5.1283),
}
_T = Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True)


def rd(name: str) -> tuple[float, float]:
    lat, lon = PLACES[name]
    return _T.transform(lon, lat)


def nl(v: float, decimals: int = 4) -> str:
    """A number written with a Dutch decimal comma."""
    return f"{v:.{decimals}f}".replace(".", ",")


def _assert_at(gdf: gpd.GeoDataFrame, name: str, tol: float = 0.5) -> None:
    geom = gdf.set_index("naam").loc[name, "geometry"]
    assert geom.distance(Point(rd(name))) < tol, (name, geom)


def test_semicolon_decimal_comma_bom(tmp_path: Path) -> None:
    lines = ["Naam;Categorie;Lat;Lon;Openingstijden;Adres"]
    for name, (lat, lon) in PLACES.items():
        lines.append(f"{name};buurthuis;{nl(lat)};{nl(lon)};ma-vr 9-17;Straat 1")
    path = tmp_path / "ontmoetingsplekken.csv"
    path.write_bytes("\r\n".join(lines).encode("utf-8-sig"))
    gdf, problems = read_facility_list(path)
    assert problems == []
    assert gdf.crs.to_epsg() == 28992
    assert list(gdf["naam"]) == list(PLACES)
    assert list(gdf["rij"]) == [2, 3, 4, 5]
    assert set(gdf["categorie_lokaal"]) == {"buurthuis"}
    assert set(gdf["bron"]) == {"lokale lijst: ontmoetingsplekken.csv"}
    assert set(gdf["openingstijden"]) == {"ma-vr 9-17"}
    assert set(gdf["adres"]) == {"Straat 1"}
    for name in PLACES:
        _assert_at(gdf, name)
    dom = gdf.set_index("naam").loc["Domtoren", "geometry"]
    assert abs(dom.x - 136_800) < 300 and abs(dom.y - 455_850) < 300  # sanity: Dom in RD


def test_cp1252_comma_separated(tmp_path: Path) -> None:
    lat, lon = PLACES["Neude"]
    text = f"name,type,latitude,longitude\nCafé de Neude,café,{lat},{lon}\n"
    path = tmp_path / "lijst_cp1252.csv"
    path.write_bytes(text.encode("cp1252"))
    gdf, problems = read_facility_list(path)
    assert problems == []
    assert gdf["naam"].iloc[0] == "Café de Neude"
    assert gdf["categorie_lokaal"].iloc[0] == "café"
    assert gdf.geometry.iloc[0].distance(Point(rd("Neude"))) < 0.5


def test_rd_coordinates_with_decimal_comma(tmp_path: Path) -> None:
    lines = ["naam;soort;x;y"]
    for name in PLACES:
        x, y = rd(name)
        lines.append(f"{name};wijkcentrum;{nl(x, 1)};{nl(y, 1)}")
    path = tmp_path / "rd.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    gdf, problems = read_facility_list(path)
    assert problems == []
    assert gdf.attrs["warnings"] == []
    for name in PLACES:
        _assert_at(gdf, name, tol=0.1)


def test_wgs84_in_xy_columns_is_recognized(tmp_path: Path) -> None:
    lat, lon = PLACES["Griftpark"]
    path = tmp_path / "xy_graden.csv"
    path.write_text(f"naam;x;y\nGriftpark;{nl(lon)};{nl(lat)}\n", encoding="utf-8")
    gdf, problems = read_facility_list(path)
    assert problems == []
    _assert_at(gdf, "Griftpark")


def test_swapped_lat_lon_is_corrected_with_warning(tmp_path: Path) -> None:
    lines = ["naam;categorie;lat;lon"]
    for name, (lat, lon) in PLACES.items():
        lines.append(f"{name};bibliotheek;{nl(lon)};{nl(lat)}")  # swapped
    path = tmp_path / "verwisseld.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    gdf, problems = read_facility_list(path)
    assert problems == []
    for name in PLACES:
        _assert_at(gdf, name)
    assert any("verwisseld" in w and "rij(en) 2, 3, 4, 5" in w for w in gdf.attrs["warnings"])
    # and one note per corrected row (layers.notes kind "omgedraaid")
    assert [(c.rij, c.soort) for c in gdf.attrs["corrected"]] == [
        (r, "omgedraaid") for r in range(2, 2 + len(PLACES))]


def test_bad_rows_are_listed_and_good_rows_kept(tmp_path: Path) -> None:
    dom, cs, neude = PLACES["Domtoren"], PLACES["Utrecht Centraal"], PLACES["Neude"]
    lines = [
        "naam;categorie;lat;lon",  # 1
        f"Domtoren;toren;{nl(dom[0])};{nl(dom[1])}",  # 2 good
        f";buurthuis;{nl(cs[0])};{nl(cs[1])}",  # 3 empty name
        "Zonder breedte;buurthuis;;5,1",  # 4 missing lat
        "Onleesbaar;buurthuis;52,09;vijf",  # 5 not a number
        ";;;",  # 6 fully empty: ignored
        "",  # 7 blank line: ignored
        "Nulpunt;buurthuis;0;0",  # 8 outside NL
        "Parijs;buurthuis;48,8566;2,3522",  # 9 outside NL
        f"Neude;plein;{nl(neude[0])};{nl(neude[1])}",  # 10 good
    ]
    path = tmp_path / "met_fouten.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    gdf, problems = read_facility_list(path)
    assert list(gdf["naam"]) == ["Domtoren", "Neude"]
    assert list(gdf["rij"]) == [2, 10]
    assert [p.rij for p in problems] == [3, 4, 5, 8, 9]
    assert all(isinstance(p, RowProblem) for p in problems)
    by_row = {p.rij: p for p in problems}
    assert by_row[3].veld == "naam"
    assert by_row[4].veld == "lat" and "ontbreekt" in by_row[4].melding
    assert by_row[5].veld == "lon" and "'vijf'" in by_row[5].melding
    assert "Nederland" in by_row[8].melding
    assert "rij 9" in str(by_row[9])


def test_unquoted_decimal_commas_in_comma_csv(tmp_path: Path) -> None:
    path = tmp_path / "komma.csv"
    path.write_text("naam,lat,lon\nDomtoren,52,0907,5,1214\n", encoding="utf-8")
    gdf, problems = read_facility_list(path)
    assert gdf.empty
    assert [p.rij for p in problems] == [2]
    assert "komma" in problems[0].melding


def test_xlsx(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Naam", "Type", "Breedtegraad", "Lengtegraad"])
    for name, (lat, lon) in PLACES.items():
        ws.append([name, "ontmoetingsplek", lat, lon])
    ws.append(["Zonder coördinaten", "ontmoetingsplek", None, None])
    path = tmp_path / "lijst.xlsx"
    wb.save(path)
    gdf, problems = read_facility_list(path)
    assert list(gdf["rij"]) == [2, 3, 4, 5]
    for name in PLACES:
        _assert_at(gdf, name)
    assert [p.rij for p in problems] == [6, 6]  # both coordinates missing


def test_geojson(tmp_path: Path) -> None:
    names = list(PLACES)
    geoms = [Point(PLACES[n][1], PLACES[n][0]) for n in names] + [None]
    src = gpd.GeoDataFrame(
        {"name": [*names, "Zonder punt"], "category": ["buurthuis"] * 5},
        geometry=geoms,
        crs="EPSG:4326",
    )
    path = tmp_path / "plekken.geojson"
    src.to_file(path, driver="GeoJSON")
    gdf, problems = read_facility_list(path)
    assert list(gdf["naam"]) == names
    assert list(gdf["rij"]) == [1, 2, 3, 4]
    assert gdf.crs.to_epsg() == 28992
    for name in names:
        _assert_at(gdf, name)
    assert [(p.rij, p.veld) for p in problems] == [(5, "geometry")]


def test_missing_columns_raise_with_found_and_expected(tmp_path: Path) -> None:
    path = tmp_path / "geen_coordinaten.csv"
    path.write_text("naam;categorie;adres\nBuurthuis;buurthuis;Domplein 1\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_facility_list(path)
    text = str(exc.value)
    assert "geen_coordinaten.csv" in text
    assert "'adres'" in text  # found
    assert "lat/lon" in text and "x/y" in text  # expected

    path = tmp_path / "geen_naam.csv"
    path.write_text("omschrijving;lat;lon\nBuurthuis;52,09;5,12\n", encoding="utf-8")
    with pytest.raises(InputError, match="geen_naam.csv.*naam"):
        read_facility_list(path)


def test_empty_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "leeg.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="leeg.csv"):
        read_facility_list(empty)
    bom_only = tmp_path / "alleen_bom.csv"
    bom_only.write_bytes(b"\xef\xbb\xbf\r\n")
    with pytest.raises(InputError, match="alleen_bom.csv"):
        read_facility_list(bom_only)
    with pytest.raises(InputError, match="bestaat_niet.csv"):
        read_facility_list(tmp_path / "bestaat_niet.csv")
    with pytest.raises(InputError, match="niet ondersteund"):
        read_facility_list(tmp_path / "lijst.pdf")


def test_rd_values_in_lat_lon_columns(tmp_path: Path) -> None:
    x, y = rd("Domtoren")
    path = tmp_path / "rd_als_latlon.csv"
    path.write_text(f"naam;lat;lon\nDomtoren;{nl(y, 1)};{nl(x, 1)}\n", encoding="utf-8")
    gdf, problems = read_facility_list(path)
    assert problems == []
    _assert_at(gdf, "Domtoren", tol=0.1)
    assert any("RD" in w for w in gdf.attrs["warnings"])
