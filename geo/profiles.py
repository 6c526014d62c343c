"""Mobility profiles: speed x minutes = distance limit, plus what a profile cannot pass."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from geo.errors import InputError
from geo.io import read_toml
from geo.network import WalkNetwork
from geo.settings import REPO_ROOT

PROFILES_FILE = REPO_ROOT / "data" / "profiles.toml"


@dataclass(frozen=True)
class Profile:
    id: str
    label: str
    speed_kmh: float
    minutes: float
    avoid_highway: tuple[str, ...] = ()
    avoid_kerb: tuple[str, ...] = ()
    avoid_surface: tuple[str, ...] = ()
    max_without_rest_m: float | None = None  # longest stretch between benches (rest-aware)

    def __post_init__(self) -> None:
        if not (0 < self.speed_kmh <= 10):
            raise InputError(f"snelheid {self.speed_kmh} km/u valt buiten 0–10 km/u",
                             fix="kies een loopsnelheid tussen 0,5 en 10 km/u")
        if not (0 < self.minutes <= 120):
            raise InputError(f"looptijd {self.minutes} min valt buiten 0–120 min",
                             fix="kies een looptijd tussen 1 en 120 minuten")

    @property
    def max_distance_m(self) -> float:
        return self.speed_kmh * 1000.0 / 60.0 * self.minutes

    def with_(self, **changes) -> Profile:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def describe(self) -> str:
        return (f"{self.label}: {self.speed_kmh:g} km/u × {self.minutes:g} min "
                f"= {self.max_distance_m:,.0f} m".replace(",", "."))


def load_profiles(path: Path = PROFILES_FILE) -> tuple[dict[str, Profile], str]:
    """All profiles in the file and the id of the default one."""
    raw = read_toml(path, what="profielen", fix="herstel de TOML-syntax van data/profiles.toml")
    out = {}
    for pid, p in raw.get("profiles", {}).items():
        out[pid] = Profile(
            id=pid, label=p.get("label", pid), speed_kmh=float(p["speed_kmh"]),
            minutes=float(p["minutes"]), avoid_highway=tuple(p.get("avoid_highway", [])),
            avoid_kerb=tuple(p.get("avoid_kerb", [])),
            avoid_surface=tuple(p.get("avoid_surface", [])),
            max_without_rest_m=(float(p["max_without_rest_m"])
                                if p.get("max_without_rest_m") else None),
        )
    default = raw.get("default", next(iter(out)))
    if default not in out:
        raise InputError(f"standaardprofiel {default!r} bestaat niet", path=path,
                         fix=f"kies een van {sorted(out)}")
    return out, default


def edge_mask(net: WalkNetwork, profile: Profile) -> np.ndarray | None:
    """Boolean mask of the segments a profile may use (None = all)."""
    mask = np.ones(net.n_edges, dtype=bool)
    if profile.avoid_highway:
        mask &= ~np.isin(net.edge_attr("highway"), list(profile.avoid_highway))
    if profile.avoid_surface and "surface" in net.ways:
        mask &= ~np.isin(net.edge_attr("surface"), list(profile.avoid_surface))
    if profile.avoid_kerb and net.node_tags:
        bad = np.array(
            [i for i, t in net.node_tags.items() if t.get("kerb") in profile.avoid_kerb],
            dtype=np.int64,
        )
        if len(bad):
            mask &= ~(np.isin(net.edge_u, bad) | np.isin(net.edge_v, bad))
    return None if mask.all() else mask


def exclusion_report(net: WalkNetwork, profile: Profile) -> dict[str, int]:
    """How many segments a profile's exclusions remove, per reason, and how many segments (or
    crossings) lack the tag an exclusion looks at. Untagged segments are allowed — OSM is
    incomplete — but counted so results can say how much rests on unknown tags."""
    out: dict[str, int] = {}
    if profile.avoid_highway:
        out["uitgesloten_highway"] = int(
            np.isin(net.edge_attr("highway"), list(profile.avoid_highway)).sum())
    if profile.avoid_surface:
        surf = net.edge_attr("surface") if "surface" in net.ways else np.full(net.n_edges, None)
        out["uitgesloten_surface"] = int(np.isin(surf, list(profile.avoid_surface)).sum())
        out["onbekend_surface"] = int(sum(s is None or s != s for s in surf))
    if profile.avoid_kerb:
        crossings = [t for t in net.node_tags.values()
                     if t.get("highway") == "crossing" or "kerb" in t]
        bad = [t for t in crossings if t.get("kerb") in profile.avoid_kerb]
        out["uitgesloten_kerb_knopen"] = len(bad)
        out["onbekend_kerb_oversteken"] = sum("kerb" not in t for t in crossings)
    return out


def describe_exclusions(report: dict[str, int]) -> str:
    """One Dutch sentence for :func:`exclusion_report` (empty when nothing is excluded)."""
    parts = []
    if "uitgesloten_highway" in report:
        parts.append(f"{report['uitgesloten_highway']} segmenten trap/uitgesloten wegtype")
    if "uitgesloten_surface" in report:
        parts.append(f"{report['uitgesloten_surface']} segmenten met ongeschikte verharding "
                     f"({report['onbekend_surface']} zonder verhardingstag, die tellen mee)")
    if "uitgesloten_kerb_knopen" in report:
        parts.append(f"{report['uitgesloten_kerb_knopen']} hoge stoepranden "
                     f"({report['onbekend_kerb_oversteken']} oversteken zonder stoeprandtag, "
                     "die tellen mee)")
    return ("Profiel vermijdt: " + "; ".join(parts) + ".") if parts else ""
