"""Leaflet elements of the dashboard map that are cheap to render and safe with data.

folium puts each element's script into the page by compiling the rendered script as a new Jinja
template, so a layer with all areas of a city costs a template compilation on every map build,
and braces in data would be read as Jinja. The elements here render their script once, as text
(:class:`ScriptElement`), with their data as JSON escaped for a ``<script>`` block.

Each of them also works inside a ``folium.FeatureGroup`` passed to streamlit-folium's
``feature_group_to_add``, which carries only the elements' scripts into a map that stays.
"""

from __future__ import annotations

import json

import folium
import folium.template
from branca.element import Element, Figure, MacroElement, Template


def js_json(data) -> str:
    """``data`` as JSON that is safe inside a ``<script>`` block (as Jinja's ``tojson``)."""
    return script_safe(json.dumps(data, ensure_ascii=False))


def script_safe(text: str) -> str:
    """JSON text made safe inside a ``<script>`` block: no ``</script>``, ``<!--`` or line
    separators can end or break it (the same characters as Jinja's ``tojson`` escapes)."""
    return (text.replace("&", "\\u0026")
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("'", "\\u0027")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


class _Text(Element):
    """Text put into the page as it is (passed as a value, never compiled as a template)."""

    _template = Template("{{ this.text }}")

    def __init__(self, text: str):
        super().__init__()
        self.text = text


class ScriptElement(MacroElement):
    """A MacroElement with only a ``script`` macro, which renders into the page as text."""

    def render(self, **kwargs):
        figure = self.get_root()
        assert isinstance(figure, Figure), "the element must be added to a map"
        script = self._template.module.__dict__["script"]
        figure.script.add_child(_Text(script(self, kwargs)), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)


class Areas(ScriptElement):
    """Polygons of a GeoJSON FeatureCollection on the parent layer: ``style`` for all, the
    fill colour from each feature's ``kleur`` property, a sticky tooltip from its ``tip``
    property (HTML, data parts escaped by the caller), ``highlight`` under the mouse.
    ``data``: a dict or its JSON text."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "(function () {"
        "var style = {{ this.style_json }}, hi = {{ this.highlight_json }};"
        "var layer = L.geoJson({{ this.data_json }}, {"
        "interactive: {{ this.interactive_json }},"
        "style: function (f) { var s = Object.assign({}, style);"
        " if (f.properties && f.properties.kleur) { s.fillColor = f.properties.kleur; }"
        " return s; },"
        "onEachFeature: function (f, l) {"
        " if (f.properties && f.properties.tip) {"
        "  l.bindTooltip(f.properties.tip, {sticky: {{ this.sticky_json }}}); }"
        " if (hi) { l.on('mouseover', function () { l.setStyle(hi); });"
        "  l.on('mouseout', function () { layer.resetStyle(l); }); } }"
        "});"
        "layer.addTo({{ this._parent.get_name() }});"
        "})();"
        "{% endmacro %}"
    )

    def __init__(self, data: dict | str, *, style: dict, highlight: dict | None = None,
                 interactive: bool = True, sticky: bool = True):
        super().__init__()
        self._name = "Areas"
        self.data_json = script_safe(data) if isinstance(data, str) else js_json(data)
        self.style_json, self.highlight_json = js_json(style), js_json(highlight)
        self.interactive_json, self.sticky_json = js_json(interactive), js_json(sticky)


class PlaceMarkers(ScriptElement):
    """Circle markers, each with its own tooltip, drawn by one loop in the page rather than
    one folium element (and one compiled template) per place. ``rows``: [lat, lon, tooltip
    HTML]; the HTML is data-escaped by the caller and reaches the page as a JSON string."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "(function () {"
        "var rows = {{ this.rows_json }}, style = {{ this.style_json }};"
        "for (var i = 0; i < rows.length; i++) {"
        "L.circleMarker([rows[i][0], rows[i][1]], style)"
        ".bindTooltip(rows[i][2], {\"sticky\": true})"
        ".addTo({{ this._parent.get_name() }});"
        "}})();"
        "{% endmacro %}"
    )

    def __init__(self, rows: list, style: dict):
        super().__init__()
        self._name = "PlaceMarkers"
        self.rows = rows
        self.rows_json, self.style_json = js_json(rows), js_json(style)

    def _get_self_bounds(self):
        if not self.rows:
            return [[None, None], [None, None]]
        lat = [r[0] for r in self.rows]
        lon = [r[1] for r in self.rows]
        return [[min(lat), min(lon)], [max(lat), max(lon)]]


class DivMarkers(ScriptElement):
    """Markers drawn as HTML (Leaflet's divIcon, no image or plugin), each with a sticky
    tooltip. ``rows``: [lat, lon, tooltip HTML, icon HTML], data parts escaped by the caller;
    they reach the page as JSON strings."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "(function () {"
        "var rows = {{ this.rows_json }}, size = {{ this.size_json }}, at = {{ this.anchor_json }};"
        "for (var i = 0; i < rows.length; i++) {"
        "L.marker([rows[i][0], rows[i][1]], {icon: L.divIcon({html: rows[i][3],"
        " iconSize: size, iconAnchor: at, className: 'empty'})})"
        ".bindTooltip(rows[i][2], {sticky: true})"
        ".addTo({{ this._parent.get_name() }});"
        "}})();"
        "{% endmacro %}"
    )

    def __init__(self, rows: list, *, icon_size: tuple[int, int],
                 icon_anchor: tuple[int, int]):
        super().__init__()
        self._name = "DivMarkers"
        self.rows = rows
        self.rows_json = js_json(rows)
        self.size_json, self.anchor_json = js_json(icon_size), js_json(icon_anchor)

    def _get_self_bounds(self):
        return PlaceMarkers._get_self_bounds(self)


class GroupTracker(ScriptElement):
    """Empties the previous result's groups when the next result's groups come in.

    streamlit-folium takes the old groups off the map when it swaps in new ones, but keeps
    them in a list, so each swap would keep a whole result's layers alive in the page (about
    1 MB per profile change on the Helsinki demo). Each group registers itself; the first
    group of a new set (``first``) empties the groups of the set before it."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "{% if this.first %}(window.okMapGroups || []).forEach(function (g) {"
        " g.clearLayers(); g.off(); }); window.okMapGroups = [];{% endif %}"
        "(window.okMapGroups = window.okMapGroups || []).push({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )

    def __init__(self, *, first: bool = False):
        super().__init__()
        self._name = "GroupTracker"
        self.first = first


#: The look of a legend box (its place is a corner of the map, see :class:`Legend`).
LEGEND_STYLE = ("background:rgba(255,255,255,.92);padding:6px 10px;border:1px solid #888;"
                "border-radius:4px;font:12px sans-serif")


class Legend(ScriptElement):
    """A legend box in a corner of the map, shown while its parent (feature group) is on the
    map: a Leaflet control made by script, so it travels with the group when the dashboard
    swaps the result's groups into a map that stays (HTML elements would not). ``body`` is
    HTML whose data parts the caller escaped; it reaches the page as a JSON string."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "(function () {"
        "var g = {{ this._parent.get_name() }};"
        "var c = L.control({position: {{ this.position_json }}});"
        "c.onAdd = function () {"
        "var d = L.DomUtil.create('div', {{ this.class_json }});"
        "d.style.cssText = {{ this.style_json }}; d.innerHTML = {{ this.body_json }};"
        "return d; };"
        "g.on('add', function () { c.addTo(g._map); });"
        "g.on('remove', function () { c.remove(); });"
        "if (g._map) { c.addTo(g._map); }"
        "})();"
        "{% endmacro %}"
    )

    def __init__(self, body: str, *, position: str, css_class: str, style: str = LEGEND_STYLE):
        super().__init__()
        self._name = "Legend"
        self.body_json, self.position_json = js_json(body), js_json(position)
        self.class_json, self.style_json = js_json(css_class), js_json(style)


class LayerControl(folium.LayerControl):
    """folium's layer control that also takes off the map the overlays that start hidden
    (``show=False``): streamlit-folium adds every group in ``feature_group_to_add`` to the
    map, whatever its ``show``."""

    _template = folium.template.Template(
        "{% macro script(this, kwargs) %}"
        "{%- for name in this.hidden %}{{ name }}.remove();{% endfor %}"
        "var {{ this.get_name() }}_layers = {base_layers: { "
        "{%- for key, val in this.base_layers.items() %}{{ key|tojson }}: {{ val }}, {% endfor %}"
        " }, overlays: { "
        "{%- for key, val in this.overlays.items() %}{{ key|tojson }}: {{ val }}, {% endfor %}"
        " } };"
        "let {{ this.get_name() }} = L.control.layers({{ this.get_name() }}_layers.base_layers, "
        "{{ this.get_name() }}_layers.overlays, {{ this.options|tojavascript }})"
        ".addTo({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )

    def render(self, **kwargs):
        self.hidden = [item.get_name() for item in self._parent._children.values()
                       if isinstance(item, folium.map.Layer) and item.control
                       and item.overlay and not item.show]
        super().render(**kwargs)
