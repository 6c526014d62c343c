"""The CBS view of an area without meeting places, on the real files: Utrecht (generalised CBS
buurten in RD without a crs member, kerncijfers 2024, Nabijheid 2023) and Delft (PDOK fields in
the GeoPackage). Every figure is checked against the file read independently (pandas, csv)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from layers.analysis import prepare, run
from layers.cbsmap import cbs_map
from layers.cbsview import cbs_library_distance, cbs_view, spearman_library
from layers.datasets import AreaData, discover, find_area
from tests.realdata import need as real

UTRECHT = "utrecht"



@pytest.fixture(scope="module")
def utrecht_area() -> AreaData:
    real("utrecht/cbs_buurten_2024_utrecht.geojson")
    return find_area(discover(include_demo=False), UTRECHT)


@pytest.fixture(scope="module")
def utrecht(utrecht_area):
    return cbs_view(utrecht_area)


def _kwb_buurten() -> pd.DataFrame:
    df = pd.read_excel(real("utrecht/cbs_kwb_2024_utrecht.xlsx"))
    df = df[df["recs"].str.strip() == "Buurt"].copy()
    df["gwb_code"] = df["gwb_code"].str.strip()
    return df.set_index("gwb_code")


def _nabijheid_library_km() -> pd.Series:
    with real("utrecht/cbs_nabijheid_voorzieningen_buurt_2023_utrecht.csv").open(
            encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    head = rows[0]
    code = next(i for i, h in enumerate(head) if h.endswith("Codering (code)"))
    lib = next(i for i, h in enumerate(head) if h.endswith("Afstand tot bibliotheek (km)"))
    out = {r[code].strip(): (np.nan if r[lib].strip() == "." else float(r[lib]))
           for r in rows[1:] if r and r[code].strip().startswith("BU")}
    return pd.Series(out)


def test_utrecht_buurten_in_rd_with_cbs_figures(utrecht):
    doc = json.loads(real("utrecht/cbs_buurten_2024_utrecht.geojson").read_text())
    assert "crs" not in doc  # the case this reads: RD metres, no crs member
    codes = {f["properties"]["statcode"] for f in doc["features"]}
    kwb = _kwb_buurten()
    assert set(utrecht["buurtcode"]) == codes == set(kwb.index)
    assert utrecht.crs.to_epsg() == 28992
    # the polygons are the file's own RD coordinates, not degrees taken for metres
    first = doc["features"][0]
    row = utrecht.set_index("buurtcode").loc[first["properties"]["statcode"]]
    assert row.geometry.equals_exact(shapely.geometry.shape(first["geometry"]), 1e-6)
    assert any("EPSG:28992" in n for n in utrecht.attrs["notes"])  # and it says so
    t = utrecht.set_index("buurtcode")
    assert (t["inwoners"] == kwb.loc[t.index, "a_inw"].astype(float)).all()
    assert (t["inwoners_65plus"] == kwb.loc[t.index, "a_65_oo"].astype(float)).all()
    gm = pd.read_excel(real("utrecht/cbs_kwb_2024_utrecht.xlsx"))
    gm = gm[gm["recs"].str.strip() == "Gemeente"].iloc[0]
    # buurt sums against the gemeente row (CBS rounds each figure to 5)
    assert abs(t["inwoners_65plus"].sum() - gm["a_65_oo"]) <= 0.005 * gm["a_65_oo"]
    inw = kwb.loc[t.index, "a_inw"].astype(float)
    expect = (kwb.loc[t.index, "a_65_oo"] / inw).where(inw > 0)
    assert np.allclose(t["aandeel_65plus"], expect, equal_nan=True)
    assert t["aandeel_65plus"].isna().sum() == (inw == 0).sum() > 0  # no residents: no share


def test_utrecht_library_distance_is_cbs_nabijheid_as_published(utrecht):
    t = utrecht.set_index("buurtcode")["cbs_afstand_bibliotheek_km"]
    ref = _nabijheid_library_km()
    assert set(ref.index) == set(t.index)
    assert np.allclose(t, ref.loc[t.index], equal_nan=True)
    assert t.isna().sum() == ref.isna().sum() > 0  # "." stays unknown, never 0
    src = utrecht.attrs["bibliotheek_bron"]
    assert "CBS Nabijheid voorzieningen 2023" in src and "bibliotheek" in src


def test_delft_library_distance_from_the_wijk_en_buurtkaart_field():
    d = real("delft")
    area = AreaData(id="delft", name="Delft", folder=d,
                    boundaries=[d / "delft_buurten_proj.gpkg"],
                    population=[d / "cbs_wijkenbuurten_2023_delft_buurten_population.csv"])
    view = cbs_view(area)
    raw = pyogrio.read_dataframe(d / "delft_buurten_proj.gpkg", read_geometry=False,
                                 columns=["buurtcode", "gemeentecode",
                                          "bibliotheekGemiddeldeAfstandInKm"])
    raw = raw[raw["gemeentecode"] == "GM0503"].set_index("buurtcode")
    assert set(view["buurtcode"]) == set(raw.index)  # the neighbours' slivers are left out
    km = raw["bibliotheekGemiddeldeAfstandInKm"].where(lambda s: s >= 0)  # -99997: secret
    got = view.set_index("buurtcode")["cbs_afstand_bibliotheek_km"]
    assert np.allclose(got, km.loc[got.index], equal_nan=True)
    assert "Wijk- en Buurtkaart 2023" in view.attrs["bibliotheek_bron"]


def test_map_labels_cbs_measure_and_applies_the_small_count_rule(utrecht):
    import folium

    m = cbs_map(utrecht)
    html = m.get_root().render()
    assert "Afstand tot bibliotheek (km), gemeten door CBS" in html
    assert "CBS Nabijheid voorzieningen 2023" in html
    layers = [c for c in m._children.values() if isinstance(c, folium.GeoJson)]
    assert [layer.layer_name for layer in layers] == ["CBS: afstand tot bibliotheek",
                                                      "CBS: aandeel 65-plussers"]
    tips = {f["properties"]["buurtcode"]: f["properties"]["tip"]
            for f in layers[0].data["features"]}
    assert set(tips) == set(utrecht["buurtcode"])
    t = utrecht.set_index("buurtcode")
    small = t[t["inwoners_65plus"] < 10]
    assert len(small)  # Utrecht has buurten with fewer than 10 residents 65+
    for code in small.index:
        assert "65-plussers: &lt; 10 (onderdrukt" in tips[code].replace("< 10", "&lt; 10")
        inw = t.loc[code, "inwoners"]  # residents are published: only the 65+ are hidden
        assert f"inwoners: {inw:,.0f}<br>".replace(",", ".") in tips[code]
    for code in t.index[t["cbs_afstand_bibliotheek_km"].isna()]:
        assert "onbekend (niet gepubliceerd)" in tips[code]
    # the legend's left end (shortest distance) has the colour of the nearest buurt
    kleur = {f["properties"]["buurtcode"]: f["properties"]["kleur"]
             for f in layers[0].data["features"]}
    legend = next(c for c in m._children.values() if "ok-cbs-library" in getattr(c, "body", ""))
    left = legend.body.split("linear-gradient(to right,")[1].split(" ")[0]
    km = t["cbs_afstand_bibliotheek_km"]
    assert kleur[km.idxmin()].lower().startswith(left.lower()[:7])
    assert not kleur[km.idxmax()].lower().startswith(left.lower()[:7])
    big = t["inwoners_65plus"].idxmax()
    assert f"{t.loc[big, 'cbs_afstand_bibliotheek_km']:.1f} km".replace(".", ",") in tips[big]


def test_dashboard_shows_the_cbs_view_for_an_area_without_meeting_places(utrecht, utrecht_area):
    from streamlit.testing.v1 import AppTest

    app = str(Path(__file__).resolve().parents[2] / "app.py")
    at = AppTest.from_file(app, default_timeout=180).run()
    if at.sidebar.selectbox[0].value != utrecht_area.id:
        at.sidebar.selectbox[0].set_value(utrecht_area.id).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    total = int(utrecht["inwoners_65plus"].sum())
    assert metrics["65-plussers"] == f"{total:,} personen".replace(",", ".")
    captions = " ".join(c.value for c in at.caption).replace("\\", "")
    assert "CBS Nabijheid voorzieningen 2023" in captions
    assert "geen loopafstand van deze kaart" in captions


def test_spearman_library_on_a_real_prepared_area():
    """Delft's TU extract holds one library (TU Delft Library) and the GeoPackage CBS's library
    distance: a real case of the mechanics. Not a validation: CBS measures to public libraries
    over the whole road network, the extract covers 2.4 km² (see the README)."""
    d = real("delft")
    area = AreaData(id="delft-tu", name="Delft", folder=d, osm=[d / "tudelft.osm.pbf"],
                    boundaries=[d / "delft_buurten_proj.gpkg"],
                    population=[d / "cbs_wijkenbuurten_2023_delft_buurten_population.csv"])
    prep = prepare(area)
    from geo.profiles import load_profiles

    result = run(prep, load_profiles()[0]["older"], categories=["bibliotheek"])
    cbs_m, _src = cbs_library_distance(area)
    rho, n = spearman_library(result, cbs_m)
    ours = result.table.set_index("buurtcode")["mediaan_afstand_m"].astype(float)
    both = pd.concat([ours, cbs_m], axis=1, join="inner").replace(np.inf, np.nan).dropna()
    assert n == len(both) >= 3
    # pandas ranks and correlates on its own: the same number
    assert rho == pytest.approx(both.rank().corr().iloc[0, 1], abs=1e-12)
    with pytest.raises(Exception, match="bibliotheek"):
        spearman_library(run(prep, load_profiles()[0]["older"]), cbs_m)
