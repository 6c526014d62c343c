"""Mobility profiles: speed x minutes = distance limit, plus what a profile cannot pass.

Which ways a profile may walk on is data too: the walking rules of ``data/profiles.toml``
(:mod:`geo.walkrules`), applied per segment by :func:`edge_mask`. The file is validated: an
unknown or missing key is refused with an :class:`~geo.errors.InputError` naming the key, the
allowed keys and the file (as geopandas' options refuse unknown settings).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import InputError
from geo.io import read_toml
from geo.network import WalkNetwork
from geo.settings import REPO_ROOT
from geo.walkrules import Rule, edge_rules, parse_rules

PROFILES_FILE = REPO_ROOT / "data" / "profiles.toml"
#: Keys a profile may have, and the ones it must have.
PROFILE_KEYS = ("label", "speed_kmh", "minutes", "avoid_highway", "avoid_kerb", "avoid_surface",
                "max_without_rest_m", "walk_rules")
REQUIRED_PROFILE_KEYS = ("speed_kmh", "minutes")
#: Top-level keys of the profiles file.
FILE_KEYS = ("default", "profiles", "walk_rules")


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
    #: the profile's walking rules, its own first, then the common ones (first match decides)
    walk_rules: tuple[Rule, ...] = ()

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
    """All profiles in the file and the id of the default one (validated, see module doc)."""
    raw = read_toml(path, what="profielen", fix="herstel de TOML-syntax van data/profiles.toml")
    _check_keys(raw, FILE_KEYS, (), where="het profielenbestand", path=path)
    base = parse_rules(raw.get("walk_rules", []), path=path, where="walk_rules")
    profiles = raw.get("profiles", {})
    if not isinstance(profiles, dict) or not profiles:
        raise InputError("geen profielen ([profiles.<id>]-tabellen) gevonden", path=path,
                         fix="voeg minstens één [profiles.<id>] met speed_kmh en minutes toe")
    out = {}
    for pid, p in profiles.items():
        where = f"profiel {pid!r}"
        if not isinstance(p, dict):
            raise InputError(f"{where} is geen tabel", path=path, fix="schrijf [profiles.<id>]")
        _check_keys(p, PROFILE_KEYS, REQUIRED_PROFILE_KEYS, where=where, path=path)
        try:
            own = parse_rules(p.get("walk_rules", []), path=path, where=where)
            out[pid] = Profile(
                id=pid, label=str(p.get("label", pid)), speed_kmh=float(p["speed_kmh"]),
                minutes=float(p["minutes"]),
                avoid_highway=_strings(p, "avoid_highway", where, path),
                avoid_kerb=_strings(p, "avoid_kerb", where, path),
                avoid_surface=_strings(p, "avoid_surface", where, path),
                max_without_rest_m=(float(p["max_without_rest_m"])
                                    if p.get("max_without_rest_m") else None),
                walk_rules=own + base,
            )
        except InputError as exc:
            if exc.path:
                raise
            raise InputError(f"{where}: {exc.problem}", path=path, fix=exc.fix) from exc
        except (TypeError, ValueError) as exc:
            raise InputError(f"{where}: {exc}", path=path,
                             fix="geef getallen voor speed_kmh, minutes en max_without_rest_m"
                             ) from exc
    default = raw.get("default", next(iter(out)))
    if default not in out:
        raise InputError(f"standaardprofiel {default!r} bestaat niet", path=path,
                         fix=f"kies een van {sorted(out)}")
    return out, default


def _check_keys(table: dict, allowed: tuple[str, ...], required: tuple[str, ...], *,
                where: str, path: Path) -> None:
    for key in table:
        if key not in allowed:
            raise InputError(f"{where}: onbekende sleutel {key!r} (unknown key); toegestaan: "
                             f"{', '.join(allowed)}", path=path,
                             fix=f"hernoem of verwijder {key!r}")
    for key in required:
        if key not in table:
            raise InputError(f"{where}: sleutel {key!r} ontbreekt (missing key); verplicht: "
                             f"{', '.join(required)}", path=path, fix=f"voeg {key} = ... toe")


def _strings(p: dict, key: str, where: str, path: Path) -> tuple[str, ...]:
    v = p.get(key, [])
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise InputError(f"{where}: {key} moet een lijst van teksten zijn", path=path,
                         fix=f'schrijf {key} = ["..."]')
    return tuple(v)


def default_rules() -> tuple[Rule, ...]:
    """The common walking rules of the project's profiles file."""
    raw = read_toml(PROFILES_FILE, what="profielen", fix="herstel data/profiles.toml")
    return parse_rules(raw.get("walk_rules", []), path=PROFILES_FILE, where="walk_rules")


def walk_rules_of(profile: Profile) -> tuple[Rule, ...]:
    return profile.walk_rules or default_rules()


def edge_mask(net: WalkNetwork, profile: Profile) -> np.ndarray | None:
    """Boolean mask of the segments a profile may use (None = all): its walking rules, then
    its avoid_* exclusions."""
    mask = edge_rules(net, walk_rules_of(profile)).allowed.copy()
    if profile.avoid_highway:
        mask &= ~net.edge_in("highway", profile.avoid_highway)
    if profile.avoid_surface and "surface" in net.ways:
        mask &= ~net.edge_in("surface", profile.avoid_surface)
    if profile.avoid_kerb and net.node_tags:
        ids, kerb, _ = _kerb_table(net)
        bad = ids[np.isin(kerb, list(profile.avoid_kerb))]
        if len(bad):
            mask &= ~(np.isin(net.edge_u, bad) | np.isin(net.edge_v, bad))
    return None if mask.all() else mask


def exclusion_report(net: WalkNetwork, profile: Profile) -> dict[str, int]:
    """How many segments a profile's exclusions remove, per reason, and how many segments (or
    crossings) lack the tag an exclusion looks at. Untagged segments are allowed — OSM is
    incomplete — but counted so results can say how much rests on unknown tags."""
    out: dict[str, int] = {}
    if profile.avoid_highway:
        out["uitgesloten_highway"] = int(net.edge_in("highway", profile.avoid_highway).sum())
    if profile.avoid_surface:
        out["uitgesloten_surface"] = int(net.edge_in("surface", profile.avoid_surface).sum())
        out["onbekend_surface"] = int(net.edge_untagged("surface").sum())
    if profile.avoid_kerb:
        _, kerb, crossing = _kerb_table(net)
        out["uitgesloten_kerb_knopen"] = int(
            (crossing & np.isin(kerb, list(profile.avoid_kerb))).sum())
        out["onbekend_kerb_oversteken"] = int((crossing & pd.isna(kerb)).sum())
    return out


def _kerb_table(net: WalkNetwork) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Of every node with tags: its index, its ``kerb`` value (None where untagged) and
    whether it is a crossing (``highway=crossing`` or any ``kerb``); read once per network."""
    cache = net.__dict__.setdefault("_profiles_cache", {})
    if "kerb" not in cache:
        tags = list(net.node_tags.values())
        cache["kerb"] = (
            np.fromiter(net.node_tags.keys(), dtype=np.int64, count=len(tags)),
            np.array([t.get("kerb") for t in tags], dtype=object),
            np.array([t.get("highway") == "crossing" or "kerb" in t for t in tags], dtype=bool))
    return cache["kerb"]


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


def rules_report(net: WalkNetwork, profile: Profile) -> dict:
    """What the walking rules did on this network: segments closed per rule (label → count),
    fietspad segments kept and closed by the sidepath test, and tags the source lacks."""
    rules = walk_rules_of(profile)
    er = edge_rules(net, rules)
    closed: dict[str, int] = {}
    shut = ~er.allowed & (er.rule >= 0)
    for i, n in zip(*np.unique(er.rule[shut], return_counts=True), strict=True):
        r = rules[int(i)]
        label = r.label() + (" (trottoir/voetpad ernaast)" if r.walk == "no_sidepath" else "")
        closed[label] = closed.get(label, 0) + int(n)
    is_sidepath = np.array([r.walk == "no_sidepath" for r in rules] + [False], dtype=bool)
    sidepath = is_sidepath[er.rule]  # rule -1 (none) reads the appended False
    return {"closed": closed, "cycleway_open": int(er.cycleway.sum()),
            "cycleway_closed_sidepath": int((sidepath & ~er.allowed).sum()),
            "missing_tags": list(er.missing)}


def describe_rules(report: dict) -> str:
    """One Dutch sentence for :func:`rules_report`."""
    parts = [f"{n} segmenten dicht door {label}" for label, n in report["closed"].items()]
    text = (f"Loopregels: {report['cycleway_open']} fietspadsegmenten beloopbaar, "
            f"{report['cycleway_closed_sidepath']} niet (trottoir of voetpad ernaast)")
    if parts:
        text += "; " + "; ".join(parts)
    text += "."
    if report["missing_tags"]:
        text += (" De bron heeft geen " + ", ".join(report["missing_tags"]) + "-tags: regels die "
                 "daarnaar kijken gaan uit van 'tag ontbreekt'.")
    return text
