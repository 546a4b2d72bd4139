"""Error types with user-facing messages: the file, the problem and the fix."""

from __future__ import annotations

from pathlib import Path


class RuimtekitError(Exception):
    """Base class for errors that the CLI shows as a clean message (no traceback)."""


class _Located(RuimtekitError):
    """An error about one file (or none): the path, the problem and the fix."""

    def __init__(self, path: str | Path | None, problem: str, fix: str) -> None:
        self.path = None if path is None else Path(path)
        self.problem = problem
        self.fix = fix
        where = f"{self.path}: " if self.path is not None else ""
        super().__init__(f"{where}{problem}\n  fix: {fix}")

    def __reduce__(self):  # picklable across Dask workers / processes
        return (type(self), (self.path, self.problem, self.fix))


class InputError(_Located, ValueError):
    """Bad input: names the file, what is wrong with it and how to fix it.

    A :class:`ValueError`, so code that catches ``ValueError`` catches it too.

    Parameters
    ----------
    path : str or Path or None
        The offending file (or ``None`` when the input is not a file).
    problem : str
        What is wrong, in one sentence (name the row or column where it applies).
    fix : str
        What the user can do about it.
    """


class StudyError(InputError):
    """An invalid study file (YAML)."""


class OutputError(_Located):
    """An output that cannot be written: the path, the problem and the fix.

    Raised instead of a bare ``OSError`` (a folder where a file is expected, a read-only
    folder, a non-empty folder ruimtekit did not make, ...).
    """


class NetworkError(RuimtekitError):
    """A network that cannot be routed on (empty, disconnected, ...).

    ``NetworkError(message)``, or ``NetworkError(path, problem, fix)`` like
    :class:`InputError` when the network file is known.
    """

    def __init__(self, path_or_message: str | Path | None, problem: str | None = None,
                 fix: str | None = None) -> None:
        if problem is None:
            self.path, self.problem, self.fix = None, str(path_or_message), None
            super().__init__(str(path_or_message))
            return
        self.path = None if path_or_message is None else Path(path_or_message)
        self.problem, self.fix = problem, fix
        where = f"{self.path}: " if self.path is not None else ""
        super().__init__(f"{where}{problem}" + (f"\n  fix: {fix}" if fix else ""))

    def __reduce__(self):
        if self.fix is None and self.path is None:
            return (type(self), (self.problem,))
        return (type(self), (self.path, self.problem, self.fix))


def describe_validation(exc: Exception) -> str:
    """One line naming each refused field and why, for a pydantic ``ValidationError``
    (``max_rides: Input should be greater than or equal to 1``); other errors as text."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}"
                             for e in errors())
        except (TypeError, KeyError):  # pragma: no cover - not a pydantic error
            pass
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
