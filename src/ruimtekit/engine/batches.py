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
    Start a :class:`distributed.LocalCluster` with N single-threaded worker processes
    (numba kernels in each worker use ``cores // N`` threads).
``"tcp://host:8786"`` (or any Dask address)
    Connect to an existing scheduler (dask-jobqueue on an HPC, Dask on Kubernetes, ...).

Wherever a scheduler string is accepted, an existing :class:`distributed.Client` is
accepted too (the pipeline opens one :func:`session` per run and hands the client to
every step).

Engine entry points
-------------------
:func:`network_measures` (road/path networks, :mod:`ruimtekit.analysis.accessibility`),
:func:`crowfly_measures` (crow-fly model) and :func:`transit_measures` (range-RAPTOR
timetables, frequency graphs and NS rail, :mod:`ruimtekit.engine.transit`).

What dominates memory per worker: one copy of the shared inputs (for a road graph
≈ 12 bytes per edge + 24 bytes per node for the CSR arrays and coordinates) plus the
kernel's per-thread buffers (≈ 17 bytes per node per thread) and one batch of results.
See ``docs/distributed.md``.
"""

from __future__ import annotations

import logging
import math
import os
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from ruimtekit import defaults
from ruimtekit._errors import RuimtekitError

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = defaults.DASK_CONNECT_TIMEOUT_S
"""Seconds to wait for a remote scheduler before giving up (:func:`client_for`)."""

BATCHES_PER_WORKER = defaults.BATCHES_PER_WORKER
"""Default number of batches per worker (load balancing vs. per-task overhead)."""

MIN_BATCH = defaults.MIN_BATCH
"""Default minimum origins per batch."""

_ADDRESS = re.compile(r"^(tcp|tls|ws|wss|ucx|inproc)://\S+$|^[\w.\-]+:\d+$")


class SchedulerError(RuimtekitError):
    """The Dask scheduler cannot be reached or started, or the cluster failed a run."""


def batches(n: int, batch_size: int) -> list[np.ndarray]:
    """Split ``range(n)`` into consecutive index batches of at most ``batch_size``."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    return [np.arange(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]


def is_client(obj: Any) -> bool:
    """True for a :class:`distributed.Client` (anything with ``submit`` and ``scatter``)."""
    return hasattr(obj, "submit") and hasattr(obj, "scatter")


def check_scheduler(scheduler: str) -> str:
    """Validate a scheduler string (``local``, ``local:N`` or a Dask address).

    Raises
    ------
    SchedulerError
        For anything else, naming the accepted forms.
    """
    s = str(scheduler).strip()
    if s == "local" or re.fullmatch(r"local:\d+", s):
        if s != "local" and int(s.partition(":")[2]) < 1:
            raise SchedulerError(
                f"invalid scheduler {scheduler!r}.\n  fix: use local:N with N ≥ 1, e.g. local:2")
        return s
    if _ADDRESS.match(s):
        return s
    raise SchedulerError(
        f"invalid scheduler {scheduler!r}.\n  fix: use local:N (start N local worker "
        "processes) or the address of a running Dask scheduler, e.g. tcp://host:8786"
    )


def _import_distributed():
    try:
        import distributed
    except ImportError:  # pragma: no cover - depends on the install
        raise SchedulerError(
            "--scheduler needs Dask distributed, which is not installed.\n"
            "  fix: pip install 'ruimtekit[dask]' (or 'dask[distributed]')"
        ) from None
    return distributed


@contextmanager
def client_for(
    scheduler: str, *, timeout_s: float | None = None, numba_threads: int | None = None
) -> Iterator[Any]:
    """Yield a :class:`distributed.Client` for a scheduler string (see module docs).

    Parameters
    ----------
    scheduler : str
        ``local:N`` or a scheduler address.
    timeout_s : float, optional
        Seconds to wait for a remote scheduler (default :data:`CONNECT_TIMEOUT_S`).
    numba_threads : int, optional
        ``NUMBA_NUM_THREADS`` of ``local:N`` worker processes (default
        ``max(1, cores // N)``, so the workers together use every core once).

    Raises
    ------
    SchedulerError
        When dask.distributed is not installed, ``local:N`` is malformed, or the scheduler
        at the given address cannot be reached within ``timeout_s`` seconds.
    """
    dd = _import_distributed()
    scheduler = check_scheduler(scheduler)
    if scheduler.startswith("local"):
        _, _, n = scheduler.partition(":")
        n_workers = int(n) if n else 2
        threads = numba_threads or max(1, (os.cpu_count() or 1) // n_workers)
        cluster = dd.LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True,
            dashboard_address=None, silence_logs=logging.ERROR,
            env={"NUMBA_NUM_THREADS": str(threads)},
        )
        client = dd.Client(cluster)
        log.info("started a local Dask cluster: %d worker processes × %d numba threads",
                 n_workers, threads)
        try:
            yield client
        finally:
            client.close()
            cluster.close()
        return
    timeout = CONNECT_TIMEOUT_S if timeout_s is None else timeout_s
    try:
        client = dd.Client(scheduler, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as exc:
        raise SchedulerError(
            f"cannot reach the Dask scheduler at {scheduler!r} ({type(exc).__name__}: {exc}).\n"
            "  fix: check the address (e.g. tcp://host:8786) and that the scheduler is running "
            "and reachable from here, or use --scheduler local:N to start a local cluster"
        ) from None
    n = len(client.scheduler_info().get("workers", {}))
    log.info("connected to the Dask scheduler at %s (%d workers)", scheduler, n)
    try:
        yield client
    finally:
        client.close()


@contextmanager
def session(scheduler: Any = None) -> Iterator[Any]:
    """One Dask client for a whole run, or ``None`` to run locally.

    Parameters
    ----------
    scheduler : str, distributed.Client or None
        ``None`` yields ``None`` (local run); a client is yielded as is (and not closed);
        a string opens :func:`client_for` for the duration of the block.

    Examples
    --------
    >>> with session(None) as client:
    ...     client is None
    True
    """
    if scheduler is None or is_client(scheduler):
        yield scheduler
        return
    with client_for(scheduler) as client:
        yield client


def log_progress(label: str, every_s: float = 5.0) -> Callable[[int, int], None]:
    """A ``progress(done, total)`` callback that logs ``label: done/total batches``
    (INFO) at most every ``every_s`` seconds, and always for the last batch."""
    last = [-math.inf]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or now - last[0] >= every_s:
            last[0] = now
            log.info("%s: %d/%d batches done (%.0f%%)", label, done, total,
                     100.0 * done / max(total, 1))

    return progress


def default_batch_size(n_origins: int, n_workers: int, align: int = 1) -> int:
    """Origins per batch: about :data:`BATCHES_PER_WORKER` batches per worker, at least
    :data:`MIN_BATCH` origins, rounded up to a multiple of ``align``."""
    size = max(MIN_BATCH, math.ceil(n_origins / (BATCHES_PER_WORKER * max(n_workers, 1))))
    return int(math.ceil(size / align) * align)


RETRIES = 3
"""Times a batch is recomputed after it failed on a worker (and times the shared inputs are
scattered again after every worker holding them was lost)."""


def map_batches(
    func: Callable[..., Any],
    shared: Any,
    n_origins: int,
    *,
    scheduler: Any = None,
    batch_size: int | None = None,
    align: int = 1,
    progress: Callable[[int, int], None] | None = None,
    label: str = "origin batches",
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
    scheduler : str or distributed.Client, optional
        ``None`` (local, in-process), ``"local:N"``, a scheduler address or an existing
        client (used as is, not closed).
    batch_size : int, optional
        Origins per batch (default :func:`default_batch_size`).
    align : int
        Batch sizes are multiples of this (so batches coincide with an engine's internal
        blocks, which keeps results bit-identical to the local run).
    progress : callable, optional
        Called as ``progress(done_batches, total_batches)``; distributed runs log
        progress (:func:`log_progress`) when none is given.
    label : str
        Name of the computation in progress messages.

    Returns
    -------
    list
        One result per batch, in origin order. A batch that failed on a worker is
        recomputed up to :data:`RETRIES` times.
    """
    client = scheduler if is_client(scheduler) else None
    if scheduler is None:
        size = batch_size or max(n_origins, 1)
        parts = batches(n_origins, size)
        out = []
        for i, idx in enumerate(parts):
            out.append(func(shared, idx))
            if progress:
                progress(i + 1, len(parts))
        return out
    progress = progress or log_progress(label)
    if client is not None:
        return _run_on_client(client, func, shared, n_origins, batch_size, align, RETRIES,
                              progress, label)
    with client_for(scheduler) as c:
        return _run_on_client(c, func, shared, n_origins, batch_size, align, RETRIES,
                              progress, label)


def _task(func: Callable[..., Any], shared: Any, idx: np.ndarray) -> Any:
    """Run one batch on a worker, honouring the worker's ``NUMBA_NUM_THREADS``.

    numba reads ``NUMBA_NUM_THREADS`` when it is first imported, which in a spawned worker
    may happen before the nanny applies the worker environment; the thread count is
    therefore (re)applied to the executing thread here (``numba.set_num_threads`` is
    per thread).
    """
    n = os.environ.get("NUMBA_NUM_THREADS")
    if n and "numba" in sys.modules:
        import numba

        numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))
    return func(shared, idx)


def _run_on_client(client, func, shared, n_origins, batch_size, align, retries, progress,
                   label) -> list[Any]:
    """Scatter ``shared`` once, submit one task per batch, gather in origin order.

    Batches on a lost worker are recomputed by Dask (``retries``). The scattered inputs
    cannot be recomputed by Dask: when every worker holding them is lost (tasks are then
    cancelled for "lost dependencies"), they are scattered again and the unfinished
    batches resubmitted, at most ``retries`` times.
    """
    from concurrent.futures import CancelledError

    dd = _import_distributed()
    n_workers = max(len(client.scheduler_info().get("workers", {})), 1)
    size = batch_size or default_batch_size(n_origins, n_workers, align)
    size = int(math.ceil(size / align) * align)
    parts = batches(n_origins, size)
    if not parts:
        return []
    t0 = time.perf_counter()
    run_id = uuid.uuid4().hex[:12]
    name = getattr(func, "__name__", "batch")
    results: list[Any] = [None] * len(parts)
    pending = set(range(len(parts)))
    resends = 0
    while pending:
        [shared_f] = client.scatter([shared], broadcast=True, hash=False)
        futures = [
            client.submit(_task, func, shared_f, parts[i], retries=retries, pure=False,
                          key=f"ruimtekit-{name}-{run_id}-{resends}-{i}")
            for i in sorted(pending)
        ]
        index = {f.key: int(str(f.key).rsplit("-", 1)[1]) for f in futures}
        try:
            for fut in dd.as_completed(futures):
                i = index[fut.key]
                results[i] = fut.result()
                pending.discard(i)
                progress(len(parts) - len(pending), len(parts))
        except CancelledError as exc:
            resends += 1
            if resends > retries:
                raise SchedulerError(
                    f"{label}: the Dask workers holding the shared inputs were lost "
                    f"{resends} times ({exc}).\n  fix: check the workers' logs (memory, "
                    "preemption) and rerun; nothing was written") from None
            log.warning("%s: the workers holding the network were lost; sending it again "
                        "and resubmitting %d batches", label, len(pending))
        except dd.KilledWorker as exc:
            raise SchedulerError(
                f"{label}: Dask workers died repeatedly while computing a batch ({exc}).\n"
                "  fix: this is usually memory: give each worker more memory (see "
                "docs/distributed.md, 'memory per worker') or use fewer threads per worker"
            ) from None
        except OSError as exc:
            raise SchedulerError(
                f"{label}: lost the connection to the Dask scheduler ({exc}).\n"
                "  fix: check that the scheduler is still running and rerun; nothing was "
                "written") from None
        finally:
            if pending:
                client.cancel(futures)
            del shared_f, futures
    log.info("%s: %d batches of ≤%d origins on %d Dask workers in %.1f s", label,
             len(parts), size, n_workers, time.perf_counter() - t0)
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


# ======================================================================= road networks
# ============================================================================ crow-fly
# ============================================================================= transit
