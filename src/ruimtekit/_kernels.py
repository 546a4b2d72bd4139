"""Compiled (numba) kernels of the accessibility engine.

Two kernels do all the heavy lifting:

* :func:`dial_batch` — a bounded one-to-all search from every origin on a :class:`Graph`
  with integer edge weights (seconds, or metres for distance searches), using a
  **bucket queue of width Δ** (Dinitz's refinement of Dial's algorithm): Δ is the largest
  power of two not above the smallest edge weight (1 when some weight is 0 or 1), and a
  circular array of buckets holds the labelled nodes by ``label >> log2(Δ)``. Every node
  in the lowest non-empty bucket is final (any other path adds at least Δ), so a bucket is
  emptied in FIFO order without sorting. Decrease-key is lazy: an improved node is pushed
  again and its stale entry is skipped when popped (a settled node's label has its sign
  bit set: ``dist[v] = ~label``, which also makes every later relaxation of it fail).
  While a bucket is emptied, the nodes 8 and 16 places ahead are **software-prefetched**
  (their label, CSR row and adjacency), which hides most of the memory latency on large
  graphs. The measures are aggregated over the reached nodes after each search; no
  origin × node table is ever built. Origins run in parallel (``prange`` over small
  chunks, dynamic scheduling) and each chunk reuses its own buffers, resetting only the
  nodes it touched.
* :func:`crowfly_batch` — the same aggregation for the crow-fly impedance model: all
  origin × destination pairs are evaluated on the fly (no matrix), in parallel.

The graph is passed as int32 row pointers and an interleaved ``(m, 2)`` int32 adjacency
array ``adj[e] = (head, weight)``, so one cache line holds both.

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
  used only for travel-time matrices). When every node has at most one destination and
  no egress leg (``simple``), the opportunities are read from the per-node array
  ``node_w`` instead (one load per reached node).
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

INF32 = np.int32(2**31 - 1)
"""Sentinel for an unreached node (int32 seconds)."""

PREFETCH_NEAR = 8
"""Bucket entries ahead whose adjacency row is prefetched."""
PREFETCH_FAR = 16
"""Bucket entries ahead whose label and row pointer are prefetched."""


@intrinsic
def _prefetch(typingctx, arr, idx):  # pragma: no cover - compiled
    """Software prefetch (read, keep in all cache levels) of ``arr[idx]`` (row ``idx`` of a
    2-d array). Has no effect on results; the address must lie inside ``arr``."""
    if not isinstance(arr, types.Array) or not isinstance(idx, types.Integer):
        return None
    sig = types.void(arr, idx)

    def codegen(context, builder, signature, args):
        aryty, idxty = signature.args
        ary = context.make_array(aryty)(context, builder, args[0])
        i = context.cast(builder, args[1], idxty, types.intp)
        idxs = [i] + [context.get_constant(types.intp, 0)] * (aryty.ndim - 1)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, idxs, wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3),
                          ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen


@njit(cache=True, nogil=True, boundscheck=False)
def _search_one(
    o, indptr, adj, shift, mask,
    src_ptr, src_nodes, src_off,
    dst_ptr, dst_off, dst_w, dst_idx, node_w, simple,
    wtab, max_t, do_hist, out, hist, do_od, od,
    dist, bk, blen, touched, cnt,
):  # pragma: no cover - compiled
    """One bounded search; returns nodes reached, or -1 when a bucket overflowed.

    ``dist`` (int16 or int32) holds ``max_t + 1`` for unreached nodes (a sentinel that also
    bounds the search: a label ``nd`` is accepted only when ``nd < dist[u]``, hence ``nd <= max_t``)
    and ``~label`` (< 0) for settled ones. Bucket slot ``b`` holds the nodes
    ``bk[b, :blen[b]]`` (stale entries included).
    """
    unreached = max_t + 1
    cap = bk.shape[1]
    n_meas = wtab.shape[0]
    ntouch = 0
    queued = 0
    t0 = unreached
    overflow = False
    # ---- seed the sources (several nodes with access offsets) ------------------------
    for s in range(src_ptr[o], src_ptr[o + 1]):
        d = src_off[s]
        v = src_nodes[s]
        dv = dist[v]
        if d >= dv:
            continue
        if dv == unreached:
            touched[ntouch] = v
            ntouch += 1
        if d < t0:
            t0 = d
        dist[v] = d
        bb = (d >> shift) & mask
        k = blen[bb]
        bk[bb, k] = v  # cap >= number of sources, checked by the caller
        blen[bb] = k + 1
        queued += 1
    # simple destinations: aggregate when a node is settled (its line is in cache)
    at_settle = simple and not do_od
    one = n_meas == 1 and not do_hist
    acc1 = 0.0
    # ---- bucket scan: every entry of the lowest non-empty bucket is final ---------------
    kb = t0 >> shift
    kmax = max_t >> shift
    while queued > 0 and kb <= kmax:
        b = kb & mask
        h = 0
        while h < blen[b]:  # zero-weight edges (Δ = 1) may append to this bucket
            hf = h + PREFETCH_FAR
            if hf < blen[b]:
                wf = bk[b, hf]
                _prefetch(dist, wf)
                _prefetch(indptr, wf)
                if at_settle:
                    _prefetch(node_w, wf)
            hn = h + PREFETCH_NEAR
            if hn < blen[b]:
                _prefetch(adj, indptr[bk[b, hn]])
            v = bk[b, h]
            h += 1
            queued -= 1
            dv = dist[v]
            if dv < 0:
                continue  # a stale entry: v was settled from a lower bucket
            dist[v] = ~dv
            if at_settle:
                if one:
                    acc1 += node_w[v] * wtab[0, dv]
                else:
                    cnt[dv] += node_w[v]
            for e in range(indptr[v], indptr[v + 1]):
                u = adj[e, 0]
                nd = dv + adj[e, 1]
                du = dist[u]
                if nd < du:
                    if du == unreached:
                        touched[ntouch] = u
                        ntouch += 1
                    dist[u] = nd
                    bb = (nd >> shift) & mask
                    k2 = blen[bb]
                    if k2 == cap:
                        overflow = True
                        break
                    bk[bb, k2] = u
                    blen[bb] = k2 + 1
                    queued += 1
            if overflow:
                break
        if overflow:
            break
        blen[b] = 0
        kb += 1
    if overflow:  # undo: the caller grows the buckets and runs this origin again
        for i in range(ntouch):
            dist[touched[i]] = unreached
        blen[:] = 0
        cnt[:] = 0.0  # partly filled when aggregating at settle time
        return -1
    # ---- aggregate over the reached nodes (all settled), then reset only those ----------
    # (a separate tight loop keeps the search loop small)
    if at_settle:
        if ntouch > dist.shape[0] // 8:  # a sequential fill beats scattered writes
            dist[:] = unreached
        else:
            for i in range(ntouch):
                dist[touched[i]] = unreached
        if one:
            out[o, 0] += acc1
            return ntouch
    elif n_meas == 1 and not do_hist and not do_od:
        acc = 0.0
        for i in range(ntouch):
            v = touched[i]
            tv = ~dist[v]
            for e in range(dst_ptr[v], dst_ptr[v + 1]):
                te = tv + dst_off[e]
                if te <= max_t:
                    acc += dst_w[e] * wtab[0, te]
            dist[v] = unreached
        out[o, 0] += acc
        return ntouch
    else:
        # several measures: opportunities per whole second first (one add per
        # destination), then each measure is a dot product with its weight row
        for i in range(ntouch):
            v = touched[i]
            tv = ~dist[v]
            for e in range(dst_ptr[v], dst_ptr[v + 1]):
                te = tv + dst_off[e]
                if te <= max_t:
                    cnt[te] += dst_w[e]
                    if do_od:
                        j = dst_idx[e]
                        if te < od[o, j]:
                            od[o, j] = te
            dist[v] = unreached
    for k in range(n_meas):
        acc = 0.0
        for tt in range(max_t + 1):
            acc += cnt[tt] * wtab[k, tt]
        out[o, k] += acc
    if do_hist:
        for tt in range(max_t + 1):
            hist[o, (tt + 59) // 60] += cnt[tt]
    cnt[:] = 0.0
    return ntouch


@njit(cache=True, parallel=True, boundscheck=False)
def dial_batch(
    indptr, adj, shift, nbk,
    src_ptr, src_nodes, src_off,
    dst_ptr, dst_off, dst_w, dst_idx, node_w, simple,
    wtab, max_t, do_hist, out, hist, do_od, od, chunks, cap, oorder, dist_proto,
):  # pragma: no cover - compiled
    """Bounded bucket-queue search from every origin, aggregating measures on the fly.

    Parameters
    ----------
    indptr : int32 (n + 1,)
    adj : int32 (m, 2)
        CSR graph: ``adj[e] = (head, weight)``; weights in whole seconds (or metres),
        >= 0.
    shift : int
        ``log2(Δ)``: the bucket width Δ is a power of two <= the smallest weight (>= 1).
    nbk : int
        Number of circular buckets, a power of two >=
        ``(max(max(weights), max(src_off)) >> shift) + 2`` (capped offsets), so every
        queued label lies within one turn of the circle.
    src_ptr : int64 (n_orig + 1,)
    src_nodes, src_off : int32
        Source nodes of each origin and their initial offsets (seconds).
    dst_ptr : int64 (n + 1,)
    dst_off : int32, dst_w : float64, dst_idx : int32
        Destinations attached to nodes: egress offset (seconds), opportunities, index.
    node_w : float64 (n,)
        Opportunities per node, used when ``simple`` (<= 1 destination per node, all
        egress offsets 0).
    simple : bool
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
    cap : int64 (1,)
        Bucket capacity (entries per bucket); grown by doubling when exceeded and shared
        by the chunks (so later chunks start with the grown capacity).
    oorder : int64 (n_orig,)
        Processing order of the origins (spatially sorted, so consecutive searches of a
        worker reuse cached graph data); results are stored by origin number.
    dist_proto : int16 or int32 (0,)
        Gives the label dtype: int16 when ``max_t < 2**15 - 2`` (half the memory traffic
        of the most frequently read array), else int32.

    Returns
    -------
    ndarray of int64 (n_orig,)
        Nodes reached (touched) per origin.
    """
    n = indptr.shape[0] - 1
    n_orig = src_ptr.shape[0] - 1
    mask = nbk - 1
    reached = np.zeros(n_orig, dtype=np.int64)
    for c in prange(chunks.shape[0] - 1):
        dist = np.empty(n, dtype=dist_proto.dtype)
        dist[:] = max_t + 1
        ccap = cap[0]
        bk = np.empty((nbk, ccap), dtype=np.int32)
        blen = np.zeros(nbk, dtype=np.int64)
        touched = np.empty(n, dtype=np.int32)
        cnt = np.zeros(max_t + 1, dtype=np.float64)
        for i in range(chunks[c], chunks[c + 1]):
            o = oorder[i]
            while True:
                r = _search_one(
                    o, indptr, adj, shift, mask,
                    src_ptr, src_nodes, src_off,
                    dst_ptr, dst_off, dst_w, dst_idx, node_w, simple,
                    wtab, max_t, do_hist, out, hist, do_od, od,
                    dist, bk, blen, touched, cnt,
                )
                if r >= 0:
                    reached[o] = r
                    break
                ccap = max(2 * ccap, cap[0])
                cap[0] = ccap  # a benign race: any grown value is a valid capacity
                bk = np.empty((nbk, ccap), dtype=np.int32)
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


def pack_graph(indptr: np.ndarray, indices: np.ndarray,
               weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The kernel's graph layout: int32 row pointers and interleaved ``(m, 2)`` int32
    ``(head, weight)`` pairs.

    Parameters
    ----------
    indptr : int (n + 1,)
    indices, weights : int (m,)
        CSR graph; weights in whole seconds (or metres), >= 0.
    """
    m = int(np.shape(indices)[0])
    if m >= 2**31 - 1:
        raise ValueError("graphs with 2**31 edges or more are not supported")
    adj = np.empty((m, 2), dtype=np.int32)
    adj[:, 0] = indices
    adj[:, 1] = weights
    return np.ascontiguousarray(indptr, dtype=np.int32), adj


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
    packed: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, np.ndarray]:
    """Call :func:`dial_batch` with validated dtypes and dynamic chunk scheduling.

    Parameters
    ----------
    indptr, indices, weights
        CSR graph (weights int, seconds or metres, >= 0).
    src_ptr, src_nodes, src_off, dst_ptr, dst_off, dst_w, wtab, max_t
        As in :func:`dial_batch` (seconds).
    histogram : bool
        Also return opportunities per 1-minute bin.
    dst_idx, n_dst
        Destination numbers; when given, also return the travel-time matrix.
    packed : tuple, optional
        ``pack_graph(indptr, indices, weights)``, when the caller has it already.

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
    if max_t >= 2**31 - 2:
        raise ValueError("max_t must be < 2**31 - 2 (int32 labels)")
    n_orig = src_ptr.shape[0] - 1
    n = np.shape(indptr)[0] - 1
    wtab = np.ascontiguousarray(wtab, dtype=np.float64)
    if wtab.ndim != 2 or wtab.shape[1] < max_t + 1:
        raise ValueError("wtab must have shape (K, max_t + 1)")
    weights = np.asarray(weights)
    max_w = int(weights.max()) if weights.size else 0
    min_w = int(weights.min()) if weights.size else 1
    if min_w < 0:
        raise ValueError("edge weights must be >= 0")
    # bucket width: the largest power of two <= the smallest weight (at least 1)
    shift = max(1, min_w).bit_length() - 1
    # circular buckets must span every queued label: [t, t + max edge weight], and the
    # initial offsets of the sources (capped by the horizon)
    src_off = np.ascontiguousarray(src_off, dtype=np.int32)
    max_off = min(int(src_off.max()) if src_off.size else 0, max_t)
    span = (max(max_w, max_off) >> shift) + 2
    nbk = 1 << (span - 1).bit_length()
    if packed is None:
        packed = pack_graph(indptr, np.asarray(indices), weights)
    p_indptr, adj = packed
    dst_ptr = np.ascontiguousarray(dst_ptr, dtype=np.int64)
    dst_off = np.ascontiguousarray(dst_off, dtype=np.int32)
    dst_w = np.ascontiguousarray(dst_w, dtype=np.float64)
    per_node = np.diff(dst_ptr)
    simple = bool((per_node.size == 0 or per_node.max() <= 1) and not np.any(dst_off))
    node_w = np.zeros(n if simple else 0, dtype=np.float64)
    if simple:
        node_w[per_node == 1] = dst_w
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
    # process origins in the order of their first source node (with a locality-ordered
    # graph, neighbouring origins run one after another on the same worker)
    src_ptr = np.asarray(src_ptr, dtype=np.int64)
    src_nodes = np.asarray(src_nodes)
    first = np.zeros(n_orig, dtype=np.int64)  # origins without sources go first (no work)
    has = src_ptr[1:] > src_ptr[:-1]
    first[has] = src_nodes[src_ptr[:-1][has]]
    oorder = np.argsort(first, kind="stable").astype(np.int64)
    # bucket capacity: at least the most sources of any origin; grown on demand
    most_src = int(np.diff(src_ptr).max()) if n_orig else 0
    cap = np.array([max(256, most_src)], dtype=np.int64)
    with numba.parallel_chunksize(1):
        reached = dial_batch(
            p_indptr, adj, np.int64(shift), np.int64(nbk),
            np.ascontiguousarray(src_ptr, dtype=np.int64),
            np.ascontiguousarray(src_nodes, dtype=np.int32),
            src_off, dst_ptr, dst_off, dst_w,
            np.ascontiguousarray(dst_idx, dtype=np.int32), node_w, simple,
            wtab, np.int64(max_t), histogram, out, hist, do_od, od, chunks, cap, oorder,
            np.zeros(0, dtype=np.int16 if max_t < 2**15 - 2 else np.int32),
        )
    return out, (hist if histogram else None), (od if do_od else None), reached
