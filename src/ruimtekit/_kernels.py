"""Compiled (numba) kernels of the accessibility engine.

Two kernels do all the heavy lifting:

* :func:`dial_batch` — a bounded one-to-all search from every origin on a :class:`Graph`
  with integer edge weights (seconds, or metres for distance searches), using **Dial's
  bucket queue**: ``max_edge_weight + 1`` circular buckets holding doubly-linked node lists
  (``nxt``/``prv`` arrays), so insert, decrease-key and pop are O(1) and the queue never
  holds stale entries. The measures are aggregated while nodes are settled; no
  origin × node table is ever built. Origins run in parallel (``prange``) and each worker
  reuses its own buffers, resetting only the nodes it touched.
* :func:`crowfly_batch` — the same aggregation for the crow-fly impedance model: all
  origin × destination pairs are evaluated on the fly (no matrix), in parallel.

Measures are passed as a **weight table** ``wtab`` of shape (K, max_t + 1): the weight of
an opportunity reached after ``t`` whole seconds in measure ``k`` is ``wtab[k, t]``. A
cumulative cutoff of T minutes is the step ``1[t <= 60 T]`` and every decay function is
evaluated at each integer second, so all measures are exact for integer travel times.
Times beyond ``max_t`` are not reached (the search stops there).

Origins and destinations are given in CSR form:

* origin ``o`` starts from source nodes ``src_nodes[src_ptr[o]:src_ptr[o+1]]`` with
  initial offsets ``src_off`` (access legs, seconds);
* destinations are attached to nodes: entries ``dst_ptr[v]:dst_ptr[v+1]`` of ``dst_off``
  (egress leg, seconds), ``dst_w`` (opportunities) and ``dst_idx`` (destination number,
  used only for travel-time matrices).
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

INF32 = np.int32(2**31 - 1)
"""Sentinel for an unreached node (int32 seconds)."""


@njit(cache=True, nogil=True, boundscheck=False)
def _search_one(
    o, indptr, indices, weights, nb,
    src_ptr, src_nodes, src_off,
    dst_ptr, dst_off, dst_w, dst_idx,
    wtab, max_t, do_hist, out, hist, do_od, od,
    dist, nxt, prv, head, touched,
):  # pragma: no cover - compiled
    inf = np.int32(2**31 - 1)
    n_meas = wtab.shape[0]
    ntouch = 0
    queued = 0
    t = max_t + 1
    # ---- seed the sources (several nodes with access offsets) ------------------------
    for s in range(src_ptr[o], src_ptr[o + 1]):
        v = src_nodes[s]
        d = src_off[s]
        if d > max_t or d >= dist[v]:
            continue
        dv = dist[v]
        if dv == inf:
            touched[ntouch] = v
            ntouch += 1
        else:  # unlink from its bucket
            p = prv[v]
            q = nxt[v]
            if p == -1:
                head[dv % nb] = q
            else:
                nxt[p] = q
            if q != -1:
                prv[q] = p
            queued -= 1
        dist[v] = d
        b = d % nb
        h = head[b]
        nxt[v] = h
        prv[v] = -1
        if h != -1:
            prv[h] = v
        head[b] = v
        queued += 1
        if d < t:
            t = d
    # ---- Dial's bucket scan ------------------------------------------------------------
    while queued > 0:
        b = t % nb
        v = head[b]
        while v != -1:
            # pop v (the head of bucket b); dist[v] == t is final
            q = nxt[v]
            head[b] = q
            if q != -1:
                prv[q] = -1
            queued -= 1
            # relax the out-edges of v
            for e in range(indptr[v], indptr[v + 1]):
                u = indices[e]
                nd = t + weights[e]
                if nd <= max_t:
                    du = dist[u]
                    if nd < du:
                        if du == inf:
                            touched[ntouch] = u
                            ntouch += 1
                        else:
                            p = prv[u]
                            q = nxt[u]
                            if p == -1:
                                head[du % nb] = q
                            else:
                                nxt[p] = q
                            if q != -1:
                                prv[q] = p
                            queued -= 1
                        dist[u] = nd
                        bb = nd % nb
                        h = head[bb]
                        nxt[u] = h
                        prv[u] = -1
                        if h != -1:
                            prv[h] = u
                        head[bb] = u
                        queued += 1
            v = head[b]
        t += 1
    # ---- aggregate over the reached nodes (all settled), then reset only those ----------
    # (a separate tight loop: it keeps the search loop small and lets the measures
    # accumulate in registers)
    if n_meas == 1 and not do_hist and not do_od:
        acc = 0.0
        for i in range(ntouch):
            v = touched[i]
            tv = dist[v]
            for e in range(dst_ptr[v], dst_ptr[v + 1]):
                te = tv + dst_off[e]
                if te <= max_t:
                    acc += dst_w[e] * wtab[0, te]
            dist[v] = inf
        out[o, 0] += acc
        return ntouch
    for i in range(ntouch):
        v = touched[i]
        tv = dist[v]
        for e in range(dst_ptr[v], dst_ptr[v + 1]):
            te = tv + dst_off[e]
            if te <= max_t:
                w = dst_w[e]
                for k in range(n_meas):
                    out[o, k] += w * wtab[k, te]
                if do_hist:
                    hist[o, (te + 59) // 60] += w
                if do_od:
                    j = dst_idx[e]
                    if te < od[o, j]:
                        od[o, j] = te
        dist[v] = inf
    return ntouch


@njit(cache=True, parallel=True, boundscheck=False)
def dial_batch(
    indptr, indices, weights, nb,
    src_ptr, src_nodes, src_off,
    dst_ptr, dst_off, dst_w, dst_idx,
    wtab, max_t, do_hist, out, hist, do_od, od, chunks,
):  # pragma: no cover - compiled
    """Bounded Dial search from every origin, aggregating measures on the fly.

    Parameters
    ----------
    indptr : int64 (n + 1,)
    indices, weights : int32 (m,)
        CSR graph; weights in whole seconds (or metres), >= 0.
    nb : int
        Number of circular buckets: ``max(max(weights), max(src_off)) + 1`` (capped
        offsets), so every queued label lies within one turn of the circle.
    src_ptr : int64 (n_orig + 1,)
    src_nodes, src_off : int32
        Source nodes of each origin and their initial offsets (seconds).
    dst_ptr : int64 (n + 1,)
    dst_off : int32, dst_w : float64, dst_idx : int32
        Destinations attached to nodes: egress offset (seconds), opportunities, index.
    wtab : float64 (K, max_t + 1)
        Weight of an opportunity reached after t seconds, per measure.
    max_t : int
        Search budget (seconds); nothing beyond it is reached.
    do_hist : bool
        Fill ``hist[o, ceil(t / 60)]`` (opportunities per 1-minute bin).
    out : float64 (n_orig, K)
        Measures (added to; pass zeros).
    hist : float64 (n_orig, ceil(max_t / 60) + 1) or (1, 1) when unused
    do_od : bool
        Fill ``od[o, dst_idx]`` with the minimum travel time (seconds).
    od : int32 (n_orig, n_dst) filled with INF32, or (1, 1) when unused
    chunks : int64 (n_chunks + 1,)
        Origin ranges; each chunk allocates its own search buffers once.

    Returns
    -------
    ndarray of int64 (n_orig,)
        Nodes reached (touched) per origin.
    """
    n = indptr.shape[0] - 1
    n_orig = src_ptr.shape[0] - 1
    reached = np.zeros(n_orig, dtype=np.int64)
    for c in prange(chunks.shape[0] - 1):
        dist = np.full(n, 2**31 - 1, dtype=np.int32)
        nxt = np.empty(n, dtype=np.int32)
        prv = np.empty(n, dtype=np.int32)
        head = np.full(nb, -1, dtype=np.int32)
        touched = np.empty(n, dtype=np.int32)
        for o in range(chunks[c], chunks[c + 1]):
            reached[o] = _search_one(
                o, indptr, indices, weights, nb,
                src_ptr, src_nodes, src_off,
                dst_ptr, dst_off, dst_w, dst_idx,
                wtab, max_t, do_hist, out, hist, do_od, od,
                dist, nxt, prv, head, touched,
            )
    return reached


@njit(cache=True, nogil=True)
def crowfly_time_s(dist_m, detour, curve_m, curve_ms, fixed_s):  # pragma: no cover
    """Crow-fly travel time (float seconds) for one straight-line distance (metres).

    Network length ``L = dist_m * detour``; average speed ``v(L)`` interpolated linearly in
    ``curve_m`` (metres) → ``curve_ms`` (m/s), constant beyond the ends; time
    ``fixed_s + L / v(L)``.
    """
    length = dist_m * detour
    v = np.interp(length, curve_m, curve_ms)
    return fixed_s + length / v


@njit(cache=True, parallel=True, boundscheck=False)
def crowfly_batch(
    ox, oy, own, own_dist,
    dx, dy, dw,
    detour, curve_m, curve_ms, fixed_s,
    wtab, max_t, do_hist, out, hist,
):  # pragma: no cover - compiled
    """Crow-fly accessibility for every origin, without an origin × destination matrix.

    Parameters
    ----------
    ox, oy : float64 (n_orig,)
        Origin coordinates (EPSG:28992 metres).
    own : int64 (n_orig,)
        Index of the origin's own destination (its zone), or -1.
    own_dist : float64 (n_orig,)
        Straight-line distance (m) used for the own destination (intrazonal distance).
    dx, dy, dw : float64 (n_dst,)
        Destination coordinates and opportunities.
    detour, curve_m, curve_ms, fixed_s
        Crow-fly impedance model (see :func:`crowfly_time_s`).
    wtab, max_t, do_hist, out, hist
        As in :func:`dial_batch`; travel times are rounded to whole seconds.
    """
    n_orig = ox.shape[0]
    n_dst = dx.shape[0]
    n_meas = wtab.shape[0]
    for i in prange(n_orig):
        xi = ox[i]
        yi = oy[i]
        for j in range(n_dst):
            w = dw[j]
            if w == 0.0:
                continue
            if j == own[i]:
                d = own_dist[i]
            else:
                d = np.sqrt((dx[j] - xi) ** 2 + (dy[j] - yi) ** 2)
            tf = crowfly_time_s(d, detour, curve_m, curve_ms, fixed_s)
            if tf > max_t:
                continue
            t = np.int64(np.rint(tf))
            if t > max_t:
                continue
            for k in range(n_meas):
                out[i, k] += w * wtab[k, t]
            if do_hist:
                hist[i, (t + 59) // 60] += w


@njit(cache=True, parallel=True, boundscheck=False)
def effective_density_crowfly(ox, oy, own, own_dist, dx, dy, dw, alpha):  # pragma: no cover
    """Effective density ``sum_j w_j / d_ij ** alpha`` with straight-line d in kilometres.

    ``own[i]`` is the destination index of origin i's own zone (its distance is replaced by
    ``own_dist[i]`` metres); a distinct destination at zero distance also uses
    ``own_dist[i]``.
    """
    n_orig = ox.shape[0]
    n_dst = dx.shape[0]
    out = np.zeros(n_orig)
    for i in prange(n_orig):
        s = 0.0
        for j in range(n_dst):
            w = dw[j]
            if w == 0.0:
                continue
            if j == own[i]:
                d = own_dist[i]
            else:
                d = np.sqrt((dx[j] - ox[i]) ** 2 + (dy[j] - oy[i]) ** 2)
                if d == 0.0:
                    d = own_dist[i]
            s += w / (d / 1000.0) ** alpha
        out[i] = s
    return out


def make_chunks(n_orig: int, per_chunk: int | None = None) -> np.ndarray:
    """Origin ranges for :func:`dial_batch` (dynamic scheduling over small chunks).

    Parameters
    ----------
    n_orig : int
        Number of origins.
    per_chunk : int, optional
        Origins per chunk; default aims at ~16 chunks per thread (at least 1 origin).
    """
    if per_chunk is None:
        per_chunk = max(1, n_orig // (16 * numba.get_num_threads()))
    edges = np.arange(0, n_orig, per_chunk, dtype=np.int64)
    return np.append(edges, np.int64(n_orig))


def run_dial(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    src_ptr: np.ndarray,
    src_nodes: np.ndarray,
    src_off: np.ndarray,
    dst_ptr: np.ndarray,
    dst_off: np.ndarray,
    dst_w: np.ndarray,
    wtab: np.ndarray,
    max_t: int,
    *,
    histogram: bool = False,
    dst_idx: np.ndarray | None = None,
    n_dst: int = 0,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, np.ndarray]:
    """Call :func:`dial_batch` with validated dtypes and dynamic chunk scheduling.

    Returns
    -------
    out : float64 (n_orig, K)
    hist : float64 (n_orig, ceil(max_t / 60) + 1) or None
    od : int32 (n_orig, n_dst) minimum times in seconds (``INF32`` unreached) or None
    reached : int64 (n_orig,) nodes touched per origin
    """
    max_t = int(max_t)
    if max_t < 0:
        raise ValueError("max_t must be >= 0")
    n_orig = src_ptr.shape[0] - 1
    wtab = np.ascontiguousarray(wtab, dtype=np.float64)
    if wtab.ndim != 2 or wtab.shape[1] < max_t + 1:
        raise ValueError("wtab must have shape (K, max_t + 1)")
    # circular buckets must span every queued label: [t, t + max edge weight], and the
    # initial offsets of the sources (capped by the horizon)
    max_w = int(weights.max()) if weights.size else 0
    max_off = min(int(src_off.max()) if src_off.size else 0, max_t)
    nb = max(max_w, max_off) + 1
    out = np.zeros((n_orig, wtab.shape[0]), dtype=np.float64)
    hist = (
        np.zeros((n_orig, (max_t + 59) // 60 + 1), dtype=np.float64)
        if histogram
        else np.zeros((1, 1), dtype=np.float64)
    )
    do_od = dst_idx is not None
    od = (
        np.full((n_orig, n_dst), INF32, dtype=np.int32)
        if do_od
        else np.zeros((1, 1), dtype=np.int32)
    )
    if dst_idx is None:
        dst_idx = np.zeros(dst_off.shape[0], dtype=np.int32)
    chunks = make_chunks(n_orig)
    with numba.parallel_chunksize(1):
        reached = dial_batch(
            np.ascontiguousarray(indptr, dtype=np.int64),
            np.ascontiguousarray(indices, dtype=np.int32),
            np.ascontiguousarray(weights, dtype=np.int32),
            np.int64(nb),
            np.ascontiguousarray(src_ptr, dtype=np.int64),
            np.ascontiguousarray(src_nodes, dtype=np.int32),
            np.ascontiguousarray(src_off, dtype=np.int32),
            np.ascontiguousarray(dst_ptr, dtype=np.int64),
            np.ascontiguousarray(dst_off, dtype=np.int32),
            np.ascontiguousarray(dst_w, dtype=np.float64),
            np.ascontiguousarray(dst_idx, dtype=np.int32),
            wtab, np.int64(max_t), histogram, out, hist, do_od, od, chunks,
        )
    return out, (hist if histogram else None), (od if do_od else None), reached
