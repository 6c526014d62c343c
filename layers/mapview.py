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
from layers.outputs import SUPPRESS_BELOW, gap_layer, screen_value, service_area_layer
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
        f'background:{NO_DATA};border:1px solid #666"></span> geen cijfers of geen loopnetwerk in '
        'de gegevens</div></div>'
    )


class _MetricScale(MacroElement):
    """Leaflet's scale bar in metres only (folium's default adds feet)."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "L.control.scale({imperial: false, metric: true}).addTo({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )


def _tooltip_html(row, suffix: str, unit: str, people: bool) -> str:
    name = esc(row["buurtnaam"] or row["buurtcode"])
    total = row["inwoners_65plus"] if suffix == "65plus" else row.get(
        "woongebouwen" if suffix == "woongebouwen" else "inwoners")
    small = people and total == total and total < SUPPRESS_BELOW

    def count(v):
        return screen_value(v, small)

    status = row.get("status")
    if status == "buiten":
        return (f"<b>{name}</b><br>{esc(unit)}: {count(total)}<br>"
                "geen loopnetwerk in de gegevens: geen afstanden en geen cijfers binnen/buiten "
                "bereik")
    share = "onderdrukt (minder dan 10)" if small else fmt_pct(row["aandeel_binnen_bereik"])
    edge = ("<br><i>aan de rand van de gegevens: een plek net buiten de gegevens kan dichterbij "
            "zijn, binnen bereik is een ondergrens</i>" if status == "rand" else "")
    return (
        f"<b>{name}</b><br>"
        f"{esc(unit)}: {count(total)}<br>"
        f"binnen bereik: {count(row[f'binnen_bereik_{suffix}'])}<br>"
        f"buiten bereik: {count(row[f'buiten_bereik_{suffix}'])}<br>"
        f"aandeel binnen bereik: {share}<br>"
        f"mediane loopafstand: {fmt_m(row['mediaan_afstand_m'])}{edge}"
    )


def build_map(result: Result, *, taxonomy: Taxonomy | None = None,
              center: tuple[float, float] | None = None, zoom: int | None = None,
              suggestions=None, show_service: bool = False) -> folium.Map:
    """The dashboard map for a result (WGS84 for Leaflet): choropleth, wijk boundaries, gap
    areas, service areas (off by default), meeting places by category, scenario places and
    siting suggestions (``suggestions``: a GeoDataFrame with naam, winst, geometry)."""
    tax = taxonomy or load_taxonomy()
    people = result.prepared.demand != "woongebouwen"
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
        tip=[_tooltip_html(r, suffix, unit, people) for _, r in table.iterrows()],
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
    for layer in _context_layers(result, unit, show_service):
        layer.add_to(m)
    places = result.places.to_crs(4326)
    pts = places.geometry.representative_point()
    for cat_id, group in places[places["bron"] != "Scenario"].groupby("categorie"):
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
    extra = places[places["bron"] == "Scenario"]
    if len(extra):
        _scenario_layer(extra, unit).add_to(m)
    if suggestions is not None and len(suggestions):
        _suggestion_layer(suggestions.to_crs(4326), unit).add_to(m)
    _category_legend(places[places["bron"] != "Scenario"], tax).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def _context_layers(result: Result, unit: str, show_service: bool) -> list:
    """Wijk boundaries, gap areas and (nearest-place) service areas."""
    out = []
    table = result.table
    if result.prepared.area_kind == "buurt" and table["wijkcode"].notna().any():
        wijken = table.dissolve(by="wijkcode").reset_index()[["wijkcode", "geometry"]]
        out.append(folium.GeoJson(
            wijken.to_crs(4326), name="Wijkgrenzen", interactive=False,
            style_function=lambda f: {"fill": False, "color": "#000000", "weight": 2.5,
                                      "dashArray": "6 4"}))
    gaps = gap_layer(result)
    if len(gaps):
        people = result.prepared.demand != "woongebouwen"
        g = gaps.to_crs(4326).assign(tip=[
            f"<b>Gebied buiten bereik {int(r.gat_id)}</b><br>{esc(unit)}: "
            f"{screen_value(r.buiten_bereik, people and r.buiten_bereik < SUPPRESS_BELOW)}<br>"
            f"oppervlakte: {r.oppervlakte_ha:.1f} ha".replace(".", ",")
            for r in gaps.itertuples()])
        out.append(folium.GeoJson(
            g[["gat_id", "tip", "geometry"]], name="Gebieden buiten bereik",
            style_function=lambda f: {"fillColor": "#d7301f", "color": "#7f0000", "weight": 1,
                                      "fillOpacity": 0.45},
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True)))
    service = (service_area_layer(result, nearest_only=True).to_crs(4326) if show_service
               else [])
    if len(service):
        names = [esc(n) if isinstance(n, str) and n else "(naamloos)" for n in service["naam"]]
        service = service.assign(tip=[f"Bereik van {n}" for n in names])
        out.append(folium.GeoJson(
            service[["tip", "geometry"]], name="Verzorgingsgebieden (dichtstbijzijnde plek)",
            style_function=lambda f: {"fillColor": "#3182bd", "color": "#08519c", "weight": 1,
                                      "fillOpacity": 0.15},
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False)))
    return out


def _scenario_layer(places, unit: str) -> folium.FeatureGroup:
    fg = folium.FeatureGroup(name="Scenario: nieuwe plekken")
    pts = places.geometry.representative_point()
    for i in places.index:
        tip = (f"<b>{esc(places.at[i, 'naam'])}</b> (scenario)<br>"
               f"{unit} binnen bereik: {fmt_int(places.at[i, 'binnen_bereik'])}")
        # a plain DivIcon: Leaflet core only (no plugin to fetch from a CDN)
        folium.Marker(
            location=[pts[i].y, pts[i].x], tooltip=folium.Tooltip(tip),
            icon=folium.DivIcon(html='<div class="ok-scenario" style="width:16px;height:16px;'
                                     'background:#ff7f00;border:2px solid #000;'
                                     'transform:rotate(45deg)"></div>', icon_size=(20, 20),
                                icon_anchor=(10, 10))).add_to(fg)
    return fg


def _suggestion_layer(picks, unit: str) -> folium.FeatureGroup:
    fg = folium.FeatureGroup(name="Voorgestelde plekken")
    pts = picks.geometry.representative_point()
    for n, i in enumerate(picks.index, start=1):
        tip = (f"<b>Voorstel {n}: {esc(picks.at[i, 'naam'])}</b><br>"
               f"+{fmt_int(picks.at[i, 'winst'])} {esc(unit)} binnen bereik")
        folium.Marker(
            location=[pts[i].y, pts[i].x], tooltip=folium.Tooltip(tip),
            icon=folium.DivIcon(html=f'<div class="ok-pick" style="background:#fff;'
                                     f'border:2px solid #000;border-radius:50%;width:24px;'
                                     f'height:24px;text-align:center;font:bold 13px/20px '
                                     f'sans-serif">{n}</div>', icon_size=(24, 24),
                                icon_anchor=(12, 12))).add_to(fg)
    return fg


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
