"""The end-to-end pipeline behind ``ruimtekit run``.

Steps, in order: layers → networks → accessibility → transit → borrowed size →
candidates → exports (GeoPackage, CSV tables, provenance JSON) → maps and figures.

Outputs of a study named ``NAME``:

* ``<output_dir>/NAME/NAME.gpkg`` — every result layer, EPSG:28992, with field
  descriptions and QGIS styles;
* ``<output_dir>/NAME/*.csv`` — tables (regression results, stability reports, ...);
* ``<output_dir>/NAME/provenance.json`` — input checksums, the study file, package
  version, timings (seconds per step) and notes (proxy/synthetic statements);
* ``<maps_dir>/NAME/index.html`` — web maps (and ``figures/`` with PNG/SVG).

Both output folders are built in temporary folders and moved into place only when the
whole run succeeded, so a failed run leaves the previous outputs intact. ruimtekit never
removes files it did not write (see :func:`ruimtekit._io.atomic_dir`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ruimtekit import __version__, _crs, _io, defaults
from ruimtekit import study as _study
from ruimtekit._context import RunContext
from ruimtekit._errors import StudyError
from ruimtekit.analysis import transit_access
from ruimtekit.engine import batches as distributed

log = logging.getLogger("ruimtekit.pipeline")

__all__ = ["RunContext", "run", "run_study"]


def run(path: str | Path | None = None, *, quiet: bool = False,
        scheduler: str | None = None, overwrite: bool = False) -> dict[str, Path]:
    """Load a study file (the bundled demo when ``None``) and run it.

    Parameters
    ----------
    path : str or Path, optional
        Study YAML file.
    quiet : bool
        Suppress progress output.
    scheduler : str, optional
        Dask scheduler (``local:N`` or an address) overriding the study's ``scheduler``.
    overwrite : bool
        Allow writing into non-empty output folders that ruimtekit did not make (see
        :func:`ruimtekit._io.atomic_dir`).

    Returns
    -------
    dict
        Paths of the main outputs: ``gpkg``, ``provenance``, ``maps`` (index.html).
    """
    study, root = _study.load_study(path)
    study_file = Path(path) if path is not None else _study.demo_study_path()
    return run_study(study, root, study_file=study_file, quiet=quiet, scheduler=scheduler,
                     overwrite=overwrite)


def _steps() -> list[tuple[str, Callable[[RunContext], None]]]:
    from ruimtekit.analysis import accessibility, borrowed_size, candidates
    from ruimtekit.io import layers
    from ruimtekit.network import networks

    return [
        ("layers", layers.pipeline_step),
        ("networks", networks.pipeline_step),
        ("accessibility", accessibility.pipeline_step),
        ("transit", transit_access.pipeline_step),
        ("borrowed_size", borrowed_size.pipeline_step),
        ("candidates", candidates.pipeline_step),
    ]


def run_study(
    study: Any, root: Path, *, study_file: Path | None = None, quiet: bool = False,
    scheduler: Any = None, overwrite: bool = False,
) -> dict[str, Path]:
    """Run every configured step of a validated study and write the outputs atomically.

    Parameters
    ----------
    study : ruimtekit.study.Study
    root : Path
        Folder relative paths resolve against.
    study_file : Path, optional
        The YAML file (copied into the provenance record).
    quiet : bool
        Suppress progress output.
    scheduler : str or distributed.Client, optional
        Dask scheduler (``local:N``, an address or a client) overriding
        ``study.scheduler``; one client serves the whole run (``ctx.dask_client``). See
        :mod:`ruimtekit.engine.batches`.
    overwrite : bool
        Allow writing into non-empty output folders that ruimtekit did not make; without
        it such folders are refused before any work (:class:`ruimtekit._errors.OutputError`).
        ruimtekit never removes files it did not write.
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    ctx = RunContext(study=study, root=root, quiet=quiet,
                     scheduler=scheduler or getattr(study, "scheduler", None))
    steps = _steps()
    out_dir = ctx.resolve(study.output_dir) / study.name
    maps_dir = ctx.resolve(study.maps_dir) / study.name
    started = _dt.datetime.now(_dt.UTC)

    # Both output folders are built in temporary folders (ctx.work_dir is the data one, for
    # steps that write files such as OD matrices) and swapped in only when everything
    # succeeded. One Dask client serves the whole run (None: local); steps read ctx.dask_client.
    if study.maps.enabled:  # refuse both folders before any work
        if maps_dir.resolve() == out_dir.resolve():
            raise StudyError(study_file, f"output_dir and maps_dir both lead to {out_dir}",
                                    "give maps_dir its own folder (default: maps)")
        _io.check_output_dir(maps_dir, overwrite, "maps")
    maps_cm = (_io.atomic_dir(maps_dir, overwrite, "maps") if study.maps.enabled
               else contextlib.nullcontext())
    with _crs.use_crs(getattr(study, "crs", None)), \
            _io.atomic_dir(out_dir, overwrite, "data") as tmp_out, maps_cm as tmp_maps, \
            distributed.session(ctx.scheduler) as ctx.dask_client, Progress(
                TextColumn("[bold]{task.description}"), BarColumn(),
                TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                disable=quiet, transient=False,
            ) as progress:
        ctx.work_dir = tmp_out
        task = progress.add_task("ruimtekit run", total=len(steps) + 2)
        for name, func in steps:
            progress.update(task, description=f"step: {name}")
            with ctx.timed(name):
                func(ctx)
            log.info("step %s: %.1f s", name, ctx.timings[name])
            progress.advance(task)

        progress.update(task, description="writing GeoPackage and tables")
        with ctx.timed("export"):
            gpkg = _write_outputs(ctx, tmp_out)
        log.info("step export (GeoPackage, tables): %.1f s", ctx.timings["export"])
        progress.advance(task)
        if study.maps.enabled:
            progress.update(task, description="writing maps and figures")
            with ctx.timed("maps"):
                _write_maps(ctx, tmp_maps)
            log.info("step maps (web maps, figures): %.1f s", ctx.timings["maps"])
        progress.advance(task)
        _io.write_json(
            tmp_out / "provenance.json",
            provenance(ctx, study_file=study_file, started=started),
        )
    outputs = {
        "gpkg": out_dir / gpkg.name,
        "provenance": out_dir / "provenance.json",
        "maps": maps_dir / "index.html",
    }
    log.info("done: %s, %s", outputs["gpkg"], outputs["maps"])
    return outputs


def _write_outputs(ctx: RunContext, folder: Path) -> Path:
    from ruimtekit.report import export

    export.pipeline_step(ctx, folder=folder)
    return folder / f"{ctx.study.name}.gpkg"


def _write_maps(ctx: RunContext, folder: Path) -> None:
    from ruimtekit.report import maps

    maps.pipeline_step(ctx, folder=folder)


def provenance(ctx: RunContext, *, study_file: Path | None, started: _dt.datetime) -> dict:
    """The provenance record: inputs with SHA-256, study, version, timings, notes."""
    inputs = []
    for p in sorted(_input_files(ctx)):
        inputs.append({"path": str(p), "bytes": p.stat().st_size, "sha256": _io.sha256(p)})
    return {
        "ruimtekit_version": __version__,
        "python": platform.python_version(),
        "study": ctx.study.name,
        "study_file": str(study_file) if study_file else None,
        "study_yaml": _bounded(study_file.read_text(encoding="utf-8")) if study_file else None,
        "study_resolved": _bounded(ctx.study.model_dump(mode="json")),
        "started_utc": started.isoformat(timespec="seconds"),
        "finished_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "timings_s": ctx.timings,
        "inputs": inputs,
        "results": {k: int(len(v)) for k, v in ctx.results.items()},
        "notes": ctx.notes,
    }


MAX_PROVENANCE_CHARS = defaults.MAX_PROVENANCE_CHARS
"""Largest study text / resolved study copied into provenance.json (characters); larger
ones are replaced by their size and SHA-256 (user data is not expanded beyond this)."""


def _bounded(obj: Any) -> Any:
    import hashlib
    import json

    text = obj if isinstance(obj, str) else json.dumps(obj, default=str)
    if len(text) <= MAX_PROVENANCE_CHARS:
        return obj
    return {"omitted": f"{len(text):,} characters, above the provenance limit of "
                       f"{MAX_PROVENANCE_CHARS:,}",
            "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}


def _input_files(ctx: RunContext) -> set[Path]:
    """Every existing file a study references (layer, network and other path fields)."""
    found: set[Path] = set()

    def walk(obj: Any) -> None:
        if isinstance(obj, dict):
            for v in obj.values():
                walk(v)
        elif isinstance(obj, list | tuple):
            for v in obj:
                walk(v)
        elif isinstance(obj, str) and obj and ("/" in obj or "." in obj):
            p = ctx.resolve(obj)
            try:
                if p.is_file():
                    found.add(p.resolve())
                    if p.suffix == ".shp":
                        found.update(q.resolve() for q in p.parent.glob(p.stem + ".*"))
            except OSError:
                pass

    dump = ctx.study.model_dump(mode="json")
    for key in ("layers", "networks", "accessibility", "transit", "borrowed_size", "candidates"):
        walk(dump.get(key))
    return found
