"""Compiled (numba) kernels of the accessibility engine.

Three kernels do all the heavy lifting:

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
* :func:`lanes_batch` — the same searches for **16 neighbouring origins at once**: each
  node carries a vector of 16 labels (int16 or int32) and one edge relaxation is one
  vector add/compare/min (:func:`_relax_lanes`, explicit LLVM vector code). The search is
  label-correcting: a node is queued in the bucket of its smallest newly improved label
  and processed once per bucket in which some lane improved. When origins are dense
  (every node an origin), their fronts reach a node within a few buckets of each other,
  so a group needs 0.15–0.3 node processings per node each origin reaches alone; with
  sparse origins it does more work than 16 separate searches, so :func:`run_dial`
  chooses it only after a pilot shows the saving.
* :func:`crowfly_batch` — the same aggregation for the crow-fly impedance model: all
  origin × destination pairs are evaluated on the fly (no matrix), in parallel.

The graph is passed as int32 row pointers and **one int32 word per edge**
(``head | weight << hbits``) when the weights fit beside the node number, else as an
interleaved ``(m, 2)`` int32 array ``(head, weight)`` (:func:`pack_graph`). Weights
above the search budget are stored as ``budget + 1`` (they cannot be used either way).

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
  ``node_w`` instead (one load per reached node; float32 when that is exact).
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

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


def _edge(adj, e, hbits, hmask):  # pragma: no cover - replaced in compiled code
    """Head and weight of edge ``e`` (see :func:`pack_graph`)."""
    if adj.ndim == 1:
        return adj[e] & hmask, adj[e] >> hbits
    return adj[e, 0], adj[e, 1]


@overload(_edge, inline="always")
def _edge_impl(adj, e, hbits, hmask):  # pragma: no cover - compiled
    if adj.ndim == 1:
        def impl(adj, e, hbits, hmask):
            a = adj[e]
            return a & hmask, a >> hbits
    else:
        def impl(adj, e, hbits, hmask):
            return adj[e, 0], adj[e, 1]
    return impl


@njit(cache=True, nogil=True, boundscheck=False)
def _search_one(
    o, indptr, adj, hbits, hmask, shift, mask,
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
    # the touched list is needed to aggregate (unless at settle time) and to reset the
    # labels; beyond n / 8 nodes one sequential fill resets faster, so stop recording
    tlim = dist.shape[0] // 8 if at_settle else dist.shape[0]
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
                u, w = _edge(adj, e, hbits, hmask)
                nd = dv + w
                du = dist[u]
                if nd < du:
                    if du == unreached:
                        if ntouch < tlim:
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
        if ntouch > tlim:
            dist[:] = unreached
        else:
            for i in range(ntouch):
                dist[touched[i]] = unreached
        blen[:] = 0
        cnt[:] = 0.0  # partly filled when aggregating at settle time
        return -1
    # ---- aggregate over the reached nodes (all settled), then reset only those ----------
    # (a separate tight loop keeps the search loop small)
    if at_settle:
        if ntouch > tlim:  # a sequential fill beats scattered writes
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
    indptr, adj, hbits, hmask, shift, nbk,
    src_ptr, src_nodes, src_off,
    dst_ptr, dst_off, dst_w, dst_idx, node_w, simple,
    wtab, max_t, do_hist, out, hist, do_od, od, chunks, cap, oorder, dist_proto,
):  # pragma: no cover - compiled
    """Bounded bucket-queue search from every origin, aggregating measures on the fly.

    Parameters
    ----------
    indptr : int32 (n + 1,)
    adj : int32 (m,) or (m, 2)
    hbits, hmask : int
        CSR graph in the layout of :func:`pack_graph`; weights in whole seconds (or
        metres), >= 0.
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
                    o, indptr, adj, hbits, hmask, shift, mask,
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


LANES = 16
"""Origins searched together by :func:`lanes_batch` (16 int16 or int32 labels per node:
one 256- or 512-bit vector)."""

NEVER = np.int32(2**31 - 1)
"""Lane kernel: node not touched in this search."""
NOT_QUEUED = np.int32(2**31 - 2)
"""Lane kernel: node touched but not in a bucket."""


@intrinsic
def _relax_lanes(typingctx, lab, v, u, w, big):  # pragma: no cover - compiled
    """``lab[u] = min(lab[u], lab[v] + w)`` over the ``LANES`` labels of a row, as one
    vector operation; returns the smallest improved label, or ``big`` when none improved.

    ``lab`` is a C-contiguous (n, LANES) int16/int32 array; the caller guarantees that
    ``lab[v] + w`` cannot overflow.
    """
    if not (isinstance(lab, types.Array) and lab.ndim == 2 and lab.layout == "C"
            and isinstance(lab.dtype, types.Integer)):
        return None
    dt = lab.dtype
    sig = dt(lab, v, u, w, big)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        elt = context.get_value_type(dt)
        vt = ir.VectorType(elt, LANES)
        align = elt.width // 8
        zero = context.get_constant(types.intp, 0)
        i32 = ir.IntType(32)

        def row(i, ity):
            i = context.cast(builder, i, ity, types.intp)
            ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [i, zero],
                                           wraparound=False)
            return builder.bitcast(ptr, vt.as_pointer())

        def splat(x, ity):
            x = context.cast(builder, x, ity, dt)
            und = ir.Constant(vt, ir.Undefined)
            one = builder.insert_element(und, x, ir.Constant(i32, 0))
            return builder.shuffle_vector(one, und,
                                          ir.Constant(ir.VectorType(i32, LANES), [0] * LANES))

        pv = row(args[1], signature.args[1])
        pu = row(args[2], signature.args[2])
        a = builder.load(pv, align=align)
        b = builder.load(pu, align=align)
        nd = builder.add(a, splat(args[3], signature.args[3]))
        better = builder.icmp_signed("<", nd, b)
        builder.store(builder.select(better, nd, b), pu, align=align)
        keys = builder.select(better, nd, splat(args[4], signature.args[4]))
        fnty = ir.FunctionType(elt, [vt])
        fn = cgutils.get_or_insert_function(
            builder.module, fnty, f"llvm.vector.reduce.smin.v{LANES}i{elt.width}")
        return builder.call(fn, [keys])

    return sig, codegen


@njit(cache=True, nogil=True, boundscheck=False)
def _lanes_one(
    g, groups, indptr, adj, hbits, hmask, shift, mask,
    src_ptr, src_nodes, src_off,
    dst_ptr, dst_off, dst_w, dst_idx, node_w, simple,
    wpad, max_t, do_hist, out, hist, do_od, od, reached,
    lab, qb, bk, blen, touched, cnt,
):  # pragma: no cover - compiled
    """Search from the ``LANES`` origins ``groups[g]`` at once; returns the number of
    node processings, or -1 when a bucket overflowed (nothing was written then).

    Label-correcting bucket search on vector labels: ``lab[v, l]`` is origin l's label
    (``max_t + 1`` = unreached); a node is queued in the bucket of its smallest label
    improved since it was last processed (``qb[v]``, or ``NOT_QUEUED`` / ``NEVER``), and
    processing it relaxes all lanes of its edges with one vector operation each. Buckets
    are emptied in increasing order, so every label is final when the search ends; a lane
    label that is not yet final when its node is processed is simply propagated again
    when it improves. Nearby origins reach most nodes at similar times, so a node is
    processed a few times per group instead of once per origin.
    """
    unreached = max_t + 1
    cap = bk.shape[1]
    n_meas = wpad.shape[0]
    ntouch = 0
    queued = 0
    procs = 0
    # ---- seed: every lane's sources (offsets <= max_t) --------------------------------
    t0 = unreached
    for ln in range(LANES):
        o = groups[g, ln]
        if o < 0:
            continue
        for s in range(src_ptr[o], src_ptr[o + 1]):
            if src_off[s] < t0:
                t0 = src_off[s]
    kb = t0 >> shift
    for ln in range(LANES):
        o = groups[g, ln]
        if o < 0:
            continue
        for s in range(src_ptr[o], src_ptr[o + 1]):
            d = src_off[s]
            v = src_nodes[s]
            if d >= lab[v, ln]:
                continue
            lab[v, ln] = d
            kk = min(d >> shift, kb + mask)
            q = qb[v]
            if kk < q:
                if q == NEVER:
                    touched[ntouch] = v
                    ntouch += 1
                qb[v] = kk
                bb = kk & mask
                bk[bb, blen[bb]] = v  # cap >= LANES * sources, checked by the caller
                blen[bb] += 1
                queued += 1
    overflow = False
    kmax = max_t >> shift
    while queued > 0 and kb <= kmax:
        b = kb & mask
        h = 0
        while h < blen[b]:  # zero-weight edges may append to this bucket
            hf = h + PREFETCH_FAR
            if hf < blen[b]:
                wf = bk[b, hf]
                _prefetch(lab, wf)
                _prefetch(indptr, wf)
                _prefetch(qb, wf)
            hn = h + PREFETCH_NEAR
            if hn < blen[b]:
                _prefetch(adj, indptr[bk[b, hn]])
            v = bk[b, h]
            h += 1
            queued -= 1
            if qb[v] != kb:
                continue  # stale: moved to a lower bucket, or processed since
            qb[v] = NOT_QUEUED
            procs += 1
            for e in range(indptr[v], indptr[v + 1]):
                u, w = _edge(adj, e, hbits, hmask)
                key = _relax_lanes(lab, v, u, w, unreached)
                if key < unreached:
                    # labels only grow along edges, so key >= kb * Δ; a key beyond the
                    # circle is queued at its far end (processed early, still correct)
                    kk = min(key >> shift, kb + mask)
                    q = qb[u]
                    if kk < q:
                        if q == NEVER:
                            touched[ntouch] = u
                            ntouch += 1
                        bb = kk & mask
                        k2 = blen[bb]
                        if k2 == cap:
                            overflow = True
                            break
                        qb[u] = kk
                        bk[bb, k2] = u
                        blen[bb] = k2 + 1
                        queued += 1
            if overflow:
                break
        if overflow:
            break
        blen[b] = 0
        kb += 1
    if overflow:  # undo: the caller grows the buckets and runs this group again
        for i in range(ntouch):
            v = touched[i]
            lab[v, :] = unreached
            qb[v] = NEVER
        blen[:] = 0
        return -1
    # ---- aggregate per lane over the touched nodes, then reset them --------------------
    one = simple and not do_od and n_meas == 1 and not do_hist
    acc = np.zeros(LANES)
    cnt_r = np.zeros(LANES, dtype=np.int64)
    for i in range(ntouch):
        v = touched[i]
        if one:
            wv = node_w[v]
            for ln in range(LANES):
                t = lab[v, ln]
                acc[ln] += wv * wpad[0, t]  # wpad[:, max_t + 1] = 0 (unreached)
                cnt_r[ln] += np.int64(t <= max_t)
        elif simple and not do_od:
            wv = node_w[v]
            for ln in range(LANES):
                t = lab[v, ln]
                cnt[ln, t] += wv  # column max_t + 1 collects the unreached, unused
                cnt_r[ln] += np.int64(t <= max_t)
        else:
            for ln in range(LANES):
                t = lab[v, ln]
                if t > max_t:
                    continue
                cnt_r[ln] += 1
                for e in range(dst_ptr[v], dst_ptr[v + 1]):
                    te = t + dst_off[e]
                    if te <= max_t:
                        cnt[ln, te] += dst_w[e]
                        if do_od:
                            o = groups[g, ln]
                            j = dst_idx[e]
                            if te < od[o, j]:
                                od[o, j] = te
        lab[v, :] = unreached
        qb[v] = NEVER
    for ln in range(LANES):
        o = groups[g, ln]
        if o < 0:
            cnt[ln, :] = 0.0
            continue
        reached[o] = cnt_r[ln]
        if one:
            out[o, 0] += acc[ln]
            continue
        for k in range(n_meas):
            a = 0.0
            for tt in range(max_t + 1):
                a += cnt[ln, tt] * wpad[k, tt]
            out[o, k] += a
        if do_hist:
            for tt in range(max_t + 1):
                hist[o, (tt + 59) // 60] += cnt[ln, tt]
        cnt[ln, :] = 0.0
    return procs


@njit(cache=True, parallel=True, boundscheck=False)
def lanes_batch(
    indptr, adj, hbits, hmask, shift, nbk,
    src_ptr, src_nodes, src_off,
    dst_ptr, dst_off, dst_w, dst_idx, node_w, simple,
    wpad, max_t, do_hist, out, hist, do_od, od, groups, chunks, cap, lab_proto,
):  # pragma: no cover - compiled
    """Searches from groups of ``LANES`` origins at once (:func:`_lanes_one`).

    Arguments as in :func:`dial_batch`, except:

    wpad : float64 (K, max_t + 2)
        ``wtab`` with a zero column appended (the weight of an unreached node).
    groups : int64 (n_groups, LANES)
        Origin numbers per group, -1 for an empty lane.
    chunks : int64 (n_chunks + 1,)
        Group ranges; each chunk allocates its own buffers once.
    lab_proto : int16 or int32 (0,)
        Label dtype; ``2 * (max_t + 1)`` and every stored weight must fit in it (the
        caller clips weights to ``max_t + 1``).

    Returns
    -------
    reached : int64 (n_orig,)
        Nodes reached per origin.
    procs : int64 (n_groups,)
        Node processings per group (the work done; one origin alone would need as many
        as it reaches).
    """
    n = indptr.shape[0] - 1
    n_orig = src_ptr.shape[0] - 1
    mask = nbk - 1
    reached = np.zeros(n_orig, dtype=np.int64)
    procs = np.zeros(groups.shape[0], dtype=np.int64)
    for c in prange(chunks.shape[0] - 1):
        lab = np.empty((n, LANES), dtype=lab_proto.dtype)
        lab[:, :] = max_t + 1
        qb = np.full(n, NEVER, dtype=np.int32)
        ccap = cap[0]
        bk = np.empty((nbk, ccap), dtype=np.int32)
        blen = np.zeros(nbk, dtype=np.int64)
        touched = np.empty(n, dtype=np.int32)
        cnt = np.zeros((LANES, max_t + 2), dtype=np.float64)
        for g in range(chunks[c], chunks[c + 1]):
            while True:
                r = _lanes_one(
                    g, groups, indptr, adj, hbits, hmask, shift, mask,
                    src_ptr, src_nodes, src_off,
                    dst_ptr, dst_off, dst_w, dst_idx, node_w, simple,
                    wpad, max_t, do_hist, out, hist, do_od, od, reached,
                    lab, qb, bk, blen, touched, cnt,
                )
                if r >= 0:
                    procs[g] = r
                    break
                ccap = max(2 * ccap, cap[0])
                cap[0] = ccap
                bk = np.empty((nbk, ccap), dtype=np.int32)
    return reached, procs



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
        Straight-line distance (m) used for the own destination (intrazonal distance);
        closer destinations are raised to it (0 disables).
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
                if d < own_dist[i]:  # the own-zone rule (ruimtekit.analysis._ownzone)
                    d = own_dist[i]
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
    ``own_dist[i]`` metres); any other destination closer than ``own_dist[i]`` is also
    counted at ``own_dist[i]`` (the own-zone rule of :mod:`ruimtekit.analysis._ownzone`).
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
                if d < own_dist[i]:  # the own-zone rule (ruimtekit.analysis._ownzone)
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


class PackedGraph(NamedTuple):
    """A graph in the kernels' layout (:func:`pack_graph`)."""

    indptr: np.ndarray
    """int32 (n + 1,) row pointers."""
    adj: np.ndarray
    """int32 ``(m,)`` words ``head | weight << hbits``, or ``(m, 2)`` ``(head, weight)``."""
    hbits: int
    """Bits of the head in a one-word edge (0 for the two-column layout)."""
    max_w: int
    """Largest stored weight."""


def pack_graph(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray,
               clip: int | None = None) -> PackedGraph:
    """The kernels' graph layout: int32 row pointers and one int32 word per edge.

    An edge is stored as ``head | weight << hbits`` with ``hbits`` the bits needed for a
    node number, when every weight fits in the remaining ``31 - hbits`` bits (e.g. a
    1M-node graph with weights below 2,048 s): half the memory traffic of an interleaved
    ``(head, weight)`` pair, which is the fallback layout.

    Parameters
    ----------
    indptr : int (n + 1,)
    indices, weights : int (m,)
        CSR graph; weights in whole seconds (or metres), >= 0.
    clip : int, optional
        Store ``min(weight, clip)``: with a search budget ``max_t``, any weight above
        ``max_t`` can be stored as ``max_t + 1`` without changing a result.
    """
    m = int(np.shape(indices)[0])
    if m >= 2**31 - 1:
        raise ValueError("graphs with 2**31 edges or more are not supported")
    n = int(np.shape(indptr)[0]) - 1
    weights = np.asarray(weights)
    if clip is not None and m and int(weights.max()) > clip:
        weights = np.minimum(weights, clip)
    max_w = int(weights.max()) if m else 0
    hbits = max(1, (max(n, 1) - 1).bit_length())
    p_indptr = np.ascontiguousarray(indptr, dtype=np.int32)
    if hbits < 31 and max_w < 2 ** (31 - hbits):
        adj = np.asarray(indices, dtype=np.uint32) | (
            np.asarray(weights, dtype=np.uint32) << np.uint32(hbits))
        return PackedGraph(p_indptr, np.ascontiguousarray(adj, dtype=np.uint32), hbits, max_w)
    adj = np.empty((m, 2), dtype=np.int32)
    adj[:, 0] = indices
    adj[:, 1] = weights
    return PackedGraph(p_indptr, adj, 0, max_w)


LANES_MIN_ORIGINS = 512
"""``run_dial(lanes=None)`` considers the lane kernel only from this many origins on..."""
LANES_MIN_DENSITY = 0.5
"""...and only when there are at least this many origins per graph node (measured: on a
grid with every node an origin the lane kernel does 0.28 node processings per node an
origin reaches alone — 2.4× faster; with every 4th node an origin, 0.79 — slower)."""
LANES_MAX_WORK = 0.5
"""The lane kernel is kept when its pilot groups needed fewer node processings than this
share of the nodes their origins reach (a processing costs ~1.5 scalar settles)."""


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
    lanes: bool | None = None,
    info: dict | None = None,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, np.ndarray]:
    """Run the searches with validated dtypes and dynamic chunk scheduling.

    Two exact kernels give the same results: :func:`dial_batch` (one origin per search)
    and :func:`lanes_batch` (``LANES`` neighbouring origins per search, vector labels),
    which is faster only when origins are dense — e.g. every node an origin.

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
    lanes : bool, optional
        Force the lane kernel (True) or the one-origin kernel (False). By default the
        lane kernel is tried on two pilot groups when there are at least
        ``LANES_MIN_ORIGINS`` origins and ``LANES_MIN_DENSITY`` origins per node, and
        kept for the rest when it did less than ``LANES_MAX_WORK`` of the work.
    info : dict, optional
        Filled with ``kernel`` ("dial", "lanes" or "dial after pilot") and, after a
        pilot, ``pilot_work`` (processings per reached node).

    Returns
    -------
    out : float64 (n_orig, K)
    hist : float64 (n_orig, ceil(max_t / 60) + 1) or None
    od : int32 (n_orig, n_dst) minimum times in seconds (``INF32`` unreached) or None
    reached : int64 (n_orig,) nodes reached per origin

    Notes
    -----
    Sums of non-integer opportunities or decay weights are added in a different order by
    the two kernels, so they can differ in the last bits (relative 1e-15); whole-number
    opportunities with cumulative measures give bit-identical results.
    """
    info = {} if info is None else info
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
    min_w = int(weights.min()) if weights.size else 1
    if min_w < 0:
        raise ValueError("edge weights must be >= 0")
    # weights above the budget cannot be used: stored as max_t + 1 (fewer buckets, and
    # more graphs fit the one-word edge layout)
    pg = pack_graph(indptr, np.asarray(indices), weights, clip=max_t + 1)
    hbits, hmask = np.uint32(pg.hbits), np.uint32((1 << pg.hbits) - 1)
    # bucket width: the largest power of two <= the smallest weight (at least 1)
    shift = max(1, min_w).bit_length() - 1
    # circular buckets must span every queued label: [t, t + max edge weight], and the
    # initial offsets of the sources (capped by the horizon)
    src_off = np.ascontiguousarray(src_off, dtype=np.int32)
    max_off = min(int(src_off.max()) if src_off.size else 0, max_t)
    span = (max(pg.max_w, max_off) >> shift) + 2
    nbk = 1 << (span - 1).bit_length()
    dst_ptr = np.ascontiguousarray(dst_ptr, dtype=np.int64)
    dst_off = np.ascontiguousarray(dst_off, dtype=np.int32)
    dst_w = np.ascontiguousarray(dst_w, dtype=np.float64)
    per_node = np.diff(dst_ptr)
    simple = bool((per_node.size == 0 or per_node.max() <= 1) and not np.any(dst_off))
    node_w = np.zeros(n if simple else 0, dtype=np.float64)
    if simple:
        node_w[per_node == 1] = dst_w
        if np.array_equal(node_w.astype(np.float32), node_w):
            node_w = node_w.astype(np.float32)  # exact: half the memory traffic
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
    dst_idx = np.ascontiguousarray(dst_idx, dtype=np.int32)
    # process origins in the order of their first source node (with a locality-ordered
    # graph, neighbouring origins run one after another on the same worker)
    src_ptr = np.ascontiguousarray(src_ptr, dtype=np.int64)
    src_nodes = np.ascontiguousarray(src_nodes, dtype=np.int32)
    first = np.zeros(n_orig, dtype=np.int64)  # origins without sources go first (no work)
    has = src_ptr[1:] > src_ptr[:-1]
    first[has] = src_nodes[src_ptr[:-1][has]]
    oorder = np.argsort(first, kind="stable").astype(np.int64)
    # bucket capacity: at least the most sources of any origin (of a group); grown on demand
    most_src = int(np.diff(src_ptr).max()) if n_orig else 0
    common = (src_ptr, src_nodes, src_off, dst_ptr, dst_off, dst_w, dst_idx, node_w, simple)
    reached = np.zeros(n_orig, dtype=np.int64)

    if lanes is None:
        lanes = (max_t < 2**30 - 1 and n_orig >= LANES_MIN_ORIGINS
                 and n_orig >= LANES_MIN_DENSITY * n)
        pilot = lanes
    else:
        pilot = False
    if lanes:
        if max_t >= 2**30 - 1:
            raise ValueError("the lane kernel needs max_t < 2**30 - 1")
        ng = -(-n_orig // LANES)
        groups = np.full(ng * LANES, -1, dtype=np.int64)
        groups[:n_orig] = oorder
        groups = groups.reshape(ng, LANES)
        wpad = np.zeros((wtab.shape[0], max_t + 2))
        wpad[:, : max_t + 1] = wtab[:, : max_t + 1]
        lab_proto = np.zeros(0, dtype=np.int16 if 2 * (max_t + 1) < 2**15 else np.int32)
        cap = np.array([max(256, LANES * most_src)], dtype=np.int64)

        def run_lanes(gs: np.ndarray, per_chunk: int | None = None) -> np.ndarray:
            with numba.parallel_chunksize(1):
                r, procs = lanes_batch(
                    pg.indptr, pg.adj, hbits, hmask, np.int64(shift), np.int64(nbk), *common,
                    wpad, np.int64(max_t), histogram, out, hist, do_od, od, gs,
                    make_chunks(gs.shape[0], per_chunk), cap, lab_proto,
                )
            np.add(reached, r, out=reached)
            return procs

        if pilot:  # two groups a third and two thirds along the spatial order
            sel = np.unique([ng // 3, (2 * ng) // 3])
            procs = run_lanes(groups[sel], 1)
            got = int(reached[groups[sel][groups[sel] >= 0]].sum())
            work = float(procs.sum()) / max(got, 1)
            info["pilot_work"] = round(work, 3)
            rest = np.setdiff1d(np.arange(ng), sel)
            lanes = work < LANES_MAX_WORK
            if lanes:
                run_lanes(groups[rest])
            else:
                oorder = groups[rest].ravel()
                oorder = oorder[oorder >= 0]
        else:
            run_lanes(groups)
        info["kernel"] = "lanes" if lanes else "dial after pilot"
        if lanes:
            return out, (hist if histogram else None), (od if do_od else None), reached
    else:
        info["kernel"] = "dial"
    cap = np.array([max(256, most_src)], dtype=np.int64)
    with numba.parallel_chunksize(1):
        r = dial_batch(
            pg.indptr, pg.adj, hbits, hmask, np.int64(shift), np.int64(nbk), *common,
            wtab, np.int64(max_t), histogram, out, hist, do_od, od,
            make_chunks(oorder.shape[0]), cap, oorder,
            np.zeros(0, dtype=np.int16 if max_t < 2**15 - 2 else np.int32),
        )
    np.add(reached, r, out=reached)
    return out, (hist if histogram else None), (od if do_od else None), reached
