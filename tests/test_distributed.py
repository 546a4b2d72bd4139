"""Dask scale-out: identical results to the local run, survival of a killed worker,
clear errors for unreachable schedulers."""

from __future__ import annotations

import os
import signal
import sys
import time

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

distributed_mod = pytest.importorskip("distributed")
import cloudpickle  # noqa: E402

from ruimtekit import distributed  # noqa: E402
from ruimtekit._errors import RuimtekitError  # noqa: E402

cloudpickle.register_pickle_by_value(sys.modules[__name__])


def _graph(n=400, seed=3):
    rng = np.random.default_rng(seed)
    u = rng.integers(0, n, 6 * n)
    v = rng.integers(0, n, 6 * n)
    w = rng.integers(1, 100, 6 * n).astype(float)
    m = sp.csr_matrix((w, (u, v)), shape=(n, n))
    jobs = rng.poisson(5, n).astype(float)
    return m, jobs


def _batch_sum(shared, idx, delay=0.0):
    m, jobs = shared
    d = dijkstra(m, indices=idx, limit=300.0)
    if delay:
        time.sleep(delay)
    return (np.where(np.isfinite(d), 1.0, 0.0) * jobs).sum(axis=1)


def _slow_batch(shared, idx):
    return _batch_sum(shared, idx, delay=0.4)


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_batches_cover_range_in_order():
    parts = distributed.batches(10, 4)
    assert [p.tolist() for p in parts] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_dask_equals_local(client):
    shared = _graph()
    n = shared[0].shape[0]
    local = distributed.concat(distributed.map_batches(_batch_sum, shared, n, batch_size=37))
    remote = distributed.concat(
        distributed.map_batches(_batch_sum, shared, n, client=client, batch_size=37)
    )
    oracle = (np.isfinite(dijkstra(shared[0], limit=300.0)) * shared[1]).sum(axis=1)
    np.testing.assert_array_equal(local, oracle)
    np.testing.assert_array_equal(remote, local)


def test_worker_killed_mid_run_is_survived(client):
    shared = _graph(seed=5)
    n = shared[0].shape[0]
    pids = client.run(os.getpid)
    seen = []

    def progress(done, total):
        seen.append(done)
        if done == 1:  # kill one worker process hard after the first batch is back
            victim = sorted(pids.values())[0]
            os.kill(victim, signal.SIGKILL)

    out = distributed.concat(
        distributed.map_batches(_slow_batch, shared, n, client=client, batch_size=25,
                                progress=progress)
    )
    oracle = (np.isfinite(dijkstra(shared[0], limit=300.0)) * shared[1]).sum(axis=1)
    np.testing.assert_array_equal(out, oracle)
    assert seen[-1] == len(distributed.batches(n, 25))


def test_unreachable_scheduler_gives_clear_error():
    with pytest.raises(RuimtekitError, match="cannot reach the Dask scheduler"):
        with distributed.client_for("tcp://127.0.0.1:9", timeout_s=2):
            pass


def test_bad_local_spec():
    with pytest.raises(RuimtekitError, match="local:N"):
        with distributed.client_for("local:zero"):
            pass
