"""Buurt boundary reader: formats, CRS handling, geometry repair, CBS column schemas.

Small files are written in tmp_path with the real CBS Wijk- en Buurtkaart column names (old
shapefile names and the 2022+ GeoPackage names); the real Utrecht GeoJSON checks RD recognition.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Polygon, box

from geo.boundaries import dissolve_wijken, is_boundaries_file, read_boundaries
from geo.coords import geojson_declares_crs
from geo.errors import InputError
from tests.realdata import need

X0, Y0 = 136_000.0, 455_000.0  # RD New, Utrecht city centre


def _squares(n: int = 3) -> list[Polygon]:
    return [box(X0 + i * 500, Y0, X0 + (i + 1) * 500, Y0 + 500) for i in range(n)]


def new_schema(n: int = 3, crs: str | None = "EPSG:28992") -> gpd.GeoDataFrame:
    """Columns as in the CBS Wijk- en Buurtkaart 2022+ GeoPackage / PDOK service."""
    return gpd.GeoDataFrame(
        {
            "buurtcode": [f"BU034401{i + 1:02d}" for i in range(n)],
            "buurtnaam": [f"Buurt {i + 1}" for i in range(n)],
            "wijkcode": ["WK034401"] * n,
            "gemeentecode": ["GM0344"] * n,
            "gemeentenaam": ["Utrecht"] * n,
            "water": ["NEE"] * n,
            "aantalInwoners": [1000, 2000, -99997][:n],
            "percentagePersonen65JaarEnOuder": [10, 20, -99997][:n],
        },
        geometry=_squares(n),
        crs=crs,
    )


def old_schema(n: int = 3) -> gpd.GeoDataFrame:
    """Columns as in the CBS Wijk- en Buurtkaart shapefiles up to 2021."""
    return gpd.GeoDataFrame(
        {
            "BU_CODE": [f"BU034402{i + 1:02d}" for i in range(n)],
            "BU_NAAM": [f"Buurt {i + 1}" for i in range(n)],
            "WK_CODE": ["WK034402"] * n,
            "GM_CODE": ["GM0344"] * n,
            "AANT_INW": [500, 1500, -99999999][:n],
            "P_65_EO_JR": [20, 10, -99999999][:n],
        },
        geometry=_squares(n),
        crs="EPSG:28992",
    )


def _zip(folder: Path, target: Path, skip: str | None = None) -> Path:
    with zipfile.ZipFile(target, "w") as zf:
        for f in sorted(folder.iterdir()):
            if skip is None or f.suffix.lower() != skip:
                zf.write(f, f"buurt_2021_v1/{f.name}")
    return target


def test_gpkg_picks_buurten_layer(tmp_path: Path) -> None:
    path = tmp_path / "wijkenbuurten_2023_v1.gpkg"
    b = new_schema()
    gm = gpd.GeoDataFrame(
        {"gemeentecode": ["GM0344"], "gemeentenaam": ["Utrecht"]},
        geometry=[b.union_all()],
        crs=b.crs,
    )
    wk = gpd.GeoDataFrame(
        {"wijkcode": ["WK034401"], "wijknaam": ["West"], "gemeentecode": ["GM0344"]},
        geometry=[b.union_all()],
        crs=b.crs,
    )
    gm.to_file(path, layer="gemeenten")
    b.to_file(path, layer="buurten")
    wk.to_file(path, layer="wijken")
    gdf = read_boundaries(path)
    assert gdf.attrs["layer"] == "buurten"
    assert list(gdf["buurtcode"]) == ["BU03440101", "BU03440102", "BU03440103"]
    assert list(gdf.columns) == [
        "buurtcode",
        "buurtnaam",
        "wijkcode",
        "gemeentecode",
        "geometry",
        "inwoners",
        "inwoners_65plus",
        "inwoners_65plus_geschat",
    ]
    assert list(gdf["inwoners_65plus_geschat"]) == [True, True, False]  # from percentages
    assert gdf.crs.to_epsg() == 28992
    assert gdf.attrs["warnings"] == []
    assert is_boundaries_file(path)
    with pytest.raises(InputError, match="buurtcode"):
        read_boundaries(path, layer="wijken")
    with pytest.raises(InputError, match="bestaat niet"):
        read_boundaries(path, layer="percelen")


def test_secrecy_values_become_nan(tmp_path: Path) -> None:
    path = tmp_path / "buurten.gpkg"
    new_schema().to_file(path, layer="buurten")
    gdf = read_boundaries(path).set_index("buurtcode")
    assert gdf.loc["BU03440101", "inwoners"] == 1000
    assert gdf.loc["BU03440102", "inwoners_65plus"] == pytest.approx(400.0)
    assert math.isnan(gdf.loc["BU03440103", "inwoners"])
    assert math.isnan(gdf.loc["BU03440103", "inwoners_65plus"])


def test_geojson_wgs84_to_rd(tmp_path: Path) -> None:
    src = new_schema()
    path = tmp_path / "buurten.geojson"
    src.to_crs("EPSG:4326").to_file(path, driver="GeoJSON")
    gdf = read_boundaries(path)
    assert gdf.crs.to_epsg() == 28992
    for a, b in zip(gdf.geometry, src.geometry, strict=True):
        assert a.symmetric_difference(b).area < 1.0  # m², round trip through degrees
    assert is_boundaries_file(path)


def test_zipped_old_shapefile(tmp_path: Path) -> None:
    folder = tmp_path / "shp"
    folder.mkdir()
    old_schema().to_file(folder / "buurt_2021_v1.shp")
    path = _zip(folder, tmp_path / "WijkBuurtkaart_2021_v1.zip")
    gdf = read_boundaries(path).set_index("buurtcode")
    assert gdf.loc["BU03440201", "buurtnaam"] == "Buurt 1"
    assert gdf.loc["BU03440201", "wijkcode"] == "WK034402"
    assert gdf.loc["BU03440201", "inwoners_65plus"] == pytest.approx(100.0)  # 20 % of 500
    assert math.isnan(gdf.loc["BU03440203", "inwoners"])
    assert is_boundaries_file(path)


@pytest.mark.parametrize("missing", [".prj", ".dbf", ".shp"])
def test_zip_with_missing_part(tmp_path: Path, missing: str) -> None:
    folder = tmp_path / "shp"
    folder.mkdir()
    old_schema().to_file(folder / "buurt_2021_v1.shp")
    path = _zip(folder, tmp_path / "onvolledig.zip", skip=missing)
    with pytest.raises(InputError) as exc:
        read_boundaries(path)
    assert "onvolledig.zip" in str(exc.value)
    assert missing in str(exc.value)
    assert not is_boundaries_file(path)


def test_no_crs_rd_range_is_assigned_with_warning(tmp_path: Path) -> None:
    folder = tmp_path / "shp"
    folder.mkdir()
    old_schema().to_file(folder / "buurten.shp")
    (folder / "buurten.prj").unlink()
    gdf = read_boundaries(folder / "buurten.shp")
    assert gdf.crs.to_epsg() == 28992
    assert len(gdf.attrs["warnings"]) == 1
    assert "EPSG:28992" in gdf.attrs["warnings"][0]
    assert gdf.geometry.iloc[0].equals(old_schema().geometry.iloc[0])


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_no_crs_wgs84_range_is_assigned_with_warning(tmp_path: Path) -> None:
    path = tmp_path / "buurten.gpkg"
    new_schema().to_crs("EPSG:4326").set_crs(None, allow_override=True).to_file(path)
    gdf = read_boundaries(path)
    assert gdf.crs.to_epsg() == 28992
    assert any("EPSG:4326" in w for w in gdf.attrs["warnings"])
    assert abs(gdf.geometry.iloc[0].bounds[0] - X0) < 1.0


def test_rd_coordinates_labelled_wgs84(tmp_path: Path) -> None:
    path = tmp_path / "buurten_rd.geojson"
    new_schema().set_crs("EPSG:4326", allow_override=True).to_file(path, driver="GeoJSON")
    with pytest.raises(InputError) as exc:
        read_boundaries(path)
    assert "RD" in str(exc.value)
    assert "buurten_rd.geojson" in str(exc.value)


def test_swapped_lat_lon(tmp_path: Path) -> None:
    wgs = new_schema().to_crs("EPSG:4326")
    wgs["geometry"] = wgs.geometry.map(lambda g: Polygon([(y, x) for x, y in g.exterior.coords]))
    path = tmp_path / "verwisseld.geojson"
    wgs.to_file(path, driver="GeoJSON")
    with pytest.raises(InputError, match="verwisseld"):
        read_boundaries(path)


def test_bowtie_is_repaired_and_reported(tmp_path: Path) -> None:
    src = new_schema()
    bowtie = Polygon([(X0, Y0), (X0 + 400, Y0 + 400), (X0 + 400, Y0), (X0, Y0 + 400)])
    assert not bowtie.is_valid
    src.loc[1, "geometry"] = bowtie
    path = tmp_path / "bowtie.gpkg"
    src.to_file(path, layer="buurten")
    gdf = read_boundaries(path)
    assert gdf.geometry.is_valid.all()
    repaired = gdf.set_index("buurtcode").loc["BU03440102", "geometry"]
    assert repaired.geom_type in ("Polygon", "MultiPolygon")
    assert repaired.area == pytest.approx(2 * 0.25 * 400 * 400)
    assert gdf.attrs["repaired"] == ["BU03440102"]
    assert any("BU03440102" in w for w in gdf.attrs["warnings"])


def test_errors_name_file_and_problem(tmp_path: Path) -> None:
    csv_path = tmp_path / "buurten.csv"
    csv_path.write_text("buurtcode\nBU03440101\n")
    with pytest.raises(InputError, match="buurten.csv.*niet ondersteund"):
        read_boundaries(csv_path)
    assert not is_boundaries_file(csv_path)

    broken = tmp_path / "kapot.gpkg"
    broken.write_bytes(b"this is not a geopackage")
    with pytest.raises(InputError, match="kapot.gpkg"):
        read_boundaries(broken)
    assert not is_boundaries_file(broken)

    with pytest.raises(InputError, match="niet gevonden"):
        read_boundaries(tmp_path / "bestaat_niet.gpkg")

    nocode = new_schema().drop(columns=["buurtcode"]).rename(columns={"buurtnaam": "naam"})
    path = tmp_path / "zonder_code.geojson"
    nocode.to_crs("EPSG:4326").to_file(path, driver="GeoJSON")
    with pytest.raises(InputError) as exc:
        read_boundaries(path)
    assert "zonder_code.geojson" in str(exc.value)
    assert "naam" in str(exc.value)  # lists the columns that were found
    assert not is_boundaries_file(path)


def test_dissolve_wijken_sums_nan_aware(tmp_path: Path) -> None:
    path = tmp_path / "buurten.gpkg"
    src = new_schema()
    src.loc[2, "wijkcode"] = "WK034402"
    src.to_file(path, layer="buurten")
    wijken = dissolve_wijken(read_boundaries(path)).set_index("wijkcode")
    assert wijken.loc["WK034401", "inwoners"] == 3000
    assert wijken.loc["WK034401", "inwoners_65plus"] == pytest.approx(500.0)
    assert wijken.loc["WK034401", "geometry"].area == pytest.approx(2 * 500 * 500)
    assert wijken.loc["WK034401", "aantal_buurten"] == 2
    assert math.isnan(wijken.loc["WK034402", "inwoners"])
    assert wijken.loc["WK034402", "buurten_onbekend"] == 1
    assert wijken.crs.to_epsg() == 28992


def test_real_rd_geojson_without_crs_member_is_recognised() -> None:
    """CBS buurten 2024 of Utrecht as republished by cartomap/nl: integer RD metres in a GeoJSON
    without a ``crs`` member (which GDAL calls WGS84). The range says RD, the reader says so,
    and the polygons equal their WGS84 twin after reprojection."""
    rd_path = need("utrecht/cbs_buurten_2024_utrecht.geojson")
    wgs_path = need("utrecht/cbs_buurten_2024_utrecht_wgs84.geojson")
    assert geojson_declares_crs(rd_path) is False
    gdf = read_boundaries(rd_path)
    assert any("RD (EPSG:28992) herkend aan hun bereik" in w for w in gdf.attrs["warnings"])
    raw = gpd.read_file(rd_path).set_crs("EPSG:28992", allow_override=True)
    assert len(gdf) == len(raw) == 111
    assert gdf.area.sum() / 1e6 == pytest.approx(raw.area.sum() / 1e6)
    assert gdf.area.sum() / 1e6 == pytest.approx(99.248, abs=0.001)  # data README
    twin = read_boundaries(wgs_path)
    assert not any("herkend" in w for w in twin.attrs["warnings"])  # RFC 7946: plain WGS84
    a = gdf.set_index("buurtcode").geometry
    b = twin.set_index("buurtcode").geometry.reindex(a.index)
    assert b.notna().all()
    assert max(x.hausdorff_distance(y) for x, y in zip(a, b, strict=True)) < 5.0  # metres
