"""Folium map of :func:`layers.cbsview.cbs_view`: buurten coloured by CBS's distance to a
library (a second layer: the share of 65+), each figure labelled with its CBS source and year.

Same conventions as :mod:`layers.mapview`: WGS84 for Leaflet, colour-blind-safe viridis, grey
for "no figure", the CBS small-count rule ("< 10"), every data text HTML-escaped.
"""

from __future__ import annotations

import branca.colormap as cm
import folium
import geopandas as gpd
import numpy as np
from branca.element import MacroElement

from layers.fmt import esc, fmt_pct
from layers.mapview import NO_DATA, OSM_ATTRIBUTION, VIRIDIS, _html_element, _MetricScale
from layers.outputs import SUPPRESS_BELOW, screen_value

LIBRARY_LAYER = "CBS: afstand tot bibliotheek"
SHARE_LAYER = "CBS: aandeel 65-plussers"


def _km(v: float) -> str:
    return "onbekend (niet gepubliceerd)" if v != v else f"{v:.1f} km".replace(".", ",")


def _tooltip(row) -> str:
    n65 = row["inwoners_65plus"]
    small = n65 == n65 and n65 < SUPPRESS_BELOW

    def count(v, hide: bool):
        return "onbekend" if v != v else screen_value(round(v), hide)

    share = ("onderdrukt (minder dan 10)" if small else
             "onbekend" if row["aandeel_65plus"] != row["aandeel_65plus"] else
             fmt_pct(row["aandeel_65plus"]))
    return (f"<b>{esc(row['buurtnaam'] or row['buurtcode'])}</b> ({esc(row['buurtcode'])})<br>"
            f"inwoners: {count(row['inwoners'], False)}<br>"
            f"65-plussers: {count(n65, small)} ({share})<br>"
            f"afstand tot bibliotheek (CBS): {_km(row['cbs_afstand_bibliotheek_km'])}")


def _legend(title: str, source: str, vmin: float, vmax: float, fmt, css: str,
            colours: list[str]) -> MacroElement:
    """A colour bar from ``vmin`` (left, ``colours[0]``) to ``vmax``, with the source."""
    step = 100 / (len(colours) - 1)
    stops = ", ".join(f"{c} {i * step:g}%" for i, c in enumerate(colours))
    return _html_element(
        f'<div class="ok-legend {css}" style="position:absolute;bottom:28px;right:10px;'
        "z-index:1000;background:rgba(255,255,255,.92);padding:6px 10px;border:1px solid #888;"
        'border-radius:4px;font:12px sans-serif;width:260px">'
        f"<b>{esc(title)}</b>"
        f'<div style="height:12px;margin:4px 0 2px;background:linear-gradient(to right,{stops})">'
        f'</div><div style="display:flex;justify-content:space-between"><span>{fmt(vmin)}'
        f"</span><span>{fmt(vmax)}</span></div>"
        f'<div style="margin-top:3px"><span style="display:inline-block;width:12px;height:10px;'
        f'background:{NO_DATA};border:1px solid #666"></span> geen cijfer</div>'
        f'<div style="margin-top:3px;color:#444;overflow-wrap:anywhere">Bron: {esc(source)}'
        "</div></div>")


def cbs_layers(view: gpd.GeoDataFrame) -> list:
    """Folium layers and legend for a :func:`~layers.cbsview.cbs_view` (any CRS): CBS's
    library distance per buurt (shown), the share of 65+ (shown only when there is no library
    distance), a legend naming the CBS source and year, and a tooltip per buurt. Add them to
    any map (``layer.add_to(m)``)."""
    t = view.to_crs(4326)
    km = t["cbs_afstand_bibliotheek_km"].astype(float).to_numpy()
    share = t["aandeel_65plus"].astype(float).to_numpy()
    small = (t["inwoners_65plus"].astype(float) < SUPPRESS_BELOW).to_numpy()
    lib_src = view.attrs.get("bibliotheek_bron") or ""
    pop_src = next((b for b in view.attrs.get("bronnen", []) if b.startswith("Inwoners")), "CBS")
    t = t.assign(tip=[_tooltip(r) for _, r in t.iterrows()])
    layers: list = []
    out: list = []
    if np.isfinite(km).any():
        lo, hi = float(np.nanmin(km)), float(np.nanmax(km))
        near_first = VIRIDIS[::-1]  # near = light, far = dark
        scale = cm.LinearColormap(near_first, vmin=lo, vmax=max(hi, lo + 0.1))
        colours = [NO_DATA if not np.isfinite(v) else scale(v) for v in km]
        layers.append((LIBRARY_LAYER, colours, True))
        out.append(_legend("Afstand tot bibliotheek (km), gemeten door CBS", lib_src, lo, hi,
                           _km, "ok-cbs-library", near_first))
    if np.isfinite(share).any():
        scale = cm.LinearColormap(VIRIDIS, vmin=0.0, vmax=max(float(np.nanmax(share)), 0.01))
        colours = [NO_DATA if (not np.isfinite(v) or s) else scale(v)
                   for v, s in zip(share, small, strict=True)]
        layers.append((SHARE_LAYER, colours, not layers))
        if len(layers) == 1:
            out.append(_legend("Aandeel 65-plussers", pop_src, 0.0, float(np.nanmax(share)),
                               fmt_pct, "ok-cbs-share", VIRIDIS))
    for name, colours, show in layers or [("CBS: buurten", [NO_DATA] * len(t), True)]:
        out.append(folium.GeoJson(
            t.assign(kleur=colours)[["buurtcode", "tip", "kleur", "geometry"]], name=name,
            show=show,
            style_function=lambda f: {"fillColor": f["properties"]["kleur"], "color": "#333333",
                                      "weight": 0.8, "fillOpacity": 0.65},
            highlight_function=lambda f: {"weight": 2.5, "color": "#000000"},
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True)))
    return out


def cbs_map(view: gpd.GeoDataFrame, *, center: tuple[float, float] | None = None,
            zoom: int | None = None) -> folium.Map:
    """The dashboard map of a :func:`~layers.cbsview.cbs_view`: :func:`cbs_layers` on the OSM
    background, with a metric scale and a layer switch."""
    minx, miny, maxx, maxy = view.to_crs(4326).total_bounds
    m = folium.Map(location=center or [(miny + maxy) / 2, (minx + maxx) / 2],
                   zoom_start=zoom or 12, tiles=None, prefer_canvas=True)
    _MetricScale().add_to(m)
    folium.TileLayer("OpenStreetMap", name="Achtergrondkaart (OSM)", attr=OSM_ATTRIBUTION,
                     control=False).add_to(m)
    if center is None:
        m.fit_bounds([[miny, minx], [maxy, maxx]])
    for layer in cbs_layers(view):
        layer.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m
