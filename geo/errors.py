"""Errors that say what was wrong, where, and how to fix it."""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """A user-supplied input could not be used.

    The message always names the file (when there is one), what was wrong and the fix.
    """

    def __init__(self, problem: str, *, path: str | Path | None = None, fix: str = "") -> None:
        self.path = str(path) if path is not None else None
        self.problem = problem
        self.fix = fix
        where = f"{self.path}: " if self.path else ""
        text = f"{where}{problem}"
        if fix:
            text += f" — oplossing/fix: {fix}"
        super().__init__(text)


class MissingDataError(InputError):
    """A piece of data needed for an analysis is not present (nothing is invented to fill it)."""


class ServiceUnavailableError(RuntimeError):
    """An online data service could not be reached; the message says how to work offline."""
