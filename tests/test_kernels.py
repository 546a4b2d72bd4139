"""The compiled Dial kernel against a float64 Dijkstra oracle (scipy.sparse.csgraph)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oracles import best_over_sources, edge_matrix, grid_graph, shortest_seconds
from ruimtekit.engine import _kernels
from ruimtekit.network import graph


def _oracle_times(n, u, v, w, src_ptr, src_nodes, src_off):
    """Dense (n_orig, n) float64 earliest arrival per node, inf when unreachable."""
    dist = shortest_seconds(edge_matrix(n, u, v, w))
    return best_over_sources(dist[np.asarray(src_nodes, dtype=np.int64)], src_ptr, src_off)


@st.composite
def cases(draw):
    n = draw(st.integers(1, 25))
    m = draw(st.integers(0, 60))
    u = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    v = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    w = draw(st.lists(st.integers(0, 30), min_size=m, max_size=m))  # zero weights included
    n_orig = draw(st.integers(1, 6))
    counts = draw(st.lists(st.integers(0, 3), min_size=n_orig, max_size=n_orig))
    src_nodes = draw(st.lists(st.integers(0, n - 1), min_size=sum(counts), max_size=sum(counts)))
    src_off = draw(st.lists(st.integers(0, 40), min_size=sum(counts), max_size=sum(counts)))
    n_dst = draw(st.integers(0, 30))
    dst_nodes = draw(st.lists(st.integers(0, n - 1), min_size=n_dst, max_size=n_dst))
    dst_off = draw(st.lists(st.integers(0, 20), min_size=n_dst, max_size=n_dst))
    dst_w = draw(st.lists(st.sampled_from([0.0, 1.0, 2.5, 7.0]), min_size=n_dst, max_size=n_dst))
    max_t = draw(st.integers(0, 150))
    return n, u, v, w, counts, src_nodes, src_off, dst_nodes, dst_off, dst_w, max_t


def _csr(n, u, v, w):
    """CSR arrays without from_edges' component filtering (keeps unreachable nodes)."""
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    w = np.asarray(w, dtype=np.int64)
    keep = u != v
    u, v, w = u[keep], v[keep], w[keep]
    order = np.lexsort((w, v, u))
    u, v, w = u[order], v[order], w[order]
    counts = np.bincount(u, minlength=n)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return indptr, v.astype(np.int32), w.astype(np.int32)


def _dst_csr(n, dst_nodes, dst_off, dst_w):
    dn = np.asarray(dst_nodes, dtype=np.int64)
    order = np.argsort(dn, kind="stable")
    counts = np.bincount(dn, minlength=n)
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return (ptr, np.asarray(dst_off, dtype=np.int32)[order],
            np.asarray(dst_w, dtype=float)[order], np.arange(len(dn), dtype=np.int32)[order])


@pytest.mark.parametrize("lanes", [False, True], ids=["dial", "lanes"])
@settings(max_examples=150, deadline=None)
@given(cases())
def test_dial_matches_dijkstra(lanes, case):
    n, u, v, w, counts, src_nodes, src_off, dst_nodes, dst_off, dst_w, max_t = case
    indptr, indices, weights = _csr(n, u, v, w)
    src_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    times = _oracle_times(n, u, v, w, src_ptr, src_nodes, src_off)
    # pick the cutoff exactly on a reached time when possible (ties at the cutoff)
    finite = times[np.isfinite(times)]
    if finite.size and max_t % 2 == 0:
        max_t = int(finite[len(finite) // 2])
    dptr, doff, dw, didx = _dst_csr(n, dst_nodes, dst_off, dst_w)
    cut2 = max_t // 2
    wtab = np.stack([
        np.ones(max_t + 1),                                 # cumulative at max_t
        (np.arange(max_t + 1) <= cut2).astype(float),       # cumulative at max_t / 2
        np.exp(-0.01 * np.arange(max_t + 1)),               # a decay
    ])
    out, hist, od, reached = _kernels.run_dial(
        indptr, indices, weights, src_ptr, np.asarray(src_nodes, np.int32),
        np.asarray(src_off, np.int32), dptr, doff, dw, wtab, max_t,
        histogram=True, dst_idx=didx, n_dst=len(dst_nodes), lanes=lanes,
    )
    dn = np.asarray(dst_nodes, dtype=np.int64)
    td = times[:, dn] + np.asarray(dst_off, dtype=float) if len(dn) else np.zeros((len(counts), 0))
    wv = np.asarray(dst_w, dtype=float)
    ok = td <= max_t
    np.testing.assert_allclose(out[:, 0], (ok * wv).sum(1), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out[:, 1], ((td <= cut2) * wv).sum(1), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        out[:, 2], np.where(ok, np.exp(-0.01 * np.where(ok, td, 0)) * wv, 0).sum(1),
        rtol=1e-12, atol=1e-12,
    )
    # travel-time matrix: exact minimum per destination
    exp_od = np.where(ok, td, np.inf)
    got_od = np.where(od == _kernels.INF32, np.inf, od.astype(float))
    np.testing.assert_array_equal(got_od, exp_od)
    # histogram: bin ceil(t/60); its total equals the cumulative count at max_t
    for o in range(len(counts)):
        expect = np.zeros(hist.shape[1])
        for j in np.flatnonzero(ok[o]):
            expect[int(np.ceil(td[o, j] / 60))] += wv[j]
        np.testing.assert_allclose(hist[o], expect, atol=1e-12)
    # nodes reached: every node with arrival <= max_t
    np.testing.assert_array_equal(reached, (times <= max_t).sum(1))


def test_zero_weight_cycle_and_unreachable():
    # 0 -> 1 (0 s) -> 2 (0 s) -> 0 (0 s); 3 is unreachable; a tie exactly at the cutoff
    n = 5
    indptr, indices, weights = _csr(n, [0, 1, 2, 2], [1, 2, 0, 4], [0, 0, 0, 10])
    dptr, doff, dw, _ = _dst_csr(n, [0, 1, 2, 3, 4], [0] * 5, [1, 2, 4, 8, 16])
    out, *_ = _kernels.run_dial(indptr, indices, weights, np.array([0, 1]), np.array([0]),
                                np.array([0]), dptr, doff, dw, np.ones((1, 11)), 10)
    assert out[0, 0] == 1 + 2 + 4 + 16
    out, *_ = _kernels.run_dial(indptr, indices, weights, np.array([0, 1]), np.array([0]),
                                np.array([0]), dptr, doff, dw, np.ones((1, 10)), 9)
    assert out[0, 0] == 1 + 2 + 4


def _grid(side: int, rng: np.random.Generator) -> graph.Graph:
    """A side × side grid, two-way edges with integer weights uniform 50–150."""
    return grid_graph(side, 100.0, seed=rng, weights=(50, 151), origin=(0.0, 0.0),
                      mode="unknown")


def test_grid_many_origins_parallel_chunks():
    """A 40×40 grid with all nodes as origins (many chunks, both threads) vs scipy."""
    rng = np.random.default_rng(7)
    g = _grid(40, rng)
    n = g.n_nodes
    jobs = rng.poisson(5, n).astype(float)
    cut = 1000
    dptr, doff, dw, _ = _dst_csr(n, np.arange(n), np.zeros(n), jobs)
    out, *_ = _kernels.run_dial(g.indptr, g.indices, g.weights, np.arange(n + 1),
                                np.arange(n), np.zeros(n), dptr, doff, dw,
                                np.ones((1, cut + 1)), cut)
    d = shortest_seconds(g)
    np.testing.assert_array_equal(out[:, 0], np.where(d <= cut, jobs, 0).sum(1))


def test_crowfly_kernel_matches_dense_numpy():
    rng = np.random.default_rng(3)
    ox, oy = rng.uniform(0, 30_000, 50), rng.uniform(0, 30_000, 50)
    dx, dy = rng.uniform(0, 30_000, 70), rng.uniform(0, 30_000, 70)
    dw = rng.poisson(3, 70).astype(float)
    curve_m = np.array([0.0, 2000, 10_000])
    curve_ms = np.array([20.0, 40, 80]) / 3.6
    max_t = 1800
    wtab = np.stack([np.ones(max_t + 1), np.exp(-0.1 * np.arange(max_t + 1) / 60)])
    out = np.zeros((50, 2))
    own = np.full(50, -1, dtype=np.int64)
    _kernels.crowfly_batch(ox, oy, own, np.zeros(50), dx, dy, dw, 1.3, curve_m, curve_ms,
                           120.0, wtab, max_t, False, out, np.zeros((1, 1)))
    d = np.hypot(ox[:, None] - dx[None, :], oy[:, None] - dy[None, :]) * 1.3
    t = np.rint(120.0 + d / np.interp(d, curve_m, curve_ms))
    ok = t <= max_t
    np.testing.assert_allclose(out[:, 0], (ok * dw).sum(1))
    np.testing.assert_allclose(out[:, 1], (ok * dw * np.exp(-0.1 * t / 60)).sum(1), rtol=1e-12)


def test_bucket_overflow_regrows():
    """A star: 1,999 nodes get the same label (more than the initial bucket capacity)."""
    n = 2000
    leaves = np.arange(1, n)
    indptr, indices, weights = _csr(n, np.r_[np.zeros(n - 1, int), leaves],
                                    np.r_[leaves, np.zeros(n - 1, int)], np.ones(2 * (n - 1)))
    dptr, doff, dw, _ = _dst_csr(n, np.arange(n), np.zeros(n), np.ones(n))
    out, _, _, reached = _kernels.run_dial(indptr, indices, weights, np.array([0, 1, 2]),
                                           np.array([0, 5]), np.array([0, 0]), dptr, doff, dw,
                                           np.ones((1, 3)), 2)
    np.testing.assert_array_equal(out[:, 0], [n, n])
    np.testing.assert_array_equal(reached, [n, n])


def test_renumber_preserves_distances_and_hilbert_is_local():
    rng = np.random.default_rng(2)
    n = 300
    u, v = rng.integers(0, n, 1200), rng.integers(0, n, 1200)
    g = graph.from_edges(u, v, rng.integers(0, 50, 1200), rng.uniform(0, 1e4, n),
                         rng.uniform(0, 1e4, n), largest_component=False)
    for method in ("hilbert", "rcm"):
        order = graph.locality_order(g, method)
        g2 = graph.renumber(g, method)
        assert g2.meta["node_order"] == method
        assert graph.renumber(g, order).meta["node_order"] == "custom"
        np.testing.assert_array_equal(g2.node_ids, g.node_ids[order])
        d1 = shortest_seconds(g)
        d2 = shortest_seconds(g2)
        np.testing.assert_array_equal(d2, d1[np.ix_(order, order)])
    # a Hilbert curve visits a 2^k grid cell by cell: consecutive indices are neighbours
    xs, ys = np.meshgrid(np.arange(8.0), np.arange(8.0))
    h = graph.hilbert_index(xs.ravel(), ys.ravel(), bits=3)
    path = np.argsort(h)
    steps = np.abs(np.diff(xs.ravel()[path])) + np.abs(np.diff(ys.ravel()[path]))
    assert sorted(h) == list(range(64)) and np.all(steps == 1)


@st.composite
def simple_cases(draw):
    """Graphs where every node carries one destination without egress leg (the kernel's
    aggregate-at-settle path), with weights from a drawn range (bucket widths > 1)."""
    n = draw(st.integers(1, 30))
    m = draw(st.integers(0, 90))
    lo = draw(st.sampled_from([0, 1, 3, 8, 40]))
    u = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    v = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    w = draw(st.lists(st.integers(lo, lo + 60), min_size=m, max_size=m))
    n_orig = draw(st.integers(1, 5))
    counts = draw(st.lists(st.integers(0, 3), min_size=n_orig, max_size=n_orig))
    src_nodes = draw(st.lists(st.integers(0, n - 1), min_size=sum(counts), max_size=sum(counts)))
    src_off = draw(st.lists(st.integers(0, 90), min_size=sum(counts), max_size=sum(counts)))
    opp = draw(st.lists(st.sampled_from([0.0, 1.0, 3.0, 0.5]), min_size=n, max_size=n))
    max_t = draw(st.integers(0, 300))
    return n, u, v, w, counts, src_nodes, src_off, opp, max_t


@pytest.mark.parametrize("lanes", [False, True], ids=["dial", "lanes"])
@settings(max_examples=150, deadline=None)
@given(simple_cases())
def test_simple_destinations_and_wide_buckets_match_dijkstra(lanes, case):
    n, u, v, w, counts, src_nodes, src_off, opp, max_t = case
    indptr, indices, weights = _csr(n, u, v, w)
    src_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    times = _oracle_times(n, u, v, w, src_ptr, src_nodes, src_off)
    dptr, doff, dw, _ = _dst_csr(n, np.arange(n), np.zeros(n), opp)
    wv = np.asarray(opp)
    ok = times <= max_t
    t = np.arange(max_t + 1)
    one = _kernels.run_dial(indptr, indices, weights, src_ptr, np.asarray(src_nodes, np.int32),
                            np.asarray(src_off, np.int32), dptr, doff, dw,
                            np.exp(-0.02 * t)[None, :], max_t, lanes=lanes)
    np.testing.assert_allclose(
        one[0][:, 0], np.where(ok, np.exp(-0.02 * np.where(ok, times, 0)) * wv, 0).sum(1),
        rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(one[3], ok.sum(1))
    out, hist, _, reached = _kernels.run_dial(
        indptr, indices, weights, src_ptr, np.asarray(src_nodes, np.int32),
        np.asarray(src_off, np.int32), dptr, doff, dw,
        np.stack([np.ones(max_t + 1), (t <= max_t // 3).astype(float)]), max_t, histogram=True,
        lanes=lanes)
    np.testing.assert_array_equal(out[:, 0], (ok * wv).sum(1))
    np.testing.assert_array_equal(out[:, 1], ((times <= max_t // 3) * wv).sum(1))
    np.testing.assert_array_equal(hist.sum(1), (ok * wv).sum(1))
    np.testing.assert_array_equal(reached, ok.sum(1))


def test_bucket_overflow_regrows_with_several_measures():
    """The star of test_bucket_overflow_regrows with two measures and a histogram (the
    aggregate-at-settle path must not count the aborted first attempt)."""
    n = 2000
    leaves = np.arange(1, n)
    indptr, indices, weights = _csr(n, np.r_[np.zeros(n - 1, int), leaves],
                                    np.r_[leaves, np.zeros(n - 1, int)], np.ones(2 * (n - 1)))
    dptr, doff, dw, _ = _dst_csr(n, np.arange(n), np.zeros(n), np.ones(n))
    wtab = np.stack([np.ones(3), np.array([1.0, 0.5, 0.25])])
    out, hist, _, reached = _kernels.run_dial(
        indptr, indices, weights, np.array([0, 1, 2]), np.array([0, 5]), np.array([0, 0]),
        dptr, doff, dw, wtab, 2, histogram=True)
    np.testing.assert_array_equal(out[:, 0], [n, n])
    # origin 0: itself at 0 s, 1,999 leaves at 1 s; origin 5: itself, the hub at 1 s,
    # 1,998 leaves at 2 s
    np.testing.assert_array_equal(out[:, 1], [1 + 0.5 * (n - 1), 1 + 0.5 + 0.25 * (n - 2)])
    np.testing.assert_array_equal(hist[:, :2], [[1, n - 1], [1, n - 1]])  # ceil(t / 60)
    np.testing.assert_array_equal(reached, [n, n])


def test_long_budget_uses_int32_labels():
    """Budgets of 2**15 - 2 s and more switch the labels from int16 to int32 (a path
    graph whose far end lies beyond the int16 range)."""
    n = 12
    w = np.arange(1, n) * 1000
    indptr, indices, weights = _csr(n, np.arange(n - 1), np.arange(1, n), w)
    dptr, doff, dw, _ = _dst_csr(n, np.arange(n), np.zeros(n), np.ones(n))
    arrive = np.r_[0, np.cumsum(w)]  # 0, 1000, 3000, ..., 66000 s
    for max_t in (32_765, 32_766, 45_000, 66_000):
        out, _, _, reached = _kernels.run_dial(
            indptr, indices, weights, np.array([0, 1]), np.array([0]), np.array([0]),
            dptr, doff, dw, np.ones((1, max_t + 1)), max_t)
        assert out[0, 0] == reached[0] == (arrive <= max_t).sum()


@pytest.mark.parametrize("lanes", [False, True], ids=["dial", "lanes"])
def test_bucket_overflow_regrows_both_kernels(lanes):
    """The star of test_bucket_overflow_regrows with 40 origins (three lane groups)."""
    n = 2000
    leaves = np.arange(1, n)
    indptr, indices, weights = _csr(n, np.r_[np.zeros(n - 1, int), leaves],
                                    np.r_[leaves, np.zeros(n - 1, int)], np.ones(2 * (n - 1)))
    dptr, doff, dw, _ = _dst_csr(n, np.arange(n), np.zeros(n), np.ones(n))
    origins = np.r_[0, np.arange(1, 40)]
    info: dict = {}
    out, _, _, reached = _kernels.run_dial(
        indptr, indices, weights, np.arange(41), origins, np.zeros(40, np.int32), dptr,
        doff, dw, np.stack([np.ones(3), np.array([1.0, 0.5, 0.25])]), 2, lanes=lanes,
        info=info)
    assert info["kernel"] == ("lanes" if lanes else "dial")
    np.testing.assert_array_equal(out[:, 0], np.full(40, n))
    np.testing.assert_array_equal(out[1:, 1], np.full(39, 1 + 0.5 + 0.25 * (n - 2)))
    np.testing.assert_array_equal(reached, np.full(40, n))


@pytest.mark.parametrize("max_t", [16_382, 16_383, 40_000])
def test_lane_labels_switch_to_int32(max_t):
    """Lane labels are int16 while 2 * (max_t + 1) < 2**15, else int32; both exact."""
    n = 12
    w = np.arange(1, n) * 700
    indptr, indices, weights = _csr(n, np.arange(n - 1), np.arange(1, n), w)
    dptr, doff, dw, _ = _dst_csr(n, np.arange(n), np.zeros(n), np.ones(n))
    arrive = np.r_[0, np.cumsum(w)]
    src = np.arange(n)  # every node an origin (one group)
    out, _, _, reached = _kernels.run_dial(
        indptr, indices, weights, np.arange(n + 1), src, np.zeros(n, np.int32), dptr, doff,
        dw, np.ones((1, max_t + 1)), max_t, lanes=True)
    expect = [(arrive[k:] - arrive[k] <= max_t).sum() for k in range(n)]
    np.testing.assert_array_equal(out[:, 0], expect)
    np.testing.assert_array_equal(reached, expect)


def test_edge_layouts_decode_to_the_same_graph():
    rng = np.random.default_rng(5)
    n, m = 500, 3000
    indptr, indices, weights = _csr(n, rng.integers(0, n, m), rng.integers(0, n, m),
                                    rng.integers(0, 5000, m))
    one = _kernels.pack_graph(indptr, indices, weights)
    assert one.adj.ndim == 1 and one.hbits == 9 and one.max_w == weights.max()
    np.testing.assert_array_equal(one.adj & ((1 << one.hbits) - 1), indices)
    np.testing.assert_array_equal(one.adj >> one.hbits, weights)
    clipped = _kernels.pack_graph(indptr, indices, weights, clip=1000)
    np.testing.assert_array_equal(clipped.adj >> clipped.hbits, np.minimum(weights, 1000))
    # a weight that does not fit beside a 9-bit head: the (head, weight) pair layout
    big = weights.astype(np.int64).copy()
    big[0] = 2**22
    two = _kernels.pack_graph(indptr, indices, big)
    assert two.adj.ndim == 2 and two.hbits == 0
    np.testing.assert_array_equal(two.adj[:, 0], indices)
    np.testing.assert_array_equal(two.adj[:, 1], big)
    # the search is exact on it: a path of 2**16 + 1 nodes (17-bit heads leave 14 bits,
    # < 16,384) whose first edge takes 16,390 s, the others 1 s, budget 16,400 s
    n = 2**16 + 1
    w = np.ones(n - 1, dtype=np.int64)
    w[0] = 16_390
    ip, ix, wt = _csr(n, np.arange(n - 1), np.arange(1, n), w)
    assert _kernels.pack_graph(ip, ix, wt, clip=16_401).adj.ndim == 2
    dptr, doff, dw, _ = _dst_csr(n, np.arange(n), np.zeros(n), np.ones(n))
    for lanes in (False, True):
        out, *_ = _kernels.run_dial(ip, ix, wt, np.array([0, 1, 2]), np.array([0, 1]),
                                    np.array([0, 0]), dptr, doff, dw, np.ones((1, 16_401)),
                                    16_400, lanes=lanes)
        np.testing.assert_array_equal(out[:, 0], [12, 16_401])  # 0..11; 1..16,401


def test_dense_origins_choose_lanes_after_a_pilot_and_match_scipy():
    """Every node of a 60×60 grid an origin: the default tries the lane kernel on two
    pilot groups and keeps it; sparse origins use the one-origin kernel."""
    rng = np.random.default_rng(11)
    g = _grid(60, rng)
    n = g.n_nodes
    jobs = rng.poisson(5, n) + rng.choice([0.0, 0.25], n)
    cut = 1500
    d = shortest_seconds(g)
    dptr, doff, dw, _ = _dst_csr(n, np.arange(n), np.zeros(n), jobs)
    info: dict = {}
    out, _, _, reached = _kernels.run_dial(
        g.indptr, g.indices, g.weights, np.arange(n + 1), np.arange(n), np.zeros(n), dptr,
        doff, dw, np.ones((1, cut + 1)), cut, info=info)
    assert info["kernel"] == "lanes" and info["pilot_work"] < _kernels.LANES_MAX_WORK
    np.testing.assert_array_equal(out[:, 0], np.where(d <= cut, jobs, 0).sum(1))
    np.testing.assert_array_equal(reached, (d <= cut).sum(1))
    sparse = np.arange(0, n, 7)
    info = {}
    out, *_ = _kernels.run_dial(
        g.indptr, g.indices, g.weights, np.arange(sparse.size + 1), sparse,
        np.zeros(sparse.size), dptr, doff, dw, np.ones((1, cut + 1)), cut, info=info)
    assert info["kernel"] == "dial"
    np.testing.assert_array_equal(out[:, 0], np.where(d[sparse] <= cut, jobs, 0).sum(1))
