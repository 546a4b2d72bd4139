"""The one own-zone rule shared by effective density, potentials and borrowed size.

A zone's own mass is spread over its area, not concentrated at its point. Every
origin–destination distance below the origin zone's **internal distance**

    d_int,i = (2/3) · √(area_i / π)

(the mean distance from the centre of a disc of the zone's area to points inside it) is
raised to ``d_int,i``: the zone to itself, a distinct destination at 0 m, and a wijk
centroid 1–2 m from a gemeente point alike. Without this floor a destination 2 m away
gets weight 1/0.002 km in effective density (Graham 2007) and dominates the sum.

Used by :func:`ruimtekit.analysis.accessibility.effective_density`,
:func:`ruimtekit.analysis.accessibility.crowfly_access` (compiled kernels apply the same floor),
:func:`ruimtekit.analysis.agglomeration.effective_density` and the borrowed-size time matrices
(:func:`ruimtekit.analysis.borrowed_size.analyse`, where the floor is the mode's travel time over
the internal distance). The number of raised pairs is logged as a warning.
"""

from __future__ import annotations

import logging

import numpy as np

from ruimtekit._errors import InputError

log = logging.getLogger("ruimtekit.own_zone")

INTERNAL_DISTANCE_FACTOR = 2.0 / 3.0
"""d_int = INTERNAL_DISTANCE_FACTOR · √(area/π) (mean distance to the centre of a disc)."""


def internal_distance(area: np.ndarray) -> np.ndarray:
    """Internal (own-zone) distance (2/3)·√(area/π), in the unit of √area.

    Parameters
    ----------
    area : ndarray
        Zone areas (m² → metres, km² → km); finite and > 0.
    """
    a = np.asarray(area, dtype=float)
    if np.any(~np.isfinite(a)) or np.any(a <= 0):
        raise InputError(None, "zone areas must be finite and > 0",
                         "use land or total area in m² (or km²) for every zone")
    return INTERNAL_DISTANCE_FACTOR * np.sqrt(a / np.pi)


def count_below(ox: np.ndarray, oy: np.ndarray, floor: np.ndarray, dx: np.ndarray,
                dy: np.ndarray, own: np.ndarray | None = None) -> int:
    """Number of origin–destination pairs closer than the origin's floor distance.

    The origin's own destination (``own[i]``, -1 for none) is not counted: using the
    internal distance for it is the rule, not an exception. KD-tree, no n × m matrix.
    """
    from scipy.spatial import cKDTree

    ox, oy, floor = (np.asarray(a, dtype=float) for a in (ox, oy, floor))
    ok = np.isfinite(ox) & np.isfinite(oy) & (floor > 0)
    dok = np.isfinite(dx) & np.isfinite(dy)
    if not ok.any() or not dok.any():
        return 0
    dpos = np.flatnonzero(dok)
    tree = cKDTree(np.column_stack([np.asarray(dx)[dok], np.asarray(dy)[dok]]))
    idx = np.flatnonzero(ok)
    # strictly below the floor: shrink the radius by a hair
    hits = tree.query_ball_point(np.column_stack([ox[idx], oy[idx]]),
                                 r=floor[idx] * (1 - 1e-12))
    n = 0
    for i, h in zip(idx, hits, strict=True):
        n += len(h)
        if own is not None and own[i] >= 0 and np.any(dpos[h] == own[i]):
            n -= 1
    return int(n)


def warn_below(n_pairs: int, what: str) -> None:
    """Log the count of pairs raised to the internal distance (nothing when 0)."""
    if n_pairs:
        log.warning("%s: %d origin-destination pair(s) closer than the origin zone's internal "
                    "distance (2/3)*sqrt(area/pi) use the internal distance instead",
                    what, n_pairs)


def floor_matrix(values: np.ndarray, floor: np.ndarray, what: str,
                 *, count_diagonal: bool = False) -> tuple[np.ndarray, int]:
    """Raise row ``i`` of a square distance or time matrix to at least ``floor[i]``.

    Returns the floored copy and the number of raised off-diagonal pairs (the diagonal
    too with ``count_diagonal``); the count is logged by :func:`warn_below`. ``inf``
    (unreachable) stays ``inf``.
    """
    v = np.asarray(values, dtype=float)
    f = np.asarray(floor, dtype=float)
    if v.ndim != 2 or v.shape[0] != f.shape[0]:
        raise InputError(None, f"matrix {v.shape} does not match {f.shape[0]} floors",
                         "pass one internal distance/time per origin row")
    low = v < f[:, None]
    if not count_diagonal and v.shape[0] == v.shape[1]:
        np.fill_diagonal(low, False)
    n = int(low.sum())
    out = np.maximum(v, f[:, None])
    warn_below(n, what)
    return out, n
