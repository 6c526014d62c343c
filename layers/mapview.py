"""Folium map of a result: buurten choropleth, meeting places by category, legends, layers.

Every piece of text that comes from data (OSM names, uploaded fields) is HTML-escaped before it
reaches the map, because Leaflet tooltips and popups render HTML.
"""

from __future__ import annotations

import branca.colormap as cm
import folium
import numpy as np
from branca.element import MacroElement, Template

from layers.analysis import DEMAND_SUFFIX, Result
from layers.fmt import esc, fmt_int, fmt_m, fmt_pct
from layers.taxonomy import Taxonomy, load_taxonomy

#: Colour-blind-safe sequential scale (viridis, from low to high share within reach).
VIRIDIS = ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"]
NO_DATA = "#bdbdbd"
OSM_ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>-bijdragers '
    "(ODbL); buurten en inwoners &copy; CBS (CC BY 4.0)"
)


def share_colormap() -> cm.LinearColormap:
    scale = cm.LinearColormap(VIRIDIS, vmin=0.0, vmax=1.0)
    scale.caption = "Aandeel binnen loopafstand (0 = niemand, 1 = iedereen)"
    return scale


def _tooltip_html(row, suffix: str, unit: str) -> str:
    name = esc(row["buurtnaam"] or row["buurtcode"])
    total = row["inwoners_65plus"] if suffix == "65plus" else row.get(
        "woongebouwen" if suffix == "woongebouwen" else "inwoners")
    return (
        f"<b>{name}</b><br>"
        f"{esc(unit)}: {fmt_int(total)}<br>"
        f"binnen bereik: {fmt_int(row[f'binnen_bereik_{suffix}'])}<br>"
        f"buiten bereik: {fmt_int(row[f'buiten_bereik_{suffix}'])}<br>"
        f"aandeel binnen bereik: {fmt_pct(row['aandeel_binnen_bereik'])}<br>"
        f"mediane loopafstand: {fmt_m(row['mediaan_afstand_m'])}"
    )


def build_map(result: Result, *, taxonomy: Taxonomy | None = None,
              center: tuple[float, float] | None = None, zoom: int | None = None) -> folium.Map:
    """The dashboard map for a result (WGS84 for Leaflet)."""
    tax = taxonomy or load_taxonomy()
    table = result.table.to_crs(4326)
    suffix = DEMAND_SUFFIX[result.prepared.demand]
    unit = {"65plus": "65-plussers", "inwoners": "inwoners",
            "woongebouwen": "woongebouwen"}[suffix]
    minx, miny, maxx, maxy = table.total_bounds
    m = folium.Map(
        location=center or [(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=zoom or 14,
        tiles=None,
        prefer_canvas=True,
        control_scale=True,
    )
    folium.TileLayer("OpenStreetMap", name="Achtergrondkaart (OSM)", attr=OSM_ATTRIBUTION,
                     control=False).add_to(m)
    if center is None:
        m.fit_bounds([[miny, minx], [maxy, maxx]])
    scale = share_colormap()
    table = table.assign(
        tip=[_tooltip_html(r, suffix, unit) for _, r in table.iterrows()],
        kleur=[NO_DATA if not np.isfinite(s) else scale(s)
               for s in table["aandeel_binnen_bereik"].astype(float)],
    )
    label = "Buurten" if result.prepared.area_kind == "buurt" else "Zeshoeken (schatting)"
    folium.GeoJson(
        table[["buurtcode", "tip", "kleur", "geometry"]],
        name=f"{label}: aandeel binnen bereik",
        style_function=lambda f: {"fillColor": f["properties"]["kleur"], "color": "#333333",
                                  "weight": 0.8, "fillOpacity": 0.65},
        highlight_function=lambda f: {"weight": 2.5, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True),
    ).add_to(m)
    scale.add_to(m)
    places = result.places.to_crs(4326)
    pts = places.geometry.representative_point()
    for cat_id, group in places.groupby("categorie"):
        fg = folium.FeatureGroup(name=f"Ontmoetingsplekken: {esc(tax.label(cat_id))}")
        colour = tax.colour(cat_id)
        for i in group.index:
            name = places.at[i, "naam"]
            text = esc(name) if isinstance(name, str) and name else "(naamloos)"
            tip = (f"<b>{text}</b><br>{esc(tax.label(cat_id))}<br>"
                   f"bron: {esc(str(places.at[i, 'bron']))}<br>"
                   f"{unit} binnen bereik: {fmt_int(places.at[i, 'binnen_bereik'])}")
            folium.CircleMarker(
                location=[pts[i].y, pts[i].x], radius=6, color="#000000", weight=1,
                fill=True, fill_color=colour, fill_opacity=0.95, tooltip=folium.Tooltip(tip),
            ).add_to(fg)
        fg.add_to(m)
    _category_legend(places, tax).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def _category_legend(places, tax: Taxonomy) -> MacroElement:
    rows = "".join(
        f'<div><span style="display:inline-block;width:12px;height:12px;border-radius:6px;'
        f'border:1px solid #000;background:{tax.colour(c)};margin-right:6px"></span>'
        f"{esc(tax.label(c))} ({n})</div>"
        for c, n in places["categorie"].value_counts().sort_index().items()
    )
    tpl = Template(
        "{% macro html(this, kwargs) %}"
        '<div class="ok-legend" style="position:absolute;bottom:30px;left:10px;z-index:9999;'
        'background:white;padding:8px 10px;border:1px solid #888;border-radius:4px;'
        'font:12px sans-serif;max-width:260px">'
        "<b>Ontmoetingsplekken</b>{{ this.rows }}</div>{% endmacro %}"
    )
    el = MacroElement()
    el._template = tpl
    el.rows = rows
    return el
