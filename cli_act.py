"""The ``ontmoet`` subcommands about where to act: ``report`` (one A4 page), ``suggest``
(where new places help most) and ``benches`` (where rest points help). Kept out of ``cli.py``,
which registers them through :func:`add_parsers`."""

from __future__ import annotations

import sys
from pathlib import Path

from cli import (
    EXIT_OK,
    MAX_K,
    TOP_ROWS,
    _cell,
    _human,
    _Progress,
    _rows,
    analyse,
    check_out,
    emit,
    find_area,
    print_columns,
    print_json,
    print_table,
    records,
    summary,
    write_table,
)
from geo.errors import InputError
from layers.fmt import fmt_int


def check_k(k: int) -> int:
    """The budget of new places, checked before anything is computed."""
    if not 1 <= k <= MAX_K:
        raise InputError(f"aantal nieuwe plekken {k} valt buiten 1–{MAX_K}",
                         fix="kies bijvoorbeeld --k 5 (1 tot 10 is gebruikelijk)")
    return k


def run_suggest(args, result, k: int, candidates=None):
    from layers.siting import suggest

    with _Progress(args.quiet, "Kandidaten doorrekenen") as bar:
        return suggest(result.prepared, result.profile, k, candidates=candidates,
                       result=result, progress=bar)


PICK_COLUMNS = ["rang", "naam", "soort", "winst", "buurtcode"]


def _picks(siting) -> list[dict]:
    return records(siting.picks, [*PICK_COLUMNS, "winst_cumulatief", "bron", "osm_id"])


def cmd_report(args) -> int:
    from layers.report import write_report

    k = check_k(args.voorstel) if args.voorstel is not None else None
    check_out(args.out, (".pdf",))
    area = find_area(args, args.gebied)
    out = args.out or Path("uitvoer") / area.id / "rapport.pdf"
    result = analyse(args, area)
    siting = run_suggest(args, result, k) if k else None
    path = write_report(result, out, wijk=args.wijk, siting=siting)
    s = summary(result)
    s.update(bestand=str(path), wijk=args.wijk,
             voorstellen=_picks(siting) if siting else [],
             voorstellen_totaal=siting.total if siting else None)
    rows = [*_human(result), ("Wijk", args.wijk or "heel het gebied"), ("Rapport", str(path))]
    if siting:
        rows.append(("Voorstellen", f"{len(siting.picks)} plekken, samen "
                                    f"+{fmt_int(siting.total)} {siting.telt}"))
    emit(args, s, rows)
    return EXIT_OK


def cmd_suggest(args) -> int:
    k = check_k(args.k)
    check_out(args.out, (".csv", ".geojson"))
    area = find_area(args, args.gebied)
    result = analyse(args, area)
    candidates = None
    problems: list = []
    if args.kandidaten:
        from layers.siting import list_candidates

        candidates, problems = list_candidates(args.kandidaten, result.prepared.net.crs)
        if not len(candidates):
            raise InputError("geen bruikbare kandidaat-gebouwen in de lijst: "
                             + "; ".join(problems[:3]) + (" …" if len(problems) > 3 else ""),
                             path=args.kandidaten,
                             fix="geef per rij een naam en coördinaten in het gebied (lat/lon "
                                 "of RD x/y), of laat --kandidaten weg voor de OSM-gebouwen")
        for msg in problems:
            print(msg, file=sys.stderr)
    siting = run_suggest(args, result, k, candidates)
    picks = siting.picks
    files = [str(write_table(picks[[*PICK_COLUMNS, "winst_cumulatief", "bron", "osm_id",
                                    "geometry"]], args.out))] if args.out else []
    data = {**summary(result), "k": k, "telt": siting.telt, "voorstellen": _picks(siting),
            "totaal": siting.total, "binnen_bereik_voor": siting.baseline_within,
            "binnen_bereik_na": siting.baseline_within + siting.total,
            "kandidaten": len(siting.candidates), "meldingen": problems + siting.notes,
            "bestanden": files}
    if args.json:
        print_json(data)
        return EXIT_OK
    unit = siting.telt.split(" (")[0]
    print_table([*_human(result), ("Kandidaten", fmt_int(len(siting.candidates)))])
    if data["voorstellen"]:
        print()
        print_columns(["rang", "naam", "soort", f"winst ({unit})", "buurtcode"],
                      [[str(p["rang"]), _cell(p["naam"]), _cell(p["soort"], 24),
                        fmt_int(p["winst"]), _cell(p["buurtcode"], 20)]
                       for p in data["voorstellen"]], right=(0, 3))
    print()
    print_table([("Totaal erbij", f"+{fmt_int(siting.total)} {unit}"),
                 ("Binnen bereik", f"{fmt_int(siting.baseline_within)} → "
                                   f"{fmt_int(data['binnen_bereik_na'])} {unit}"),
                 *(("Let op", n) for n in siting.notes), *(("Bestand", f) for f in files)])
    return EXIT_OK


def cmd_benches(args) -> int:
    from layers.benches import DEFAULT_STRETCH_M, bench_gaps

    check_out(args.out, (".csv",))
    area = find_area(args, args.gebied)
    result = analyse(args, area)
    stretch = args.max_zonder_rust
    if stretch is None:
        stretch = result.profile.max_without_rest_m or DEFAULT_STRETCH_M
    gaps = bench_gaps(result, stretch)
    files = [str(write_table(gaps, args.out))] if args.out else []
    cols = ["buurtcode", "buurtnaam", "binnen_bereik", "binnen_bereik_met_rust",
            "zonder_rust_te_ver"]
    total = float(gaps["zonder_rust_te_ver"].sum())
    data = {**summary(result), "max_zonder_rust_m": float(stretch),
            "telt": result.headline["telt"], "gebieden_met_winst": len(gaps),
            "totaal_zonder_rust_te_ver": total, "bankjes_helpen": records(gaps, cols),
            "bestanden": files}
    if args.json:
        print_json(data)
        return EXIT_OK
    print_table([*_human(result), ("Max. zonder rust", f"{stretch:g} m")])
    print()
    print_columns(["buurtcode", "buurtnaam", "binnen bereik", "met rust", "zonder rust te ver"],
                  [[_cell(r["buurtcode"], 20), _cell(r["buurtnaam"]),
                    *(fmt_int(r[c]) for c in cols[2:])] for r in data["bankjes_helpen"][:args.top]],
                  right=(2, 3, 4))
    more = len(gaps) - args.top
    print()
    print_table([*([("Niet getoond", f"{more} gebieden (alle met --json of --out)")]
                   if more > 0 else []),
                 ("Zonder rust te ver", f"{fmt_int(total)} {result.headline['telt']} in "
                                        f"{len(gaps)} gebieden: daar helpen bankjes"),
                 *(("Bestand", f) for f in files)])
    return EXIT_OK


def add_parsers(area_command) -> None:
    """report, suggest and benches: where to act, on paper and on the map."""
    r = area_command("report", cmd_report, "rapport van één A4 (PDF)",
                     "Rapport van één A4 (PDF, zwart-wit leesbaar) voor het hele gebied of één "
                     "wijk: kaart, kerncijfers, ranglijst, methode en bronnen.")
    r.add_argument("--wijk", metavar="CODE", help="CBS-wijkcode (standaard: het hele gebied)")
    r.add_argument("--out", type=Path, help="PDF-bestand (standaard uitvoer/<gebied>/rapport.pdf)")
    r.add_argument("--voorstel", type=int, metavar="K",
                   help="ook K voorgestelde nieuwe plekken op kaart en in de tekst")
    s = area_command("suggest", cmd_suggest, "waar nieuwe plekken het meest opleveren",
                     "Kies uit kandidaat-gebouwen (openbare gebouwen uit OSM, of een eigen "
                     "lijst) de K plekken die samen de meeste mensen binnen loopafstand brengen "
                     "(gretig, met de winst per keuze).")
    s.add_argument("--k", type=int, default=5, help=f"aantal nieuwe plekken, 1–{MAX_K} "
                                                    "(standaard 5)")
    s.add_argument("--kandidaten", type=Path, metavar="BESTAND",
                   help="eigen lijst gemeentelijke gebouwen (CSV/XLSX/GeoJSON met naam en "
                        "coördinaten) in plaats van de OSM-gebouwen")
    s.add_argument("--out", type=Path, help="voorstellen als .csv of .geojson")
    b = area_command("benches", cmd_benches, "waar bankjes het meest helpen",
                     "Gebieden waar mensen binnen loopafstand wonen maar niet zonder te lange "
                     "stukken zonder bankje (rust-bewust bereik).")
    b.add_argument("--max-zonder-rust", type=float, metavar="M",
                   help="langste stuk zonder rustpunt, m (standaard: het profiel, anders 150)")
    b.add_argument("--top", type=_rows, default=TOP_ROWS,
                   help=f"aantal gebieden in de tabel (standaard {TOP_ROWS})")
    b.add_argument("--out", type=Path, help="alle gebieden als .csv")
