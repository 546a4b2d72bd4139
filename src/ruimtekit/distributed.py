"""Run origin batches on a Dask cluster when one machine is not enough.

Accessibility, transit and catchment computations are independent per origin over a
large read-only network with small results. This module splits the origins into batches,
ships the shared inputs (the compact network arrays, destination weights) to every worker
**once** with ``Client.scatter(..., broadcast=True)``, submits one task per batch and
gathers the per-batch results back **in origin order**, so the outputs are identical to a
single-process run. Lost workers are survived: Dask recomputes the batches that were on a
killed worker (``retries``), and nothing is written before every batch is back.

Scheduler strings
-----------------
``None``
    Run locally in this process (no Dask).
``"local:N"``
    Start a :class:`distributed.LocalCluster` with N single-threaded worker processes.
``"tcp://host:8786"`` (or any Dask address)
    Connect to an existing scheduler (dask-jobqueue on an HPC, Dask on Kubernetes, ...).

What dominates memory per worker: one copy of the shared inputs (for a road graph
≈ 12 bytes per edge + 24 bytes per node for the CSR arrays and coordinates) plus the
kernel's per-thread buffers (≈ 17 bytes per node per thread) and one batch of results.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from ._errors import RuimtekitError

log = logging.getLogger(__name__)


class SchedulerError(RuimtekitError):
    """The Dask scheduler cannot be reached or started."""


def batches(n: int, batch_size: int) -> list[np.ndarray]:
    """Split ``range(n)`` into consecutive index batches of at most ``batch_size``."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    return [np.arange(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]


@contextmanager
def client_for(scheduler: str, *, timeout_s: float = 10.0):
    """Yield a :class:`distributed.Client` for a scheduler string (see module docs).

    Raises
    ------
    SchedulerError
        When dask.distributed is not installed, ``local:N`` is malformed, or the scheduler
        at the given address cannot be reached within ``timeout_s`` seconds.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - depends on the install
        raise SchedulerError(
            "--scheduler needs Dask distributed, which is not installed.\n"
            "  fix: pip install 'ruimtekit[dask]' (or 'dask[distributed]')"
        ) from None
    if scheduler.startswith("local"):
        _, _, n = scheduler.partition(":")
        try:
            n_workers = int(n) if n else 2
            if n_workers < 1:
                raise ValueError
        except ValueError:
            raise SchedulerError(
                f"invalid scheduler {scheduler!r}.\n  fix: use local:N with N ≥ 1, e.g. local:2"
            ) from None
        cluster = LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True,
            dashboard_address=None, silence_logs=logging.ERROR,
        )
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
            cluster.close()
        return
    try:
        client = Client(scheduler, timeout=timeout_s)
    except (OSError, TimeoutError, ValueError) as exc:
        raise SchedulerError(
            f"cannot reach the Dask scheduler at {scheduler!r} ({type(exc).__name__}: {exc}).\n"
            "  fix: check the address (e.g. tcp://host:8786) and that the scheduler is running "
            "and reachable from here, or use --scheduler local:N to start a local cluster"
        ) from None
    try:
        yield client
    finally:
        client.close()


def map_batches(
    func: Callable[..., Any],
    shared: Any,
    n_origins: int,
    *,
    scheduler: str | None = None,
    batch_size: int | None = None,
    retries: int = 3,
    progress: Callable[[int, int], None] | None = None,
    client: Any = None,
) -> list[Any]:
    """Apply ``func(shared, origin_idx)`` to batches of origins, locally or on Dask.

    Parameters
    ----------
    func : callable
        A picklable top-level function ``func(shared, idx) -> result`` computing the
        results of the origins ``idx`` (int array). It must be deterministic.
    shared : object
        Read-only inputs every batch needs (graph arrays, destination weights). On Dask it
        is scattered to every worker once and never re-pickled per task.
    n_origins : int
        Number of origins.
    scheduler : str, optional
        ``None`` (local, in-process), ``"local:N"`` or a scheduler address.
    batch_size : int, optional
        Origins per batch (default: about 8 batches per worker, at least 64 origins).
    retries : int
        Times a batch is recomputed after worker failures.
    progress : callable, optional
        Called as ``progress(done_batches, total_batches)``.
    client : distributed.Client, optional
        An existing client to use instead of ``scheduler``.

    Returns
    -------
    list
        One result per batch, in origin order.
    """
    if scheduler is None and client is None:
        size = batch_size or max(n_origins, 1)
        parts = batches(n_origins, size)
        out = []
        for i, idx in enumerate(parts):
            out.append(func(shared, idx))
            if progress:
                progress(i + 1, len(parts))
        return out
    if client is not None:
        return _run_on_client(client, func, shared, n_origins, batch_size, retries, progress)
    with client_for(scheduler) as c:  # type: ignore[arg-type]
        return _run_on_client(c, func, shared, n_origins, batch_size, retries, progress)


def _run_on_client(client, func, shared, n_origins, batch_size, retries, progress) -> list[Any]:
    from distributed import as_completed

    n_workers = max(len(client.scheduler_info().get("workers", {})), 1)
    size = batch_size or max(64, math.ceil(n_origins / (8 * n_workers)))
    parts = batches(n_origins, size)
    [shared_f] = client.scatter([shared], broadcast=True, hash=False)
    futures = [
        client.submit(func, shared_f, idx, retries=retries, pure=False, key=f"ruimtekit-batch-{i}-{id(parts)}")
        for i, idx in enumerate(parts)
    ]
    index = {f.key: i for i, f in enumerate(futures)}
    results: list[Any] = [None] * len(futures)
    done = 0
    for fut in as_completed(futures):
        results[index[fut.key]] = fut.result()
        done += 1
        if progress:
            progress(done, len(futures))
    log.info("distributed run: %d batches of ≤%d origins on %d workers", len(parts), size, n_workers)
    return results


def concat(results: Sequence[Any]) -> Any:
    """Concatenate per-batch results (arrays along axis 0, dicts of arrays key-wise)."""
    if not results:
        return results
    first = results[0]
    if isinstance(first, dict):
        return {k: np.concatenate([r[k] for r in results]) for k in first}
    if isinstance(first, tuple):
        return tuple(np.concatenate([r[i] for r in results]) for i in range(len(first)))
    return np.concatenate(results)
