"""Real areas for the results tests (choice, ageing, comparison), read at run time from
../shared/data: missing data skips locally and fails in CI (``CI=true``)."""

from __future__ import annotations

from pathlib import Path

from geo.settings import default_data_dir
from layers.datasets import AreaData
from tests.realdata import need_path as need


def delft_tu() -> AreaData:
    """The TU Delft / Wippolder OSM extract with the exact CBS buurten 2023 of Delft."""
    d = default_data_dir() / "delft"
    return AreaData(id="delft-tu", name="Delft (TU-wijk)", folder=None,
                    osm=[need(d / "tudelft.osm.pbf")],
                    boundaries=[need(d / "delft_buurten_proj.gpkg")],
                    population=[need(d / "cbs_wijkenbuurten_2023_delft_buurten_population.csv")])


def utrecht_years() -> tuple[Path, Path]:
    d = default_data_dir() / "utrecht"
    return need(d / "cbs_kwb_2023_utrecht.xlsx"), need(d / "cbs_kwb_2024_utrecht.xlsx")


#: Real Utrecht meeting places at their public positions (WGS84, 4 decimals, about 10 m), as a
#: municipality's own list would give them (the Utrecht OSM extract here has no amenities).
UTRECHT_PLACES = {
    "Bibliotheek Neude": ("bibliotheek", 52.0934, 5.1191),
    "Griftpark": ("park", 52.0987, 5.1283),
}


def write_places(path: Path, names: list[str]) -> Path:
    rows = ["naam;categorie;lat;lon"] + [
        f"{n};{UTRECHT_PLACES[n][0]};{UTRECHT_PLACES[n][1]};{UTRECHT_PLACES[n][2]}"
        for n in names]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def utrecht_core(folder: Path, places: list[str]) -> AreaData:
    """Utrecht's real OSM street network (bike/drive extract, no footways) with the CBS buurten
    2024 that lie wholly inside it (written to ``folder`` at test time, not kept), both CBS
    years, and ``places`` from :data:`UTRECHT_PLACES` as the own list."""
    import geopandas as gpd
    import osmium
    import shapely

    d = default_data_dir() / "utrecht"
    pbf = need(d / "utrecht_osm_bike_drive_2026-07.osm.pbf")
    b = gpd.read_file(need(d / "cbs_buurten_2024_utrecht_wgs84.geojson"))
    box = osmium.io.Reader(str(pbf), osmium.osm.osm_entity_bits.NOTHING).header().box()
    inside = b[b.geometry.within(shapely.box(box.bottom_left.lon, box.bottom_left.lat,
                                             box.top_right.lon, box.top_right.lat))]
    folder.mkdir(parents=True, exist_ok=True)
    inside.to_file(folder / "buurten.geojson")
    y2023, y2024 = utrecht_years()
    return AreaData(id="utrecht-kern", name="Utrecht (kern)", folder=None, osm=[pbf],
                    boundaries=[folder / "buurten.geojson"], population=[y2024, y2023],
                    facilities=[write_places(folder / "plekken.csv", places)] if places else [])


def amsterdam_centre(folder: Path) -> AreaData:
    """The real OSM extract of Amsterdam Centrum (0.8 km²) with the CBS buurten 2023 that lie
    wholly inside it (written to ``folder`` at test time, not kept) and their CBS figures."""
    import geopandas as gpd
    import shapely

    from geo.osm import read_osm

    d = default_data_dir() / "amsterdam"
    osm = need(d / "amsterdam.osm.gz")
    b = gpd.read_file(need(d / "buurten.geojson"))
    box = shapely.box(*read_osm(osm).bounds)
    inside = b[b.to_crs(4326).geometry.within(box).to_numpy()]
    folder.mkdir(parents=True, exist_ok=True)
    inside.to_file(folder / "buurten.geojson")
    return AreaData(id="amsterdam-centrum", name="Amsterdam (Centrum)", folder=None, osm=[osm],
                    boundaries=[folder / "buurten.geojson"],
                    population=[need(d / "cbs_wijkenbuurten_2023_amsterdam_"
                                            "buurten_population.csv")])


def delft_city():
    """Delft as discovered from its folder with the whole city's OSM way layer as network
    (parks layer, address points with their amenities, residential land use)."""
    from layers.datasets import discover

    need(default_data_dir() / "delft" / "delft_osm_roads_proj.gpkg")
    return next(a for a in discover(default_data_dir(), include_demo=False)
                if a.osm and a.osm[0].name == "delft_osm_roads_proj.gpkg")
