"""Which OSM ways a pedestrian may walk on: rules as data, per profile.

The rules live in ``data/profiles.toml`` (``[[walk_rules]]`` for every profile, and
``[[profiles.<id>.walk_rules]]`` that a profile puts in front of them). Each rule is a row
"tags → walk": the first rule whose ``when`` matches a way decides. ``walk`` is one of

* ``yes``: walkable;
* ``no``: not walkable;
* ``no_sidepath``: walkable only where no trottoir or voetpad runs alongside (Dutch law,
  RVV 1990 art. 4: a pedestrian uses the trottoir or voetpad, the fietspad only where those
  are missing). The test is per segment, see :func:`sidepath_edges`.

``when`` maps a tag key to the values that match: ``"*"`` matches any value and ``"-"`` an
absent tag. A rule matches when every key matches (AND); the values of one key are
alternatives (OR). A source without a tag column (a GIS way layer with only ``highway``)
treats that tag as absent everywhere; :func:`missing_tags` names such tags so results can say
which rules fell back to their "absent" branch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from geo.errors import InputError

if TYPE_CHECKING:
    from geo.network import WalkNetwork

WALK_VALUES = ("yes", "no", "no_sidepath")
RULE_KEYS = ("when", "walk", "why", "osmnx")
ANY, ABSENT = "*", "-"

#: Sidepath test: a segment of a voetpad/trottoir (footway, pedestrian, path with
#: foot=designated) closer than this to the middle of a cycleway segment, and roughly parallel,
#: means a pedestrian has a voetpad alongside (typical Dutch cross-sections: 1–8 m apart).
SIDEPATH_FOOTWAY_M = 12.0
#: ... or a road with ``sidewalk=both|left|right|yes|separate`` whose centre line is this close
#: (road half-width plus verge plus cycleway half-width).
SIDEPATH_ROAD_M = 20.0
#: Roughly parallel: the angle between the two segments is below this (degrees).
SIDEPATH_ANGLE_DEG = 30.0
#: What counts as a voetpad alongside.
FOOTWAY_HIGHWAYS = ("footway", "pedestrian")
SIDEWALK_VALUES = ("both", "left", "right", "yes", "separate")
SIDEWALK_KEYS = ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right")
ROAD_HIGHWAYS = (
    "primary", "primary_link", "secondary", "secondary_link", "tertiary", "tertiary_link",
    "unclassified", "residential", "living_street", "service", "road", "trunk", "trunk_link",
)


@dataclass(frozen=True)
class Rule:
    """One row of the rule table: when the tags match ``when``, ``walk`` decides."""

    when: tuple[tuple[str, tuple[str, ...]], ...]
    walk: str
    why: str = ""
    osmnx: str = ""

    def matches(self, tags: Mapping[str, str | None]) -> bool:
        for key, values in self.when:
            v = tags.get(key)
            v = None if v is None or v != v else str(v)
            if not _value_matches(v, values):
                return False
        return True

    def label(self) -> str:
        """``highway=cycleway, moped=designated`` (``*``: any value, ``-``: absent)."""
        parts = []
        for key, values in self.when:
            shown = ["(any)" if v == ANY else "(absent)" if v == ABSENT else v for v in values]
            parts.append(f"{key}={'|'.join(shown)}")
        return ", ".join(parts)


def _value_matches(v: str | None, values: tuple[str, ...]) -> bool:
    if v is None:
        return ABSENT in values
    return ANY in values or v in values


def parse_rules(raw: object, *, path: str | Path, where: str) -> tuple[Rule, ...]:
    """Validated rules from TOML (a list of tables); InputError naming the key and the file."""
    fix = "zie de uitleg bovenin data/profiles.toml"
    if not isinstance(raw, list):
        raise InputError(f"{where}: walk_rules moet een lijst van [[...walk_rules]]-tabellen zijn",
                         path=path, fix=fix)
    out = []
    for i, r in enumerate(raw, 1):
        here = f"{where}, regel {i}"
        if not isinstance(r, dict):
            raise InputError(f"{here}: geen tabel", path=path, fix=fix)
        for key in r:
            if key not in RULE_KEYS:
                raise InputError(f"{here}: onbekende sleutel {key!r} (unknown key); toegestaan: "
                                 f"{', '.join(RULE_KEYS)}", path=path, fix=fix)
        for key in ("when", "walk"):
            if key not in r:
                raise InputError(f"{here}: sleutel {key!r} ontbreekt (missing key); nodig: "
                                 "when, walk", path=path, fix=fix)
        if r["walk"] not in WALK_VALUES:
            raise InputError(f"{here}: walk = {r['walk']!r} is onbekend; toegestaan: "
                             f"{', '.join(WALK_VALUES)}", path=path, fix=fix)
        when = r["when"]
        if not isinstance(when, dict) or not when:
            raise InputError(f"{here}: when moet een niet-lege tabel tag = [waarden] zijn",
                             path=path, fix=fix)
        cond = []
        for key, values in when.items():
            vals = [values] if isinstance(values, str) else values
            if not isinstance(vals, list) or not vals or not all(isinstance(v, str) for v in vals):
                raise InputError(f"{here}: when.{key} moet een lijst van teksten zijn",
                                 path=path, fix=fix)
            cond.append((str(key), tuple(vals)))
        out.append(Rule(tuple(cond), r["walk"], str(r.get("why", "")), str(r.get("osmnx", ""))))
    return tuple(out)


def decide(rules: Sequence[Rule], tags: Mapping[str, str | None]) -> str:
    """The decision for one way's tags (``no`` when no rule matches)."""
    for r in rules:
        if r.matches(tags):
            return r.walk
    return "no"


def way_decisions(rules: Sequence[Rule], ways: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per way (row of ``ways``): the decision (object array of WALK_VALUES) and the index of
    the deciding rule (-1: none matched, not walkable). Missing tag columns count as absent."""
    n = len(ways)
    rule_of = np.full(n, -1, dtype=np.int64)
    open_ = np.ones(n, dtype=bool)
    cols: dict[str, np.ndarray] = {}
    absents: dict[str, np.ndarray] = {}
    for i, r in enumerate(rules):
        hit = open_.copy()
        for key, values in r.when:
            if key not in cols:
                if key in ways.columns:
                    col = ways[key].to_numpy(dtype=object)
                    cols[key] = np.array([None if (v is None or v != v) else str(v) for v in col],
                                         dtype=object)
                else:
                    cols[key] = np.full(n, None, dtype=object)
                absents[key] = np.array([v is None for v in cols[key]], dtype=bool)
            col, absent = cols[key], absents[key]
            m = np.zeros(n, dtype=bool)
            if ABSENT in values:
                m |= absent
            if ANY in values:
                m |= ~absent
            named = [v for v in values if v not in (ANY, ABSENT)]
            if named:
                m |= np.isin(col, named) & ~absent
            hit &= m
        rule_of[hit] = i
        open_ &= ~hit
    walk = np.array([r.walk for r in rules] + ["no"], dtype=object)[rule_of]
    return walk, rule_of


def missing_tags(rules: Sequence[Rule], ways: pd.DataFrame) -> list[str]:
    """Tag keys the rules look at that the source does not carry at all (treated as absent)."""
    keys = dict.fromkeys(k for r in rules for k, _ in r.when)
    return [k for k in keys if k not in ways.columns or ways[k].isna().all()]


def _cache(net: WalkNetwork) -> dict:
    return net.__dict__.setdefault("_walkrules_cache", {})


def sidepath_edges(net: WalkNetwork, which: np.ndarray | None = None) -> np.ndarray:
    """Per segment: True where a trottoir or voetpad runs alongside (computed for the
    segments in the boolean mask ``which``, default all; False elsewhere).

    The test (chosen here, documented in the README): the segment's midpoint lies within
    :data:`SIDEPATH_FOOTWAY_M` of a segment of a ``footway``/``pedestrian`` way or a ``path``
    with ``foot=designated``, or within :data:`SIDEPATH_ROAD_M` of a road segment whose
    ``sidewalk``/``sidewalk:*`` says there is a sidewalk, and the two segments are within
    :data:`SIDEPATH_ANGLE_DEG` of parallel. Ways with ``foot=no|use_sidepath|private`` are no
    voetpad. Without a ``sidewalk`` column only mapped footways count. The outline of a
    pedestrian area counts; the segments across it do not (they lie inside the square).
    """
    which = np.ones(net.n_edges, dtype=bool) if which is None else np.asarray(which, dtype=bool)
    key = ("sidepath", which.tobytes())
    cache = _cache(net)
    if key in cache:
        return cache[key]
    ways = net.ways
    hw = _col(ways, "highway")
    foot = _col(ways, "foot")
    foot_ok = ~np.isin(foot, ["no", "use_sidepath", "private"])
    footway = (np.isin(hw, FOOTWAY_HIGHWAYS) | ((hw == "path") & (foot == "designated"))) & foot_ok
    sidewalk = np.zeros(len(ways), dtype=bool)
    for tag in SIDEWALK_KEYS:
        sidewalk |= np.isin(_col(ways, tag), SIDEWALK_VALUES)
    road = np.isin(hw, ROAD_HIGHWAYS) & sidewalk
    e_foot = footway[net.edge_way]
    e_road = road[net.edge_way]
    if "area" in ways.columns:  # segments across a square are no path alongside anything
        area = (ways["area"].to_numpy(dtype=object) == "yes")[net.edge_way]
        e_foot &= ~area | _outline(net)
    out = np.zeros(net.n_edges, dtype=bool)
    mx = (net.x[net.edge_u] + net.x[net.edge_v]) / 2
    my = (net.y[net.edge_u] + net.y[net.edge_v]) / 2
    dx = net.x[net.edge_v] - net.x[net.edge_u]
    dy = net.y[net.edge_v] - net.y[net.edge_u]
    norm = np.hypot(dx, dy)
    norm[norm == 0] = 1.0
    ux, uy = dx / norm, dy / norm
    cos_max = np.cos(np.radians(SIDEPATH_ANGLE_DEG))
    segs = net.segments()
    asked = np.nonzero(which)[0]
    mids = shapely.points(mx[asked], my[asked])
    for cand, radius in ((np.nonzero(e_foot)[0], SIDEPATH_FOOTWAY_M),
                         (np.nonzero(e_road)[0], SIDEPATH_ROAD_M)):
        if len(cand) == 0:
            continue
        tree = shapely.STRtree(segs[cand])
        q, c = tree.query(mids, predicate="dwithin", distance=radius)
        q, other = asked[q], cand[c]
        keep = (q != other) & (net.edge_way[q] != net.edge_way[other])
        q, other = q[keep], other[keep]
        parallel = np.abs(ux[q] * ux[other] + uy[q] * uy[other]) >= cos_max
        out[q[parallel]] = True
    cache[key] = out
    return out


def _outline(net: WalkNetwork) -> np.ndarray:
    """Segments between consecutive OSM nodes, i.e. not added across a square by
    :func:`geo.network.add_area_crossings` (which appends them and records how many came
    before)."""
    first_added = int(net.__dict__.get("n_osm_edges", net.n_edges))
    return np.arange(net.n_edges) < first_added


def _col(ways: pd.DataFrame, key: str) -> np.ndarray:
    if key not in ways.columns:
        return np.full(len(ways), None, dtype=object)
    return ways[key].to_numpy(dtype=object)


@dataclass(frozen=True)
class EdgeRules:
    """The rules applied to every segment of a network for one profile."""

    allowed: np.ndarray  # bool (m,)
    rule: np.ndarray  # int64 (m,): deciding rule, -1 where none matched
    cycleway: np.ndarray  # bool (m,): allowed segments that are fietspaden (see is_cycleway)
    missing: tuple[str, ...]  # tags the rules use that the source lacks


def edge_rules(net: WalkNetwork, rules: Sequence[Rule]) -> EdgeRules:
    """Apply ``rules`` to every segment (the way's decision; ``no_sidepath`` per segment)."""
    key = ("edges", tuple(rules))
    cache = _cache(net)
    if key in cache:
        return cache[key]
    walk, rule_of = way_decisions(rules, net.ways)
    e_walk = walk[net.edge_way]
    allowed = e_walk == "yes"
    cond = e_walk == "no_sidepath"
    if cond.any():
        allowed |= cond & ~sidepath_edges(net, cond)
    hw = _col(net.ways, "highway")[net.edge_way]
    cycle = allowed & ((hw == "cycleway") | cond)
    missing = missing_tags(rules, net.ways)
    if any(r.walk == "no_sidepath" for r in rules) and all(
            k in missing_tags([Rule(((k, (ANY,)),), "no")], net.ways) for k in SIDEWALK_KEYS):
        missing.append("sidewalk")  # the sidepath test then sees mapped footways only
    out = EdgeRules(allowed, rule_of[net.edge_way], cycle, tuple(missing))
    cache[key] = out
    return out


@lru_cache(maxsize=4)
def _rule_sets(path: str) -> tuple[tuple[Rule, ...], ...]:
    from geo.io import read_toml

    raw = read_toml(path, what="profielen", fix="herstel de TOML-syntax van data/profiles.toml")
    base = parse_rules(raw.get("walk_rules", []), path=path, where="walk_rules")
    sets = [base]
    for pid, p in (raw.get("profiles") or {}).items():
        if isinstance(p, dict) and "walk_rules" in p:
            sets.append(parse_rules(p["walk_rules"], path=path, where=f"profiel {pid!r}") + base)
    return tuple(sets)


def could_walk(tags: Mapping[str, str | None], *, path: str | Path | None = None) -> bool:
    """Coarse pre-filter for readers: could any profile walk a way with these tags?

    ``no_sidepath`` counts as possibly walkable (decided per segment later)."""
    if path is None:
        from geo.settings import REPO_ROOT

        path = REPO_ROOT / "data" / "profiles.toml"
    if tags.get("highway") is None:
        return False
    keys = _rule_keys(str(path))
    return _could_walk(str(path), tuple(tags.get(k) for k in keys))


@lru_cache(maxsize=4)
def _rule_keys(path: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(k for rs in _rule_sets(path) for r in rs for k, _ in r.when))


@lru_cache(maxsize=4096)
def _could_walk(path: str, values: tuple[str | None, ...]) -> bool:
    tags = dict(zip(_rule_keys(path), values, strict=True))
    return any(decide(rs, tags) != "no" for rs in _rule_sets(path))


def markdown_table(profiles: Mapping[str, Sequence[Rule]], base: Sequence[Rule]) -> str:
    """The rule table as Markdown (README): the common rules in order, then each profile's own
    rules (which come before the common ones for that profile)."""
    shown = {"yes": "ja", "no": "nee", "no_sidepath": "alleen zonder trottoir/voetpad ernaast"}
    lines = ["| # | profiel | tags | lopen | waarom | OSMnx `walk` |",
             "| --- | --- | --- | --- | --- | --- |"]
    for i, r in enumerate(base, 1):
        lines.append(f"| {i} | alle | `{_cell(r.label())}` | {shown[r.walk]} | {r.why} | "
                     f"{r.osmnx} |")
    for pid, rules in profiles.items():
        for r in rules[: len(rules) - len(base)]:
            lines.append(f"| vóór 1 | `{pid}` | `{_cell(r.label())}` | {shown[r.walk]} | {r.why} | "
                         f"{r.osmnx} |")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
