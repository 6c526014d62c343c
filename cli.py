"""``ontmoet``: the analysis without the dashboard, for analysts and scripts.

Subcommands ``prepare``, ``coverage``, ``export`` and ``batch`` (``ontmoet SUB --help``).
Exit codes: 0 ok, 2 bad input or missing data (reason on stderr), 3 data service unavailable.
Progress bars go to stderr (off with ``--quiet``); ``--json`` prints a machine-readable summary
on stdout instead of the Dutch table.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from geo.errors import InputError, ServiceUnavailableError

EXIT_OK, EXIT_INPUT, EXIT_SERVICE = 0, 2, 3
GLOBAL_DEFAULTS = {"quiet": False, "json": False, "data_dir": None, "cache_dir": None}


class _Progress:
    """A tqdm bar on stderr fed by ``progress(fraction, text)``; appears after 1 s only."""

    def __init__(self, quiet: bool, desc: str = "") -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=100, desc=desc, disable=quiet, delay=1.0, file=sys.stderr,
                        leave=False, bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}")

    def __call__(self, frac: float, text: str) -> None:
        self.bar.set_description_str(text, refresh=False)
        self.bar.update(max(0, round(100 * frac) - self.bar.n))

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.bar.close()


def _dirs(args) -> tuple[Path | None, Path]:
    from geo.settings import default_cache_dir

    return args.data_dir, (args.cache_dir or default_cache_dir())


def find_area(args, key: str):
    """The discovered area whose id or name is ``key`` (case-insensitive)."""
    from layers.datasets import discover

    data_dir, cache_dir = _dirs(args)
    areas = discover(data_dir, cache_dir=cache_dir)
    k = key.strip().lower()
    for a in areas:
        if k in (a.id.lower(), a.name.lower()):
            return a
    raise InputError(f"gebied {key!r} niet gevonden",
                     fix="kies een van: " + ", ".join(a.id for a in areas)
                     + " — of maak het met `ontmoet prepare`")


def profile_from(args):
    from geo.profiles import load_profiles

    profiles, default = load_profiles()
    pid = args.profiel or default
    if pid not in profiles:
        raise InputError(f"onbekend profiel {pid!r}", fix="kies een van: " + ", ".join(profiles))
    p = profiles[pid]
    changes = {k: v for k, v in (("speed_kmh", args.snelheid), ("minutes", args.minuten))
               if v is not None}
    return p.with_(**changes) if changes else p


def analyse(args, area):
    """prepare + run for the command-line choices, with a progress bar."""
    from layers.analysis import prepare, run

    with _Progress(args.quiet, "Voorbereiden") as bar:
        prep = prepare(area, progress=bar)
    return run(prep, profile_from(args), categories=args.categorie or None,
               spheres=args.sfeer or None)


def _num(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def summary(result) -> dict:
    p = result.profile
    return {"gebied": result.prepared.area.id, "profiel": p.id, "snelheid_kmh": p.speed_kmh,
            "minuten": p.minutes, "max_afstand_m": round(p.max_distance_m, 1),
            **{k: _num(v) for k, v in result.headline.items()},
            "notities": list(result.notes)}


def print_table(rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


def _human(s: dict) -> list[tuple[str, str]]:
    from layers.fmt import fmt_int

    share = s["aandeel_buiten"]
    return [("Gebied", s["gebied"]),
            ("Profiel", f"{s['profiel']} ({s['snelheid_kmh']:g} km/u × {s['minuten']:g} min "
                        f"= {s['max_afstand_m']:g} m)"),
            ("Telt", s["telt"]), ("Totaal", fmt_int(s["totaal"])),
            ("Binnen bereik", fmt_int(s["binnen"])), ("Buiten bereik", fmt_int(s["buiten"])),
            ("Aandeel buiten bereik", "onbekend" if share is None else
             f"{100 * share:.1f} %".replace(".", ",")),
            ("Gebieden", fmt_int(s["gebieden"]))]


def emit(args, data: dict, rows: list[tuple[str, str]]) -> None:
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        print_table(rows)


def cmd_prepare(args) -> int:
    from layers.analysis import prepare
    from layers.bundle import area_from_files, area_online
    from layers.datasets import DEMO_ID

    data_dir, cache_dir = _dirs(args)
    notices: list[str] = []
    done: list = []

    def check(candidate) -> None:
        """Read everything before the area folder is moved into place."""
        with _Progress(args.quiet, "Voorbereiden") as bar:
            done.append(prepare(candidate, progress=bar))

    if args.gemeente:
        with _Progress(args.quiet, "Downloaden") as bar:
            area, notices = area_online(args.gemeente, cache_dir=cache_dir, data_dir=data_dir,
                                        year=args.jaar, progress=bar)
    elif args.osm:
        if not args.naam:
            raise InputError("--naam ontbreekt", fix="geef het gebied een naam: --naam ID")
        area = area_from_files(args.naam, osm=args.osm, buurten=args.buurten,
                               bevolking=args.bevolking, voorzieningen=args.voorzieningen,
                               cache_dir=cache_dir, check=check)
    elif args.gebied:
        area = find_area(args, args.gebied)
    else:
        raise InputError("niets om voor te bereiden",
                         fix=f"geef een gebied (bijvoorbeeld {DEMO_ID}), --osm BESTAND --naam ID "
                             "of --gemeente GM0344")
    for n in notices:
        print(n, file=sys.stderr)
    if not done:
        check(area)
    prep = done[0]
    if not prep.ready:
        from geo.errors import MissingDataError

        raise MissingDataError(f"gebied {area.id} kan niet doorgerekend worden: "
                               + " ".join(area.missing()), path=area.folder,
                               fix="voeg de ontbrekende bestanden toe, of maak het gebied met "
                                   "`ontmoet prepare --osm BESTAND --buurten BESTAND --naam ID` "
                                   "of online met `ontmoet prepare --gemeente GM0344`")
    data = {"gebied": area.id, "naam": area.name,
            "map": str(area.folder) if area.folder else None,
            "knopen": int(prep.net.n_nodes), "plekken": len(prep.places),
            "gebieden": len(prep.areas), "gebiedstype": prep.area_kind, "telt": prep.demand,
            "meldingen": notices, "notities": prep.notes}
    emit(args, data, [("Gebied", f"{area.id} ({area.name})"), ("Map", str(data["map"])),
                      ("Loopnetwerk", f"{data['knopen']} knopen"),
                      ("Ontmoetingsplekken", str(data["plekken"])),
                      ("Gebieden", f"{data['gebieden']} ({prep.area_kind})")])
    return EXIT_OK


def cmd_coverage(args) -> int:
    from layers.exports import write_export

    area = find_area(args, args.gebied)
    result = analyse(args, area)
    out = Path(args.out or Path("uitvoer") / area.id)
    files = [*write_export(result, "geojson", out), *write_export(result, "csv", out)]
    s = summary(result)
    s["bestanden"] = [str(f) for f in files]
    emit(args, s, [*_human(s), ("Uitvoer", str(out))])
    return EXIT_OK


def cmd_export(args) -> int:
    from layers.exports import write_export

    area = find_area(args, args.gebied)
    result = analyse(args, area)
    files = write_export(result, args.format, args.out)
    s = summary(result)
    s["bestanden"] = [str(f) for f in files]
    emit(args, s, [*_human(s), *(("Bestand", str(f)) for f in files)])
    return EXIT_OK


def cmd_batch(args) -> int:
    from layers.batch import run_batch

    data_dir, cache_dir = _dirs(args)
    if args.all:
        from layers.datasets import discover

        names = [a.id for a in discover(data_dir, include_demo=False, cache_dir=cache_dir)]
    else:
        names = read_list(args.gemeenten)
    report = run_batch(names, out=args.out, data_dir=data_dir, cache_dir=cache_dir,
                       profile=profile_from(args), categories=args.categorie or None,
                       spheres=args.sfeer or None, scheduler=args.scheduler,
                       workers=args.workers, quiet=args.quiet)
    emit(args, report, [("Gebieden", str(len(names))), ("Klaar", str(report["klaar"])),
                        ("Overgeslagen (al klaar)", str(report["overgeslagen"])),
                        ("Mislukt", str(report["mislukt"])), ("Uitvoer", str(args.out))])
    return EXIT_OK if not report["mislukt"] else EXIT_INPUT


def read_list(path: Path) -> list[str]:
    """Area ids, gemeentecodes or names: one per line (``#`` starts a comment)."""
    from geo.io import require_readable

    p = require_readable(path, what="lijst met gemeenten",
                         fix="één gebied-id, gemeentecode of naam per regel")
    names = [ln.split("#")[0].strip().strip(";,") for ln in
             p.read_text(encoding="utf-8-sig").splitlines()]
    names = [n for n in names if n]
    if not names:
        raise InputError("lijst met gemeenten is leeg", path=p,
                         fix="één gebied-id, gemeentecode of naam per regel")
    return names


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="geen voortgangsbalken")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="samenvatting als JSON op stdout")
    common.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS,
                        help="map met echte gegevens, één submap per gemeente")
    common.add_argument("--cache-dir", type=Path, default=argparse.SUPPRESS,
                        help="cache voor downloads en voorbereide gebieden")
    choice = argparse.ArgumentParser(add_help=False)
    choice.add_argument("--profiel", help="mobiliteitsprofiel (standaard: older)")
    choice.add_argument("--snelheid", type=float, help="loopsnelheid, km/u")
    choice.add_argument("--minuten", type=float, help="looptijd, min")
    choice.add_argument("--categorie", action="append", help="alleen deze categorie (herhaalbaar)")
    choice.add_argument("--sfeer", action="append", help="alleen deze sfeer (herhaalbaar)")

    ap = argparse.ArgumentParser(prog="ontmoet", parents=[common], description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="{prepare,coverage,export,batch}")
    p = sub.add_parser("prepare", parents=[common], help="gebied klaarzetten (lokaal of online)",
                       description="Zet een gebied klaar uit lokale bestanden, een bestaand "
                                   "gebied, of online per CBS-gemeente (PDOK + OSM).")
    p.add_argument("gebied", nargs="?", help="bestaand gebied-id (zie discover)")
    p.add_argument("--osm", type=Path, help="OSM-extract (.osm.pbf)")
    p.add_argument("--buurten", type=Path, help="buurtgrenzen (CBS Wijk- en Buurtkaart)")
    p.add_argument("--bevolking", type=Path, help="CBS Kerncijfers wijken en buurten")
    p.add_argument("--voorzieningen", type=Path, action="append", help="eigen lijst plekken")
    p.add_argument("--naam", help="id van het nieuwe gebied")
    p.add_argument("--gemeente", help="online: CBS-gemeentecode (GM0344) of naam (Utrecht)")
    p.add_argument("--jaar", type=int, default=2024, help="jaargang CBS Wijken en Buurten")
    p.set_defaults(func=cmd_prepare)
    c = sub.add_parser("coverage", parents=[common, choice], help="bereik berekenen",
                       description="Bereken het bereik; schrijft GeoJSON en CSV in --out.")
    c.add_argument("gebied")
    c.add_argument("--out", type=Path, help="uitvoermap (standaard uitvoer/<gebied>)")
    c.set_defaults(func=cmd_coverage)
    e = sub.add_parser("export", parents=[common, choice], help="lagen exporteren voor GIS",
                       description="GeoJSON (WGS84), GeoPackage (RD New), CSV (; en decimale "
                                   "komma, UTF-8 met BOM) of GeoParquet.")
    e.add_argument("gebied")
    e.add_argument("--format", required=True, choices=["geojson", "gpkg", "csv", "parquet"])
    e.add_argument("--out", type=Path, required=True,
                   help="GeoPackage-bestand, of map voor de andere formaten")
    e.set_defaults(func=cmd_export)
    b = sub.add_parser("batch", parents=[common, choice], help="veel gemeenten op Dask",
                       description="prepare + coverage per gebied op Dask; slaat afgeronde "
                                   "gebieden over.")
    src = b.add_mutually_exclusive_group(required=True)
    src.add_argument("--gemeenten", type=Path, help="bestand: één gebied/gemeente per regel")
    src.add_argument("--all", action="store_true", help="alle gebieden in de datamap")
    b.add_argument("--scheduler", help="adres van een bestaande Dask-scheduler")
    b.add_argument("--workers", type=int, default=2, help="workers van het lokale cluster")
    b.add_argument("--out", type=Path, required=True, help="uitvoermap")
    b.set_defaults(func=cmd_batch)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for k, v in GLOBAL_DEFAULTS.items():  # global options may stand before or after SUB
        if not hasattr(args, k):
            setattr(args, k, v)
    try:
        return args.func(args)
    except ServiceUnavailableError as exc:
        print(f"ontmoet: dienst niet bereikbaar: {exc}", file=sys.stderr)
        return EXIT_SERVICE
    except InputError as exc:  # includes MissingDataError
        print(f"ontmoet: {exc}", file=sys.stderr)
        return EXIT_INPUT


if __name__ == "__main__":
    sys.exit(main())
