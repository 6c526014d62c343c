"""Small file helpers: atomic writes and readable-file checks."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from geo.errors import InputError


def require_readable(path: str | Path, *, what: str, fix: str) -> Path:
    """Return ``path`` as a Path if it is a readable, non-empty file; raise InputError otherwise."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{what} niet gevonden (file not found)", path=p, fix=fix)
    if not p.is_file():
        raise InputError(f"{what} is geen bestand (not a file)", path=p, fix=fix)
    if p.stat().st_size == 0:
        raise InputError(f"{what} is leeg (empty file)", path=p, fix=fix)
    if not os.access(p, os.R_OK):
        raise InputError(f"{what} is niet leesbaar (permission denied)", path=p, fix=fix)
    return p


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it onto ``target`` only on success.

    An interrupted or failed write leaves the previous file (if any) untouched and no partial
    file behind.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    os.unlink(tmp)  # writers such as pyogrio want to create the file themselves
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def read_toml(path: str | Path, *, what: str, fix: str) -> dict:
    """Parse a TOML file owned by the project; InputError naming the file when it is broken."""
    import tomllib

    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{what} onleesbaar: {exc}", path=path, fix=fix) from exc
