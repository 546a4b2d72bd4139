"""Linking points onto street edges and the intersection cost model (edge-based graphs).

:func:`ruimtekit.network.networks.link` is the public entry point; this module holds the
vectorised machinery:

* :func:`nearest_edges` — every point's nearest *eligible* edge (shapely ``STRtree`` over
  the straight segments of the edge polylines), the projected position along it and the
  perpendicular distance;
* :func:`split_graph` — the street graph with a node inserted at every linked position
  (both directions of a two-way street split at the same place; times shared in
  proportion to length with cumulative rounding, so a through trip keeps its time to the
  second);
* :func:`cost_graph` — the routable graph: either node-based (signal delays folded into
  the edges) or **edge-based** (one search node per directed edge, one arc per allowed
  turn weighing turn cost + signal delay + the next edge's time), plus one *sink* node
  per distinct point location, so that every destination is counted once.

Everything is in EPSG:28992 metres and whole seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ruimtekit import defaults
from ruimtekit.network import graph as _graph
from ruimtekit.network.profiles import TurnCosts

SEARCH_RADII_M = defaults.LINK_SEARCH_RADII_M
"""Widening bounds (metres) of the nearest-edge search (a speed device; results are
the same as one unbounded search)."""

ON_NODE_M = 0.01
"""A projected position closer than this (metres) to an edge end links to that node."""


# ---------------------------------------------------------------------------------------
# geometry of the graph's edges
# ---------------------------------------------------------------------------------------
def edge_polylines(g: _graph.Graph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(vertices (V, 2), first, last) of every edge, the straight segment when unknown."""
    ed = g.edge_data or {}
    if "geom_a" in ed and "vertex_xy" in g.meta:
        return np.asarray(g.meta["vertex_xy"], dtype=np.float64), ed["geom_a"], ed["geom_b"]
    src = g.edge_sources()
    m = g.n_edges
    vxy = np.empty((2 * m, 2))
    vxy[0::2, 0], vxy[0::2, 1] = g.x[src], g.y[src]
    vxy[1::2, 0], vxy[1::2, 1] = g.x[g.indices], g.y[g.indices]
    a = np.arange(0, 2 * m, 2, dtype=np.int64)
    return vxy, a, a + 1


def bearings(g: _graph.Graph) -> tuple[np.ndarray, np.ndarray]:
    """Direction (radians, counter-clockwise from east) leaving the tail and entering the
    head of every edge, from the first and last segment of its polyline."""
    vxy, a, b = edge_polylines(g)
    step = np.sign(b - a).astype(np.int64)
    src = g.edge_sources()
    chord = np.arctan2(g.y[g.indices] - g.y[src], g.x[g.indices] - g.x[src])

    def direction(p: np.ndarray, q: np.ndarray) -> np.ndarray:
        d = vxy[q] - vxy[p]
        ang = np.arctan2(d[:, 1], d[:, 0])
        return np.where(np.hypot(d[:, 0], d[:, 1]) > 1e-6, ang, chord)

    return direction(a, a + step), direction(b - step, b)


def twins(g: _graph.Graph) -> np.ndarray:
    """The opposite-direction edge along the same polyline (``-1`` when none).

    The reverse edge ``v -> u`` is a twin when its polyline has the same vertices in
    reverse order (compared at the second and the middle vertex; GraphML stores each
    direction's geometry separately, OSM shares it).
    """
    src = g.edge_sources().astype(np.int64)
    dst = g.indices.astype(np.int64)
    vxy, a, b = edge_polylines(g)
    n = g.n_nodes
    key = src * n + dst
    order = np.argsort(key)
    rkey = dst * n + src
    pos = np.minimum(np.searchsorted(key[order], rkey), max(key.size - 1, 0))
    cand = order[pos]
    ok = key[cand] == rkey
    nseg = np.abs(b - a)
    ok &= nseg[cand] == nseg
    step = np.sign(b - a).astype(np.int64)
    for k in (np.minimum(1, nseg), nseg // 2):
        mine = vxy[a + step * k]
        theirs = vxy[b[cand] - step[cand] * k]
        ok &= np.all(np.abs(mine - theirs) < 1e-6, axis=1)
    return np.where(ok, cand, -1)


# ---------------------------------------------------------------------------------------
# nearest eligible edge
# ---------------------------------------------------------------------------------------
@dataclass
class EdgeHits:
    """Nearest eligible edge per point.

    Attributes
    ----------
    edge : ndarray of int64
        Edge position in the graph (``-1``: no eligible edge, or non-finite point).
    pos_m : ndarray of float64
        Position of the projection along the edge polyline, metres from its tail.
    length_m : ndarray of float64
        Polyline length of that edge (metres, EPSG:28992).
    distance_m : ndarray of float64
        Straight-line distance from the point to the edge (NaN when not found).
    px, py : ndarray of float64
        The projected point on the edge (EPSG:28992).
    """

    edge: np.ndarray
    pos_m: np.ndarray
    length_m: np.ndarray
    distance_m: np.ndarray
    px: np.ndarray
    py: np.ndarray


def nearest_edges(g: _graph.Graph, x: np.ndarray, y: np.ndarray, eligible: np.ndarray,
                  max_distance_m: float | None = None) -> EdgeHits:
    """Project points onto their nearest eligible edge (one search over all segments).

    Of two twin edges (both directions of a street) only one is indexed; the caller splits
    both. Ties go to the lower segment number. With ``max_distance_m`` the tree search is
    bounded (much faster); points beyond it get only their distance (for diagnostics) and
    ``edge = -1``.
    """
    import shapely

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    k = x.shape[0]
    out = EdgeHits(np.full(k, -1, np.int64), *(np.full(k, np.nan) for _ in range(5)))
    tw = twins(g)
    canon = eligible & ((tw < 0) | (np.arange(g.n_edges) < tw) | ~eligible[np.maximum(tw, 0)])
    edges = np.flatnonzero(canon)
    ok = np.isfinite(x) & np.isfinite(y)
    if edges.size == 0 or not ok.any():
        return out
    vxy, ga, gb = edge_polylines(g)
    a, b = ga[edges], gb[edges]
    step = np.sign(b - a).astype(np.int64)
    nseg = np.abs(b - a)
    total = int(nseg.sum())
    seg_edge = np.repeat(np.arange(edges.size), nseg)
    first = np.concatenate([[0], np.cumsum(nseg)[:-1]])
    kk = np.arange(total) - np.repeat(first, nseg)
    p = a[seg_edge] + step[seg_edge] * kk
    q = p + step[seg_edge]
    p0, p1 = vxy[p], vxy[q]
    seglen = np.hypot(*(p1 - p0).T)
    cum = np.cumsum(seglen)
    start = cum - seglen  # global running length, reset per edge below
    edge_start = start[first]
    seg_off = start - edge_start[seg_edge]
    edge_len = np.add.reduceat(seglen, first) if total else np.zeros(edges.size)
    tree = shapely.STRtree(shapely.linestrings(np.stack([p0, p1], axis=1)))
    pts = shapely.points(x[ok], y[ok])
    # bounded nearest-segment queries, widening for the points not found yet (most points
    # lie close to a street, and a tight bound prunes the tree search)
    limit = np.inf if max_distance_m is None else float(max_distance_m)
    radii = [r for r in SEARCH_RADII_M if r < limit] + [limit]
    todo = np.arange(pts.size)
    got_p, got_s, got_d = [], [], []
    for r in radii:
        if todo.size == 0:
            break
        (pi, si), dist = tree.query_nearest(pts[todo], max_distance=None if np.isinf(r) else r,
                                            return_distance=True, all_matches=True)
        # equidistant segments: the lowest segment number wins (deterministic)
        order = np.lexsort((si, pi))
        pi, si, dist = pi[order], si[order], dist[order]
        first = np.ones(pi.size, dtype=bool)
        first[1:] = pi[1:] != pi[:-1]
        pi, si, dist = pi[first], si[first], dist[first]
        got_p.append(todo[pi])
        got_s.append(si)
        got_d.append(dist)
        found = np.zeros(todo.size, dtype=bool)
        found[pi] = True
        todo = todo[~found]
    if todo.size:  # beyond the limit: the distance only, for diagnostics
        _, far = tree.query_nearest(pts[todo], return_distance=True, all_matches=False)
        out.distance_m[np.flatnonzero(ok)[todo]] = far
    pi = np.concatenate(got_p) if got_p else np.zeros(0, np.int64)
    si = np.concatenate(got_s) if got_s else np.zeros(0, np.int64)
    dist = np.concatenate(got_d) if got_d else np.zeros(0)
    pidx = np.flatnonzero(ok)[pi]
    d = p1[si] - p0[si]
    dd = np.einsum("ij,ij->i", d, d)
    rel = np.column_stack([x[pidx], y[pidx]]) - p0[si]
    t = np.where(dd > 0, np.einsum("ij,ij->i", rel, d) / np.where(dd > 0, dd, 1.0), 0.0)
    t = np.clip(t, 0.0, 1.0)
    e = seg_edge[si]
    out.edge[pidx] = edges[e]
    out.pos_m[pidx] = seg_off[si] + t * seglen[si]
    out.length_m[pidx] = edge_len[e]
    out.distance_m[pidx] = dist
    proj = p0[si] + t[:, None] * d
    out.px[pidx], out.py[pidx] = proj[:, 0], proj[:, 1]
    return out


# ---------------------------------------------------------------------------------------
# splitting edges at linked positions
# ---------------------------------------------------------------------------------------
@dataclass
class SplitGraph:
    """Street graph with nodes inserted at linked positions (flat edge arrays).

    ``tail``, ``head`` (int64), ``w`` (int64 s), ``length`` (m), ``signals`` (traffic
    signals inside the edge), ``brg_out``/``brg_in`` (radians; NaN at inserted nodes,
    which are through-nodes), node arrays ``x``, ``y``, ``signal`` and ``attach`` (the
    node each point attaches to, ``-1`` when unlinked).
    """

    tail: np.ndarray
    head: np.ndarray
    w: np.ndarray
    length: np.ndarray
    signals: np.ndarray
    brg_out: np.ndarray
    brg_in: np.ndarray
    x: np.ndarray
    y: np.ndarray
    signal: np.ndarray
    attach: np.ndarray


def _chain_times(w: np.ndarray, f: np.ndarray, ptr: np.ndarray) -> np.ndarray:
    """Whole-second pieces of edges cut at fractions ``f`` (per edge, ascending, CSR by
    ``ptr``): cumulative rounding, so the pieces of an edge sum to its time exactly."""
    n_edges = ptr.shape[0] - 1
    counts = np.diff(ptr) + 1  # pieces per edge
    edge_of = np.repeat(np.arange(n_edges), counts)
    # fractions at the piece ends: f_1..f_k, 1
    ends = np.ones(int(counts.sum()))
    piece_first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    k_in = np.arange(ends.size) - piece_first[edge_of]
    inner = k_in < counts[edge_of] - 1
    ends[inner] = f[ptr[edge_of[inner]] + k_in[inner]]
    cum = np.rint(w[edge_of] * ends)
    prev = np.where(k_in > 0, np.roll(cum, 1), 0.0)
    return (cum - prev).astype(np.int64)


def _chain_nodes(start: np.ndarray, end: np.ndarray, inner: np.ndarray, ptr: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pieces of chains ``start -> inner[ptr[i]:ptr[i+1]] -> end``: (tails, heads,
    pieces per chain)."""
    cnt = np.diff(ptr)
    npieces = cnt + 1
    total = int(npieces.sum())
    chain = np.repeat(np.arange(cnt.size), npieces)
    first = np.concatenate([[0], np.cumsum(npieces)[:-1]]).astype(np.int64)
    kin = np.arange(total) - first[chain]
    top = max(inner.size - 1, 0)
    tails = np.where(kin == 0, start[chain], inner[np.clip(ptr[chain] + kin - 1, 0, top)])
    heads = np.where(kin == npieces[chain] - 1, end[chain],
                     inner[np.clip(ptr[chain] + kin, 0, top)])
    return tails.astype(np.int64), heads.astype(np.int64), npieces


def split_graph(g: _graph.Graph, hits: EdgeHits) -> SplitGraph:
    """Insert a node at every linked position (see :class:`SplitGraph`)."""
    m = g.n_edges
    tail = g.edge_sources().astype(np.int64)
    head = g.indices.astype(np.int64)
    w = g.weights.astype(np.int64)
    length = g.length_m if g.length_m is not None else np.zeros(m)
    ed = g.edge_data or {}
    signals = np.asarray(ed.get("signals", np.zeros(m, np.int64)), dtype=np.int64)
    brg_out, brg_in = bearings(g)
    nd = g.node_data or {}
    signal = np.asarray(nd.get("signal", np.zeros(g.n_nodes, bool)), dtype=bool)
    n = g.n_nodes
    k = hits.edge.shape[0]
    attach = np.full(k, -1, dtype=np.int64)
    linked = hits.edge >= 0
    e = hits.edge
    at_tail = linked & (hits.pos_m <= ON_NODE_M)
    at_head = linked & ~at_tail & (hits.length_m - hits.pos_m <= ON_NODE_M)
    attach[at_tail] = tail[e[at_tail]]
    attach[at_head] = head[e[at_head]]
    mid = np.flatnonzero(linked & ~at_tail & ~at_head)
    if mid.size == 0:
        return SplitGraph(tail, head, w, length, signals, brg_out, brg_in, g.x, g.y, signal,
                          attach)
    tw = twins(g)
    # one new node per distinct (edge, position rounded to 1 mm), sorted along each edge
    pos_mm = np.rint(hits.pos_m[mid] * 1000).astype(np.int64)
    uniq, inv = np.unique(np.column_stack([e[mid], pos_mm]), axis=0, return_inverse=True)
    inv = inv.ravel()
    new_nodes = n + np.arange(uniq.shape[0], dtype=np.int64)
    attach[mid] = new_nodes[inv]
    ue = uniq[:, 0]
    first_hit = np.full(uniq.shape[0], -1, dtype=np.int64)
    first_hit[inv[::-1]] = mid[::-1]
    frac = np.clip(uniq[:, 1] / 1000.0 / hits.length_m[first_hit], 0.0, 1.0)
    nx_, ny_ = hits.px[first_hit], hits.py[first_hit]
    cut, start = np.unique(ue, return_index=True)
    ptr = np.concatenate([start, [ue.size]]).astype(np.int64)
    cnt = np.diff(ptr)
    chains = []
    # forward: tail -> P1 -> ... -> Pk -> head
    ct, ch, npc = _chain_nodes(tail[cut], head[cut], new_nodes, ptr)
    chains.append((ct, ch, npc, cut, _chain_times(w[cut].astype(np.float64), frac, ptr)))
    rev = tw[cut]
    sel = np.flatnonzero(rev >= 0)
    if sel.size:
        # the twin runs head -> Pk -> ... -> P1 -> tail, at fractions 1 - f reversed
        ptr_t = np.concatenate([[0], np.cumsum(cnt[sel])]).astype(np.int64)
        chain_of = np.repeat(sel, cnt[sel])
        kin = np.arange(int(cnt[sel].sum())) - np.repeat(ptr_t[:-1], cnt[sel])
        idx = ptr[chain_of + 1] - 1 - kin
        ct2, ch2, npc2 = _chain_nodes(head[cut[sel]], tail[cut[sel]], new_nodes[idx], ptr_t)
        chains.append((ct2, ch2, npc2, rev[sel],
                       _chain_times(w[rev[sel]].astype(np.float64), 1.0 - frac[idx], ptr_t)))
    drop = np.zeros(m, dtype=bool)
    drop[cut] = True
    drop[rev[sel]] = True
    keep = ~drop
    parts: dict[str, list[np.ndarray]] = {
        "tail": [tail[keep]], "head": [head[keep]], "w": [w[keep]], "length": [length[keep]],
        "signals": [signals[keep]], "brg_out": [brg_out[keep]], "brg_in": [brg_in[keep]]}
    for ct, ch, npc, orig, times in chains:
        oe = np.repeat(orig, npc)
        first = np.concatenate([[0], np.cumsum(npc)[:-1]])
        kin = np.arange(ct.size) - np.repeat(first, npc)
        last = kin == np.repeat(npc, npc) - 1
        share = np.where(w[oe] > 0, times / np.maximum(w[oe], 1), 1.0 / np.repeat(npc, npc))
        parts["tail"].append(ct)
        parts["head"].append(ch)
        parts["w"].append(times)
        parts["length"].append(length[oe] * share)
        parts["signals"].append(np.where(last, signals[oe], 0))
        parts["brg_out"].append(np.where(kin == 0, brg_out[oe], np.nan))
        parts["brg_in"].append(np.where(last, brg_in[oe], np.nan))
    cat = {key: np.concatenate(v) for key, v in parts.items()}
    return SplitGraph(cat["tail"], cat["head"], cat["w"], cat["length"], cat["signals"],
                      cat["brg_out"], cat["brg_in"], np.concatenate([g.x, nx_]),
                      np.concatenate([g.y, ny_]),
                      np.concatenate([signal, np.zeros(nx_.size, bool)]), attach)


# ---------------------------------------------------------------------------------------
# the routable graph: node- or edge-based, with one sink per point location
# ---------------------------------------------------------------------------------------
@dataclass
class Linked:
    """Points linked onto a street network, and the graph to search.

    Attributes
    ----------
    graph : Graph
        The routable graph: the street graph split at the linked positions (node-based),
        or its edge-based expansion when turn costs apply (one node per directed street
        edge, one arc per allowed turn), plus one sink node per distinct point location.
    src_ptr, src_nodes, src_off_s : ndarray
        Sources of point ``i`` (as an origin): ``src_nodes[src_ptr[i]:src_ptr[i+1]]`` with
        offsets in seconds (access leg, plus the first edge when edge-based). The point's
        own sink is among them at 0 s, so a point reaches its own location in 0 s.
    sink : ndarray of int64
        Graph node of point ``i`` as a destination (``-1`` when unlinked); attach a
        destination there with no egress offset (the egress leg is on the arc into it).
    distance_m : ndarray of float64
        Straight-line distance from the point to its edge (metres; also for points beyond
        the limit; NaN for non-finite coordinates).
    edge : ndarray of int64
        Linked edge of the input graph (``-1`` when unlinked).
    access_s : ndarray of float64
        Access/egress leg per point in seconds (NaN when unlinked).
    edge_based : bool
        Whether turn costs made the graph edge-based.
    """

    graph: _graph.Graph
    src_ptr: np.ndarray
    src_nodes: np.ndarray
    src_off_s: np.ndarray
    sink: np.ndarray
    distance_m: np.ndarray
    edge: np.ndarray
    access_s: np.ndarray
    edge_based: bool

    @property
    def unlinked(self) -> np.ndarray:
        """Boolean mask of points without a link."""
        return self.sink < 0


def _neighbour_counts(tail: np.ndarray, head: np.ndarray, n: int) -> np.ndarray:
    """Distinct neighbours per node (in or out), ignoring direction."""
    lo, hi = np.minimum(tail, head), np.maximum(tail, head)
    pairs = np.unique(lo * n + hi)
    return np.bincount(pairs // n, minlength=n) + np.bincount(pairs % n, minlength=n)


def turn_costs_s(brg_in: np.ndarray, brg_out: np.ndarray, uturn: np.ndarray, deg: np.ndarray,
                 turns: TurnCosts) -> np.ndarray:
    """Turn cost in seconds of each movement (NaN = not allowed).

    ``deg`` is the number of distinct neighbours of the node turned at: through-nodes
    (2) forbid U-turns and cost nothing otherwise; dead ends (1) charge a U-turn;
    junctions (3+) classify the angle between the arriving and leaving directions.
    """
    ang = np.degrees(np.angle(np.exp(1j * (brg_out - brg_in))))  # (-180, 180], + = left
    ang = np.where(np.isfinite(ang), ang, 0.0)
    a = np.abs(ang)
    left, right = (turns.left_s, turns.right_s) if turns.drive_on_right else \
        (turns.right_s, turns.left_s)
    cost = np.where(a < turns.straight_max_deg, 0.0, np.where(ang > 0, left, right))
    cost = np.where(uturn | (a >= turns.u_turn_min_deg), turns.u_turn_s, cost)
    cost = np.where(deg == 2, 0.0, cost)
    cost = np.where(deg <= 1, turns.u_turn_s, cost)
    return np.where((deg == 2) & uturn, np.nan, cost)


def cost_graph(sg: SplitGraph, x: np.ndarray, y: np.ndarray, access_s: np.ndarray,
               turns: TurnCosts, mode: str, meta: dict) -> Linked:
    """The routable graph of :class:`Linked` from a split street graph."""
    n = sg.x.shape[0]
    m = sg.tail.shape[0]
    sd = float(turns.signal_delay_s)
    acc = np.rint(np.where(sg.attach >= 0, access_s, 0.0))
    ok = sg.attach >= 0
    # one sink per distinct point location
    loc = np.column_stack([x, y])
    _, first_of, loc_inv = np.unique(loc[ok], axis=0, return_index=True, return_inverse=True)
    loc_inv = loc_inv.ravel()
    n_sink = first_of.size
    pts_ok = np.flatnonzero(ok)
    sink_pt = pts_ok[first_of]  # a representative point per sink
    sink_attach = sg.attach[sink_pt]
    sink_acc = acc[sink_pt]
    edge_extra = sd * sg.signals
    out_cnt = np.bincount(sg.tail, minlength=n)
    out_order = np.argsort(sg.tail, kind="stable")
    out_start = np.concatenate([[0], np.cumsum(out_cnt)]).astype(np.int64)
    if turns.enabled:
        base = m
        deg = _neighbour_counts(sg.tail, sg.head, n)
        # every movement in-edge i -> out-edge j at node head[i]
        reps = out_cnt[sg.head]
        ii = np.repeat(np.arange(m), reps)
        first = (np.cumsum(reps) - reps).astype(np.int64)
        kin = np.arange(ii.size) - np.repeat(first, reps)
        jj = out_order[out_start[sg.head[ii]] + kin]
        node = sg.head[ii]
        cost = turn_costs_s(sg.brg_in[ii], sg.brg_out[jj], sg.tail[ii] == sg.head[jj],
                            deg[node], turns)
        allowed = np.isfinite(cost)
        ii, jj, node, cost = ii[allowed], jj[allowed], node[allowed], cost[allowed]
        arc_w = np.rint(cost + sd * sg.signal[node]) + sg.w[jj] + edge_extra[jj]
        # arcs into the sinks: from every edge arriving at the sink's node
        in_cnt = np.bincount(sg.head, minlength=n)
        in_order = np.argsort(sg.head, kind="stable")
        in_start = np.concatenate([[0], np.cumsum(in_cnt)]).astype(np.int64)
        r = in_cnt[sink_attach]
        s_of = np.repeat(np.arange(n_sink), r)
        k2 = np.arange(s_of.size) - np.repeat(np.cumsum(r) - r, r)
        si = in_order[in_start[sink_attach[s_of]] + k2]
        tails = np.concatenate([ii, si])
        heads = np.concatenate([jj, base + s_of])
        wts = np.concatenate([arc_w, sink_acc[s_of]])
        gx = np.concatenate([sg.x[sg.head], x[sink_pt]])
        gy = np.concatenate([sg.y[sg.head], y[sink_pt]])
        # sources: the edges leaving the point's node, plus its own sink at 0 s
        nsrc = np.where(ok, out_cnt[np.maximum(sg.attach, 0)] + 1, 0)
        src_ptr = np.concatenate([[0], np.cumsum(nsrc)]).astype(np.int64)
        p_of = np.repeat(np.arange(x.size), nsrc)
        kk = np.arange(p_of.size) - src_ptr[p_of]
        own = kk == nsrc[p_of] - 1
        xnode = np.maximum(sg.attach[p_of], 0)
        e_out = out_order[np.minimum(out_start[xnode] + kk, max(m - 1, 0))]
        sink_of_pt = np.full(x.size, -1, dtype=np.int64)
        sink_of_pt[pts_ok] = base + loc_inv
        src_nodes = np.where(own, sink_of_pt[p_of], e_out)
        src_off = np.where(own, 0.0, acc[p_of] + sg.w[e_out] + edge_extra[e_out])
    else:
        base = n
        w_eff = sg.w + edge_extra + sd * sg.signal[sg.head]
        tails = np.concatenate([sg.tail, sink_attach])
        heads = np.concatenate([sg.head, base + np.arange(n_sink)])
        wts = np.concatenate([w_eff, sink_acc])
        gx = np.concatenate([sg.x, x[sink_pt]])
        gy = np.concatenate([sg.y, y[sink_pt]])
        nsrc = np.where(ok, 2, 0)
        src_ptr = np.concatenate([[0], np.cumsum(nsrc)]).astype(np.int64)
        sink_of_pt = np.full(x.size, -1, dtype=np.int64)
        sink_of_pt[pts_ok] = base + loc_inv
        src_nodes = np.column_stack([sg.attach[pts_ok], sink_of_pt[pts_ok]]).ravel()
        src_off = np.column_stack([acc[pts_ok], np.zeros(pts_ok.size)]).ravel()
    g2 = _graph.from_edges(tails, heads, wts.astype(np.float64), gx, gy, mode=mode,
                           largest_component=False, attrs=_graph.GraphAttrs(
                               meta={**meta, "linked_points": int(ok.sum()),
                                     "sinks": int(n_sink), "edge_based": bool(turns.enabled)}))
    return Linked(graph=g2, src_ptr=src_ptr, src_nodes=src_nodes.astype(np.int64),
                  src_off_s=src_off.astype(np.float64), sink=sink_of_pt,
                  distance_m=np.full(x.size, np.nan), edge=np.full(x.size, -1, np.int64),
                  access_s=np.where(ok, acc, np.nan), edge_based=bool(turns.enabled))
