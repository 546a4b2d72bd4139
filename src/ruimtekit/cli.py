"""Command-line interface (typer): a thin layer over the Python API.

Every command catches :class:`ruimtekit._errors.RuimtekitError` and prints its message
(file, problem, fix) without a traceback, exiting with code 2.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from ._errors import RuimtekitError

app = typer.Typer(
    name="ruimtekit",
    help=(
        "Dutch spatial-planning analysis: job accessibility within a time budget (minutes) "
        "per mode, borrowed-size catchments, densification candidates, web maps and "
        "GeoPackage layers (EPSG:28992). Run `ruimtekit run` for the bundled demo."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True)

QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]


def _setup_logging(quiet: bool) -> None:
    level = logging.WARNING if quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", force=True)
    logging.getLogger("numba").setLevel(logging.WARNING)


def friendly_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn ruimtekit errors into a clear message and exit code 2 (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RuimtekitError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True)
            raise typer.Exit(code=2) from None
        except KeyboardInterrupt:
            err_console.print("interrupted; earlier outputs were left intact")
            raise typer.Exit(code=130) from None

    return wrapper


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        from . import __version__

        typer.echo(__version__)
        raise typer.Exit()


# --- run (pipeline) ------------------------------------------------------------------
@app.command()
@friendly_errors
def run(
    study: Annotated[
        Path | None,
        typer.Argument(
            help="Study file (YAML). Default: the bundled demo study (offline, data/raw/).",
        ),
    ] = None,
    quiet: QuietOpt = False,
) -> None:
    """Run every analysis step of a study.

    Reads the layers and networks named in STUDY, computes accessibility (jobs within the
    time budgets, minutes, per mode), transit accessibility, borrowed size and
    densification candidates, and writes data/processed/<study>/<study>.gpkg (EPSG:28992),
    a provenance JSON (input checksums, study, version, timings) and maps/<study>/index.html.
    A failed run leaves earlier outputs intact.
    """
    from . import pipeline

    _setup_logging(quiet)
    pipeline.run(study, quiet=quiet)


# --- access (accessibility engine) --------------------------------------------------
# --- transit -------------------------------------------------------------------------
# --- borrowed-size -------------------------------------------------------------------
# --- candidates ----------------------------------------------------------------------
# --- map -----------------------------------------------------------------------------
# --- fetch ---------------------------------------------------------------------------


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except RuimtekitError as exc:  # pragma: no cover - safety net
        err_console.print(f"error: {exc}")
        sys.exit(2)
