"""Choice within reach, checked against a naive reference: networkx single-source Dijkstra from
a sample of real homes (Helsinki demo and the TU Delft extract with CBS buurten), on the
same graph with the homes and access points joined to their segments."""

from __future__ import annotations

import dataclasses

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from geo.profiles import edge_mask
from layers import choice as ch
from layers.analysis import prepare, run
from layers.outputs import export_layers
from layers.scenario import AddedPlace, Scenario
from tests.layers.real_data import amsterdam_centre, delft_tu

SAMPLE = 40


@pytest.fixture(scope="module")
def delft(older):
    return run(prepare(delft_tu()), older)


@pytest.fixture(scope="module")
def amsterdam(tmp_path_factory, older):
    """Amsterdam Centrum: dense, where most 65+ have a real choice."""
    return run(prepare(amsterdam_centre(tmp_path_factory.mktemp("ams"))), older)


def reference(result, homes: np.ndarray) -> dict[int, dict[str, float]]:
    """Per sampled origin: distance to the nearest place of each category, by networkx
    single-source Dijkstra from the origin (access points as nodes, same-segment walks as
    direct edges)."""
    prep = result.prepared
    net = prep.net
    state = prep.routing_state(result.profile)
    g = net.to_networkx(edge_mask(net, result.profile))
    src = result.nearest.sources
    cat_of_row = result.places.set_index("row")["categorie"]
    cat = {i: cat_of_row.get(int(result.owner[i])) for i in np.nonzero(src.ok)[0]}
    cat = {i: c for i, c in cat.items() if c is not None}

    def join(node, e, t, d):
        along = t * net.edge_len[e]
        for end, w in ((net.edge_u[e], d + along), (net.edge_v[e], d + net.edge_len[e] - along)):
            end = int(end)
            if not g.has_edge(node, end) or g[node][end]["length"] > w:
                g.add_edge(node, end, length=w)

    for i in cat:
        join(("s", i), src.edge[i], src.t[i], src.dist[i])
    pts = state["origins"]
    out = {}
    for h in homes:
        node = ("h", int(h))
        join(node, pts.edge[h], pts.t[h], pts.dist[h])
        for i in cat:
            if src.edge[i] == pts.edge[h]:
                direct = (pts.dist[h] + src.dist[i]
                          + abs(pts.t[h] - src.t[i]) * net.edge_len[pts.edge[h]])
                g.add_edge(node, ("s", i), length=min(direct, g.get_edge_data(
                    node, ("s", i), {"length": np.inf})["length"]))
        d = nx.single_source_dijkstra_path_length(g, node, weight="length")
        best: dict[str, float] = {}
        for i, c in cat.items():
            best[c] = min(best.get(c, np.inf), d.get(("s", i), np.inf))
        out[int(h)] = best
        g.remove_node(node)
    return out


def check_against_reference(result):
    c = ch.category_reach(result)
    limit = result.profile.max_distance_m
    snapped = result.prepared.routing_state(result.profile)["origins"].ok
    ok = np.nonzero(snapped & ~np.isnan(result.origins["dist_m"].to_numpy()))[0]  # in the data
    rng = np.random.default_rng(13)
    homes = rng.choice(ok, size=min(SAMPLE, len(ok)), replace=False)
    ref = reference(result, homes)
    checked = 0
    for h in homes:
        for j, cat in enumerate(c.categories):
            want = ref[int(h)].get(cat, np.inf)
            got = c.dist[h, j]
            if abs(want - limit) < 0.5:
                continue  # on the limit: float noise may decide
            assert (want <= limit) == bool(c.within[h, j]), (h, cat, want, got)
            if want <= limit:
                assert abs(want - got) < 0.5, (h, cat, want, got)
            checked += 1
    # at least one sampled home reaches a category and at least one does not: not vacuous
    assert c.within[homes].any() and not c.within[homes].all()
    return checked


def test_categories_within_reach_equal_networkx_helsinki(helsinki_prep, older):
    result = run(helsinki_prep, older)
    assert check_against_reference(result) > 100


def test_categories_within_reach_equal_networkx_delft(delft):
    assert check_against_reference(delft) > 50


def test_categories_within_reach_equal_networkx_amsterdam(amsterdam, delft):
    """Amsterdam Centrum: dense, so more 65+ have a real choice than around the TU Delft
    campus; the reference agrees."""
    assert ch.headline(amsterdam)["aandeel_echte_keuze"] > ch.headline(delft)[
        "aandeel_echte_keuze"]
    assert check_against_reference(amsterdam) > 50


def test_rollator_profile_uses_its_masked_network(helsinki_prep, all_profiles):
    result = run(helsinki_prep, all_profiles["rollator"])
    assert check_against_reference(result) > 50


def test_a_category_within_reach_iff_the_nearest_place_is(delft):
    c = ch.category_reach(delft)
    d = delft.origins["dist_m"].to_numpy()
    known = ~np.isnan(d)  # homes outside the data have no distance, and no categories
    assert known.sum() > 100 and (~known).any()
    assert np.isnan(c.dist[~known]).all() and not c.within[~known].any()
    near = d <= delft.profile.max_distance_m
    assert np.array_equal((c.n_categories >= 1)[known], near[known])
    # nearest distance is the minimum over the categories
    best = np.where(near, c.dist.min(axis=1), np.inf)
    assert np.allclose(best[near], delft.origins["dist_m"].to_numpy()[near], atol=1e-6)


def test_real_choice_needs_two_categories_and_both_spheres(amsterdam):
    c = ch.category_reach(amsterdam)
    inst = c.has_sphere("institutioneel")
    gem = c.has_sphere("gemeenschappelijk")
    assert np.array_equal(c.real_choice, (c.n_categories >= 2) & inst & gem)
    assert c.real_choice.any() and (~c.real_choice & (c.n_categories >= 1)).any()
    assert set(c.spheres) == {"institutioneel", "gemeenschappelijk"}


@pytest.mark.parametrize("name", ["amsterdam", "delft"])
def test_buurt_shares_are_the_weighted_home_shares(name, request):
    """Per buurt, recomputed with a plain groupby over the homes: 65+ with a real choice."""
    result = request.getfixturevalue(name)
    cols = ch.choice_columns(result)
    c = ch.category_reach(result)
    o = result.origins.assign(real=c.real_choice)
    w = o["w_demand"]
    expect = (w * o["real"]).groupby(o["area"]).sum() / w.groupby(o["area"]).sum()
    t = result.table.assign(share=cols["aandeel_echte_keuze"].to_numpy())
    known = t["aandeel_binnen_bereik"].notna()
    got = t[known].set_index("buurtcode")["share"]
    assert np.allclose(got, expect.reindex(got.index), atol=1e-9)
    assert t.loc[~known, "share"].isna().all()
    # real choice is rarer than reach: never above the share within reach
    assert (got <= t[known].set_index("buurtcode")["aandeel_binnen_bereik"] + 1e-9).all()
    assert (got > 0).any() or name == "delft"  # around the TU campus nobody has both spheres


def test_unknown_or_outside_buurten_stay_nan(delft):
    t = delft.table.copy()
    has = t.index[t["aandeel_binnen_bereik"] > 0][:2]
    t.loc[has[0], "aandeel_binnen_bereik"] = np.nan
    t["status"] = "volledig"
    t.loc[has[1], "status"] = "buiten"
    moved = dataclasses.replace(delft, table=t)
    cols = ch.choice_columns(moved)
    assert cols.loc[has].isna().all().all()
    assert cols.drop(index=has)["aandeel_echte_keuze"].notna().sum() == (
        delft.table["aandeel_binnen_bereik"].notna().sum() - 2)


def test_closing_every_library_removes_that_category(delft):
    libs = delft.places.loc[delft.places["categorie"] == "bibliotheek", "place_id"]
    assert len(libs)
    closed = run(delft.prepared, delft.profile, scenario=Scenario(removed=tuple(libs)))
    c = ch.category_reach(closed)
    assert "bibliotheek" not in c.categories
    before = ch.headline(delft)["echte_keuze"]
    assert ch.headline(closed)["echte_keuze"] <= before


def test_exports_carry_choice_columns_suppressed_like_reach(amsterdam):
    delft = amsterdam  # the checks below hold for any area with wijken
    layers = export_layers(delft)
    b = layers["buurten"]
    for col in ("echte_keuze_65plus", "aandeel_echte_keuze", "aandeel_beide_sferen"):
        assert col in b
        assert b.loc[b["onderdrukt"], col].isna().all()
    assert {"categorieen_binnen_bereik", "echte_keuze"} <= set(layers["herkomsten"].columns)
    w = layers["wijken"]
    assert "aandeel_echte_keuze" in w
    # wijk totals equal the sum over its known buurten (raw numbers)
    raw = pd.concat([delft.table, ch.choice_columns(delft)], axis=1)
    per_wijk = raw.groupby("wijkcode")["echte_keuze_65plus"].sum(min_count=1)
    w = w.set_index("wijkcode")
    shown = w["echte_keuze_65plus"].dropna()
    assert len(shown) and shown.sum() > 0
    diff = abs(shown - per_wijk.reindex(shown.index))
    assert (diff <= w.loc[shown.index, "aantal_buurten"]).all()  # rounding per buurt


def test_a_scenario_place_adds_its_category_around_it(delft):
    """A hypothetical library at a home that has none within reach: that home now reaches
    the library category at its own door (the scenario place joins the per-category pass;
    both walk from the door to the same path)."""
    c = ch.category_reach(delft)
    lib = c.categories.index("bibliotheek")
    snapped = delft.prepared.routing_state(delft.profile)["origins"].ok
    counted = ~np.isnan(delft.origins["dist_m"].to_numpy())  # a home in the data
    h = int(np.nonzero(~c.within[:, lib] & snapped & counted)[0][0])
    o = delft.prepared.origins.iloc[h]
    sc = Scenario(added=(AddedPlace(float(o["x"]), float(o["y"]), naam="Bibliotheekpunt",
                                    categorie="bibliotheek"),))
    after = ch.category_reach(run(delft.prepared, delft.profile, scenario=sc))
    j = after.categories.index("bibliotheek")
    walk_to_path = delft.prepared.routing_state(delft.profile)["origins"].dist[h]
    assert after.within[h, j] and after.dist[h, j] <= 2 * walk_to_path + 0.5  # there and back
    # nothing else loses a category
    same = [after.categories.index(k) for k in c.categories]
    assert (after.within[:, same] >= c.within).all()
