"""Folium map of a result: buurten choropleth, meeting places by category, legends, layers.

Every piece of text that comes from data (OSM names, uploaded fields) is HTML-escaped before it
reaches the map, because Leaflet tooltips and popups render HTML.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import branca.colormap as cm
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement, Template

from layers.analysis import DEMAND_SUFFIX, Result
from layers.fmt import esc, fmt_int, fmt_m, fmt_pct
from layers.mapelements import (
    LEGEND_STYLE,
    Areas,
    DivMarkers,
    GroupTracker,
    LayerControl,
    Legend,
    PlaceMarkers,
)
from layers.outputs import SUPPRESS_BELOW, gap_layer, screen_value, service_area_layer
from layers.taxonomy import Taxonomy, load_taxonomy

#: Colour-blind-safe sequential scale (viridis, from low to high share within reach).
VIRIDIS = ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"]
NO_DATA = "#bdbdbd"
OSM_ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>-bijdragers '
    "(ODbL); buurten en inwoners &copy; CBS (CC BY 4.0)"
)


#: Polygons are simplified by this much (m, in the area's own metric CRS) before they go on the
#: map: less than a screen pixel up to zoom 17, and a fraction of the vertices of a city.
SIMPLIFY_M = 1.0
#: Decimals kept in map coordinates (6: about 0.1 m).
MAP_DECIMALS = 6


def map_geometry(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """``gdf``'s geometry as drawn on the map: simplified by :data:`SIMPLIFY_M` in its own
    metric CRS (topology kept), then in WGS84, rounded to :data:`MAP_DECIMALS`."""
    geoms = gdf.geometry.values
    if gdf.crs is not None and gdf.crs.is_projected:
        geoms = shapely.simplify(np.asarray(geoms), SIMPLIFY_M, preserve_topology=True)
    out = gpd.GeoSeries(geoms, crs=gdf.crs).to_crs(4326).values
    return shapely.transform(np.asarray(out), lambda c: np.round(c, MAP_DECIMALS))


def _area_geometry(result: Result) -> np.ndarray:
    """The result's areas as drawn on the map (cached per result)."""
    return result.derived("kaart_geometrie", lambda: map_geometry(result.table))


def features_json(geoms: np.ndarray, props: dict) -> str:
    """A GeoJSON FeatureCollection of map geometries (:func:`map_geometry`) with per-feature
    ``props`` (column name -> sequence), as JSON text (what the map's layers take), built in
    bulk: no Python loop over vertices."""
    cols = {k: pd.Series(v).tolist() for k, v in props.items()}
    names = list(cols)
    shapes = shapely.to_geojson(geoms)
    rows = zip(*cols.values(), strict=True) if cols else ([] for _ in shapes)
    feats = [f'{{"type":"Feature","id":"{i}","properties":'
             f'{json.dumps(dict(zip(names, row, strict=True)))},"geometry":{shape or "null"}}}'
             for i, (row, shape) in enumerate(zip(rows, shapes, strict=True))]
    return '{"type":"FeatureCollection","features":[' + ",".join(feats) + "]}"


def share_colormap() -> cm.LinearColormap:
    return cm.LinearColormap(VIRIDIS, vmin=0.0, vmax=1.0)


def _html_element(html_text: str) -> MacroElement:
    """A fixed piece of HTML on the map. The text is passed as a value, never as template
    source, so braces in data cannot become Jinja."""
    el = MacroElement()
    el._template = Template("{% macro html(this, kwargs) %}{{ this.body }}{% endmacro %}")
    el.body = html_text  # type: ignore[attr-defined]  # read by the template above
    return el


def _share_legend(unit: str) -> Legend:
    stops = ", ".join(f"{c} {i * 25}%" for i, c in enumerate(VIRIDIS))
    ticks = "".join(f"<span>{i * 25} %</span>" for i in range(5))
    return Legend(
        f"<b>Aandeel {esc(unit)} binnen loopafstand</b>"
        f'<div style="height:12px;margin:4px 0 2px;background:linear-gradient(to right,{stops})">'
        "</div>"
        f'<div style="display:flex;justify-content:space-between">{ticks}</div>'
        f'<div style="margin-top:3px"><span style="display:inline-block;width:12px;height:10px;'
        f'background:{NO_DATA};border:1px solid #666"></span> geen cijfers of geen loopnetwerk in '
        'de gegevens</div>',
        position="bottomright", css_class="ok-legend ok-share",
        style=LEGEND_STYLE + ";width:230px")


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
    unit = unit + (" (schatting uit het CBS-percentage)"
                   if suffix == "65plus" and bool(row.get("inwoners_65plus_geschat")) else "")
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


@dataclass
class MapParts:
    """The dashboard map in two parts: ``base`` (tiles, scale bar, start view) is the same for
    every result of an area, so the browser keeps its map when only ``groups`` (every layer
    that depends on the result, each a feature group, plus the legends) and the layer
    ``control`` over them change. :func:`build_map` joins them into one map."""

    base: folium.Map
    groups: list[folium.FeatureGroup]
    control: folium.LayerControl


def build_map(result: Result, *, taxonomy: Taxonomy | None = None,
              center: tuple[float, float] | None = None, zoom: int | None = None,
              suggestions=None, show_service: bool = False, ageing=None) -> folium.Map:
    """The dashboard map for a result (WGS84 for Leaflet): choropleth, wijk boundaries, gap
    areas, service areas (off by default), meeting places by category, scenario places and
    siting suggestions (``suggestions``: a GeoDataFrame with naam, winst, geometry) and, off by
    default, the share with a real choice and the growth of 65+ (``ageing``: a
    :class:`layers.ageing.Ageing`)."""
    parts = map_parts(result, taxonomy=taxonomy, center=center, zoom=zoom,
                      suggestions=suggestions, show_service=show_service, ageing=ageing)
    for group in parts.groups:
        group.add_to(parts.base)
    parts.control.add_to(parts.base)
    return parts.base


def base_map(result: Result, *, center: tuple[float, float] | None = None,
             zoom: int | None = None) -> folium.Map:
    """Background tiles and scale bar, opening on the result's areas (or ``center``/``zoom``).
    Nothing in it depends on the profile, filters or scenario of the result."""
    minx, miny, maxx, maxy = shapely.total_bounds(_area_geometry(result))
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
    return m


def map_parts(result: Result, *, taxonomy: Taxonomy | None = None,
              center: tuple[float, float] | None = None, zoom: int | None = None,
              suggestions=None, show_service: bool = False, ageing=None) -> MapParts:
    """:func:`build_map`'s map as :class:`MapParts` (same arguments)."""
    return MapParts(base_map(result, center=center, zoom=zoom),
                    map_layers(result, taxonomy=taxonomy, suggestions=suggestions,
                               show_service=show_service, ageing=ageing),
                    LayerControl(collapsed=False))


def _group(name: str, *layers, show: bool = True, control: bool = True) -> folium.FeatureGroup:
    fg = folium.FeatureGroup(name=name, show=show, control=control)
    for layer in layers:
        layer.add_to(fg)
    return fg


def map_layers(result: Result, *, taxonomy: Taxonomy | None = None, suggestions=None,
               show_service: bool = False, ageing=None) -> list[folium.FeatureGroup]:
    """Every layer of the result's map as a feature group, in drawing order; the last one,
    not in the layer control, holds the legends."""
    tax = taxonomy or load_taxonomy()
    people = result.prepared.demand != "woongebouwen"
    table = result.table
    suffix = DEMAND_SUFFIX[result.prepared.demand]
    unit = {"65plus": "65-plussers", "inwoners": "inwoners",
            "woongebouwen": "woongebouwen"}[suffix]
    scale = share_colormap()

    def shares() -> str:
        tips = [_tooltip_html(r, suffix, unit, people)
                for r in table.drop(columns="geometry").to_dict("records")]
        colours = [NO_DATA if not np.isfinite(s) else scale(s)
                   for s in table["aandeel_binnen_bereik"].to_numpy(dtype=float)]
        return features_json(_area_geometry(result), {"tip": tips, "kleur": colours})

    label = "Buurten" if result.prepared.area_kind == "buurt" else "Zeshoeken (schatting)"
    label = f"{label}: aandeel binnen bereik"
    out = [_group(label, Areas(
        result.derived("kaart_aandeel", shares),
        style={"color": "#333333", "weight": 0.8, "fillOpacity": 0.65},
        highlight={"weight": 2.5, "color": "#000000"}))]
    out += _context_layers(result, unit, show_service)
    if result.nearest is not None and len(result.places):
        out.append(choice_layer(result, unit, scale))
    if ageing is not None:
        out.append(ageing_layer(result, ageing))
    places = result.places.to_crs(4326)
    kept = places[places["bron"] != "Scenario"]
    out += _place_layers(kept, tax, unit, result=result)
    extra = places[places["bron"] == "Scenario"]
    if len(extra):
        out.append(_scenario_layer(extra, unit))
    if suggestions is not None and len(suggestions):
        out.append(_suggestion_layer(suggestions.to_crs(4326), unit))
    out.append(_group("Legenda", _share_legend(unit), _category_legend(kept, tax),
                      control=False))
    for n, group in enumerate(out):
        GroupTracker(first=n == 0).add_to(group)
    return out


def _place_layers(places, tax: Taxonomy, unit: str, *,
                  result: Result | None = None) -> list[folium.FeatureGroup]:
    """One feature group of circle markers per category (``places`` in WGS84), in category
    order; read column-wise, without a GeoDataFrame per category. With ``result`` (whose
    places these are) the rows are made once per result."""
    rows = (_place_rows(places, tax, unit) if result is None else
            result.derived("kaart_plekken", lambda: _place_rows(places, tax, unit),
                        uses=(tax,)))
    out = []
    for cat_id, cat_rows in rows:
        colour, label = tax.colour(cat_id), esc(tax.label(cat_id))
        fg = folium.FeatureGroup(name=f'<span style="color:{colour}">&#9679;</span> {label}')
        PlaceMarkers(cat_rows, {"radius": 6, "color": "#000000", "weight": 1, "fill": True,
                                "fillColor": colour, "fillOpacity": 0.95}).add_to(fg)
        out.append(fg)
    return out


def _place_rows(places, tax: Taxonomy, unit: str) -> list[tuple[str, list]]:
    """(category, [lat, lon, tooltip HTML] per place) in category order."""
    pts = shapely.point_on_surface(np.asarray(places.geometry.values))
    lat = np.round(shapely.get_y(pts), MAP_DECIMALS).tolist()
    lon = np.round(shapely.get_x(pts), MAP_DECIMALS).tolist()
    by_cat: dict = {}
    for i, cat_id in enumerate(places["categorie"].tolist()):
        by_cat.setdefault(cat_id, []).append(i)
    names, sources = places["naam"].tolist(), places["bron"].tolist()
    reached = places["binnen_bereik"].tolist()
    out = []
    for cat_id in sorted(by_cat):
        label = esc(tax.label(cat_id))
        rows = []
        for i in by_cat[cat_id]:
            name = names[i]
            text = esc(name) if isinstance(name, str) and name else "(naamloos)"
            tip = (f"<b>{text}</b><br>{label}<br>bron: {esc(str(sources[i]))}<br>"
                   f"{unit} binnen bereik: {fmt_int(reached[i])}")
            rows.append([lat[i], lon[i], f"<div>{tip}</div>"])
        out.append((cat_id, rows))
    return out


def _context_layers(result: Result, unit: str, show_service: bool) -> list:
    """Wijk boundaries, gap areas and (nearest-place) service areas, each a feature group."""
    out = []
    table = result.table
    if result.prepared.area_kind == "buurt" and table["wijkcode"].notna().any():
        def wijk_lines() -> str:
            wijken = table.dissolve(by="wijkcode").reset_index()[["wijkcode", "geometry"]]
            return features_json(map_geometry(wijken), {"wijkcode": wijken["wijkcode"]})

        out.append(_group("Wijkgrenzen", Areas(
            result.derived("kaart_wijken", wijk_lines), interactive=False,
            style={"fill": False, "color": "#000000", "weight": 2.5, "dashArray": "6 4"})))
    def gap_areas() -> str | None:
        gaps = gap_layer(result)
        if not len(gaps):
            return None
        people = result.prepared.demand != "woongebouwen"
        tips = [
            f"<b>Gebied buiten bereik {int(r.gat_id)}</b><br>{esc(unit)}: "
            f"{screen_value(r.buiten_bereik, people and r.buiten_bereik < SUPPRESS_BELOW)}<br>"
            f"oppervlakte: {r.oppervlakte_ha:.1f} ha".replace(".", ",")
            for r in gaps.itertuples()]
        return features_json(map_geometry(gaps), {"tip": tips})

    gaps = result.derived("kaart_gaten", gap_areas)
    if gaps is not None:
        out.append(_group("Gebieden buiten bereik", Areas(
            gaps,
            style={"fillColor": "#d7301f", "color": "#7f0000", "weight": 1,
                   "fillOpacity": 0.45})))
    service = service_area_layer(result, nearest_only=True) if show_service else None
    if service is not None and len(service):
        names = [esc(n) if isinstance(n, str) and n else "(naamloos)" for n in service["naam"]]
        out.append(_group("Verzorgingsgebieden (dichtstbijzijnde plek)", Areas(
            features_json(map_geometry(service), {"tip": [f"Bereik van {n}" for n in names]}),
            style={"fillColor": "#3182bd", "color": "#08519c", "weight": 1,
                   "fillOpacity": 0.15}, sticky=False)))
    return out


def choice_layer(result: Result, unit: str, scale: cm.LinearColormap) -> folium.FeatureGroup:
    """Buurten by the share with a real choice (at least two kinds of place and both spheres
    within reach); off by default, so the nearest place stays the first view."""
    from layers.choice import MIN_CATEGORIES

    g = result.derived("kaart_keuze", lambda: _choice_json(result, unit, scale))
    return _group(f"Echte keuze (≥ {MIN_CATEGORIES} soorten, beide sferen): aandeel {esc(unit)}",
                  Areas(g, style={"color": "#333333", "weight": 0.8, "fillOpacity": 0.75}),
                  show=False)


def _choice_json(result: Result, unit: str, scale: cm.LinearColormap) -> str:
    from layers.choice import choice_columns

    people = result.prepared.demand != "woongebouwen"
    t = result.table
    c = choice_columns(result)
    total = t[f"binnen_bereik_{DEMAND_SUFFIX[result.prepared.demand]}"] + t[
        f"buiten_bereik_{DEMAND_SUFFIX[result.prepared.demand]}"]
    small = (people & (total < SUPPRESS_BELOW)).fillna(False).to_numpy(dtype=bool)
    share = c["aandeel_echte_keuze"].to_numpy(dtype=float)
    tips = []
    for i, (name, code) in enumerate(zip(t["buurtnaam"], t["buurtcode"], strict=True)):
        head = f"<b>{esc(name if isinstance(name, str) and name else code)}</b><br>"
        if small[i]:
            tips.append(head + "onderdrukt (minder dan 10)")
        elif not np.isfinite(share[i]):
            tips.append(head + "echte keuze: onbekend")
        else:
            tips.append(head + f"{esc(unit)} met echte keuze: {fmt_pct(share[i])}<br>"
                        f"beide sferen binnen bereik: {fmt_pct(c['aandeel_beide_sferen'].iat[i])}"
                        f"<br>gemiddeld {c['gem_categorieen'].iat[i]:.1f}".replace(".", ",")
                        + " soorten plekken binnen bereik")
    return features_json(_area_geometry(result), {
        "tip": tips, "kleur": [NO_DATA if sm or not np.isfinite(v) else scale(v)
                               for v, sm in zip(share, small, strict=True)]})


#: Diverging scale for the change in 65+ (blue: fewer, red: more), in shares of last year.
GROWTH_COLOURS = ["#2166ac", "#92c5de", "#f7f7f7", "#f4a582", "#b2182b"]
GROWTH_RANGE = 0.15


def ageing_layer(result: Result, ageing) -> folium.FeatureGroup:
    """Buurten coloured by the change in 65+ between two CBS years (off by default)."""
    g = result.derived("kaart_vergrijzing", lambda: _ageing_json(result, ageing),
                    uses=(ageing,))
    return _group(f"Vergrijzing: verandering 65-plussers {esc(ageing.label)}",
                  Areas(g, style={"color": "#333333", "weight": 0.8, "fillOpacity": 0.75}),
                  show=False)


def _ageing_json(result: Result, ageing) -> str:
    scale = cm.LinearColormap(GROWTH_COLOURS, vmin=-GROWTH_RANGE, vmax=GROWTH_RANGE)
    a = ageing.table.set_index("buurtcode")
    t = result.table[["buurtcode", "buurtnaam"]]
    tips, colours = [], []
    for code, name in zip(t["buurtcode"], t["buurtnaam"], strict=True):
        head = f"<b>{esc(name if isinstance(name, str) and name else code)}</b><br>"
        row = a.loc[code] if code in a.index else None
        if row is None or not np.isfinite(row["groei_65plus"]):
            tips.append(head + f"groei 65-plussers {ageing.label}: onbekend")
            colours.append(NO_DATA)
            continue
        before, now = row["inwoners_65plus_vorig"], row["inwoners_65plus"]
        if min(before, now) < SUPPRESS_BELOW:
            tips.append(head + "onderdrukt (minder dan 10 65-plussers)")
            colours.append(NO_DATA)
            continue
        pct = row["groei_65plus_pct"]
        sign = "+" if row["groei_65plus"] > 0 else ""
        tips.append(head + f"65-plussers {ageing.year_before}: {fmt_int(before)}<br>"
                    f"65-plussers {ageing.year}: {fmt_int(now)}<br>"
                    f"verandering: {sign}{fmt_int(row['groei_65plus'])} "
                    f"({sign}{fmt_pct(pct, 1)})")
        colours.append(scale(float(np.clip(pct, -GROWTH_RANGE, GROWTH_RANGE))))
    return features_json(_area_geometry(result), {"tip": tips, "kleur": colours})


def _scenario_layer(places, unit: str) -> folium.FeatureGroup:
    pts = places.geometry.representative_point()
    rows = [[pts[i].y, pts[i].x,
             f"<div><b>{esc(places.at[i, 'naam'])}</b> (scenario)<br>"
             f"{unit} binnen bereik: {fmt_int(places.at[i, 'binnen_bereik'])}</div>",
             '<div class="ok-scenario" style="width:16px;height:16px;background:#ff7f00;'
             'border:2px solid #000;transform:rotate(45deg)"></div>']
            for i in places.index]
    return _group("Scenario: nieuwe plekken",
                  DivMarkers(rows, icon_size=(20, 20), icon_anchor=(10, 10)))


def _suggestion_layer(picks, unit: str) -> folium.FeatureGroup:
    pts = picks.geometry.representative_point()
    rows = [[pts[i].y, pts[i].x,
             f"<div><b>Voorstel {n}: {esc(picks.at[i, 'naam'])}</b><br>"
             f"+{fmt_int(picks.at[i, 'winst'])} {esc(unit)} binnen bereik</div>",
             '<div class="ok-pick" style="background:#fff;border:2px solid #000;'
             'border-radius:50%;width:24px;height:24px;text-align:center;'
             f'font:bold 13px/20px sans-serif">{n}</div>']
            for n, i in enumerate(picks.index, start=1)]
    return _group("Voorgestelde plekken",
                  DivMarkers(rows, icon_size=(24, 24), icon_anchor=(12, 12)))


def _category_legend(places, tax: Taxonomy) -> Legend:
    rows = "".join(
        f'<div><span style="display:inline-block;width:12px;height:12px;border-radius:6px;'
        f'border:1px solid #000;background:{tax.colour(c)};margin-right:6px"></span>'
        f"{esc(tax.label(c))} ({n})</div>"
        for c, n in places["categorie"].value_counts().sort_index().items()
    )
    return Legend(f"<b>Ontmoetingsplekken</b>{rows}", position="bottomleft",
                   css_class="ok-legend ok-categories", style=LEGEND_STYLE + ";max-width:260px")
