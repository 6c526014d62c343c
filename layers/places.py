"""Meeting places: OSM features and a municipality's own list -> one table, duplicates merged.

Every place has a category and sphere from the taxonomy. Parks and plantsoenen are reached at
their edge: their access points are the network nodes inside them plus points every
``edge_spacing_m`` metres along their outline; other places at a point on their footprint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geo.errors import InputError
from geo.facilities import outside_area, read_facility_list
from geo.network import WalkNetwork
from layers.notes import Note, from_row_problems, use_summary
from layers.taxonomy import Taxonomy

PLACE_COLUMNS = [
    "place_id", "naam", "categorie", "categorie_label", "sfeer", "bron", "osm_id",
    "opening_hours", "geometry",
]
#: Places of the same category closer than this are one place.
MERGE_RADIUS_M = 50.0


def places_from_osm(features: gpd.GeoDataFrame, taxonomy: Taxonomy, crs: str) -> gpd.GeoDataFrame:
    """Meeting places among OSM features (nodes and areas with tags)."""
    cats = features["tags"].map(taxonomy.classify) if len(features) else pd.Series(dtype=object)
    f = features[cats.notna()].copy()
    f["categorie"] = cats[cats.notna()]
    f = f.to_crs(crs)
    out = gpd.GeoDataFrame(
        {
            "naam": f["tags"].map(lambda t: t.get("name")),
            "categorie": f["categorie"],
            "bron": "OpenStreetMap",
            "osm_id": f["osm_type"].str[0] + f["osm_id"].astype(str),
            "opening_hours": f["tags"].map(lambda t: t.get("opening_hours")),
        },
        geometry=f.geometry.values,
        crs=crs,
    )
    # areas first, so that a node inside its own building merges into the area
    out = out.iloc[np.argsort(out.geom_type.str.startswith("Point").to_numpy(), kind="stable")]
    return _finish(out.reset_index(drop=True), taxonomy)


def places_from_list(
    facilities: gpd.GeoDataFrame, taxonomy: Taxonomy, crs: str
) -> gpd.GeoDataFrame:
    """Meeting places from a municipality's own list (see :func:`geo.facilities`)."""
    f = facilities.to_crs(crs)
    out = gpd.GeoDataFrame(
        {
            "naam": f["naam"],
            "categorie": f["categorie_lokaal"].map(taxonomy.classify_local),
            "bron": f["bron"],
            "osm_id": None,
            "opening_hours": f.get("openingstijden"),
        },
        geometry=f.geometry.values,
        crs=crs,
    )
    out = _finish(out, taxonomy)
    if "rij" in f.columns:  # kept for the notes on merged rows; merge_places drops it
        out["rij"] = f["rij"].to_numpy()
    return out


@dataclass
class LocalLists:
    """What became of a municipality's own lists: place tables, notes per row, rows per file."""

    frames: list[gpd.GeoDataFrame] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)

    def summaries(self, notes: list[Note]) -> list[str]:
        """Per list: how many rows were used ('alle 12 rijen gebruikt, niets gewijzigd')."""
        return [use_summary(name, n, notes) for name, n in self.rows.items()]


def places_from_lists(paths, taxonomy: Taxonomy, crs: str, *,
                      within: gpd.GeoDataFrame | None = None) -> LocalLists:
    """Read each list (see :func:`geo.facilities.read_facility_list`); rows outside ``within``
    (buurt polygons, optional) are left out. Every skipped or corrected row, and a list that
    cannot be read at all, becomes a :class:`~layers.notes.Note`; nothing raises."""
    out = LocalLists()
    for path in paths:
        name = source_name(Path(path))
        try:
            fac, problems = read_facility_list(path)
        except InputError as exc:
            out.notes.append(Note("lijst_onbruikbaar", str(exc), None, name))
            continue
        if within is not None and len(fac):
            fac, outside = outside_area(fac, within)
            problems = [*problems, *outside]
        out.rows[name] = int(fac.attrs.get("rows", len(fac) + len({p.rij for p in problems})))
        found = from_row_problems([*problems, *fac.attrs.get("corrected", [])], name)
        out.notes += sorted(found, key=lambda n: n.row or 0)
        fac["bron"] = f"lokale lijst: {name}"
        out.frames.append(places_from_list(fac, taxonomy, crs))
    return out


def source_name(path: Path) -> str:
    """The name the user gave a list: its source in a prepared area's ``meta.json`` (see
    :mod:`layers.bundle`), else the file name."""
    import json

    try:
        meta = json.loads((path.parent / "meta.json").read_text(encoding="utf-8"))
        return Path(meta["bestanden"][path.name]["bron"]).name
    except (OSError, ValueError, KeyError, TypeError):
        return path.name


def _finish(df: gpd.GeoDataFrame, taxonomy: Taxonomy) -> gpd.GeoDataFrame:
    df["categorie_label"] = df["categorie"].map(taxonomy.label)
    df["sfeer"] = df["categorie"].map(taxonomy.sphere_of)
    df["place_id"] = ""
    return df[PLACE_COLUMNS]


def merge_places(*frames: gpd.GeoDataFrame, radius_m: float = MERGE_RADIUS_M) -> gpd.GeoDataFrame:
    """Concatenate place tables and merge duplicates.

    Two places are one when they share a category and their representative points are within
    ``radius_m``, or one's point lies inside the other's polygon. The first of a group (in frame
    order: pass OSM before local lists) keeps its geometry; names and sources are combined.
    The result has ``samengevoegd`` = how many records each place stands for.
    """
    return merge_places_noted(*frames, radius_m=radius_m)[0]


def merge_places_noted(
    *frames: gpd.GeoDataFrame, radius_m: float = MERGE_RADIUS_M
) -> tuple[gpd.GeoDataFrame, list[Note]]:
    """:func:`merge_places`, plus a :class:`~layers.notes.Note` for every record merged into
    an earlier one: kind "samengevoegd" for a row of a local list (with its row number),
    "osm_samengevoegd" for an OSM object."""
    frames = tuple(f for f in frames if f is not None and len(f))
    if not frames:
        empty = gpd.GeoDataFrame(columns=[*PLACE_COLUMNS, "samengevoegd"], geometry="geometry")
        return empty, []
    crs = frames[0].crs
    df = pd.concat([f.to_crs(crs) for f in frames], ignore_index=True)
    df = gpd.GeoDataFrame(df, geometry="geometry", crs=crs)
    pts = shapely.point_on_surface(df.geometry.values)
    tree = shapely.STRtree(pts)
    a, b = tree.query(pts, predicate="dwithin", distance=radius_m)
    polys = np.nonzero(df.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy())[0]
    if len(polys):
        pi, qi = tree.query(df.geometry.values[polys], predicate="contains")
        a = np.r_[a, polys[pi]]
        b = np.r_[b, qi]
    cat = df["categorie"].to_numpy()
    same = (cat[a] == cat[b]) & (a != b)
    n = len(df)
    graph = coo_matrix((np.ones(same.sum()), (a[same], b[same])), shape=(n, n))
    _, group = connected_components(graph, directed=False)
    df["_group"] = group
    notes = _merge_notes(df, pts)
    first = df.groupby("_group", sort=False).head(1).copy()
    agg = df.groupby("_group", sort=False).agg(
        naam=("naam", lambda s: next((x for x in s if isinstance(x, str) and x.strip()), None)),
        bron=("bron", lambda s: " + ".join(dict.fromkeys(s))),
        samengevoegd=("naam", "size"),
        opening_hours=("opening_hours",
                       lambda s: next((x for x in s if isinstance(x, str) and x), None)),
    )
    first = first.set_index("_group")
    for col in ("naam", "bron", "samengevoegd", "opening_hours"):
        first[col] = agg.loc[first.index, col]
    first = first.reset_index(drop=True).drop(columns=["rij"], errors="ignore")
    first["place_id"] = [f"P{i:05d}" for i in range(len(first))]
    return gpd.GeoDataFrame(first, geometry="geometry", crs=crs), notes


def _merge_notes(df: pd.DataFrame, pts: np.ndarray) -> list[Note]:
    """A note per record that is not the first of its group."""
    head = ~df["_group"].duplicated().to_numpy()
    first_of = pd.Series(np.arange(len(df))[head], index=df["_group"].to_numpy()[head])
    rows = df["rij"].to_numpy() if "rij" in df.columns else np.full(len(df), np.nan)
    notes = []
    for i in (int(k) for k in np.flatnonzero(~head)):
        j = int(first_of[df["_group"].iat[i]])
        d = float(shapely.distance(pts[i], pts[j]))
        into = f"{_label(df, j)} ({df['bron'].iat[j]}, {d:.0f} m verder)"
        if isinstance(rows[i], (int, float, np.integer, np.floating)) and np.isfinite(rows[i]):
            bron = str(df["bron"].iat[i]).removeprefix("lokale lijst: ")
            notes.append(Note("samengevoegd", f"{_label(df, i)} samengevoegd met {into}",
                              int(rows[i]), bron))
        else:
            notes.append(Note("osm_samengevoegd", f"{_label(df, i)} samengevoegd met {into}",
                              None, "OpenStreetMap"))
    return notes


def _label(df: pd.DataFrame, i: int) -> str:
    naam = df["naam"].iat[i]
    name = repr(naam) if isinstance(naam, str) and naam.strip() else "(zonder naam)"
    osm = df["osm_id"].iat[i]
    return f"{name} [{osm}]" if isinstance(osm, str) else name


def access_points(
    places: gpd.GeoDataFrame,
    net: WalkNetwork,
    taxonomy: Taxonomy,
    *,
    edge_spacing_m: float = 50.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points where each place is reached: ``(x, y, place_row)`` in the network CRS."""
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    owner: list[np.ndarray] = []
    edge_cats = {c.id for c in taxonomy.categories if c.access == "edge"}
    geoms = places.geometry.values
    is_area = np.asarray(shapely.get_type_id(geoms) >= 3)  # Polygon, MultiPolygon
    by_edge = places["categorie"].isin(edge_cats).to_numpy() & is_area
    # ordinary places: one point on the footprint
    rep = shapely.point_on_surface(geoms[~by_edge])
    xs.append(shapely.get_x(rep))
    ys.append(shapely.get_y(rep))
    owner.append(np.nonzero(~by_edge)[0])
    # parks: outline every edge_spacing_m plus the network nodes inside
    for row in np.nonzero(by_edge)[0]:
        poly = geoms[row]
        coords = _outline_points(poly, edge_spacing_m)
        minx, miny, maxx, maxy = poly.bounds
        cand = np.nonzero(
            (net.x >= minx) & (net.x <= maxx) & (net.y >= miny) & (net.y <= maxy)
        )[0]
        inside = cand[shapely.contains_xy(poly, net.x[cand], net.y[cand])]
        xs.append(np.r_[coords[:, 0], net.x[inside]])
        ys.append(np.r_[coords[:, 1], net.y[inside]])
        owner.append(np.full(len(coords) + len(inside), row))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(owner).astype(np.int64)


def _outline_points(poly, spacing: float) -> np.ndarray:
    """Points every ``spacing`` metres along each ring of a (multi)polygon."""
    out = []
    for line in shapely.get_parts(shapely.boundary(shapely.get_parts(poly))):
        steps = np.arange(0.0, max(line.length, spacing), spacing)
        out.append(shapely.get_coordinates(shapely.line_interpolate_point(line, steps)))
    return np.concatenate(out) if out else np.empty((0, 2))
