"""Compiled range-RAPTOR kernels (numba).

Round-based public-transit routing (Delling, Pajor & Werneck 2012, "Round-based public
transit routing", ALENEX), range variant (rRAPTOR): for one origin the departure minutes
of a window are processed from the latest to the earliest, *reusing* the labels of later
departures (an arrival reachable when leaving later is reachable when leaving earlier, by
waiting at the origin). Per departure only the stops that improve are re-scanned, so a
two-hour window costs a few times one single-departure query, not 120 of them.

Labels per round ``k`` (rides used ``<= k``; round 0 = access legs only):

* ``B[k, s]`` — earliest arrival at stop ``s`` (used for egress and outputs),
* ``R[k, s]`` — earliest time one can *board* at ``s``: a vehicle arrival plus the stop's
  minimum change time (``slack``, which the caller makes at least ``board_slack``), or a
  walking/access arrival plus ``board_slack`` (R5's minimum boarding wait; 0 by default),
* ``Bv[k, s]`` — earliest arrival at ``s`` *by vehicle*, from which footpaths start (so
  that a walk after a ride is never lost because the stop itself was reached earlier
  on foot or by the access leg; footpaths need not be transitively closed).

All are cumulative over rounds (``B[k] <= B[k-1]``), which keeps the reuse across
departures exact under a bound on the number of rides. Footpaths are relaxed once per
round from stops reached by vehicle in that round (one walking leg between rides).

Patterns carry per-position flags ``pat_board`` / ``pat_alight`` (GTFS ``pickup_type`` /
``drop_off_type`` 1 = not allowed): a trip is boarded and left only where allowed, and it
stays on board through the other positions.

All times are int64 seconds after midnight of the service day; ``INF`` = unreachable.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

INF = np.int64(1) << 50


@njit(cache=True, inline="always")
def _improve(lab: np.ndarray, k: int, s: int, v: np.int64, kmax: int) -> bool:
    """Set ``lab[j, s] = v`` for j >= k while it improves; True when ``lab[k, s]`` improved."""
    if v >= lab[k, s]:
        return False
    j = k
    while j <= kmax and v < lab[j, s]:
        lab[j, s] = v
        j += 1
    return True


@njit(cache=True)
def _earliest_trip(dep: np.ndarray, base: int, n_trips: int, n_pos: int, pos: int,
                   ready: np.int64, hi: int) -> int:
    """Smallest trip index < ``hi`` whose departure at ``pos`` is >= ``ready`` (or ``hi``)."""
    lo = 0
    while lo < hi:
        mid = (lo + hi) // 2
        if dep[base + mid * n_pos + pos] >= ready:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(cache=True)
def _range_one_origin(
    acc_stop, acc_s, deps, max_rides, max_time,
    pat_stop_ptr, pat_stops, pat_board, pat_alight, pat_trip_ptr, pat_time_ptr, arr_t, dep_t,
    stop_pat_ptr, stop_pat, stop_pat_pos, fp_ptr, fp_to, fp_s, slack, board_slack,
    egr_ptr, egr_stop, egr_s, n_dest, out_times,
):
    """Range RAPTOR for one origin; fills ``out_times[d_i, dest]`` (seconds, int64)."""
    n_stops = slack.shape[0]
    n_pat = pat_stop_ptr.shape[0] - 1
    K = max_rides
    B = np.full((K + 1, n_stops), INF, dtype=np.int64)
    R = np.full((K + 1, n_stops), INF, dtype=np.int64)
    Bv = np.full((K + 1, n_stops), INF, dtype=np.int64)
    marked = np.zeros(n_stops, dtype=np.bool_)
    mlist = np.empty(n_stops, dtype=np.int32)
    vmarked = np.zeros(n_stops, dtype=np.bool_)
    vlist = np.empty(n_stops, dtype=np.int32)
    qpos = np.full(n_pat, -1, dtype=np.int32)
    qlist = np.empty(n_pat, dtype=np.int32)
    for di in range(deps.shape[0]):
        t0 = np.int64(deps[di])
        horizon = t0 + max_time
        nm = 0
        # round 0: access legs
        for a in range(acc_stop.shape[0]):
            s = acc_stop[a]
            v = t0 + acc_s[a]
            if v > horizon:
                continue
            ib = _improve(B, 0, s, v, K)
            ir = _improve(R, 0, s, v + board_slack, K)
            if (ib or ir) and not marked[s]:
                marked[s] = True
                mlist[nm] = s
                nm += 1
        for k in range(1, K + 1):
            if nm == 0:
                break
            # collect patterns serving marked stops, from the earliest marked position
            nq = 0
            for i in range(nm):
                s = mlist[i]
                marked[s] = False
                for e in range(stop_pat_ptr[s], stop_pat_ptr[s + 1]):
                    p = stop_pat[e]
                    pos = stop_pat_pos[e]
                    if qpos[p] < 0:
                        qpos[p] = pos
                        qlist[nq] = p
                        nq += 1
                    elif pos < qpos[p]:
                        qpos[p] = pos
            nm = 0
            nv = 0
            # scan patterns
            for qi in range(nq):
                p = qlist[qi]
                start = qpos[p]
                qpos[p] = -1
                s0 = pat_stop_ptr[p]
                n_pos = pat_stop_ptr[p + 1] - s0
                n_trips = pat_trip_ptr[p + 1] - pat_trip_ptr[p]
                base = pat_time_ptr[p]
                trip = -1
                for pos in range(start, n_pos):
                    s = pat_stops[s0 + pos]
                    if trip >= 0 and pat_alight[s0 + pos]:
                        a = np.int64(arr_t[base + trip * n_pos + pos])
                        if a <= horizon:
                            _improve(B, k, s, a, K)
                            if _improve(Bv, k, s, a, K):
                                if not vmarked[s]:
                                    vmarked[s] = True
                                    vlist[nv] = s
                                    nv += 1
                            if _improve(R, k, s, a + slack[s], K) and not marked[s]:
                                marked[s] = True
                                mlist[nm] = s
                                nm += 1
                    ready = R[k - 1, s] if pat_board[s0 + pos] else INF
                    if ready < INF:
                        hi = n_trips if trip < 0 else trip
                        if hi > 0 and dep_t[base + (hi - 1) * n_pos + pos] >= ready:
                            tt = _earliest_trip(dep_t, base, n_trips, n_pos, pos, ready, hi)
                            if tt < hi:
                                trip = tt
            # footpaths from stops reached by vehicle in this round
            for i in range(nv):
                s = vlist[i]
                vmarked[s] = False
                bs = Bv[k, s]
                for e in range(fp_ptr[s], fp_ptr[s + 1]):
                    q = fp_to[e]
                    v = bs + fp_s[e]
                    if v > horizon:
                        continue
                    _improve(B, k, q, v, K)
                    if _improve(R, k, q, v + board_slack, K) and not marked[q]:
                        marked[q] = True
                        mlist[nm] = q
                        nm += 1
        for i in range(nm):
            marked[mlist[i]] = False
        # record travel times for this departure
        best = B[K]
        if egr_ptr.shape[0] == 0:
            for d in range(n_dest):
                v = best[d]
                out_times[di, d] = v - t0 if v <= horizon else INF
        else:
            for d in range(n_dest):
                m = INF
                for e in range(egr_ptr[d], egr_ptr[d + 1]):
                    v = best[egr_stop[e]]
                    if v < INF:
                        v2 = v + egr_s[e]
                        if v2 < m:
                            m = v2
                out_times[di, d] = m - t0 if m <= horizon else INF


@njit(cache=True)
def _percentiles_into(times: np.ndarray, ranks: np.ndarray, out: np.ndarray) -> None:
    """Nearest-rank percentiles over axis 0 of ``times`` (n_dep, n_dest) into ``out``
    (n_dest, n_pct); INF stays INF."""
    n_dep, n_dest = times.shape
    col = np.empty(n_dep, dtype=np.int64)
    for d in range(n_dest):
        for i in range(n_dep):
            col[i] = times[i, d]
        col.sort()
        for j in range(ranks.shape[0]):
            out[d, j] = col[ranks[j]]


@njit(cache=True, parallel=True)
def range_raptor_block(
    origins, acc_ptr, acc_stop, acc_s, deps, max_rides, max_time,
    pat_stop_ptr, pat_stops, pat_board, pat_alight, pat_trip_ptr, pat_time_ptr, arr_t, dep_t,
    stop_pat_ptr, stop_pat, stop_pat_pos, fp_ptr, fp_to, fp_s, slack, board_slack,
    egr_ptr, egr_stop, egr_s, n_dest, ranks,
):
    """Range RAPTOR for a block of origins; returns percentiles (n_orig, n_dest, n_pct)
    of travel time in seconds (int64; ``INF`` = unreachable within ``max_time``).

    ``deps`` must be sorted from the latest to the earliest departure.
    """
    n_o = origins.shape[0]
    out = np.empty((n_o, n_dest, ranks.shape[0]), dtype=np.int64)
    for i in prange(n_o):
        o = origins[i]
        lo = acc_ptr[o]
        hi = acc_ptr[o + 1]
        times = np.empty((deps.shape[0], n_dest), dtype=np.int64)
        _range_one_origin(
            acc_stop[lo:hi], acc_s[lo:hi], deps, max_rides, max_time,
            pat_stop_ptr, pat_stops, pat_board, pat_alight, pat_trip_ptr, pat_time_ptr, arr_t, dep_t,
            stop_pat_ptr, stop_pat, stop_pat_pos, fp_ptr, fp_to, fp_s, slack, board_slack,
            egr_ptr, egr_stop, egr_s, n_dest, times,
        )
        _percentiles_into(times, ranks, out[i])
    return out


@njit(cache=True)
def range_raptor_times(
    acc_stop, acc_s, deps, max_rides, max_time,
    pat_stop_ptr, pat_stops, pat_board, pat_alight, pat_trip_ptr, pat_time_ptr, arr_t, dep_t,
    stop_pat_ptr, stop_pat, stop_pat_pos, fp_ptr, fp_to, fp_s, slack, board_slack,
    egr_ptr, egr_stop, egr_s, n_dest,
):
    """Per-departure travel times (n_dep, n_dest) for one origin (for tests/inspection)."""
    times = np.empty((deps.shape[0], n_dest), dtype=np.int64)
    _range_one_origin(
        acc_stop, acc_s, deps, max_rides, max_time,
        pat_stop_ptr, pat_stops, pat_board, pat_alight, pat_trip_ptr, pat_time_ptr, arr_t, dep_t,
        stop_pat_ptr, stop_pat, stop_pat_pos, fp_ptr, fp_to, fp_s, slack, board_slack,
        egr_ptr, egr_stop, egr_s, n_dest, times,
    )
    return times


@njit(cache=True, parallel=True)
def min_plus_legs(
    origins, acc_ptr, acc_node, acc_s, node_times, egr_ptr, egr_node, egr_s, n_dest,
):
    """Zone-to-zone times through a stop-to-stop matrix, without materialising more than
    one block: ``T[o, d] = min_{a in A(o), e in E(d)} acc(o,a) + M[a, e] + egr(e, d)``.

    Parameters
    ----------
    origins : int64 array
        Origin zone positions for this block.
    acc_ptr, acc_node, acc_s : CSR of access legs per origin zone (node index, seconds).
    node_times : float64 (n_nodes, n_nodes)
        Node-to-node travel times in seconds (inf = unreachable).
    egr_ptr, egr_node, egr_s : CSR of egress legs per destination zone.
    n_dest : int

    Returns
    -------
    float64 array (n_orig, n_dest), seconds (inf = unreachable)
    """
    n_o = origins.shape[0]
    n_nodes = node_times.shape[0]
    out = np.full((n_o, n_dest), np.inf)
    for i in prange(n_o):
        o = origins[i]
        best = np.full(n_nodes, np.inf)
        for a in range(acc_ptr[o], acc_ptr[o + 1]):
            row = node_times[acc_node[a]]
            ta = acc_s[a]
            for n in range(n_nodes):
                v = ta + row[n]
                if v < best[n]:
                    best[n] = v
        for d in range(n_dest):
            m = np.inf
            for e in range(egr_ptr[d], egr_ptr[d + 1]):
                v = best[egr_node[e]] + egr_s[e]
                if v < m:
                    m = v
            out[i, d] = m
    return out
