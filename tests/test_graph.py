"""The CSR graph contract: rounding, parallel edges, largest strongly connected component."""

from __future__ import annotations

import numpy as np
import pytest

from ruimtekit._errors import NetworkError
from ruimtekit.network import graph


def _line(n):
    x = np.arange(n, dtype=float) * 100.0
    return x, np.zeros(n)


def test_from_edges_keeps_fastest_parallel_edge_and_rounds():
    x, y = _line(3)
    g = graph.from_edges([0, 0, 1, 1, 2, 2], [1, 1, 0, 2, 1, 0], [10.4, 7.6, 9.5, 3, 3, 20], x, y)
    assert g.n_nodes == 3
    m = g.to_scipy().toarray()
    assert m[0, 1] == 8 and m[1, 0] == 10 and m[1, 2] == 3 and m[2, 0] == 20
    assert g.weights.dtype == np.int32 and g.indices.dtype == np.int32


def test_largest_scc_drops_one_way_tail():
    x, y = _line(4)
    # 0<->1<->2 strongly connected, 2->3 only (3 cannot return)
    g = graph.from_edges([0, 1, 1, 2, 2], [1, 0, 2, 1, 3], [1, 1, 1, 1, 1], x, y,
                         attrs=graph.GraphAttrs(node_ids=np.array([10, 11, 12, 13])))
    assert g.n_nodes == 3 and g.dropped_nodes == 1
    assert list(g.node_ids) == [10, 11, 12]


def test_reverse_is_transpose():
    rng = np.random.default_rng(1)
    n = 30
    u = rng.integers(0, n, 200)
    v = rng.integers(0, n, 200)
    g = graph.from_edges(u, v, rng.uniform(1, 50, 200), np.arange(n, dtype=float), np.zeros(n),
                         largest_component=False)
    r = g.reverse()
    assert (r.to_scipy() != g.to_scipy().T).nnz == 0


def test_empty_and_negative_inputs_raise():
    with pytest.raises(NetworkError):
        graph.from_edges([], [], [], [], [])
    x, y = _line(2)
    with pytest.raises(NetworkError):
        graph.from_edges([0], [1], [-1.0], x, y)
