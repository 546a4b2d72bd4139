"""Mode profiles: which ways a mode may use, in which direction and at what speed.

A profile turns the tags of an OpenStreetMap way (or the highway class of a link table
row) into a :class:`WayRule`: allowed directions, speed in km/h and a fixed penalty in
seconds. Profiles are pydantic models (:class:`ruimtekit._config.Section`), so every default
can be overridden from a study file::

    networks:
      bike_ebike:
        path: data/raw/osm/renkum_wageningen_bike.osm.pbf
        mode: bike
        profile: {ebike: true}
      car_peak:
        path: data/raw/osm/delft_drive.graphml
        mode: car
        period: morning_peak
        profile:
          highway_speed_kmh: {residential: 25}
          periods: {morning_peak: {motorway: 0.6}}

Dictionary-valued fields given as overrides are *merged* into the defaults (one key can be
changed without repeating the others); every other field is replaced.

The defaults are **assumptions** chosen to match Dutch rules and common practice, not
measured speeds. They are listed in each class docstring and in ``docs/networks.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal, NamedTuple

from pydantic import Field, field_validator

from ruimtekit import defaults
from ruimtekit._config import Section
from ruimtekit._errors import InputError
from ruimtekit.network import _osm

NO_VALUES = frozenset({"no", "private", "agricultural", "forestry", "delivery", "emergency"})
"""Access-tag values that forbid a mode (``access``, ``foot``, ``bicycle``, ``motorcar``...)."""

YES_VALUES = frozenset({"yes", "designated", "permissive", "official", "destination"})
"""Access-tag values that explicitly allow a mode (``destination``: allowed to reach a
destination on that way, so routable for accessibility)."""

OPPOSITE_CYCLEWAY = frozenset({"opposite", "opposite_lane", "opposite_track", "opposite_share_busway"})
"""``cycleway=*`` values meaning cyclists may ride against a one-way street (contraflow)."""


class WayRule(NamedTuple):
    """What a profile allows on one way.

    Attributes
    ----------
    forward : bool
        Travel allowed in the way's digitised direction (node order).
    backward : bool
        Travel allowed against the digitised direction.
    speed_kmh : float
        Travel speed in km/h (> 0), period factor included.
    penalty_s : float
        Fixed extra time per edge in seconds (e.g. for steps), >= 0.
    highway : str
        The highway class used (first allowed class of a list).
    """

    forward: bool
    backward: bool
    speed_kmh: float
    penalty_s: float
    highway: str


# every default below is documented in ruimtekit.defaults (docs/defaults.md)
TURN_LEFT_S = defaults.TURN_LEFT_S
"""Left turn at a junction, seconds (R5 ``LEFT_TURN``)."""
TURN_RIGHT_S = defaults.TURN_RIGHT_S
"""Right turn at a junction, seconds (R5 ``RIGHT_TURN``)."""
U_TURN_S = defaults.U_TURN_S
"""U-turn at a junction or dead end, seconds (R5 ``U_TURN``)."""
STRAIGHT_MAX_DEG = defaults.STRAIGHT_MAX_DEG
"""Turns sharper than this (degrees from straight on) are left or right turns (R5: 27)."""
U_TURN_MIN_DEG = defaults.U_TURN_MIN_DEG
"""Turns at least this sharp (degrees from straight on) are U-turns (R5: 153)."""
SIGNAL_DELAY_S = defaults.SIGNAL_DELAY_S
"""Mean delay passing a traffic signal, seconds (OpenTripPlanner: 15 s)."""

LINK_EXCLUDED_HIGHWAYS = list(defaults.LINK_EXCLUDED_HIGHWAYS)
"""Road classes points are never linked to (an address does not lie on a motorway)."""


class TurnCosts(Section):
    """Intersection delays of a mode (edge-based routing; see ``docs/networks.md``).

    Attributes
    ----------
    enabled : bool
        Apply turn costs (left/right/U-turn) at junctions and forbid U-turns at
        through-nodes. Needs a graph with edge geometry (OSM, GraphML).
    left_s, right_s, u_turn_s : float
        Seconds per left turn, right turn and U-turn (R5 defaults 30, 10, 90).
    straight_max_deg, u_turn_min_deg : float
        Turn-angle classes in degrees from straight on (R5: < 27 straight, >= 153 U-turn).
    signal_delay_s : float
        Seconds added for every traffic signal passed (``highway=traffic_signals`` on a
        junction node or inside an edge, in its ``traffic_signals:direction``); 0 = none.
        Applied also when ``enabled`` is false (folded into the edges).
    drive_on_right : bool
        Right-hand traffic (the Netherlands): a left turn crosses oncoming traffic.
    """

    enabled: bool = False
    left_s: float = Field(TURN_LEFT_S, ge=0)
    right_s: float = Field(TURN_RIGHT_S, ge=0)
    u_turn_s: float = Field(U_TURN_S, ge=0)
    straight_max_deg: float = Field(STRAIGHT_MAX_DEG, ge=0, le=180)
    u_turn_min_deg: float = Field(U_TURN_MIN_DEG, ge=0, le=180)
    signal_delay_s: float = Field(0.0, ge=0)
    drive_on_right: bool = True


class ModeProfile(Section):
    """Settings common to every mode profile.

    Attributes
    ----------
    mode : str
        Mode label written on the graph (``walk``, ``bike``, ``ebike``, ``car``).
    speed_kmh : float
        Base travel speed in km/h (walk and bike; for car the fallback when a highway class
        has no entry in ``highway_speed_kmh``).
    highways : list of str
        OSM ``highway`` values the mode may use (further restricted by access tags).
    highway_speed_kmh : dict
        Absolute speed in km/h per highway class; wins over ``speed_kmh``.
    highway_speed_factor : dict
        Multiplier of the base speed per highway class (e.g. ``steps: 0.5``).
    penalty_s : dict
        Fixed seconds added to every edge of a highway class.
    respect_oneway : bool
        Follow ``oneway`` tags (and roundabouts, which imply one-way).
    use_maxspeed : bool
        Use the ``maxspeed`` tag when present and parseable (car).
    use_link_speeds : bool
        For link tables: use the table's speed/travel-time columns (car; for walk and bike
        the profile speeds are used, since such columns are normally vehicle speeds).
    access_speed_kmh : float
        Speed of the access leg between an origin/destination point and its snapped node,
        in km/h. The leg itself is added by the caller (see :func:`ruimtekit.network.networks.snap`).
    no_access_values : list of str
        Values of ``access`` (and of the mode's own access key: ``foot``, ``bicycle``,
        ``motorcar``/``motor_vehicle``/``vehicle``) that exclude a way: no, private,
        agricultural, forestry, delivery, emergency. Set to ``[]`` to ignore access tags.
    periods : dict
        Named time periods mapping to a speed multiplier: a number for all classes, or a
        mapping ``{highway class: factor, "default": factor}``. Links (``*_link``) fall back
        to their parent class, then to ``default``, then to 1.0.
    turns : TurnCosts
        Turn costs and traffic-signal delays (car: on; bike: available, off by default;
        walk: off).
    link_excluded_highways : list of str
        Road classes points are never linked to (default motorway, motorway_link).
    link_to_tunnels : bool
        Allow linking points to tunnels (``tunnel=yes``, ``layer<0``); default no.
    link_to_private : bool
        Allow linking points to private service roads; default no.
    """

    mode: str
    speed_kmh: float = Field(gt=0)
    highways: list[str]
    highway_speed_kmh: dict[str, float] = Field(default_factory=dict)
    highway_speed_factor: dict[str, float] = Field(default_factory=dict)
    penalty_s: dict[str, float] = Field(default_factory=dict)
    respect_oneway: bool = True
    use_maxspeed: bool = False
    use_link_speeds: bool = False
    access_speed_kmh: float = Field(defaults.WALK_SPEED_KMH, gt=0)
    periods: dict[str, float | dict[str, float]] = Field(default_factory=dict)
    no_access_values: list[str] = Field(default_factory=lambda: sorted(NO_VALUES))
    turns: TurnCosts = Field(default_factory=TurnCosts)
    link_excluded_highways: list[str] = Field(default_factory=lambda: list(LINK_EXCLUDED_HIGHWAYS))
    link_to_tunnels: bool = False
    link_to_private: bool = False

    # tag keys that influence the rule (used to cache rules per distinct tag combination)
    relevant_keys: ClassVar[tuple[str, ...]] = (
        "highway", "area", "access", "oneway", "junction", "maxspeed",
    )

    @field_validator("highway_speed_kmh", "highway_speed_factor")
    @classmethod
    def _positive(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: s for k, s in v.items() if not s > 0}
        if bad:
            raise ValueError(f"speeds and speed factors must be > 0, got {bad}")
        return v

    @field_validator("penalty_s")
    @classmethod
    def _nonneg(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: s for k, s in v.items() if not s >= 0}
        if bad:
            raise ValueError(f"penalties must be >= 0 seconds, got {bad}")
        return v

    @field_validator("periods")
    @classmethod
    def _factors(cls, v: dict[str, Any]) -> dict[str, Any]:
        for name, f in v.items():
            vals = f.values() if isinstance(f, dict) else [f]
            if any(not x > 0 for x in vals):
                raise ValueError(f"period {name!r}: speed factors must be > 0")
        return v

    # -- speeds ---------------------------------------------------------------------
    def class_speed_kmh(self, highway: str) -> float:
        """Speed in km/h for a highway class without a usable ``maxspeed`` tag."""
        if highway in self.highway_speed_kmh:
            return float(self.highway_speed_kmh[highway])
        base = _link_parent(highway)
        if base in self.highway_speed_kmh and highway.endswith("_link"):
            return float(self.highway_speed_kmh[base])
        factor = self.highway_speed_factor.get(highway, self.highway_speed_factor.get(base, 1.0))
        return float(self.speed_kmh * factor)

    def period_factor(self, highway: str, period: str | None) -> float:
        """Speed multiplier of ``period`` for a highway class (1.0 when ``period`` is None).

        Raises
        ------
        InputError
            When the period is not defined in the profile.
        """
        if period is None:
            return 1.0
        if period not in self.periods:
            known = ", ".join(sorted(self.periods)) or "none are defined for this mode"
            raise InputError(
                None, f"unknown period {period!r} for the {self.mode} profile (periods: {known})",
                "use one of the listed periods, or define it under `profile: {periods: ...}`",
            )
        f = self.periods[period]
        if not isinstance(f, dict):
            return float(f)
        if highway in f:
            return float(f[highway])
        base = _link_parent(highway)
        if base in f:
            return float(f[base])
        return float(f.get("default", 1.0))

    def validate_period(self, period: str | None) -> None:
        """Raise :class:`InputError` early when ``period`` is unknown."""
        self.period_factor("residential", period)

    # -- tag evaluation -----------------------------------------------------------------
    def rule(self, tags: Mapping[str, Any], period: str | None = None) -> WayRule | None:
        """Evaluate the tags of one way; ``None`` when the mode may not use it.

        Parameters
        ----------
        tags : mapping of str to str
            OSM tags (values may be osmnx list-strings such as ``"['30', '50']"``).
        period : str, optional
            Time period for the speed factor (see ``periods``).
        """
        raise NotImplementedError

    def _allowed_classes(self, tags: Mapping[str, Any]) -> list[str]:
        return [h for h in _osm.parse_list(tags.get("highway")) if h in self.highways]

    def _base_speed(self, classes: list[str]) -> float:
        return sum(self.class_speed_kmh(h) for h in classes) / len(classes)

    def _penalty(self, classes: list[str]) -> float:
        return max((float(self.penalty_s.get(h, 0.0)) for h in classes), default=0.0)

    def _oneway(self, tags: Mapping[str, Any]) -> int:
        if not self.respect_oneway:
            return 0
        ow = _osm.parse_oneway(tags.get("oneway"))
        if ow is None:
            junction = str(tags.get("junction") or "")
            ow = 1 if junction in ("roundabout", "circular") else 0
        return ow


def _link_parent(highway: str) -> str:
    return highway[:-5] if highway.endswith("_link") else highway


def _first(tags: Mapping[str, Any], key: str) -> str | None:
    vals = _osm.parse_list(tags.get(key))
    return vals[0].strip().lower() if vals else None


WALK_HIGHWAYS = [
    "footway", "pedestrian", "path", "steps", "living_street", "residential", "service",
    "unclassified", "tertiary", "tertiary_link", "secondary", "secondary_link", "primary",
    "primary_link", "track", "cycleway", "road", "bridleway", "corridor",
]


class WalkProfile(ModeProfile):
    """Walking.

    Defaults (assumptions, not measurements):

    * 4.8 km/h on every allowed way (a common planning value, 80 m/min); steps at half
      speed (``highway_speed_factor: {steps: 0.5}``, 2.4 km/h along the slope length).
    * Allowed ``highway`` classes: footway, pedestrian, path, steps, living_street,
      residential, service, unclassified, tertiary(_link), secondary(_link),
      primary(_link), track, cycleway (Dutch cycle paths may be walked unless ``foot=no``),
      road, bridleway, corridor. Never motorway(_link); trunk(_link) only with an explicit
      ``foot=yes|designated|permissive``.
    * ``foot=no`` and ``access=no|private`` (without a ``foot=yes``-type override) exclude
      a way; ``area=yes`` excludes pedestrian areas (outline polygons, as osmnx does).
    * One-way tags are ignored (pedestrians walk both ways).
    """

    mode: Literal["walk"] = "walk"
    speed_kmh: float = Field(defaults.WALK_SPEED_KMH, gt=0)
    highways: list[str] = Field(default_factory=lambda: list(WALK_HIGHWAYS))
    highway_speed_factor: dict[str, float] = Field(
        default_factory=lambda: dict(defaults.WALK_SPEED_FACTORS))
    respect_oneway: bool = False
    access_speed_kmh: float = Field(defaults.WALK_SPEED_KMH, gt=0)

    relevant_keys: ClassVar[tuple[str, ...]] = ("highway", "area", "access", "foot")

    def rule(self, tags: Mapping[str, Any], period: str | None = None) -> WayRule | None:
        """Evaluate the tags of one way for walking (see the class docstring)."""
        if _first(tags, "area") == "yes":
            return None
        foot = _first(tags, "foot")
        if foot in self.no_access_values:
            return None
        explicit = foot in YES_VALUES
        classes = self._allowed_classes(tags)
        if not classes:
            hw = [h for h in _osm.parse_list(tags.get("highway")) if h in ("trunk", "trunk_link")]
            if not (explicit and hw):
                return None
            classes = hw
        if _first(tags, "access") in self.no_access_values and not explicit:
            return None
        speed = self._base_speed(classes) * self.period_factor(classes[0], period)
        return WayRule(True, True, speed, self._penalty(classes), classes[0])


BIKE_HIGHWAYS = [
    "cycleway", "path", "living_street", "residential", "service", "unclassified",
    "tertiary", "tertiary_link", "secondary", "secondary_link", "primary", "primary_link",
    "track", "road", "trunk", "trunk_link",
]


class BikeProfile(ModeProfile):
    """Cycling (conventional bike, or e-bike with ``ebike: true``).

    Defaults (assumptions, not measurements):

    * 15 km/h on every allowed way (Dutch average cycling speed incl. stops is 15–18 km/h);
      e-bike 20 km/h (``ebike_speed_kmh``; pedelec assistance stops at 25 km/h).
      Unpaved ``track`` ×0.8; ``pedestrian``/``footway`` ×0.6 where cycling is allowed.
    * Allowed classes: cycleway, path, living_street, residential, service,
      unclassified, tertiary, secondary, primary (and links), track, road, trunk(_link)
      unless ``motorroad=yes`` (Dutch *autoweg*: bikes banned by law). Never
      motorway(_link). footway, pedestrian and bridleway only with ``bicycle=yes``
      (or designated/permissive).
    * Excluded: ``bicycle=no|use_sidepath`` (the mandatory parallel cycle path carries the
      bike), ``access=no|private`` without a bicycle override, ``area=yes``.
    * One-way streets are respected, but Dutch one-way streets often allow cyclists both
      ways: ``oneway:bicycle=no`` or ``cycleway[:left|:right|:both]=opposite*`` make a
      way two-way for bikes; ``oneway:bicycle=yes|-1`` sets the bike direction explicitly;
      roundabouts imply one-way.
    """

    mode: Literal["bike", "ebike"] = "bike"
    speed_kmh: float = Field(defaults.BIKE_SPEED_KMH, gt=0)
    ebike: bool = False
    ebike_speed_kmh: float = Field(defaults.EBIKE_SPEED_KMH, gt=0)
    highways: list[str] = Field(default_factory=lambda: list(BIKE_HIGHWAYS))
    highway_speed_factor: dict[str, float] = Field(
        default_factory=lambda: dict(defaults.BIKE_SPEED_FACTORS)
    )
    access_speed_kmh: float = Field(defaults.BIKE_SPEED_KMH, gt=0)

    relevant_keys: ClassVar[tuple[str, ...]] = (
        "highway", "area", "access", "bicycle", "motorroad", "oneway", "oneway:bicycle",
        "junction", "cycleway", "cycleway:left", "cycleway:right", "cycleway:both",
    )

    def class_speed_kmh(self, highway: str) -> float:
        """Speed in km/h for a highway class (e-bike base speed when ``ebike``)."""
        base = self.ebike_speed_kmh if self.ebike else self.speed_kmh
        if highway in self.highway_speed_kmh:
            return float(self.highway_speed_kmh[highway])
        return float(base * self.highway_speed_factor.get(highway, 1.0))

    def rule(self, tags: Mapping[str, Any], period: str | None = None) -> WayRule | None:
        """Evaluate the tags of one way for cycling (see the class docstring)."""
        if _first(tags, "area") == "yes":
            return None
        bicycle = _first(tags, "bicycle")
        if bicycle in self.no_access_values or bicycle == "use_sidepath":
            return None
        explicit = bicycle in YES_VALUES
        hw = _osm.parse_list(tags.get("highway"))
        if any(h in ("motorway", "motorway_link") for h in hw):
            return None
        classes = self._allowed_classes(tags)
        if explicit:
            classes = classes or [h for h in hw if h in ("footway", "pedestrian", "bridleway")]
        if not classes:
            return None
        if _first(tags, "motorroad") == "yes" and not explicit:
            return None
        if _first(tags, "access") in self.no_access_values and not explicit:
            return None
        ow = self._oneway(tags)
        if self.respect_oneway:
            ob = _osm.parse_oneway(tags.get("oneway:bicycle"))
            if ob is not None:
                ow = ob
            elif ow != 0 and any(
                _first(tags, k) in OPPOSITE_CYCLEWAY
                for k in ("cycleway", "cycleway:left", "cycleway:right", "cycleway:both")
            ):
                ow = 0
        speed = self._base_speed(classes) * self.period_factor(classes[0], period)
        return WayRule(ow >= 0, ow <= 0, speed, self._penalty(classes), classes[0])


CAR_HIGHWAYS = [
    "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
    "secondary", "secondary_link", "tertiary", "tertiary_link", "unclassified",
    "residential", "living_street", "service", "road",
]

CAR_SPEEDS_KMH = dict(defaults.CAR_SPEEDS_KMH)
"""Car speeds (km/h) per highway class without ``maxspeed``
(:data:`ruimtekit.defaults.CAR_SPEEDS_KMH`)."""

CAR_URBAN_SPEEDS_KMH = dict(defaults.CAR_URBAN_SPEEDS_KMH)
"""Car speeds (km/h) on links inside urban areas, for networks without ``maxspeed``
(:data:`ruimtekit.defaults.CAR_URBAN_SPEEDS_KMH`)."""

CAR_URBAN_JUNCTION_DELAY_S = defaults.CAR_URBAN_JUNCTION_DELAY_S
"""Mean delay (seconds) per junction passed on an urban non-motorway main road
(:data:`ruimtekit.defaults.CAR_URBAN_JUNCTION_DELAY_S`)."""

CAR_PERIODS: dict[str, float | dict[str, float]] = {
    k: (dict(v) if isinstance(v, dict) else v) for k, v in defaults.CAR_PERIODS.items()}
"""Car speed multipliers per period (:data:`ruimtekit.defaults.CAR_PERIODS`)."""


class CarProfile(ModeProfile):
    """Car.

    Defaults (assumptions, not measurements):

    * Speed = the ``maxspeed`` tag when present and parseable (``"50"``, ``"30 mph"``,
      ``"NL:urban"``, lists such as ``"30;50"`` or ``"['30', '50']"`` → the mean, as
      osmnx does; see :func:`ruimtekit.network._osm.parse_maxspeed`). Otherwise Dutch road-class
      defaults in km/h: motorway 100 (the daytime 06–19 h limit on Dutch motorways since
      March 2020), motorway_link 60, trunk 80 (*autoweg*: 100 is the legal maximum,
      80 is common), trunk_link 50, primary 80, primary_link 50, secondary 60 (between
      80 outside and 50 inside built-up areas; most secondary roads carry a maxspeed
      tag), secondary_link 50, tertiary 50, tertiary_link 50, unclassified 50,
      residential 30 (*30 km/h-zone*), living_street 15 (*woonerf*: walking pace by law,
      15 used), service 15, road 30.
    * Speeds are free-flow legal limits and overstate real urban car speeds; the
      ``periods`` factors (``offpeak`` 1.0; ``morning_peak``/``evening_peak``: motorway
      0.65, trunk 0.75, primary 0.8, other 0.9) are illustrative congestion assumptions,
      not measured data. Calibrate them against observed travel times (e.g. NDW speeds)
      before drawing conclusions.
    * Excluded: ``access``/``vehicle``/``motor_vehicle``/``motorcar`` = no, private,
      agricultural, forestry, delivery, emergency (the most specific key wins);
      ``service=parking_aisle|parking|emergency_access|private``; ``area=yes``.
    * One-way respected, incl. ``oneway=-1`` (against the digitised direction) and
      roundabouts (implied one-way); ``oneway=reversible|alternating`` is treated as two-way.
    * Access leg speed 15 km/h (slow local driving; parking search is not modelled).
    * Networks without ``maxspeed`` read with urban areas
      (:func:`ruimtekit.network.networks.read_road_tables`): links inside urban areas use
      ``urban_speed_kmh`` (:data:`CAR_URBAN_SPEEDS_KMH`) plus ``urban_junction_delay_s``
      per link off motorways (:data:`CAR_URBAN_JUNCTION_DELAY_S`).
    * Turn costs on (``turns``): left 30 s, right 10 s, U-turn 90 s (R5's values), no
      U-turns at through-nodes, 15 s per traffic signal (OpenTripPlanner's expected time
      at a light).
    """

    mode: Literal["car"] = "car"
    speed_kmh: float = Field(defaults.CAR_BASE_SPEED_KMH, gt=0)
    highways: list[str] = Field(default_factory=lambda: list(CAR_HIGHWAYS))
    highway_speed_kmh: dict[str, float] = Field(default_factory=lambda: dict(CAR_SPEEDS_KMH))
    use_maxspeed: bool = True
    use_link_speeds: bool = True
    access_speed_kmh: float = Field(defaults.CAR_ACCESS_SPEED_KMH, gt=0)
    periods: dict[str, float | dict[str, float]] = Field(
        default_factory=lambda: {k: (dict(v) if isinstance(v, dict) else v)
                                 for k, v in CAR_PERIODS.items()}
    )
    urban_speed_kmh: dict[str, float] = Field(default_factory=lambda: dict(CAR_URBAN_SPEEDS_KMH))
    urban_junction_delay_s: float = Field(CAR_URBAN_JUNCTION_DELAY_S, ge=0)
    excluded_service: list[str] = Field(
        default_factory=lambda: ["parking_aisle", "parking", "emergency_access", "private"]
    )
    turns: TurnCosts = Field(
        default_factory=lambda: TurnCosts(enabled=True, signal_delay_s=SIGNAL_DELAY_S)
    )

    relevant_keys: ClassVar[tuple[str, ...]] = (
        "highway", "area", "access", "vehicle", "motor_vehicle", "motorcar", "service",
        "oneway", "junction", "maxspeed",
    )

    def rule(self, tags: Mapping[str, Any], period: str | None = None) -> WayRule | None:
        """Evaluate the tags of one way for driving (see the class docstring)."""
        if _first(tags, "area") == "yes":
            return None
        classes = self._allowed_classes(tags)
        if not classes:
            return None
        for key in ("motorcar", "motor_vehicle", "vehicle", "access"):
            val = _first(tags, key)
            if val is None:
                continue
            if val in self.no_access_values:
                return None
            break
        if "service" in classes and _first(tags, "service") in self.excluded_service:
            classes = [c for c in classes if c != "service"]
            if not classes:
                return None
        speed = float("nan")
        if self.use_maxspeed:
            speed = _osm.parse_maxspeed(tags.get("maxspeed"))
        if not speed > 0:
            speed = self._base_speed(classes)
        speed *= self.period_factor(classes[0], period)
        ow = self._oneway(tags)
        return WayRule(ow >= 0, ow <= 0, speed, self._penalty(classes), classes[0])


PROFILES: dict[str, type[ModeProfile]] = {
    "walk": WalkProfile, "bike": BikeProfile, "ebike": BikeProfile, "car": CarProfile,
}


def get_profile(
    mode: str, overrides: Mapping[str, Any] | ModeProfile | None = None
) -> ModeProfile:
    """The default profile of ``mode`` with study-file overrides applied.

    Parameters
    ----------
    mode : str
        ``walk``, ``bike``, ``ebike`` (bike profile with ``ebike: true``) or ``car``.
    overrides : mapping or ModeProfile, optional
        Field values to change. Dictionary fields (``highway_speed_kmh``,
        ``highway_speed_factor``, ``penalty_s``, ``periods``) are merged into the defaults;
        a ``ModeProfile`` instance is returned as is.

    Returns
    -------
    ModeProfile

    Raises
    ------
    InputError
        Unknown mode, or invalid override values (with the pydantic message).
    """
    from pydantic import ValidationError

    if isinstance(overrides, ModeProfile):
        return overrides
    if mode not in PROFILES:
        raise InputError(
            None, f"unknown mode {mode!r} for a street network",
            f"use one of: {', '.join(PROFILES)} (transit networks use kind gtfs/ns_rail)",
        )
    cls = PROFILES[mode]
    base: dict[str, Any] = {"mode": mode}
    if mode == "ebike":
        base["ebike"] = True
    data = cls(**base).model_dump()
    for k, v in dict(overrides or {}).items():
        if isinstance(v, dict) and isinstance(data.get(k), dict):
            merged = dict(data[k])
            merged.update(v)
            data[k] = merged
        else:
            data[k] = v
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        msgs = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise InputError(
            None, f"invalid {mode} profile override: {msgs}",
            f"check the `profile:` keys (known: {', '.join(sorted(cls.model_fields))})",
        ) from None
