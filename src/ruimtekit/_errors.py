"""Error types with user-facing messages: the file, the problem and the fix."""

from __future__ import annotations

from pathlib import Path


class RuimtekitError(Exception):
    """Base class for errors that the CLI shows as a clean message (no traceback)."""


class InputError(RuimtekitError):
    """Bad input: names the file, what is wrong with it and how to fix it.

    Parameters
    ----------
    path : str or Path or None
        The offending file (or ``None`` when the input is not a file).
    problem : str
        What is wrong, in one sentence.
    fix : str
        What the user can do about it.
    """

    def __init__(self, path: str | Path | None, problem: str, fix: str) -> None:
        self.path = None if path is None else Path(path)
        self.problem = problem
        self.fix = fix
        where = f"{self.path}: " if self.path is not None else ""
        super().__init__(f"{where}{problem}\n  fix: {fix}")


class StudyError(InputError):
    """An invalid study file (YAML)."""


class NetworkError(RuimtekitError):
    """A network that cannot be routed on (empty, disconnected, ...)."""
