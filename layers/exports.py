"""Exports of an analysis result: the layers of ``layers.outputs.export_layers`` (buurten,
wijken, plekken, servicegebieden, gaten) written as GeoJSON, GeoPackage, CSV or GeoParquet, with
the same numbers as the dashboard."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from geo.errors import InputError
from geo.export import write_csv, write_geojson, write_gpkg, write_parquet
from layers.notes import NOTES_FILE, write_notes
from layers.outputs import FIELD_DESCRIPTIONS, export_layers

FORMATS = ("geojson", "gpkg", "csv", "parquet")
#: Dutch titles of the layers (GeoPackage layer description).
LAYER_TITLES = {
    "buurten": "Bereik per buurt (of zeshoek)",
    "wijken": "Bereik per wijk",
    "plekken": "Ontmoetingsplekken",
    "servicegebieden": "Gebied binnen loopafstand van een ontmoetingsplek",
    "gaten": "Gebied buiten loopafstand (gaten)",
    "herkomsten": "Woningen (herkomsten): afstand, tijd en plekken binnen bereik",
}
def _for_file(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Columns file formats can hold: lists/sets/dicts become text."""
    g = gdf.copy()
    for col in g.columns:
        if col == g.geometry.name or g[col].dtype != object:
            continue
        if g[col].map(lambda v: isinstance(v, (list, tuple, set, dict))).any():
            g[col] = g[col].map(lambda v: None if v is None else str(v))
    return g


def write_export(result, fmt: str, out: str | Path, *, progress=None,
                 layers: dict[str, gpd.GeoDataFrame] | None = None) -> list[Path]:
    """Write every layer of ``result`` in ``fmt``, and ``notities.csv`` (every input row that
    was dropped, corrected or merged, see :mod:`layers.notes`) beside them; returns the files
    written, the notes file last.

    ``gpkg``: ``out`` is the GeoPackage file (all layers in it, with Dutch layer titles and
    field descriptions); a folder gets ``ontmoetingskaart.gpkg``. Other formats: ``out`` is a
    folder that receives ``<layer>.<ext>`` per layer. ``layers``: the result of
    :func:`layers.outputs.export_layers` when the caller has it already. Every file is written
    atomically.
    """
    if fmt not in FORMATS:
        raise InputError(f"onbekend exportformaat {fmt!r}",
                         fix=f"kies een van: {', '.join(FORMATS)}")
    if layers is None:
        layers = export_layers(result, progress=progress)
    layers = {k: _for_file(v) for k, v in layers.items()}
    out = Path(out)
    if fmt == "gpkg":
        if out.suffix.lower() != ".gpkg":
            out = out / "ontmoetingskaart.gpkg"
        # export_layers already gives every layer its CRS (RD New for Dutch areas)
        files = [write_gpkg(layers, out, descriptions=FIELD_DESCRIPTIONS,
                            layer_titles=LAYER_TITLES)]
        folder = out.parent
    else:
        writer = {"geojson": write_geojson, "csv": write_csv, "parquet": write_parquet}[fmt]
        files = [writer(gdf, out / f"{name}.{fmt}") for name, gdf in layers.items()]
        folder = out
    return [*files, write_notes(getattr(result, "row_notes", []), folder / NOTES_FILE)]
