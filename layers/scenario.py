"""What-if scenarios: hypothetical meeting places added, existing ones closed.

A scenario is an immutable value (so it can live in a dashboard session and be compared);
:func:`layers.analysis.run` applies it to the cached base result by updating the distance
field incrementally (see :mod:`geo.incremental`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pyproj

#: Category given to a hypothetical place unless the user picks another.
DEFAULT_CATEGORY = "buurtkamer"


@dataclass(frozen=True)
class AddedPlace:
    x: float  # in the network CRS
    y: float
    naam: str = "Nieuwe ontmoetingsplek"
    categorie: str = DEFAULT_CATEGORY

    @classmethod
    def from_lonlat(cls, lon: float, lat: float, crs: str, **kw) -> AddedPlace:
        tr = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        x, y = tr.transform(lon, lat)
        return cls(float(x), float(y), **kw)


@dataclass(frozen=True)
class Scenario:
    added: tuple[AddedPlace, ...] = ()
    removed: tuple[str, ...] = ()  # place_id of closed places

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)

    def add(self, place: AddedPlace) -> Scenario:
        return replace(self, added=(*self.added, place))

    def remove(self, place_id: str) -> Scenario:
        if place_id in self.removed:
            return self
        return replace(self, removed=(*self.removed, place_id))

    def undo(self, place_id: str) -> Scenario:
        """Reopen a closed place."""
        return replace(self, removed=tuple(p for p in self.removed if p != place_id))

    def describe(self) -> str:
        parts = []
        if self.added:
            parts.append(f"{len(self.added)} nieuwe plek{'ken' if len(self.added) > 1 else ''}")
        if self.removed:
            parts.append(f"{len(self.removed)} gesloten")
        return ", ".join(parts) if parts else "geen wijzigingen"
