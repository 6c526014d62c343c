"""Read a street graph saved as GraphML (osmnx ``save_graphml``) into an :class:`OsmExtract`.

osmnx users often save their walk graph with an ``.osm`` or ``.xml`` name, so a GraphML file is
recognised by its content (``<graphml`` in the first kilobyte), whatever its extension.

The file is parsed with the standard library's streaming XML parser, not with networkx/osmnx:
the format is small (``<key>`` declarations, then ``<node>``/``<edge>`` elements with ``<data>``
children), and parsing it directly keeps osmnx's ``load_graphml`` available as an independent
reference in the tests.

How the graph becomes ways:

* every edge is one way from its source node to its target node; the interior vertices of its
  ``geometry`` (WKT, present on edges that osmnx simplified) get synthetic negative node ids, so
  the network keeps the exact mapped shape; an edge without geometry is a straight segment;
* osmnx stores a two-way street in both directions; the two copies (same ``osmid``, same end
  nodes, same geometry up to direction) become one way. Parallel edges with different
  geometry, and distinct OSM ways over the same nodes, are kept (as :func:`read_osm` does);
* simplified edges can merge several OSM ways, and then a tag holds a list (``"['footway',
  'steps']"``). Rule: for ``highway`` the most demanding value wins, ``steps`` first (a rollator
  or wheelchair profile must avoid the whole edge when part of it is a stair), then the order of
  :data:`HIGHWAY_PRIORITY`; for ``access``/``foot`` the most closing value wins
  (``no``/``private`` before ``use_sidepath``/``destination``); for every other tag the first
  listed value. ``osm_id`` is the first listed OSM way id; the whole list stays in ``osmid``;
* the extent is the convex hull of the graph's nodes (a GraphML file states no area).
"""

from __future__ import annotations

import ast
import gzip
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo.errors import InputError
from geo.io import require_readable
from geo.osm import CLOSED_ACCESS, NODE_TAG_KEYS, OsmExtract, is_walkable

_NS = "{http://graphml.graphdrawing.org/xmlns}"
#: highway values in order of precedence when a simplified edge merges several ways.
HIGHWAY_PRIORITY = (
    "steps", "corridor", "elevator", "path", "track", "bridleway", "footway", "cycleway",
    "pedestrian", "living_street", "service", "residential", "unclassified", "tertiary",
    "secondary", "primary",
)
#: access/foot values in order of precedence (most closing first) for merged edges.
ACCESS_PRIORITY = ("no", "private", "use_sidepath", "destination", "customers", "permissive")
#: edge attributes osmnx computes itself; they are not OSM tags.
_DERIVED = frozenset({"geometry", "length", "reversed", "key", "id", "osmid", "from", "to"})
#: node attributes that are coordinates or osmnx counts, not OSM tags.
_NODE_DERIVED = frozenset({"x", "y", "lon", "lat", "street_count", "osmid", "id"})


def is_graphml_file(path: str | Path) -> bool:
    """True when the first kilobyte (after gzip decompression for ``.gz``) holds ``<graphml``."""
    p = Path(path)
    try:
        if p.suffix.lower() == ".gz":
            with gzip.open(p, "rb") as f:
                head = f.read(1024)
        else:
            with open(p, "rb") as f:
                head = f.read(1024)
    except (OSError, EOFError):
        return False
    return b"<graphml" in head


def _parse(path: Path) -> tuple[dict[str, str], dict[str, dict], list[tuple[str, str, dict]]]:
    """Graph attributes, nodes (id -> attributes) and edges (source, target, attributes)."""
    keys: dict[str, str] = {}
    graph: dict[str, str] = {}
    nodes: dict[str, dict] = {}
    edges: list[tuple[str, str, dict]] = []
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rb") as f:
        for _, el in ET.iterparse(f, events=("end",)):
            tag = el.tag.removeprefix(_NS)
            if tag == "key":
                keys[el.get("id", "")] = el.get("attr.name") or el.get("id", "")
            elif tag in ("node", "edge", "graph"):
                data = {keys.get(d.get("key", ""), d.get("key", "")): d.text
                        for d in el.findall(f"{_NS}data")}
                if tag == "node":
                    nodes[el.get("id", "")] = data
                elif tag == "edge":
                    edges.append((el.get("source", ""), el.get("target", ""), data))
                else:
                    graph.update({k: v for k, v in data.items() if v is not None})
                el.clear()
    return graph, nodes, edges


def _values(text: str | None) -> list[str]:
    """An osmnx attribute as a list of strings (``"['a', 'b']"`` -> ``['a', 'b']``)."""
    if text is None:
        return []
    t = text.strip()
    if t.startswith("[") and t.endswith("]"):
        try:
            parsed = ast.literal_eval(t)
        except (ValueError, SyntaxError):
            return [t]
        if isinstance(parsed, list):
            return [str(v) for v in parsed]
    return [t]


def _pick(key: str, values: list[str]) -> str:
    if len(values) == 1:
        return values[0]
    order = {"highway": HIGHWAY_PRIORITY, "access": ACCESS_PRIORITY, "foot": ACCESS_PRIORITY}
    prio = order.get(key)
    if prio:
        ranked = [v for v in prio if v in values]
        if ranked:
            return ranked[0]
    return values[0]


def read_graphml(path: str | Path) -> OsmExtract:
    """Walkable ways (and tagged nodes) of a GraphML street graph, as :func:`geo.osm.read_osm`
    returns them; features and buildings are empty (GraphML holds only the network)."""
    p = require_readable(path, what="GraphML-netwerk",
                         fix="geef een GraphML-bestand zoals osmnx.save_graphml het schrijft")
    if not is_graphml_file(p):
        raise InputError("geen GraphML-bestand (no <graphml> element)", path=p,
                         fix="geef een GraphML-bestand zoals osmnx.save_graphml het schrijft")
    try:
        graph, nodes, edges = _parse(p)
    except (ET.ParseError, OSError, EOFError) as exc:
        raise InputError(f"GraphML-bestand onleesbaar: {exc}", path=p,
                         fix="sla het netwerk opnieuw op met osmnx.save_graphml") from exc
    if not nodes or not edges:
        raise InputError("het GraphML-bestand heeft geen knopen of wegen", path=p,
                         fix="sla een netwerk met wegen op (osmnx.save_graphml)")
    node_id, node_lon, node_lat = _node_table(p, graph, nodes)
    to_lonlat = _to_lonlat(graph.get("crs"))
    rows: list[dict] = []
    seen: set[tuple] = set()
    skipped = {"duplicate_directions": 0, "not_walkable": 0, "merged_tag_lists": 0,
               "edges_with_unknown_nodes": 0}
    next_id = -1
    has_foot = False
    closed_by_access: set[tuple] = set()  # (end nodes, way ids): both directions once
    for u, v, data in edges:
        if u not in node_id or v not in node_id:
            skipped["edges_with_unknown_nodes"] += 1
            continue
        tags: dict[str, str] = {}
        merged = False
        has_foot |= "foot" in data
        for k, text in data.items():
            if k in _DERIVED or text is None:
                continue
            vals = _values(text)
            if not vals:
                continue
            merged |= len(vals) > 1
            tags[k] = _pick(k, vals)
        if not is_walkable(tags):
            skipped["not_walkable"] += 1
            has_foot |= "foot" in tags
            if tags.get("access") in CLOSED_ACCESS and "foot" not in tags:
                closed_by_access.add((frozenset((u, v)), tuple(sorted(_values(data.get("osmid"))))))
            continue
        lon, lat = _edge_coords(data.get("geometry"), to_lonlat, node_lon, node_lat, u, v)
        osm_ids = _values(data.get("osmid"))
        # the reverse copy may list merged way ids in another order
        key = (tuple(sorted(osm_ids)), *_direction_free_key(node_id[u], node_id[v], lon, lat))
        if key in seen:
            skipped["duplicate_directions"] += 1
            continue
        seen.add(key)
        skipped["merged_tag_lists"] += merged
        n_inner = len(lon) - 2
        inner = np.arange(next_id, next_id - n_inner, -1, dtype=np.int64)
        next_id -= n_inner
        ids = np.r_[np.int64(node_id[u]), inner, np.int64(node_id[v])]
        rows.append({"osm_id": _int_or_none(osm_ids[0]) if osm_ids else None,
                     "node_ids": ids, "lon": lon, "lat": lat,
                     "osmid": data.get("osmid"), **tags})
    if not rows:
        raise InputError("het GraphML-netwerk heeft geen beloopbare wegen (no walkable ways)",
                         path=p, fix="sla een wandelnetwerk op (network_type='walk')")
    ways = pd.DataFrame(rows)
    ways = ways[["osm_id", "node_ids", "lon", "lat", *[c for c in ways.columns
                                                      if c not in ("osm_id", "node_ids", "lon",
                                                                   "lat")]]]
    node_tags = {}
    for nid, data in nodes.items():
        tags = {k: str(val) for k, val in data.items() if k not in _NODE_DERIVED
                and val is not None}
        if any(k in tags for k in NODE_TAG_KEYS):
            node_tags[node_id[nid]] = tags
    lon_all = np.concatenate(ways["lon"].to_numpy())
    lat_all = np.concatenate(ways["lat"].to_numpy())
    bounds = (float(lon_all.min()), float(lat_all.min()), float(lon_all.max()),
              float(lat_all.max()))
    extent = shapely.convex_hull(shapely.multipoints(
        np.c_[list(node_lon.values()), list(node_lat.values())]))
    notes = [
        f"{p.name}: GraphML-wegennetwerk (osmnx); het gebied is de convexe omhullende van de "
        "knopen. Het bestand bevat geen gebouwen en geen voorzieningen: die komen uit andere "
        "bestanden in de map.",
    ]
    if skipped["merged_tag_lists"]:
        notes.append(
            f"{p.name}: {skipped['merged_tag_lists']} vereenvoudigde wegstukken combineren "
            "meerdere OSM-wegen met verschillende tags; daar geldt de strengste waarde "
            "(bijv. 'steps' gaat voor 'footway'), zodat een rollator- of rolstoelprofiel het "
            "hele stuk mijdt."
        )
    if closed_by_access and not has_foot:
        notes.append(
            f"{p.name}: het netwerk heeft geen foot-tag; {len(closed_by_access)} wegstukken met "
            "access=no/private zijn weggelaten, ook waar OSM voetgangers wel toelaat "
            "(foot=yes). Sla het netwerk op met foot in ox.settings.useful_tags_way om dat "
            "te voorkomen."
        )
    empty_feats = gpd.GeoDataFrame(columns=["osm_type", "osm_id", "tags", "geometry"],
                                   geometry="geometry", crs="EPSG:4326")
    empty_blds = gpd.GeoDataFrame(
        columns=["osm_type", "osm_id", "building", "levels", "amenity", "shop", "office",
                 "geometry"], geometry="geometry", crs="EPSG:4326")
    return OsmExtract(p, ways.reset_index(drop=True), node_tags, empty_feats, empty_blds, bounds,
                      skipped, extent=extent, notes=notes)


def _int_or_none(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _node_table(path: Path, graph: dict[str, str], nodes: dict[str, dict]
                ) -> tuple[dict[str, int], dict[str, float], dict[str, float]]:
    """Node id (OSM id where the GraphML id is an integer) and lon/lat per GraphML node id."""
    to_lonlat = _to_lonlat(graph.get("crs"))
    ids: dict[str, int] = {}
    lon: dict[str, float] = {}
    lat: dict[str, float] = {}
    synthetic = -(10**15)  # far below the per-vertex ids handed out for edge interiors
    for nid, data in nodes.items():
        try:
            x, y = float(data["x"]), float(data["y"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"knoop {nid} heeft geen x/y-coördinaten", path=path,
                             fix="sla het netwerk op met osmnx.save_graphml") from exc
        if to_lonlat is not None:
            x, y = to_lonlat.transform(x, y)
        osm = _int_or_none(nid)
        if osm is None:
            synthetic -= 1
            osm = synthetic
        ids[nid], lon[nid], lat[nid] = osm, x, y
    return ids, lon, lat


def _to_lonlat(crs_text: str | None) -> pyproj.Transformer | None:
    """Transformer to EPSG:4326 when the graph is projected, else None."""
    if not crs_text:
        return None
    crs = pyproj.CRS.from_user_input(crs_text)
    if crs.equals(pyproj.CRS.from_epsg(4326), ignore_axis_order=True):
        return None
    return pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)


def _edge_coords(wkt: str | None, to_lonlat: pyproj.Transformer | None,
                 node_lon: dict[str, float], node_lat: dict[str, float], u: str, v: str
                 ) -> tuple[np.ndarray, np.ndarray]:
    """lon/lat of an edge from u to v: its geometry oriented from u, ends set to the nodes."""
    lon_u, lat_u, lon_v, lat_v = node_lon[u], node_lat[u], node_lon[v], node_lat[v]
    if not wkt:
        return np.array([lon_u, lon_v]), np.array([lat_u, lat_v])
    xy = shapely.get_coordinates(shapely.from_wkt(wkt))
    if to_lonlat is not None:
        xy = np.c_[to_lonlat.transform(xy[:, 0], xy[:, 1])]
    if len(xy) < 2:
        return np.array([lon_u, lon_v]), np.array([lat_u, lat_v])
    d_start = np.hypot(*(xy[0] - (lon_u, lat_u)))
    d_end = np.hypot(*(xy[-1] - (lon_u, lat_u)))
    if d_end < d_start:
        xy = xy[::-1]
    lon, lat = xy[:, 0].copy(), xy[:, 1].copy()
    lon[0], lat[0], lon[-1], lat[-1] = lon_u, lat_u, lon_v, lat_v
    return lon, lat


def _direction_free_key(a: int, b: int, lon: np.ndarray, lat: np.ndarray) -> tuple:
    """Same key for an edge and its reverse copy (coordinates rounded to ~1 cm)."""
    pts = tuple(zip(np.round(lon, 7).tolist(), np.round(lat, 7).tolist(), strict=True))
    if (a, pts) > (b, pts[::-1]):
        a, b, pts = b, a, pts[::-1]
    return (a, b, pts)
