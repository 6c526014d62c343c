"""Rank correlation of our library walking distance with CBS's, per buurt, on real Delft data.

Delft is the one real area with both OSM libraries and CBS's library distance over a whole
city: the OSM ways of the whole city (``delft_osm_roads_proj.gpkg``, lines whose junctions are
shared vertices), the libraries tagged on OSM address points (``Full_Delft_walk_addresses.csv``,
``amenity=library``), the addresses as homes, and ``bibliotheekGemiddeldeAfstandInKm`` of the
CBS Wijk- en Buurtkaart 2023 (``delft_buurten_proj.gpkg``). The line layer is turned into a
network here (vertices with equal coordinates are one node) because the project's reader for
such layers is not in this branch; routing is the project's own (``geo/routing.py``).

Run: ``.venv/bin/python scripts/spearman_library.py`` (prints n and Spearman's rho).
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geo.network import RD_CRS, build_network  # noqa: E402
from geo.osm import is_walkable  # noqa: E402
from geo.routing import SegmentIndex, distances_at, nearest_sources  # noqa: E402
from geo.settings import default_data_dir  # noqa: E402
from layers.analysis import MAX_SNAP_M  # noqa: E402
from layers.cbsview import cbs_library_distance, spearman_library  # noqa: E402
from layers.datasets import AreaData  # noqa: E402


def network_from_lines(path: Path):
    """Walkable OSM ways of a line layer as a network; equal vertices (to 1e-7°) join."""
    lines = gpd.read_file(path).to_crs(4326).explode(index_parts=False)
    keep = lines["highway"].map(lambda h: isinstance(h, str) and is_walkable({"highway": h}))
    lines = lines[keep.to_numpy()]
    coords = [np.asarray(g.coords)[:, :2] for g in lines.geometry]
    allc = np.concatenate(coords)
    key = np.round(allc * 1e7).astype(np.int64)
    _, node = np.unique(key, axis=0, return_inverse=True)
    splits = np.cumsum([len(c) for c in coords])[:-1]
    ways = pd.DataFrame({
        "osm_id": lines["osm_id"].astype("int64").to_numpy(),
        "node_ids": np.split(node.astype(np.int64).ravel(), splits),
        "lon": [c[:, 0] for c in coords], "lat": [c[:, 1] for c in coords],
        "highway": lines["highway"].to_numpy()})
    return build_network(ways, crs=RD_CRS, source=str(path))


def main() -> None:
    d = default_data_dir() / "delft"
    net = network_from_lines(d / "delft_osm_roads_proj.gpkg")
    buurten = gpd.read_file(d / "delft_buurten_proj.gpkg").to_crs(RD_CRS)
    buurten = buurten[buurten["gemeentecode"] == "GM0503"][["buurtcode", "geometry"]]
    adr = pd.read_csv(d / "Full_Delft_walk_addresses.csv")
    pts = gpd.GeoDataFrame(adr, geometry=gpd.points_from_xy(adr["longitude"], adr["latitude"]),
                           crs=4326).to_crs(RD_CRS)
    libs = pts[pts["amenity"] == "library"]
    homes = gpd.sjoin(pts, buurten, predicate="within")
    idx = SegmentIndex(net)
    lib_snap = idx.snap(shapely.get_x(libs.geometry), shapely.get_y(libs.geometry),
                        max_dist=MAX_SNAP_M)
    home_snap = idx.snap(shapely.get_x(homes.geometry), shapely.get_y(homes.geometry),
                         max_dist=MAX_SNAP_M)
    field = nearest_sources(net, lib_snap)
    dist, _ = distances_at(net, field, home_snap)
    homes = homes.assign(dist=dist)
    reach = homes[np.isfinite(homes["dist"])]
    ours = reach.groupby("buurtcode")["dist"].median()
    area = AreaData(id="delft", name="Delft", folder=d, boundaries=[d / "delft_buurten_proj.gpkg"])
    cbs_m, source = cbs_library_distance(area)
    cbs_m = cbs_m[cbs_m.index.isin(buurten["buurtcode"])]
    rho, n = spearman_library(ours, cbs_m)
    inside = gpd.sjoin(libs, buurten, predicate="within")
    print(f"network: {net.n_nodes} nodes, {net.n_edges} segments, "
          f"{net.edge_len.sum() / 1000:.0f} km")
    print(f"libraries on address points: {len(libs)} in the file, {len(inside)} inside Delft; "
          f"{int(lib_snap.ok.sum())} within {MAX_SNAP_M:.0f} m of a path")
    print(f"homes (addresses inside Delft): {len(homes)}, reached: {len(reach)}")
    print(f"CBS: {source}; {int(cbs_m.notna().sum())} of {len(cbs_m)} buurten published")
    print(f"Spearman rho = {rho:.3f} over n = {n} buurten")
    both = pd.concat([ours.rename("ours_m"), cbs_m.rename("cbs_m")], axis=1).dropna()
    print(f"median over buurten: ours {both['ours_m'].median():.0f} m (walking, median per "
          f"buurt), CBS {both['cbs_m'].median():.0f} m (road, mean per buurt)")


if __name__ == "__main__":
    main()
