"""Suppression, wijk totals, gap and service areas, and what-if scenarios on the real demo."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.hours import PERIODS
from layers.analysis import run
from layers.outputs import (
    SUPPRESS_BELOW,
    export_layers,
    gap_layer,
    screen_value,
    service_area_layer,
    suppress,
    wijk_table,
)
from layers.scenario import AddedPlace, Scenario


@pytest.fixture(scope="module")
def base(demo_prepared, all_profiles):
    return run(demo_prepared, all_profiles["older"])


def test_small_counts_are_suppressed_in_exports_and_shown_as_less_than_ten():
    t = pd.DataFrame({"buurtcode": ["BU1", "BU2", "BU3"], "inwoners_65plus": [9.0, 10.0, np.nan],
                      "binnen_bereik_65plus": [4.0, 7.0, np.nan],
                      "buiten_bereik_65plus": [5.0, 3.0, np.nan],
                      "aandeel_binnen_bereik": [4 / 9, 0.7, np.nan],
                      "mediaan_afstand_m": [300.0, 200.0, 100.0]})
    s = suppress(t, "inwoners_65plus")
    assert s["onderdrukt"].tolist() == [True, False, False]
    assert s.loc[0, ["inwoners_65plus", "binnen_bereik_65plus", "buiten_bereik_65plus",
                     "aandeel_binnen_bereik"]].isna().all()
    assert s.loc[1, "binnen_bereik_65plus"] == 7 and s.loc[0, "mediaan_afstand_m"] == 300
    assert t.loc[0, "inwoners_65plus"] == 9  # the raw table is untouched
    assert screen_value(9, True) == f"< {SUPPRESS_BELOW}" and screen_value(1234, False) == "1.234"


def test_buildings_are_never_suppressed(base):
    layers = export_layers(base)
    assert not layers["buurten"]["onderdrukt"].any()
    assert layers["buurten"]["woongebouwen"].sum() == base.headline["totaal"]


def test_gap_areas_hold_every_home_beyond_reach(base):
    gaps = gap_layer(base)
    o = base.origins
    beyond = o[(o["dist_m"] > base.profile.max_distance_m) & (o["w_homes"] > 0)]
    assert gaps["buiten_bereik"].sum() == pytest.approx(beyond["w_homes"].sum())
    assert gaps["buiten_bereik"].sum() == base.headline["buiten"]
    assert gaps.geometry.is_valid.all() and (gaps["buiten_bereik"] > 0).all()


def test_wijk_totals_are_the_sums_of_their_buurten(base):
    t = base.table.copy()
    t["wijkcode"] = np.where(np.arange(len(t)) % 2 == 0, "W-even", "W-oneven")  # grouping only
    r = type(base)(**{**base.__dict__, "table": t, "cache": {}})
    w = wijk_table(r)
    assert sorted(w["wijkcode"]) == ["W-even", "W-oneven"]
    for col in ("binnen_bereik_woongebouwen", "buiten_bereik_woongebouwen"):
        assert w[col].sum() == t[col].sum()
    assert (w["mediaan_afstand_m"] <= w["p90_afstand_m"]).all()


def test_export_layers_have_the_same_numbers_as_the_result(base):
    layers = export_layers(base)
    assert set(layers) == {"buurten", "wijken", "plekken", "servicegebieden", "gaten",
                           "herkomsten"}
    h = layers["herkomsten"]
    assert len(h) == len(base.origins)
    reach = base.origins["dist_m"].to_numpy() <= base.profile.max_distance_m
    assert ((h["plekken_binnen_bereik"] > 0).to_numpy() == reach).all()
    assert set(h.loc[reach, "dichtstbijzijnde_plek"].dropna()) <= set(base.places["naam"])
    assert len(layers["buurten"]) == len(base.table)
    assert len(layers["servicegebieden"]) == len(base.places)
    assert layers["plekken"]["binnen_bereik"].sum() == pytest.approx(base.headline["binnen"])
    nearest = service_area_layer(base, nearest_only=True)
    assert nearest.geometry.area.sum() <= layers["servicegebieden"].geometry.area.sum() + 1


def test_closing_a_place_makes_its_users_walk_further_never_less(base, demo_prepared,
                                                                 all_profiles):
    busiest = base.places.sort_values("binnen_bereik").iloc[-1]
    after = run(demo_prepared, all_profiles["older"],
                scenario=Scenario().remove(busiest.place_id))
    users = base.origins["place_row"] == busiest.row
    assert (after.origins["dist_m"] >= base.origins["dist_m"] - 1e-9).all()
    assert (after.origins.loc[users, "dist_m"] > base.origins.loc[users, "dist_m"]).all()
    assert busiest.place_id not in set(after.places["place_id"])
    assert after.headline["buiten"] >= base.headline["buiten"]


def test_a_new_place_where_people_are_far_brings_them_within_reach(base, demo_prepared,
                                                                   all_profiles):
    o = base.origins
    beyond = o[(o["dist_m"] > base.profile.max_distance_m) & np.isfinite(o["dist_m"])]
    far = beyond.sort_values("dist_m").iloc[-1]
    sc = Scenario().add(AddedPlace(far.x, far.y))
    after = run(demo_prepared, all_profiles["older"], scenario=sc)
    assert (after.origins["dist_m"] <= o["dist_m"] + 1e-9).all()
    assert after.headline["buiten"] < base.headline["buiten"]
    assert "scenario-1" in set(after.places["place_id"])
    # several changes at once, and undo gives the base result back
    both = run(demo_prepared, all_profiles["older"], scenario=sc.remove(
        base.places.iloc[0].place_id))
    assert both.headline["totaal"] == base.headline["totaal"]
    again = run(demo_prepared, all_profiles["older"], scenario=Scenario())
    assert np.allclose(again.origins["dist_m"], o["dist_m"], equal_nan=True)


@pytest.mark.parametrize("pid", ["fit", "older", "rollator", "wheelchair"])
def test_every_profile_runs_on_real_data_and_states_itself(demo_prepared, all_profiles, pid):
    p = all_profiles[pid]
    r = run(demo_prepared, p)
    assert (r.table["profiel"] == pid).all()
    assert (r.table["max_afstand_m"] == round(p.max_distance_m, 1)).all()
    assert p.label in r.caption()


def test_stricter_profiles_leave_more_beyond_reach(demo_prepared, all_profiles):
    older = run(demo_prepared, all_profiles["older"]).headline["buiten"]
    wheel = run(demo_prepared, all_profiles["wheelchair"]).headline["buiten"]
    fit = run(demo_prepared, all_profiles["fit"]).headline["buiten"]
    faster = all_profiles["older"].with_(speed_kmh=4.8)
    assert fit <= older <= wheel
    assert run(demo_prepared, faster).headline["buiten"] == fit  # same 800 m, same network


def test_filters_and_opening_hours_only_take_places_away(base, demo_prepared, all_profiles):
    p = all_profiles["older"]
    inst = run(demo_prepared, p, spheres=["institutioneel"])
    assert set(inst.places["sfeer"]) == {"institutioneel"}
    no_parks = run(demo_prepared, p, categories=[c for c in set(base.places["categorie"])
                                                 if c != "park"])
    sunday = run(demo_prepared, p, period=PERIODS["zondag_middag"])
    for r in (inst, no_parks, sunday):
        assert (r.origins["dist_m"] >= base.origins["dist_m"] - 1e-9).all()
    assert len(sunday.places) < len(base.places)
    assert any("tellen als open" in n for n in sunday.notes)
