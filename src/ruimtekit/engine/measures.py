"""Accessibility measures: one definition for every mode and engine.

``t`` is the travel time in **minutes**, ``T`` a cutoff in minutes, ``E_j`` the
opportunities at destination j:

* cumulative — ``A_i = sum_j E_j * 1[t_ij <= T]``; reachable means ``t <= 60 T`` seconds,
  an origin's own opportunities count (``t = 0``); any cutoff, integer or not, is exact;
* gravity / Hansen — ``A_i = sum_j E_j f(t_ij)`` with the :class:`Decay` functions
  negative exponential, power, logistic, linear and step.

Road searches (:mod:`ruimtekit.engine.search`), crow-fly and skim measures
(:mod:`ruimtekit.analysis.accessibility`) and transit (:mod:`ruimtekit.engine.transit`)
all weigh travel times with these functions, so a measure means the same in every mode.
Network searches stop at the **search horizon** (:func:`default_horizon_min`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator

from ruimtekit import _config, defaults
from ruimtekit._compat import renamed_parameters
from ruimtekit._errors import InputError, describe_validation

DEFAULT_UNBOUNDED_HORIZON_MIN = defaults.UNBOUNDED_HORIZON_MIN
"""Search horizon (minutes) used when an unbounded decay is requested without a horizon
(:data:`ruimtekit.defaults.UNBOUNDED_HORIZON_MIN`)."""


def format_number(x: float) -> str:
    """Compact number for labels: 45 → '45', 22.5 → '22.5', 0.05 → '0.05'."""
    return f"{float(x):g}"


class Decay:
    """A distance-decay (impedance) function of travel time in minutes.

    Parameters
    ----------
    kind : str
        ``cumulative`` (``cutoff``), ``exponential`` (``beta``, per minute), ``power``
        (``beta``; ``t_min`` floor, default 1 minute, so ``t = 0`` gives weight 1 instead
        of infinity), ``logistic`` (``beta`` per minute, ``t0`` minutes), ``linear``
        (``cutoff``: ``max(0, 1 - t / cutoff)``) or ``step`` (``bands``: list of
        ``(upper_min, weight)`` with increasing upper bounds; weight of the first band
        with ``t <= upper``, 0 beyond the last).
    **params
        The parameters named above.

    Examples
    --------
    >>> Decay("exponential", beta=0.05).label
    'exp0.05'
    >>> float(Decay("linear", cutoff=30).weight(15.0))
    0.5
    """

    KINDS = ("cumulative", "exponential", "power", "logistic", "linear", "step")
    _PARAMS = {
        "cumulative": ({"cutoff"}, set()),
        "exponential": ({"beta"}, set()),
        "power": ({"beta"}, {"t_min"}),
        "logistic": ({"beta", "t0"}, set()),
        "linear": ({"cutoff"}, set()),
        "step": ({"bands"}, set()),
    }

    def __init__(self, kind: str, **params: Any) -> None:
        aliases = {"exp": "exponential", "negative_exponential": "exponential",
                   "cum": "cumulative", "pow": "power", "logit": "logistic",
                   "lin": "linear"}
        kind = aliases.get(str(kind), str(kind))
        if kind not in self._PARAMS:
            raise InputError(None, f"unknown decay kind {kind!r}",
                             f"use one of {', '.join(self.KINDS)}")
        required, optional = self._PARAMS[kind]
        missing = required - set(params)
        extra = set(params) - required - optional
        if missing or extra:
            raise InputError(
                None,
                f"decay {kind!r} got parameters {sorted(params)}",
                f"give {sorted(required)}" + (f" (optional {sorted(optional)})" if optional else ""),
            )
        self.kind = kind
        self.params = dict(params)
        if kind == "step":
            bands = [(float(u), float(w)) for u, w in params["bands"]]
            ups = np.array([b[0] for b in bands])
            if len(bands) == 0 or np.any(np.diff(ups) <= 0) or ups[0] < 0:
                raise InputError(None, "step decay bands must have increasing upper bounds",
                                 "give bands as [[15, 1.0], [30, 0.5], [45, 0.25]] (minutes, weight)")
            self.params["bands"] = bands
        else:
            for k, v in self.params.items():
                if not np.isfinite(float(v)):
                    raise InputError(None, f"decay parameter {k}={v!r} is not a finite number",
                                     "give a finite number")
                self.params[k] = float(v)
            if kind in ("cumulative", "linear") and self.params["cutoff"] <= 0:
                raise InputError(None, f"{kind} cutoff must be > 0 minutes", "give e.g. cutoff=45")
            if kind == "power" and self.params.get("t_min", 1.0) <= 0:
                raise InputError(None, "power decay t_min must be > 0 minutes",
                                 "use the default t_min=1")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"Decay({self.kind!r}, {args})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Decay) and (self.kind, self.params) == (other.kind, other.params)

    def __hash__(self) -> int:
        return hash((self.kind, repr(self.params)))

    @property
    def label(self) -> str:
        """Column-name part: ``45min``, ``exp0.05``, ``pow1.5``, ``logistic0.1_30``,
        ``lin45``, ``step15x1-30x0.5``."""
        p = self.params
        if self.kind == "cumulative":
            return f"{format_number(p['cutoff'])}min"
        if self.kind == "exponential":
            return f"exp{format_number(p['beta'])}"
        if self.kind == "power":
            return f"pow{format_number(p['beta'])}"
        if self.kind == "logistic":
            return f"logistic{format_number(p['beta'])}_{format_number(p['t0'])}"
        if self.kind == "linear":
            return f"lin{format_number(p['cutoff'])}"
        return "step" + "-".join(f"{format_number(u)}x{format_number(w)}" for u, w in p["bands"])

    @property
    def horizon_min(self) -> float | None:
        """Time (minutes) beyond which the weight is 0, or None for unbounded decays."""
        if self.kind in ("cumulative", "linear"):
            return self.params["cutoff"]
        if self.kind == "step":
            return self.params["bands"][-1][0]
        return None

    def weight(self, t_min: np.ndarray | float) -> np.ndarray:
        """Weights for travel times in minutes (vectorised; ``inf`` gives 0).

        Parameters
        ----------
        t_min : array of float
            Travel times in minutes (>= 0; ``inf`` = unreachable).

        Returns
        -------
        ndarray of float64
        """
        t = np.asarray(t_min, dtype=np.float64)
        p = self.params
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if self.kind == "cumulative":
                w = (t <= p["cutoff"]).astype(np.float64)
            elif self.kind == "exponential":
                w = np.exp(-p["beta"] * t)
            elif self.kind == "power":
                w = np.maximum(t, p.get("t_min", 1.0)) ** (-p["beta"])
            elif self.kind == "logistic":
                w = 1.0 / (1.0 + np.exp(p["beta"] * (t - p["t0"])))
            elif self.kind == "linear":
                w = np.maximum(0.0, 1.0 - t / p["cutoff"])
            else:
                ups = np.array([b[0] for b in p["bands"]])
                ws = np.append(np.array([b[1] for b in p["bands"]]), 0.0)
                w = ws[np.searchsorted(ups, t, side="left")]
        w = np.where(np.isfinite(t), w, 0.0)
        return w

    def weight_seconds(self, t_s: np.ndarray | float) -> np.ndarray:
        """Weights for travel times in seconds; cumulative cutoffs compare ``t <= 60 T``."""
        t = np.asarray(t_s, dtype=np.float64)
        if self.kind == "cumulative":
            return (t <= 60.0 * self.params["cutoff"]).astype(np.float64)
        return self.weight(t / 60.0)


def as_decay(spec: Decay | dict | DecayConfig) -> Decay:
    """A :class:`Decay` from a Decay, a ``{"kind": ..., **params}`` dict or a DecayConfig."""
    if isinstance(spec, Decay):
        return spec
    if isinstance(spec, DecayConfig):
        return Decay(spec.kind, **spec.params)
    if isinstance(spec, dict):
        d = dict(spec)
        params = d.pop("params", {})
        return Decay(d.pop("kind"), **params, **d)
    raise InputError(None, f"cannot read a decay from {spec!r}",
                     "give {kind: exponential, params: {beta: 0.05}}")


MAX_CUTOFF_MIN = defaults.MAX_CUTOFF_MIN
"""Largest time budget accepted (minutes): a day (:data:`ruimtekit.defaults.MAX_CUTOFF_MIN`)."""


@renamed_parameters(cutoffs_min="cutoffs")
def measure_list(cutoffs: Iterable[float], decays: Iterable[Decay | dict]) -> list[Decay]:
    out: list[Decay] = []
    for c in cutoffs:
        c = float(c)
        if not np.isfinite(c) or c <= 0:
            raise InputError(None, f"cutoff {c!r} minutes is not a positive number",
                             "give cutoffs in minutes, e.g. 45")
        if c > MAX_CUTOFF_MIN:
            raise InputError(None, f"cutoff {c:g} minutes is beyond the maximum travel time "
                             f"of {MAX_CUTOFF_MIN:g} minutes (a day)",
                             "give cutoffs in minutes (e.g. 45), not seconds")
        out.append(Decay("cumulative", cutoff=c))
    out.extend(as_decay(d) for d in decays)
    labels = [m.label for m in out]
    dup = {x for x in labels if labels.count(x) > 1}
    if dup:
        raise InputError(None, f"measure(s) requested twice: {sorted(dup)}",
                         "list every cutoff and decay once")
    return out


def default_horizon_min(measures: Sequence[Decay]) -> float:
    """The search horizon (minutes) for a list of measures (see the module docstring)."""
    bounded = [m.horizon_min for m in measures if m.horizon_min is not None]
    h = max(bounded) if bounded else 0.0
    if any(m.horizon_min is None for m in measures):
        h = max(h, DEFAULT_UNBOUNDED_HORIZON_MIN)
    if h <= 0:
        raise InputError(None, "no measure requested", "give at least one cutoff or decay")
    return h


def weight_table(measures: Sequence[Decay], max_t: int) -> np.ndarray:
    """Weights of each measure at every whole second 0..max_t (float64, shape (K, max_t+1))."""
    t = np.arange(max_t + 1, dtype=np.float64)
    return np.stack([m.weight_seconds(t) for m in measures]) if measures else np.zeros((0, max_t + 1))


@renamed_parameters(cutoffs_min="cutoffs")
def aggregate_times(
    times_s: np.ndarray,
    opportunities: np.ndarray,
    cutoffs: Iterable[float] = (defaults.CUTOFF_MIN,),
    decays: Iterable[Decay | dict] = (),
    horizon_min: float | None = None,
) -> dict[str, np.ndarray]:
    """Measures from a dense block of travel times.

    Parameters
    ----------
    times_s : ndarray, shape (n_origins, n_destinations)
        Travel times in seconds; ``inf`` (or NaN) means unreachable.
    opportunities : ndarray, shape (n_destinations,)
        Opportunities per destination (>= 0).
    cutoffs : iterable of float
        Cumulative cutoffs in minutes (reachable means ``t <= 60 T`` seconds).
    decays : iterable of Decay or dict
        Gravity decay functions (t in minutes).
    horizon_min : float, optional
        Ignore destinations farther than this (minutes), as network searches do.

    Returns
    -------
    dict of str to ndarray (n_origins,)
        Keyed by measure label (``45min``, ``exp0.05``, ...).
    """
    t = np.asarray(times_s, dtype=np.float64)
    e = np.asarray(opportunities, dtype=np.float64)
    if t.ndim != 2 or e.ndim != 1 or t.shape[1] != e.shape[0]:
        raise ValueError("times_s must be (n_origins, n_destinations) and opportunities (n_destinations,)")
    t = np.where(np.isnan(t), np.inf, t)
    if horizon_min is not None:
        t = np.where(t <= 60.0 * horizon_min, t, np.inf)
    out = {}
    for m in measure_list(cutoffs, decays):
        out[m.label] = m.weight_seconds(t) @ e
    return out


class DecayConfig(_config.Section):
    """A decay in the study file: ``{kind: exponential, params: {beta: 0.05}}``."""

    kind: Literal["cumulative", "exponential", "power", "logistic", "linear", "step"]
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("params")
    @classmethod
    def _params_ok(cls, v: dict[str, Any], info: Any) -> dict[str, Any]:
        kind = info.data.get("kind")
        if kind is not None:
            try:
                Decay(kind, **v)
            except InputError as exc:
                raise ValueError(f"{exc.problem}; {exc.fix}") from None
        return v


def parse_decay(text: str) -> Decay:
    """Parse ``kind:name=value,name=value`` (e.g. ``exponential:beta=0.05``) into a Decay."""
    kind, _, rest = text.partition(":")
    params: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        name, eq, value = part.partition("=")
        try:
            if not eq:
                raise ValueError
            params[name.strip()] = float(value)
        except ValueError:
            raise InputError(None, f"cannot read decay {text!r}",
                             "write e.g. exponential:beta=0.05 or logistic:beta=0.1,t0=30") from None
    return Decay(kind.strip(), **params)


class MeasureSpec(_config.Section):
    """Accessibility measures shared by every mode: the parameter object of every
    accessibility function (road, crow-fly, skim, transit).

    Attributes
    ----------
    cutoffs : list of float
        Cumulative time budgets (minutes): opportunities reached within ``t <= T``.
    decays : list of DecayConfig
        Gravity decays (``{kind: exponential, params: {beta: 0.05}}``; t in minutes); a
        :class:`Decay` or a flat ``{"kind": ..., "beta": ...}`` dict is accepted too.
    horizon_min : float, optional
        Search horizon (minutes) of road and crow-fly searches; default
        :func:`default_horizon_min` of the measures (the largest cutoff or bounded decay,
        at least :data:`DEFAULT_UNBOUNDED_HORIZON_MIN` with unbounded decays). Transit
        trips are bounded by ``TransitParams.max_time_min`` instead.

    Examples
    --------
    >>> MeasureSpec(cutoffs=[30, 45]).cutoffs
    [30.0, 45.0]
    >>> [d.label for d in MeasureSpec(decays=[Decay("exponential", beta=0.05)]).decay_objects()]
    ['exp0.05']
    """

    cutoffs: list[float] = Field(default_factory=lambda: [defaults.CUTOFF_MIN])
    decays: list[DecayConfig] = Field(default_factory=list)
    horizon_min: float | None = Field(None, gt=0)

    @field_validator("cutoffs")
    @classmethod
    def _cutoffs_ok(cls, v: list[float]) -> list[float]:
        if any(not (c > 0 and np.isfinite(c)) for c in v):
            raise ValueError("cutoffs must be positive numbers of minutes")
        return v

    @field_validator("decays", mode="before")
    @classmethod
    def _decays_in(cls, v: Any) -> Any:
        if v is None:
            return []
        out = []
        for d in v:
            if isinstance(d, Decay):
                d = {"kind": d.kind, "params": dict(d.params)}
            elif isinstance(d, dict) and "params" not in d:
                d = {"kind": d.get("kind"), "params": {k: x for k, x in d.items() if k != "kind"}}
            out.append(d)
        return out

    def decay_objects(self) -> list[Decay]:
        """The decays as :class:`Decay` objects."""
        return [as_decay(d) for d in self.decays]

    def measure_list(self) -> list[Decay]:
        """Cutoffs then decays, as :class:`Decay` objects (validated, labels unique)."""
        return measure_list(self.cutoffs, self.decay_objects())

    def horizon(self) -> float:
        """The search horizon (minutes): ``horizon_min`` or the measures' default."""
        if self.horizon_min is not None:
            return float(self.horizon_min)
        return default_horizon_min(self.measure_list())


def as_measures(measures: MeasureSpec | dict[str, Any] | None = None,
                default_cutoffs: Sequence[float] = (45.0,)) -> MeasureSpec:
    """A :class:`MeasureSpec` from an instance, a dict (``{"cutoffs": [30, 45]}``) or
    ``None`` (``default_cutoffs`` minutes, no decays)."""
    if measures is None:
        return MeasureSpec(cutoffs=[float(c) for c in default_cutoffs])
    if isinstance(measures, MeasureSpec):
        return measures
    try:
        return MeasureSpec(**dict(measures))
    except (TypeError, ValueError) as exc:
        raise InputError(None, f"invalid measures: {describe_validation(exc)}",
                         "give MeasureSpec(cutoffs=[minutes], decays=[...], "
                         "horizon_min=minutes)") from None
