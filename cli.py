"""``ontmoet``: the analysis without the dashboard, for analysts and scripts.

Subcommands ``prepare``, ``coverage``, ``export``, ``batch``, ``report``, ``suggest``,
``benches``, ``vergrijzing`` and ``vergelijk`` (``ontmoet SUB --help``; report/suggest/benches
live in ``cli_act.py``, the last two in ``cli_compare.py``).
Exit codes: 0 ok, 2 bad input or missing data (reason on stderr), 3 data service unavailable.
Progress bars go to stderr (off with ``--quiet``); ``--json`` prints a machine-readable summary
on stdout instead of the Dutch table.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from geo.errors import InputError, ServiceUnavailableError

EXIT_OK, EXIT_INPUT, EXIT_SERVICE = 0, 2, 3
#: Budget of new places ``suggest``/``report --voorstel`` accept (as layers.siting.suggest).
MAX_K = 50
#: Rows of a ranking printed as a table (``--json`` gives them all).
TOP_ROWS = 20
DESCRIPTION = """\
Ontmoetingskaart zonder dashboard: waar kunnen 65-plussers lopend een ontmoetingsplek bereiken?

Afsluitcodes: 0 goed, 2 onbruikbare invoer of ontbrekende gegevens (reden op stderr),
3 gegevensdienst niet bereikbaar. Voortgang op stderr (uit met --quiet); --json geeft een
samenvatting als JSON op stdout in plaats van de tabel. Meer per opdracht: ontmoet OPDRACHT --help.
"""
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
    """The discovered area whose id or name is ``key`` (case-insensitive), or the most
    complete area of the data folder called ``key``."""
    from layers.datasets import discover
    from layers.datasets import find_area as by_id_or_folder

    data_dir, cache_dir = _dirs(args)
    areas = discover(data_dir, cache_dir=cache_dir)
    k = key.strip().lower()
    for a in areas:
        if k in (a.id.lower(), a.name.lower()):
            return a
    found = by_id_or_folder(areas, k)
    if found is not None:
        return found
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


def _plain(v):
    """A JSON-ready value: numpy scalars become Python, NaN/inf become null."""
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def summary(result) -> dict:
    p = result.profile
    return {"gebied": result.prepared.area.id, "profiel": p.id, "snelheid_kmh": p.speed_kmh,
            "minuten": p.minutes, "max_afstand_m": round(p.max_distance_m, 1),
            **{k: _plain(v) for k, v in result.headline.items()},
            "notities": list(result.notes)}


def print_table(rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


def _human(result) -> list[tuple[str, str]]:
    """The Dutch summary table: area plus the headline rows every output shares."""
    from layers.outputs import summary_rows

    area = result.prepared.area
    return [("Gebied", f"{area.id} ({area.name})"), *summary_rows(result)]


def report_input(prep, *, notices: Sequence[str] = (), notes_file: Path | None = None,
                 extra=()) -> list[str]:
    """What became of the input, in the words of :mod:`layers.notes`: per own list how many
    rows were used, then one line per kind of dropped, corrected or merged row (the full list
    in ``notes_file``). Printed on stderr, also with ``--json``; returned for ``meldingen``."""
    from layers.notes import group_lines

    lines = [*notices, *prep.input_summary,
             *group_lines([*prep.row_notes, *extra],
                          listed_in=str(notes_file) if notes_file else None)]
    for line in lines:
        print(f"ontmoet: {line}", file=sys.stderr)
    return lines


def print_json(data: dict) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def emit(args, data: dict, rows: list[tuple[str, str]]) -> None:
    if args.json:
        print_json(data)
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
    if not done:
        check(area)
    prep = done[0]
    notes_file = None
    if area.folder is not None and cache_dir is not None and \
            Path(area.folder).resolve().is_relative_to(Path(cache_dir).resolve()):
        from layers.notes import NOTES_FILE, write_notes

        notes_file = write_notes(prep.row_notes, Path(area.folder) / NOTES_FILE)
    meldingen = report_input(prep, notices=notices, notes_file=notes_file)
    if not prep.ready:
        from geo.errors import MissingDataError

        raise MissingDataError(f"gebied {area.id} kan niet doorgerekend worden: "
                               + " ".join(area.missing()), path=area.folder,
                               fix="vul elk ontbrekend onderdeel aan op een van de genoemde "
                                   "manieren")
    data = {"gebied": area.id, "naam": area.name,
            "map": str(area.folder) if area.folder else None,
            "knopen": int(prep.net.n_nodes), "plekken": len(prep.places),
            "gebieden": len(prep.areas), "gebiedstype": prep.area_kind, "telt": prep.demand,
            "meldingen": meldingen, "notities": prep.notes,
            "notitiebestand": str(notes_file) if notes_file else None}
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
    with _Progress(args.quiet, "Exporteren") as bar:
        files = [*write_export(result, "geojson", out, progress=bar),
                 *write_export(result, "csv", out)]
    files = list(dict.fromkeys(files))  # notities.csv is written by both
    s = summary(result)
    s["bestanden"] = [str(f) for f in files]
    s["meldingen"] = report_input(result.prepared,
                                  notes_file=next(f for f in files if f.name == "notities.csv"),
                                  extra=result.row_notes[len(result.prepared.row_notes):])
    emit(args, s, [*_human(result), ("Uitvoer", str(out))])
    return EXIT_OK


def cmd_export(args) -> int:
    from layers.exports import write_export

    area = find_area(args, args.gebied)
    result = analyse(args, area)
    with _Progress(args.quiet, "Exporteren") as bar:
        files = write_export(result, args.format, args.out, progress=bar)
    s = summary(result)
    s["bestanden"] = [str(f) for f in files]
    s["meldingen"] = report_input(result.prepared, notes_file=files[-1],
                                  extra=result.row_notes[len(result.prepared.row_notes):])
    emit(args, s, [*_human(result), *(("Bestand", str(f)) for f in files)])
    return EXIT_OK


def cmd_batch(args) -> int:
    from layers.batch import run_batch

    if args.osm:
        return _batch_national(args)
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


def _batch_national(args) -> int:
    from layers.batch import run_national

    if not args.grenzen:
        raise InputError("--osm vraagt ook --grenzen", fix="geef het CBS-buurtgrenzenbestand "
                         "met de gemeenten op, bv. --grenzen wijkenbuurten_2024.gpkg")
    r = run_national(args.osm, args.grenzen, out=args.out, profile=profile_from(args),
                     kerncijfers=args.kerncijfers, places=args.plekken,
                     addresses=args.adressen, landuse=args.landgebruik,
                     gemeenten=args.gemeente or None, categories=args.categorie or None,
                     spheres=args.sfeer or None, scheduler=args.scheduler,
                     workers=args.workers, quiet=args.quiet)
    emit(args, r, [("Gemeenten", str(r["gemeenten"])), ("Klaar", str(r["klaar"])),
                   ("Overgeslagen (al klaar)", str(r["overgeslagen"])),
                   ("Mislukt", str(r["mislukt"])), ("Uitvoer", str(args.out))])
    return EXIT_OK if not r["mislukt"] else EXIT_INPUT


def _cell(v, n: int = 40) -> str:
    """Untrusted text (OSM names) as one table cell: no control characters, at most ``n``."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    s = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in str(v))
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


def print_columns(header: list[str], rows: list[list[str]], right: tuple[int, ...] = ()) -> None:
    """A plain-text table; columns in ``right`` (numbers) are right-aligned."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print("  ".join(c.rjust(w) if i in right else c.ljust(w)
                        for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip())


def records(df, columns: list[str]) -> list[dict]:
    """Rows as JSON-ready dicts (numpy scalars to Python, NaN to null)."""
    return [{k: _plain(v) for k, v in r.items()} for r in df[columns].to_dict("records")]


def check_out(out: Path | None, suffixes: tuple[str, ...]) -> Path | None:
    """``--out`` checked before anything is computed."""
    if out is not None and out.suffix.lower() not in suffixes:
        raise InputError(f"onbekend uitvoertype {out.suffix or '(geen)'}", path=out,
                         fix="laat --out eindigen op " + " of ".join(suffixes))
    return out


def write_table(df, out: Path) -> Path:
    """``df`` as a Dutch spreadsheet CSV (.csv) or as GeoJSON in WGS84 (.geojson)."""
    from geo.export import write_csv, write_geojson
    from layers.outputs import tidy_numbers

    return (write_csv if out.suffix.lower() == ".csv" else write_geojson)(tidy_numbers(df), out)


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

    ap = argparse.ArgumentParser(prog="ontmoet", parents=[common], description=DESCRIPTION,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True,
                            metavar="{prepare,coverage,export,batch,report,suggest,benches,"
                                    "vergrijzing,vergelijk}")
    _prepare_parser(sub.add_parser(
        "prepare", parents=[common], help="gebied klaarzetten (lokaal of online)",
        description="Zet een gebied klaar uit lokale bestanden, een bestaand gebied, of online "
                    "per CBS-gemeente (PDOK + OSM)."))

    def area_command(name: str, func, help_: str, description: str) -> argparse.ArgumentParser:
        """A subcommand on one area with the profile and filter options."""
        p = sub.add_parser(name, parents=[common, choice], help=help_, description=description)
        p.add_argument("gebied", help="gebied-id of naam (zie `ontmoet prepare`)")
        p.set_defaults(func=func)
        return p

    c = area_command("coverage", cmd_coverage, "bereik berekenen",
                     "Bereken het bereik; schrijft GeoJSON en CSV in --out.")
    c.add_argument("--out", type=Path, help="uitvoermap (standaard uitvoer/<gebied>)")
    e = area_command("export", cmd_export, "lagen exporteren voor GIS",
                     "GeoJSON (WGS84), GeoPackage (RD New), CSV (; en decimale komma, UTF-8 met "
                     "BOM) of GeoParquet.")
    e.add_argument("--format", required=True, choices=["geojson", "gpkg", "csv", "parquet"])
    e.add_argument("--out", type=Path, required=True,
                   help="GeoPackage-bestand, of map voor de andere formaten")
    b = sub.add_parser("batch", parents=[common, choice], help="veel gemeenten op Dask",
                       description="prepare + coverage per gebied op Dask; slaat afgeronde "
                                   "gebieden over.")
    src = b.add_mutually_exclusive_group(required=True)
    src.add_argument("--gemeenten", type=Path, help="bestand: één gebied/gemeente per regel")
    src.add_argument("--all", action="store_true", help="alle gebieden in de datamap")
    src.add_argument("--osm", type=Path, help="landelijk/provinciaal OSM-extract (.osm.pbf) of "
                     "wegenlaag: één taak per gemeente van --grenzen, met grensstrook")
    b.add_argument("--grenzen", type=Path, help="CBS-buurtgrenzen met veel gemeenten (bij --osm)")
    b.add_argument("--kerncijfers", type=Path, help="CBS-kerncijfers (bij --osm)")
    for flag, what in (("--plekken", "plekkenlaag"), ("--adressen", "adrespunten"),
                       ("--landgebruik", "woongebied")):
        b.add_argument(flag, type=Path, action="append", default=[],
                       help=f"extra {what} voor elke gemeente (bij --osm; herhaalbaar)")
    b.add_argument("--gemeente", action="append", default=[],
                   help="alleen deze gemeentecode(s), bv. GM0503 (bij --osm; herhaalbaar)")
    b.add_argument("--scheduler", help="adres van een bestaande Dask-scheduler")
    b.add_argument("--workers", type=int, default=2, help="workers van het lokale cluster")
    b.add_argument("--out", type=Path, required=True, help="uitvoermap")
    b.set_defaults(func=cmd_batch)
    from cli_act import add_parsers as act_parsers  # report, suggest, benches

    act_parsers(area_command)
    from cli_compare import add_parsers  # vergrijzing, vergelijk

    add_parsers(area_command)
    return ap


def _prepare_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("gebied", nargs="?", help="bestaand gebied-id (zie discover)")
    p.add_argument("--osm", type=Path, help="OSM-extract (.osm.pbf)")
    p.add_argument("--buurten", type=Path, help="buurtgrenzen (CBS Wijk- en Buurtkaart)")
    p.add_argument("--bevolking", type=Path, help="CBS Kerncijfers wijken en buurten")
    p.add_argument("--voorzieningen", type=Path, action="append", help="eigen lijst plekken")
    p.add_argument("--naam", help="id van het nieuwe gebied")
    p.add_argument("--gemeente", help="online: CBS-gemeentecode (GM0344) of naam (Utrecht)")
    p.add_argument("--jaar", type=int, default=2024, help="jaargang CBS Wijken en Buurten")
    p.set_defaults(func=cmd_prepare)


def _rows(text: str) -> int:
    n = int(text)
    if n < 0:
        raise argparse.ArgumentTypeError(f"{n} rijen: kies 0 of meer")
    return n


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
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading: fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
