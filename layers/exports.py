"""Exports of an analysis result: its layers written as GeoJSON, GeoPackage, CSV or
GeoParquet, with the same numbers as the dashboard.

The layers come from ``layers.outputs.export_layers`` (buurten, wijken, plekken,
servicegebieden, gaten) when that exists; until then from the result table and places only.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from geo.errors import InputError
from geo.export import write_csv, write_geojson, write_gpkg, write_parquet

FORMATS = ("geojson", "gpkg", "csv", "parquet")
#: Dutch titles of the layers (GeoPackage layer description).
LAYER_TITLES = {
    "buurten": "Bereik per buurt (of zeshoek)",
    "wijken": "Bereik per wijk",
    "plekken": "Ontmoetingsplekken",
    "servicegebieden": "Gebied binnen loopafstand van een ontmoetingsplek",
    "gaten": "Gebied buiten loopafstand (gaten)",
}
#: Column meanings (README "Result per buurt"); replaced by layers.outputs.FIELD_DESCRIPTIONS
#: where that defines them.
_FALLBACK_DESCRIPTIONS = {
    "buurtcode": "CBS-buurtcode (BU03440111); bij de zeshoekschatting de H3-celcode",
    "buurtnaam": "naam van de buurt",
    "wijkcode": "CBS-wijkcode",
    "inwoners": "inwoners (CBS), aantal personen",
    "inwoners_65plus": "inwoners van 65 jaar en ouder (CBS), aantal personen",
    "binnen_bereik_65plus": "65-plussers binnen de loopafstand, aantal personen",
    "buiten_bereik_65plus": "65-plussers buiten de loopafstand, aantal personen",
    "aandeel_binnen_bereik": "aandeel binnen de loopafstand, 0-1",
    "mediaan_afstand_m": "mediaan loopafstand tot de dichtstbijzijnde ontmoetingsplek, m",
    "p90_afstand_m": "90e percentiel loopafstand tot de dichtstbijzijnde ontmoetingsplek, m",
    "profiel": "mobiliteitsprofiel (older, fit, rollator, wheelchair)",
    "max_afstand_m": "maximale loopafstand van het profiel, m",
    "gebiedstype": "buurt of H3-zeshoek (schatting)",
    "telt": "wat het aandeel telt (65-plussers, inwoners of woongebouwen)",
    "woongebouwen": "woongebouwen uit OpenStreetMap, aantal",
    "binnen_bereik_woongebouwen": "woongebouwen binnen de loopafstand, aantal",
    "buiten_bereik_woongebouwen": "woongebouwen buiten de loopafstand, aantal",
    "binnen_bereik_inwoners": "inwoners binnen de loopafstand, aantal personen",
    "buiten_bereik_inwoners": "inwoners buiten de loopafstand, aantal personen",
    "naam": "naam van de ontmoetingsplek (OpenStreetMap of eigen lijst)",
    "categorie": "categorie van de ontmoetingsplek",
    "categorie_label": "categorie in woorden",
    "sfeer": "sfeer van de sociale basis",
    "bron": "herkomst van de plek",
    "binnen_bereik": "bewoners (of woongebouwen) binnen loopafstand van deze plek",
    "onderdrukt": "cijfer onderdrukt wegens kleine aantallen (CBS-geheimhouding)",
}


def field_descriptions() -> dict[str, str]:
    try:
        from layers.outputs import FIELD_DESCRIPTIONS  # type: ignore[attr-defined]
    except ImportError:
        return dict(_FALLBACK_DESCRIPTIONS)
    return {**_FALLBACK_DESCRIPTIONS, **FIELD_DESCRIPTIONS}


def export_layers(result) -> dict[str, gpd.GeoDataFrame]:
    """The result's layers by name, in the network CRS (RD New for Dutch areas)."""
    try:
        from layers.outputs import export_layers as lead_layers  # type: ignore[attr-defined]
    except ImportError:
        lead_layers = None
    if lead_layers is not None:
        return dict(lead_layers(result))
    places = result.places.drop(columns=["samengevoegd"], errors="ignore")
    return {"buurten": result.table, "plekken": places}


def _for_file(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Columns file formats can hold: lists/sets/dicts become text."""
    g = gdf.copy()
    for col in g.columns:
        if col == g.geometry.name or g[col].dtype != object:
            continue
        if g[col].map(lambda v: isinstance(v, (list, tuple, set, dict))).any():
            g[col] = g[col].map(lambda v: None if v is None else str(v))
    return g


def write_export(result, fmt: str, out: str | Path) -> list[Path]:
    """Write every layer of ``result`` in ``fmt``; returns the files written.

    ``gpkg``: ``out`` is the GeoPackage file (all layers in it). Other formats: ``out`` is a
    folder that receives ``<layer>.<ext>`` per layer. Every file is written atomically.
    """
    if fmt not in FORMATS:
        raise InputError(f"onbekend exportformaat {fmt!r}",
                         fix=f"kies een van: {', '.join(FORMATS)}")
    layers = {k: _for_file(v) for k, v in export_layers(result).items()}
    out = Path(out)
    if fmt == "gpkg":
        if out.suffix.lower() != ".gpkg":
            out = out / "ontmoetingskaart.gpkg"
        crs = result.table.crs
        return [write_gpkg(layers, out, crs=crs, descriptions=field_descriptions(),
                           layer_titles=LAYER_TITLES)]
    writer = {"geojson": write_geojson, "csv": write_csv, "parquet": write_parquet}[fmt]
    return [writer(gdf, out / f"{name}.{fmt}") for name, gdf in layers.items()]
