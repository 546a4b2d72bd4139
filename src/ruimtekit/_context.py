"""The run context handed to every pipeline step."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("ruimtekit.pipeline")


@dataclass
class RunContext:
    """State shared by the pipeline steps of one ``ruimtekit run``.

    Attributes
    ----------
    study : ruimtekit.study.Study
        The validated study definition.
    root : Path
        Folder that relative paths in the study file are resolved against.
    layers : dict of str to GeoDataFrame
        Canonical input layers by study layer name (EPSG:28992, canonical columns).
    networks : dict of str to object
        Routable networks by study network name (``graph.Graph`` or transit networks).
    results : dict of str to GeoDataFrame or DataFrame
        Result layers by name; each becomes a GeoPackage layer (tables without geometry
        become attribute-only layers).
    tables : dict of str to DataFrame
        Extra tabular outputs written as CSV beside the GeoPackage (e.g. regression tables).
    notes : list of str
        Statements shown on maps and in provenance (proxy and synthetic status, caveats).
    quiet : bool
        Suppress progress output.
    timings : dict of str to float
        Seconds per step (filled by :meth:`timed`).
    scheduler : str or distributed.Client, optional
        Dask scheduler of the run (``local:N``, an address or a client; None = local).
    dask_client : distributed.Client, optional
        The run's Dask client (opened once by the pipeline; None = local); steps pass it
        as ``scheduler=`` to the engines.
    """

    study: Any
    root: Path
    layers: dict[str, Any] = field(default_factory=dict)
    networks: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    quiet: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    work_dir: Path | None = None
    scheduler: Any = None
    dask_client: Any = None

    def resolve(self, path: str | Path) -> Path:
        """Resolve a study-file path relative to the study's root folder."""
        p = Path(path)
        return p if p.is_absolute() else (self.root / p)

    def note(self, text: str) -> None:
        """Record a statement for maps and provenance (deduplicated)."""
        if text not in self.notes:
            self.notes.append(text)
            log.info(text)

    @contextmanager
    def timed(self, step: str) -> Iterator[None]:
        """Time a step into ``timings`` (seconds)."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.timings[step] = round(time.perf_counter() - t0, 3)
