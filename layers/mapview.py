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
    return cm.LinearColormap(VIRIDIS, vmin=0.0, vmax=1.0)


def _html_element(html_text: str) -> MacroElement:
    """A fixed piece of HTML on the map. The text is passed as a value, never as template
    source, so braces in data cannot become Jinja."""
    el = MacroElement()
    el._template = Template("{% macro html(this, kwargs) %}{{ this.body }}{% endmacro %}")
    el.body = html_text
    return el


def _share_legend(unit: str) -> MacroElement:
    stops = ", ".join(f"{c} {i * 25}%" for i, c in enumerate(VIRIDIS))
    ticks = "".join(f"<span>{i * 25} %</span>" for i in range(5))
    return _html_element(
        '<div class="ok-legend ok-share" style="position:absolute;bottom:28px;right:10px;'
        'z-index:1000;background:rgba(255,255,255,.92);padding:6px 10px;border:1px solid #888;'
        'border-radius:4px;font:12px sans-serif;width:230px">'
        f"<b>Aandeel {esc(unit)} binnen loopafstand</b>"
        f'<div style="height:12px;margin:4px 0 2px;background:linear-gradient(to right,{stops})">'
        "</div>"
        f'<div style="display:flex;justify-content:space-between">{ticks}</div>'
        f'<div style="margin-top:3px"><span style="display:inline-block;width:12px;height:10px;'
        f'background:{NO_DATA};border:1px solid #666"></span> geen cijfers</div></div>'
    )


class _MetricScale(MacroElement):
    """Leaflet's scale bar in metres only (folium's default adds feet)."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "L.control.scale({imperial: false, metric: true}).addTo({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )


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
    )
    _MetricScale().add_to(m)
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
    label = f"{label}: aandeel binnen bereik"
    folium.GeoJson(
        table[["buurtcode", "tip", "kleur", "geometry"]],
        name=label,
        style_function=lambda f: {"fillColor": f["properties"]["kleur"], "color": "#333333",
                                  "weight": 0.8, "fillOpacity": 0.65},
        highlight_function=lambda f: {"weight": 2.5, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True),
    ).add_to(m)
    _share_legend(unit).add_to(m)
    places = result.places.to_crs(4326)
    pts = places.geometry.representative_point()
    for cat_id, group in places.groupby("categorie"):
        colour = tax.colour(cat_id)
        fg = folium.FeatureGroup(
            name=f'<span style="color:{colour}">&#9679;</span> {esc(tax.label(cat_id))}')
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
    return _html_element(
        '<div class="ok-legend ok-categories" style="position:absolute;bottom:40px;left:10px;'
        "z-index:1000;background:rgba(255,255,255,.92);padding:6px 10px;border:1px solid #888;"
        'border-radius:4px;font:12px sans-serif;max-width:260px">'
        f"<b>Ontmoetingsplekken</b>{rows}</div>"
    )
