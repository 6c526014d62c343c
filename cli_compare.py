"""The ``ontmoet`` subcommands about change: ``vergrijzing`` (65+ per buurt between two CBS
years, and the growing shortfalls) and ``vergelijk`` (two runs before/after). Kept out of
``cli.py``, which registers them through :func:`add_parsers`."""

from __future__ import annotations

from pathlib import Path

import cli
from geo.errors import InputError
from layers.fmt import fmt_int, fmt_pct


def add_parsers(area_command) -> None:
    """Register ``vergrijzing`` and ``vergelijk`` with ``cli.build_parser``'s helper."""
    v = area_command("vergrijzing", cmd_vergrijzing, "groei 65-plussers en groeiende tekorten",
                     "Verandering van het aantal 65-plussers per buurt tussen de twee nieuwste "
                     "CBS-jaargangen in de map van het gebied (gekoppeld op buurtcode; "
                     "gewijzigde, nieuwe en vervallen codes gemeld), en de 'groeiende "
                     "tekorten': buurten waar 65-plussers groeien en het bereik laag is.")
    v.add_argument("--top", type=cli._rows, default=cli.TOP_ROWS,
                   help=f"aantal buurten per tabel (standaard {cli.TOP_ROWS})")
    v.add_argument("--out", type=Path, help="alle buurten als .csv")
    c = area_command("vergelijk", cmd_vergelijk, "twee doorrekeningen vergelijken (voor/na)",
                     "Vergelijk twee doorrekeningen van één gebied per buurt: twee lijsten met "
                     "plekken, twee OSM-extracten (bijvoorbeeld van verschillende datums), of "
                     "de basis en een scenario. Schrijft een kaart van gewonnen en verloren "
                     "bereik (PNG), een rapport van één A4 (PDF) en de tabel (CSV).")
    c.add_argument("--voor-plekken", type=Path, action="append", metavar="BESTAND",
                   help="eigen lijst plekken vóór (in plaats van de lijsten in de map)")
    c.add_argument("--na-plekken", type=Path, action="append", metavar="BESTAND",
                   help="eigen lijst plekken ná")
    c.add_argument("--voor-osm", type=Path, metavar="BESTAND", help="OSM-extract vóór")
    c.add_argument("--na-osm", type=Path, metavar="BESTAND", help="OSM-extract ná")
    c.add_argument("--scenario", type=Path, metavar="BESTAND",
                   help="scenario (JSON, zoals het dashboard het bewaart) op de 'na'-kant")
    c.add_argument("--out", type=Path, help="uitvoermap (standaard uitvoer/<gebied>/vergelijking)")


# --------------------------------------------------------------------------- vergrijzing
def cmd_vergrijzing(args) -> int:
    from layers.ageing import ageing_for_area, growing_shortfalls

    cli.check_out(args.out, (".csv",))
    area = cli.find_area(args, args.gebied)
    ageing = ageing_for_area(area)
    if ageing is None:
        raise InputError(f"gebied {area.id} heeft geen twee CBS-jaargangen",
                         path=area.folder, fix="zet een tweede jaargang 'Kerncijfers wijken en "
                                               "buurten' (xlsx/csv) in de map van het gebied")
    reach, reason = None, None
    try:
        result = cli.analyse(args, area)
        from layers.choice import choice_table

        reach = choice_table(result) if len(result.places) else result.table
    except InputError as exc:  # no network yet: growth only, reach unknown (not 0)
        reason = str(exc)
    ranked = growing_shortfalls(ageing, reach)
    t = ageing.table
    before, now = ageing.totals()
    files = [str(cli.write_table(t, args.out))] if args.out else []
    grow_cols = ["buurtcode", "buurtnaam", "inwoners_65plus_vorig", "inwoners_65plus",
                 "groei_65plus", "groei_65plus_pct", "status_code"]
    data = {"gebied": area.id, "jaar_vorig": ageing.year_before, "jaar": ageing.year,
            "inwoners_65plus_vorig": before, "inwoners_65plus": now,
            "groei_65plus": now - before, "meldingen": ageing.notes,
            "bereik_onbekend": reason,
            "groeiende_tekorten": cli.records(ranked, list(ranked.columns)),
            "buurten": cli.records(t, grow_cols), "bestanden": files}
    if args.json:
        cli.print_json(data)
        return cli.EXIT_OK
    cli.print_table([("Gebied", f"{area.id} ({area.name})"),
                     (f"65-plussers {ageing.year_before}", fmt_int(before)),
                     (f"65-plussers {ageing.year}", fmt_int(now)),
                     ("Verandering", f"{'+' if now > before else ''}{fmt_int(now - before)}"),
                     *(("Let op", n) for n in ageing.notes)])
    small = (t[["inwoners_65plus_vorig", "inwoners_65plus"]].min(axis=1) < 10)
    grow = t[~small & t["groei_65plus"].notna()].sort_values("groei_65plus", ascending=False)
    print(f"\nSterkste groei 65-plussers {ageing.label}")
    cli.print_columns(["buurtcode", "buurtnaam", str(ageing.year_before), str(ageing.year),
                       "groei", "%"],
                      [[cli._cell(r.buurtcode, 12), cli._cell(r.buurtnaam),
                        fmt_int(r.inwoners_65plus_vorig), fmt_int(r.inwoners_65plus),
                        f"{r.groei_65plus:+.0f}", fmt_pct(r.groei_65plus_pct, 1)]
                       for r in grow.head(args.top).itertuples()], right=(2, 3, 4, 5))
    print("\nGroeiende tekorten: 65-plussers groeien en het bereik is laag")
    if reason:
        print(f"Bereik onbekend (nog niet door te rekenen): {reason}")
    elif ranked.empty:
        print("Geen buurt waar 65-plussers groeien en het bereik laag is.")
    else:
        cli.print_columns(["buurtcode", "buurtnaam", "groei", "binnen bereik",
                           "echte keuze", "erbij buiten bereik"],
                          [[cli._cell(r["buurtcode"], 12), cli._cell(r["buurtnaam"]),
                            f"{r['groei_65plus']:+.0f}", fmt_pct(r["aandeel_binnen_bereik"]),
                            fmt_pct(r.get("aandeel_echte_keuze")),
                            fmt_int(r["extra_buiten_bereik"])]
                           for _, r in ranked.head(args.top).iterrows()], right=(2, 3, 4, 5))
    for f in files:
        print(f"Bestand: {f}")
    return cli.EXIT_OK


# --------------------------------------------------------------------------- vergelijk
def cmd_vergelijk(args) -> int:
    raise InputError("nog niet beschikbaar", fix="gebruik een nieuwere versie")
