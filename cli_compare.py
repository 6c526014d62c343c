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


def find_area(args):
    """The area by id, or the best area of the folder of that name (``utrecht``)."""
    from layers.datasets import discover
    from layers.datasets import find_area as by_key

    data_dir, cache_dir = cli._dirs(args)
    area = by_key(discover(data_dir, cache_dir=cache_dir), args.gebied.strip())
    return area if area is not None else cli.find_area(args, args.gebied)


# --------------------------------------------------------------------------- vergrijzing
def cmd_vergrijzing(args) -> int:
    from layers.ageing import ageing_for_area, growing_shortfalls

    cli.check_out(args.out, (".csv",))
    area = find_area(args)
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
def _side(area, places, osm):
    """``area`` with its own place lists and/or OSM extract replaced."""
    import dataclasses

    from geo.io import require_readable

    changes = {}
    if places:
        changes["facilities"] = [require_readable(p, what="lijst met plekken",
                                                  fix="geef een CSV/XLSX met naam en lat/lon")
                                 for p in places]
    if osm:
        from geo.sniff import classify_file

        changes["osm"] = [require_readable(osm, what="OSM-extract",
                                           fix="geef een .osm.pbf van hetzelfde gebied")]
        changes["network_kind"] = classify_file(osm)
    return dataclasses.replace(area, **changes) if changes else area


def cmd_vergelijk(args) -> int:
    from geo.io import require_readable
    from layers.analysis import prepare, run
    from layers.compare import compare, map_png, scenario_from_json
    from layers.compare_report import write_comparison_pdf
    from layers.scenario import Scenario

    area = find_area(args)
    before = _side(area, args.voor_plekken, args.voor_osm)
    after = _side(area, args.na_plekken, args.na_osm)
    if before == after and args.scenario is None:
        raise InputError("niets te vergelijken: beide kanten zijn hetzelfde",
                         fix="geef --voor-plekken/--na-plekken, --voor-osm/--na-osm of "
                             "--scenario BESTAND")
    scenario_file = None if args.scenario is None else require_readable(
        args.scenario, what="scenario", fix="bewaar het scenario in het dashboard (JSON)")
    profile = cli.profile_from(args)
    opts = {"categories": args.categorie or None, "spheres": args.sfeer or None}
    with cli._Progress(args.quiet, "Voorbereiden") as bar:
        prep_b = prepare(before, progress=bar)
        prep_a = prep_b if after == before else prepare(after, progress=bar)
    scenario = Scenario()
    if scenario_file is not None:
        if prep_a.net is None or prep_a.places is None:
            raise InputError("dit gebied kan niet doorgerekend worden: "
                             + " ".join(after.missing()), fix="voeg de ontbrekende bestanden toe")
        scenario = scenario_from_json(scenario_file.read_text(encoding="utf-8-sig"),
                                      prep_a.net.crs, prep_a.places, path=scenario_file)
    res_b = run(prep_b, profile, **opts)
    res_a = run(prep_a, profile, scenario=scenario, **opts)
    labels = (_label(args.voor_plekken, args.voor_osm, "vóór"),
              _label(args.na_plekken, args.na_osm, "ná") if not scenario
              else f"scenario ({scenario.describe()})")
    cmp = compare(res_b, res_a, labels=labels)
    out = Path(args.out or Path("uitvoer") / area.id / "vergelijking")
    files = [cli.write_table(cmp.table, out / "vergelijking.csv"),
             write_comparison_pdf(cmp, out / "vergelijking.pdf")]
    png = out / "vergelijking.png"
    from geo.io import atomic_path

    with atomic_path(png) as tmp:
        Path(tmp).write_bytes(map_png(cmp))
    files.append(png)
    tot = cmp.totals()
    data = {"gebied": area.id, "voor": labels[0], "na": labels[1], "telt": cmp.unit,
            **tot, "per_woning": cmp.per_home, "meldingen": cmp.notes,
            "buurten": cli.records(cmp.table, list(cmp.table.columns)),
            "bestanden": [str(f) for f in files]}
    if args.json:
        cli.print_json(data)
        return cli.EXIT_OK
    diff = tot["binnen_bereik_na"] - tot["binnen_bereik_voor"]
    cli.print_table([("Gebied", f"{area.id} ({area.name})"), ("Vóór", labels[0]),
                     ("Na", labels[1]),
                     (f"{cmp.unit.capitalize()} binnen bereik",
                      f"{fmt_int(tot['binnen_bereik_voor'])} → "
                      f"{fmt_int(tot['binnen_bereik_na'])} ({'+' if diff > 0 else ''}"
                      f"{fmt_int(diff)})"),
                     ("Erbij / kwijt", f"+{fmt_int(tot['gewonnen'])} / "
                                       f"−{fmt_int(tot['verloren'])}"),
                     ("Echte keuze", f"{fmt_int(tot['echte_keuze_voor'])} → "
                                     f"{fmt_int(tot['echte_keuze_na'])}"),
                     *(("Let op", n) for n in cmp.notes)])
    t = cmp.table
    changed = t[(t["gewonnen"] > 0) | (t["verloren"] > 0)]
    if len(changed):
        print()
        cli.print_columns(["buurtcode", "buurtnaam", "vóór", "na", "erbij", "kwijt"],
                          [[cli._cell(r.buurtcode, 12), cli._cell(r.buurtnaam),
                            fmt_int(r.binnen_bereik_voor), fmt_int(r.binnen_bereik_na),
                            f"+{fmt_int(r.gewonnen)}", f"−{fmt_int(r.verloren)}"]
                           for r in changed.itertuples()], right=(2, 3, 4, 5))
    print()
    cli.print_table([("Bestand", str(f)) for f in files])
    return cli.EXIT_OK


def _label(places, osm, default: str) -> str:
    names = [Path(p).name for p in (places or [])] + ([Path(osm).name] if osm else [])
    return ", ".join(names) if names else default
