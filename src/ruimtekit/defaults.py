"""Every tunable default of ruimtekit, in one documented place.

Like osmnx's ``settings``: speeds, limits and model constants that a user may want to change
are defined here once, each with its unit and where it comes from; the modules, the study
file sections (pydantic) and the CLI options all take their defaults from these names.
docs/defaults.md is generated from this file (:func:`reference_markdown`).

The values are read when ruimtekit is imported. To change one for an analysis, pass it
explicitly — in the study file, a parameter object (e.g.
``ruimtekit.engine.transit.TransitParams(walk_speed_kmh=3.6)``) or a CLI option — rather
than assigning to this module.

This module is part of the base layer: it imports nothing from ruimtekit.
"""

from __future__ import annotations

# ------------------------------------------------------------------------------- speeds and legs
WALK_SPEED_KMH = 4.8
"""Walking speed (km/h) on street networks and of walking legs (access, egress, transfers):
80 m/min, a common Dutch planning value. R5 uses 3.6."""

BIKE_SPEED_KMH = 15.0
"""Cycling speed (km/h) on street networks and of cycling legs (Fietsersbond/CROW
planning value for an ordinary bike; Dutch average incl. stops 15–18 km/h)."""

EBIKE_SPEED_KMH = 20.0
"""E-bike speed (km/h) on street networks and of e-bike legs (pedelec assistance stops at
25 km/h)."""

ACCESS_SPEED_KMH = {"walk": WALK_SPEED_KMH, "bike": BIKE_SPEED_KMH, "e_bike": EBIKE_SPEED_KMH,
                    "ebike": EBIKE_SPEED_KMH, "car": WALK_SPEED_KMH}
"""Speed (km/h) of the leg between a zone point and its snapped network node in road
searches without a profile, per mode (car: walking to the car)."""

WALK_SPEED_FACTORS = {"steps": 0.5}
"""Walking speed multiplier per highway class (steps at half speed, along the slope
length); walk profile ``highway_speed_factor``."""

BIKE_SPEED_FACTORS = {"track": 0.8, "pedestrian": 0.6, "footway": 0.6}
"""Cycling speed multiplier per highway class (unpaved tracks; footways where cycling is
allowed); bike profile ``highway_speed_factor``."""

CAR_BASE_SPEED_KMH = 30.0
"""Car speed (km/h) for a highway class without an entry in :data:`CAR_SPEEDS_KMH` and
without a usable ``maxspeed`` tag (car profile ``speed_kmh``)."""

CAR_ACCESS_SPEED_KMH = 15.0
"""Speed (km/h) of the car profile's leg between a point and the street network (slow
local driving; parking search is not modelled)."""

# ----------------------------------------------------------------------- car roads and junctions
CAR_SPEEDS_KMH = {
    "motorway": 100.0, "motorway_link": 60.0, "trunk": 80.0, "trunk_link": 50.0,
    "primary": 80.0, "primary_link": 50.0, "secondary": 60.0, "secondary_link": 50.0,
    "tertiary": 50.0, "tertiary_link": 50.0, "unclassified": 50.0, "residential": 30.0,
    "living_street": 15.0, "service": 15.0, "road": 30.0,
}
"""Dutch car speeds (km/h) per OSM highway class for ways without a usable ``maxspeed``
tag: motorway 100 (the daytime 06–19 h limit since March 2020), trunk 80 (*autoweg*),
secondary 60 (between 80 outside and 50 inside built-up areas), residential 30
(*30 km/h-zone*), living_street 15 (*woonerf*: walking pace by law), service 15."""

CAR_URBAN_SPEEDS_KMH = {
    "motorway": 100.0, "motorway_link": 50.0, "trunk": 70.0, "trunk_link": 40.0,
    "primary": 50.0, "primary_link": 40.0, "secondary": 50.0, "secondary_link": 40.0,
    "tertiary": 50.0, "tertiary_link": 40.0,
}
"""Car speeds (km/h) on links inside urban areas, for networks without ``maxspeed``
(the OSM NL main-road tables; see :func:`ruimtekit.network.networks.read_road_tables`): the
Dutch built-up-area limit of 50 km/h (RVV 1990 art. 20), 70 on urban *stadsautowegen*
(trunk), 40 on slip roads and turning lanes; urban motorways keep 100."""

CAR_URBAN_JUNCTION_DELAY_S = 15.0
"""Mean delay (seconds) per junction passed on an urban non-motorway main road
(traffic signals and priority junctions; HCM level-of-service B–C signal delay is
10–35 s per vehicle). Applied per link of a junction-to-junction network (each link ends
at a junction). Checked against the OpenTripPlanner pairs of Den Haag Zuid-West in
``benchmarks/validate_travel_times.py``."""

URBAN_MIN_DENSITY_KM2 = 1_000.0
"""Inhabitants per km² from which a zone counts as urban for link speeds (about CBS's
boundary of 500 addresses/km² between *niet* and *weinig stedelijk*, at ~2 inhabitants
per address)."""

CAR_PERIODS = {
    "offpeak": 1.0,
    "morning_peak": {"motorway": 0.65, "trunk": 0.75, "primary": 0.8, "default": 0.9},
    "evening_peak": {"motorway": 0.65, "trunk": 0.75, "primary": 0.8, "default": 0.9},
}
"""Car speed multipliers per named period: a number for all classes or per highway class
(``default`` for the others). Illustrative congestion assumptions, not measured data:
calibrate them (e.g. against NDW speeds) before drawing conclusions."""

TURN_LEFT_S = 30.0
"""Left turn at a junction, seconds (R5 ``TurnCostCalculator.LEFT_TURN``; right-hand traffic:
a left turn crosses the oncoming lane)."""

TURN_RIGHT_S = 10.0
"""Right turn at a junction, seconds (R5 ``RIGHT_TURN``)."""

U_TURN_S = 90.0
"""U-turn at a junction or dead end, seconds (R5 ``U_TURN``: "penalize U turns extremely
heavily"). U-turns at through-nodes (two neighbours: a bend or a split point mid-street)
are not allowed at all."""

STRAIGHT_MAX_DEG = 27.0
"""Turns sharper than this (degrees from straight on) are left or right turns (R5: 27)."""

U_TURN_MIN_DEG = 153.0
"""Turns at least this sharp (degrees from straight on) are U-turns (R5: 153)."""

SIGNAL_DELAY_S = 15.0
"""Mean delay passing a traffic signal, seconds (OpenTripPlanner's
``SimpleIntersectionTraversalCostModel`` expects 15 s at a light for every movement);
the car profile's ``turns.signal_delay_s`` (other modes: 0)."""

# -------------------------------------------------------------------------- snapping and linking
MAX_SNAP_M = 500.0
"""Farthest snap (metres) of a zone, point or stop to a street network: farther ones are
not routed (R5 links to the nearest edge within 1,600 m)."""

NODE_SNAP_M = 1000.0
"""Default radius (metres) of :func:`ruimtekit.network.networks.snap` (nearest node) when
called on its own; the analyses pass :data:`MAX_SNAP_M`."""

NODE_PRECISION_M = 0.1
"""Coordinates closer than about this (metres, rounding grid) are one node when nodes of a
link table are derived from line geometry."""

LINK_EXCLUDED_HIGHWAYS = ("motorway", "motorway_link")
"""Road classes points are never linked to (an address does not lie on a motorway)."""

LINK_SEARCH_RADII_M = (25.0, 100.0, 400.0)
"""Widening bounds (metres) of the nearest-edge search when linking points to edges (a
speed device; results are the same as one unbounded search)."""

ZONE_ASSIGN_MAX_M = 2000.0
"""Points (e.g. 2015 wijk centroids, job locations) outside every zone polygon are assigned
to the nearest zone polygon within this distance (metres); farther ones stay unmatched and
are reported."""

# -------------------------------------------------------------------------------------- measures
CUTOFF_MIN = 45.0
"""Default cumulative time budget (minutes) of accessibility measures."""

UNBOUNDED_HORIZON_MIN = 90.0
"""Search horizon (minutes) used when an unbounded decay is requested without a horizon."""

MAX_CUTOFF_MIN = 24 * 60.0
"""Largest time budget accepted (minutes): a day. Larger cutoffs are unit mistakes
(seconds for minutes)."""

# ------------------------------------------------------------------------------- transit routing
MAX_TIME_MIN = 120.0
"""Longest transit trip (minutes); longer ones count as unreachable."""

MAX_TRANSFERS = 5
"""Most transfers of a transit trip (``max_rides`` = 6 vehicles; R5 8 rides)."""

TRANSFER_RADIUS_M = 400.0
"""Walking transfers between stops within this straight-line distance (metres; about
5 minutes at :data:`WALK_SPEED_KMH`; R5 1,000 m over the street network)."""

TRANSFER_DETOUR = 1.0
"""Detour factor of walking transfers (1.0 = straight line)."""

STREET_TRANSFER_M = 1000.0
"""Longest walking transfer (metres) over a street network
(:func:`ruimtekit.engine.transit.street_transfers`; R5: 1,000 m)."""

CHANGE_SLACK_S = 60
"""Minimum change time (seconds) when boarding at the stop one alighted at."""

BOARD_SLACK_S = 0
"""Minimum wait (seconds) before *every* boarding, the first one included (R5 60)."""

ACCESS_MAX_MIN = {"walk": 15.0, "bike": 20.0}
"""Longest access leg per mode (minutes, parking included): 15 min walking ≈ 960 m and
20 min cycling ≈ 3.8 km straight line (the Dutch bike-to-station range; R5 20 and 20)."""

EGRESS_MAX_MIN = {"walk": 15.0, "bike": 20.0}
"""Longest egress leg per mode (minutes; R5 egress ≤ 2,000 m)."""

ACCESS_RADIUS_M = {"walk": 1000.0, "bike": 4000.0}
"""Legacy straight-line access radii (metres); ``access_radius_m`` converts to a leg time."""

TRANSIT_WINDOW = ("07:00", "09:00")
"""Departure window (``HH:MM``, end exclusive) of timetable routing: the morning peak."""

DEPARTURE_STEP_S = 60
"""Step (seconds) between the departures routed in the window."""

PERCENTILES = (50.0,)
"""Travel-time percentiles over the departures of the window (nearest rank)."""

STOP_MERGE_M = 400.0
"""Stops of the same mode and name within this distance (metres) are one station when
stops are read from a transit graph (:func:`ruimtekit.io.layers.read_transit_stops_gml`)."""

STOP_MATCH_M = 600.0
"""Rail stops of a transit graph take the NS station type of the NS station within this
distance (metres)."""

INTERCITY_OFFSET_M = 1000.0
"""A station within this distance (metres) of the straight segment of an NS service link
that passes it is skipped by that link, which makes the link's end stations intercity
stations (:func:`ruimtekit.io.layers.derive_intercity`)."""

TRANSIT_BLOCK = 256
"""Origins per block of range-RAPTOR searches (bounded memory)."""

STOP_MATRIX_BLOCK = 512
"""Stops per block of stop-to-stop travel-time matrices (bounded memory)."""

TRANSIT_CUTOFFS_MIN = (30.0, 45.0, 60.0)
"""Default time budgets (minutes) of transit accessibility (study ``transit:`` blocks and
``ruimtekit transit``)."""

HEADWAYS_MIN = {0: 8.0, 1: 5.0, 2: 15.0, 3: 10.0, 4: 10.0}
"""Headways (minutes) per GTFS route_type for transit graphs without a timetable
(0 tram, 1 metro, 2 rail, 3 bus, 4 ferry); waiting time = half the headway."""

MISSING_OPPORTUNITY_SHARE = 0.01
"""Largest share of zones without an opportunity value that a study block accepts (they
are counted as 0, logged and noted); above it the block is an error."""

# ------------------------------------------------------------------------------------ rail model
RAIL_MODEL = {
    "v_min_kmh": 50.0, "v_max_kmh": 115.0, "d_short_km": 2.0, "d_long_km": 30.0,
    "dwell_min": 1.0, "headway_intercity_min": 15.0, "headway_sprinter_min": 15.0,
    "transfer_penalty_min": 3.0, "skip_ratio": 1.25, "fallback_detour": 1.15,
}
"""The NS rail model without a timetable (:class:`ruimtekit.engine.rail.RailModel`; an
assumption, docs/transit.md): a link of tariff distance d km takes ``dwell_min + 60 d / v(d)``
minutes, v rising linearly from ``v_min_kmh`` at ``d_short_km`` to ``v_max_kmh`` at
``d_long_km`` (sprinter hops are dominated by acceleration and braking, long intercity links
run near line speed); links missing from the tariff matrix use ``fallback_detour`` × the
straight line; a link is intercity when another path through an intermediate station is at
most ``skip_ratio`` times longer; boarding waits half the class headway; switching class
adds the other class's wait plus ``transfer_penalty_min``."""

# ------------------------------------------------------------------------------------ connectors
CONNECTOR_K = 3
"""Connectors per zone (nearest eligible nodes)."""

CONNECTOR_SPEED_KMH = 15.0
"""Connector speed (km/h): local streets between a zone's point and the main roads; the
car profile's access speed. On the OTP pairs of Den Haag Zuid-West (two folds) 14–15 km/h
with detour 1.3 gives the smallest error (12.5–12.9 %); 20 km/h gives 21 %."""

CONNECTOR_DETOUR = 1.3
"""Connector detour factor (street distance / crow-fly distance)."""

CONNECTOR_FLAG_DISTANCE_M = 5_000.0
"""A point whose nearest connector is longer than this (metres) is flagged ``far``."""

CONNECTOR_DIRECT_MAX_M = 5_000.0
"""Origins and destinations closer than this (metres, same land part) are also joined
directly (local streets only, at connector speed and detour), so a short trip need not
pass through the main-road network."""

CONNECTOR_LAND_TOLERANCE_M = 50.0
"""Zone polygons closer than this (metres) belong to the same land part."""

# --------------------------------------------------------------------------------------- ferries
FERRY_SPEED_KMH = 15.0
"""Crossing speed (km/h). From the 2021–2024 timetables on the bundled ferry lines: Den
Helder–Texel (TESO) 4.7 km in 20 min (14 km/h), Holwerd–Ameland 11.4 km in 45 min
(15 km/h), Lauwersoog–Schiermonnikoog 11.2 km in 45 min (15 km/h); river ferries cross in
a few minutes (the speed matters little there)."""

FERRY_SEA_LINE_M = 2_000.0
"""Ferry lines at least this long (metres, summed over a chain) count as sea/estuary
crossings for the headway."""

FERRY_SEA_HEADWAY_MIN = 60.0
"""Assumed headway (minutes) of sea and estuary ferries (the Wadden car ferries run about
hourly in the day, less often in the evening): waiting = half of it, 30 minutes."""

FERRY_RIVER_HEADWAY_MIN = 15.0
"""Assumed headway (minutes) of short river ferries (most Dutch pontveren run on demand or
every 10–20 minutes): waiting = half of it, 7.5 minutes."""

FERRY_JOIN_M = 1_500.0
"""Ferry nodes within this distance (metres) of an eligible road node are joined to it
(harbour roads are not in a main-road network)."""

FERRY_JOIN_SPEED_KMH = 30.0
"""Speed (km/h) of terminal links (local roads between harbour and main road)."""

FERRY_JOIN_DETOUR = 1.3
"""Detour factor of terminal links (crow-fly to road distance)."""

FERRY_JOIN_CANDIDATES = 8
"""Nearest eligible road nodes looked at per ferry node when joining (one link per
strongly connected road component among them)."""

FERRY_NO_CAR_TERMINALS = {
    "Vlieland harbour (car-free island)": (135_300.0, 590_100.0),
    "Schiermonnikoog harbour (car-free island)": (209_000.0, 609_500.0),
    "Vlissingen (foot/bicycle ferry to Breskens since 2003)": (29_000.0, 385_400.0),
    "Breskens (foot/bicycle ferry to Vlissingen)": (27_500.0, 380_500.0),
    "Amsterdam Centraal, IJ side (GVB ferries, foot/bicycle)": (121_800.0, 488_200.0),
}
"""Ferry terminals (EPSG:28992) whose lines carry no cars, within
:data:`FERRY_NO_CAR_RADIUS_M`. OSM ferry lines in the bundled data carry no vehicle tags,
so this list is the assumption: visitors' cars are not allowed on Vlieland and
Schiermonnikoog, the Westerschelde car ferry Kruiningen–Perkpolder closed in 2003 (the
remaining Vlissingen–Breskens ferry takes foot passengers and bicycles only), and the
IJ ferries behind Amsterdam Centraal take no cars."""

FERRY_NO_CAR_RADIUS_M = 2_500.0
"""Radius (metres) around :data:`FERRY_NO_CAR_TERMINALS`."""


# ------------------------------------------------------------------------------- crow-fly models
CROWFLY_DETOUR = 1.25
"""Default network length / straight-line distance of a crow-fly model given without a
``detour_factor`` (:class:`ruimtekit.engine.impedance.CrowflyModel`)."""

CROWFLY_MODELS = {
    "walk": {"detour_factor": 1.233, "speed_curve": [(0.0, 3.94), (1.5, 4.35), (5.0, 4.76)],
             "fixed_min": 0.0},
    "bike": {"detour_factor": 1.332, "speed_curve": [(0.0, 15.24), (5.0, 15.6), (30.0, 16.79)],
             "fixed_min": 1.0},
    "e_bike": {"detour_factor": 1.25, "speed_curve": [(0.0, 20.0)], "fixed_min": 1.0},
    "car": {"detour_factor": 1.416,
            "speed_curve": [(0.0, 8.68), (2.0, 16.87), (5.0, 19.51), (10.0, 23.03),
                            (15.0, 31.98), (20.0, 39.97), (30.0, 52.94), (50.0, 71.29),
                            (100.0, 88.58)],
            "fixed_min": 0.0},
}
"""Dutch crow-fly models per mode (``detour_factor``; ``speed_curve`` as (network km,
km/h) breakpoints; ``fixed_min`` minutes per trip), the fields of
:data:`ruimtekit.engine.impedance.DEFAULT_MODELS`. walk, bike and car are fitted with
:func:`ruimtekit.calibrate.fit_crowfly` on the OpenTripPlanner 2.2 calibration half of the
Den Haag Zuid-West pairs (``benchmarks/validate_travel_times.py --refit``): detour = median
OTP route / straight line; speeds fitted; fixed minutes fitted for the car (0), held at
the terminal times 1 min (bike parking) and 0 (walk). e_bike is an engineering value (no
reference times to fit on)."""

# ----------------------------------------------------------------------------------- calibration
CALIBRATION_BANDS_KM = (0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0)
"""Lower edges of the crow-fly distance bands of the calibration error tables (km); a band
runs from its edge up to (not including) the next one, the last is open-ended (>= 50 km)."""

CALIBRATION_LOSS_SCALE = 0.05
"""Scale of the ``soft_l1`` loss on ``log(model / reference)`` when fitting crow-fly models:
residuals beyond about 5 % count linearly (like an absolute error), smaller ones
quadratically."""

CALIBRATION_MIN_PAIRS = 20
"""Fewest valid reference pairs a fit accepts."""

CALIBRATION_DROP_WARN_SHARE = 0.2
"""Warn loudly when more than this share of the reference rows is left out of a fit."""

MAX_MARGINAL_KMH = 200.0
"""Fastest *marginal* speed ``dL/dt`` a fitted curve may imply (km/h): a trip 1 km longer by
road takes at least 0.3 min more. Without a bound, a fit with few breakpoints can make the
time barely grow over a whole segment (on the OTP car pairs: 300–380 km/h between 10 and
50 km), so reach jumps with the time budget. The bound is above the motorway limit because
the curve is an average over different trips: from Den Haag Zuid-West, OTP's median car time
rises from 26 min at 12 km by road (town) to 32 min at 24 km (motorway), about 170 km/h
"marginal" between band medians; 130 km/h would cost one point of median error and bias the
20–50 km band by +12 %."""

MIN_FITTED_SPEED_KMH = 0.5
"""Lowest speed (km/h) of a fitted speed-curve breakpoint."""

FIXED_BOUNDS_MIN = (0.0, 30.0)
"""Bounds (minutes) of the fitted fixed minutes per trip."""

NETWORK_GRIDS = {
    "speed_factor": (0.7, 0.8, 0.9, 1.0, 1.1, 1.2),
    "junction_delay_s": (0.0, 5.0, 10.0, 15.0, 20.0, 30.0),
    "connector_speed_kmh": (10.0, 12.5, 15.0, 17.5, 20.0, 25.0),
}
"""Values tried per network parameter when fitting a study network
(:func:`ruimtekit.calibrate.fit_network`, coordinate descent): a factor on every link speed
(as a study period), the car profile's ``urban_junction_delay_s`` (only for networks read
with ``urban:``) and the zone connector speed (km/h)."""

NETWORK_FIT_ROUNDS = 2
"""Coordinate-descent rounds of a network fit (each tries every grid value once)."""

# ------------------------------------------------------------------------ catchments and regions
CATCHMENT_REACH = {
    "walk": (WALK_SPEED_KMH, 1.25),
    "bike": (16.0, 1.25),
    "ebike": (22.0, 1.25),
    "transit": (60.0, 1.2),
    "car": (80.0, 1.3),
}
"""Mode → (effective door-to-door speed in km/h, network detour factor) for catchment
buffers (:func:`ruimtekit.io.regions.catchment_buffer_km`)."""

CATCHMENT_MINUTES = 45.0
"""Travel-time budget (minutes) of a catchment buffer when none is given."""

BUFFER_KM = 50.0
"""Default catchment buffer (km): the 45-minute car reach."""

MAX_BUFFER_KM = 300.0
"""Largest catchment buffer accepted (km): more than the Netherlands is wide."""

OVERPASS_MAX_KM2 = 400.0
"""``osm_method="auto"`` uses Overpass when the buffered catchment is at most this (km²),
else a Geofabrik extract."""

ISOCHRONE_BUFFER_M = 250.0
"""Buffer radius (metres) around each reached node of a network isochrone polygon: about half
the typical spacing of junctions on a regional road network, so that consecutive reached
nodes merge into one area while the polygon does not spill far beyond the network."""

ISOCHRONE_CONCAVE_RATIO = 0.3
"""Ratio of the concave hull of network isochrone polygons drawn with ``concave``."""

CATCHMENT_BLOCK = 256
"""Origins per block of zone-catchment searches (bounded memory)."""

# ------------------------------------------------------------------------------------- downloads
DATA_YEAR = 2023
"""Year of the CBS wijk/buurt boundaries and Kerncijfers table fetched by default
(``ruimtekit fetch --year``)."""

DOWNLOAD_ATTEMPTS = 4
"""Attempts per download before giving up (retried on connection errors and HTTP 429/5xx)."""

DOWNLOAD_BACKOFF_S = 1.0
"""First wait (seconds) between download attempts; it doubles per attempt."""

DOWNLOAD_TIMEOUT_S = 60.0
"""Network timeout (seconds) of one download request."""

# ----------------------------------------------------------------------- matrices and isochrones
MATRIX_MAX_TIME_MIN = 120.0
"""Default longest travel time of a matrix (minutes; as R5/r5py): longer pairs are NaN."""

MATRIX_CHUNK_PAIRS = 2_000_000
"""Origin–destination pairs computed and written per block (bounded memory: about
30 bytes per pair of a block, whatever the size of the matrix)."""

ISOCHRONE_CUTOFFS_MIN = (15, 30)
"""Default time budgets (minutes) of isochrones (:func:`ruimtekit.api.isochrones`)."""

ISOCHRONE_CELLS = 120
"""Default grid resolution of isochrones: the reach radius is cut into this many cells
(cell size = radius / cells, at least :data:`ISOCHRONE_MIN_CELL_M`)."""

ISOCHRONE_MIN_CELL_M = 50.0
"""Smallest default isochrone grid cell (metres)."""

TRANSIT_MAX_KMH = 160.0
"""Upper bound on transit speed (km/h, Dutch intercity trains) for the isochrone radius."""

# ---------------------------------------------------------------------------------- dask batches
DASK_CONNECT_TIMEOUT_S = 10.0
"""Seconds to wait for a remote Dask scheduler before giving up."""

BATCHES_PER_WORKER = 8
"""Default number of batches per Dask worker (load balancing vs. per-task overhead)."""

MIN_BATCH = 64
"""Default minimum origins per batch."""

# --------------------------------------------------------------- resource bounds and data checks
MAX_YAML_BYTES = 5_000_000
"""Largest study file read (bytes)."""

MAX_YAML_NODES = 200_000
"""Largest study file after expanding aliases (YAML nodes); stops "billion laughs" bombs."""

MAX_ZIP_MEMBER_MB = 4096
"""Largest uncompressed ZIP member read (MiB; environment variable
``RUIMTEKIT_MAX_ZIP_MEMBER_MB`` overrides it): the whole-country GTFS-NL
``stop_times.txt`` is about 1 GiB."""

MAX_ZIP_RATIO = 100.0
"""Largest compression ratio (uncompressed / compressed size) of a ZIP member above
:data:`ZIP_RATIO_MIN_BYTES` (environment variable ``RUIMTEKIT_MAX_ZIP_RATIO``): GTFS text
compresses about 5–15×, a ZIP bomb thousands of times."""

ZIP_MEMORY_FACTOR = 6.0
"""Memory needed to parse a text member, as a multiple of its inflated size (bytes read plus
pandas text columns; measured about 5× for GTFS ``stop_times.txt``). A member needing more
than the memory available (``MemAvailable``) is refused before reading instead of running
the machine out of memory; ``RUIMTEKIT_MEMORY_CHECK=0`` turns this off."""

ZIP_RATIO_MIN_BYTES = 10 * 2**20
"""Members smaller than this (bytes) are not checked for their compression ratio."""

MAX_TABLE_MB = 2048
"""Largest CSV/XLSX table read whole (MiB; environment variable ``RUIMTEKIT_MAX_TABLE_MB``)."""

MAX_OPPORTUNITY = 1e12
"""Largest opportunity count accepted per zone or point (jobs, inhabitants, ...); larger
values are data errors (the Netherlands has about 10 million jobs)."""

MAX_PROVENANCE_CHARS = 1_000_000
"""Largest study text / resolved study copied into provenance.json (characters); larger
ones are replaced by their size and SHA-256 (user data is not expanded beyond this)."""

GTFS_DROP_WARN_SHARE = 0.05
"""Share of a GTFS feed's running trips (or served stops) whose loss triggers a loud
warning."""

GTFS_RUNNING_WARN_SHARE = 0.10
"""Below this share of a feed's trips running on the service date, a warning suggests a
holiday or the wrong date."""

MAX_REPAIR_AREA_CHANGE = 0.05
"""Largest relative area change accepted when repairing an invalid polygon (5 %). The
coarsely quantised CBS 2015 TopoJSON needs up to 2 % (Westervoort: a self-intersecting ring
whose inverted lobe counted negatively before the repair)."""

# ------------------------------------------------------------------------------ maps and figures
BASEMAP = "pdok"
"""Background of web maps: ``pdok`` (BRT-Achtergrondkaart), ``osm`` or ``none``."""

CLASSIFICATION = "quantiles"
"""Classification of choropleth maps: ``quantiles``, ``fisher_jenks`` (natural breaks) or
``equal_interval``."""

CLASSES_K = 5
"""Number of classes of choropleth maps."""

SIMPLIFY_M = 25.0
"""Display simplification tolerance of map polygons (metres; analysis keeps full
geometry)."""

LARGE_LAYER = 1500
"""Polygon layers with more features than this get at least :data:`LARGE_SIMPLIFY_M`."""

LARGE_SIMPLIFY_M = 100.0
"""Simplification (metres) of large polygon layers on web maps."""

HEAVY_VERTICES = 300_000
"""Layers with more vertices than this (e.g. dissolved catchments) get at least
:data:`HEAVY_SIMPLIFY_M`."""

HEAVY_SIMPLIFY_M = 250.0
"""Simplification (metres) of heavy layers on web maps."""

CLUSTER_THRESHOLD = 200
"""Point layers with more features than this are drawn with Leaflet.markercluster."""

MAP_PRECISION = 5
"""Decimals of the longitude/latitude written into web maps (5 ≈ 1 m)."""

BASEMAP_MIN_ERRORS = 2
"""Failed tiles (with none loaded) after which a map switches to "no background" and says so."""

TOP_N = 50
"""Rows in the candidate list panel of web maps (sortable; a click zooms to the object)."""

LIST_ZOOM = 16
"""Zoom level the candidate list zooms to."""

FIGURE_DPI = 200
"""Print resolution of PNG figures and of the rasterized layers in SVG figures."""

RASTERIZE_MIN_PATHS = 300
"""Collections with more paths or points than this are embedded as an image in the SVG
(lines, text, legend and scale bar stay vector), keeping every SVG small."""

MAX_FIGURE_BYTES = 2_000_000
"""Largest figure file written without a warning (PNG at :data:`FIGURE_DPI`, SVG)."""

PANEL_MAX = 9
"""Most measures in one small-multiples panel (the main measures first: 45-minute ones)."""

# ------------------------------------------------------------------------------------ candidates
CANDIDATE_WEIGHTS = {
    "transit_access": 0.25, "bike_access": 0.15, "station": 0.25,
    "underuse": 0.10, "structural": 0.15, "floor_area": 0.10,
}
"""Default criterion weights of candidate scoring (sum 1); study weights override them per
key."""

STATION_RADII = {
    "intercity": {"peak": 1.0, "full_m": 800.0, "zero_m": 1200.0},
    "sprinter": {"peak": 0.8, "full_m": 600.0, "zero_m": 1000.0},
    "metro": {"peak": 0.8, "full_m": 600.0, "zero_m": 1000.0},
    "tram": {"peak": 0.4, "full_m": 300.0, "zero_m": 500.0},
}
"""Station criterion per station type: ``peak`` value within ``full_m`` metres, falling
linearly to 0 at ``zero_m`` (also the radius of the "within station radius" share); other
types count 0."""

HOV_TYPES = ("intercity", "sprinter", "metro")
"""Station types counted for the "within station radius" share (Stedenbaan)."""

STRUCTURAL_YEARS = 3
"""Calendar years of vacancy that make it structural."""

M2_PER_DWELLING = 75.0
"""Floor area per potential dwelling (m²)."""

UNDERUSE_GAP = 0.25
"""Percentile gap (accessibility − density) marking an under-used zone."""

SYNTHETIC_MAX_YEARS = 8
"""Oldest vacancy of a SYNTHETIC vacancy sample (calendar years before its reference date)."""

CANDIDATES_TOP_N = 20
"""Size of the top list in the candidates' stability report."""

STABILITY_DELTA = 0.2
"""Relative weight change of the stability analysis (0.2 = ±20 %), one criterion at a time
and as the coefficient of variation of the Dirichlet perturbations."""

STABILITY_DRAWS = 100
"""Number of Dirichlet weight perturbations of the stability analysis."""

# --------------------------------------------------------------------- borrowed size and gravity
COMMUTE_CUTOFF_MIN = 45.0
"""Commuting tolerance T (minutes) of borrowed size: a zone is reachable when t <= T."""

RING_BANDS_KM = ((0, 10), (10, 25), (25, 50))
"""Distance rings (km) of the surrounding mass in the borrowed-size regression."""

TIME_BANDS_MIN = ((0, 15), (15, 30), (30, 45))
"""Travel-time rings (minutes) of the surrounding mass in the borrowed-size regression."""

POTENTIAL_DECAY = {"kind": "exponential", "params": {"beta": 0.05}}
"""Decay of the borrowed-size potential (t in minutes)."""

CUTOFF_SENSITIVITY_MIN = (30.0, 45.0, 60.0)
"""Cutoffs (minutes) whose reachable-mass rank correlations are reported."""

EFFECTIVE_DENSITY_MAX_KM = 300.0
"""Zone pairs farther apart than this (km) are left out of effective density
(:func:`ruimtekit.analysis.accessibility.effective_density`)."""

RAIL_ACCESS_RADIUS_M = 5000.0
"""Straight-line radius (metres) from a zone to the stations of the rail model."""

RAIL_EGRESS_RADIUS_M = 2000.0
"""Straight-line radius (metres) from a station to the destination zones of the rail model."""

NETWORK_HORIZON_MIN = 240.0
"""Search horizon (minutes) of zone-to-zone network times; longer trips are unreachable."""

OBSERVED_CATCHMENT_COVERAGE = 0.9
"""Share of in-commuters covered by the observed catchment of
:func:`ruimtekit.analysis.borrowed_size.compare_catchments`."""

SHADOW_THRESHOLD_SD = 0.5
"""Residual (standard deviations) beyond which a zone is classed borrowing or shadow."""

BOOTSTRAP_DRAWS = 200
"""Pairs-bootstrap draws for the stability of the borrowing/shadow classes (0 = off)."""

BOOTSTRAP_SEED = 20170
"""Seed of the bootstrap draws (results are reproducible)."""

PPML_TOL = 1e-10
"""Convergence tolerance of the fixed-effect balancing of the PPML gravity fit (max relative
margin error; :mod:`ruimtekit.analysis.gravity`)."""

PPML_MAX_ITER = 100
"""Maximum outer (Newton) iterations of the PPML gravity fit."""

PPML_MAX_COEF = 50.0
"""A PPML coefficient beyond this is taken as separation (no finite estimate)."""

PPML_MAX_STEP = 1.0
"""Largest change of a PPML coefficient per Newton iteration."""

# ---------------------------------------------------------------------------- spatial statistics
KNN_K = 6
"""Default number of neighbours of kNN spatial weights."""

PERMUTATIONS = 999
"""Default number of conditional permutations for pseudo p-values."""

PERMUTATION_SEED = 12345
"""Seed of the permutation tests (results are reproducible)."""

LISA_ALPHA = 0.05
"""Significance level of the LISA quadrant labels."""

CONLEY_KM = 50.0
"""Default Conley bandwidth (km): the outer ring of the borrowed-size regression."""


def reference_markdown() -> str:
    """docs/defaults.md: every default with its value and documentation, by section."""
    import ast
    import inspect
    import sys

    source = inspect.getsource(sys.modules[__name__])
    tree = ast.parse(source)
    lines = ["# Defaults", "",
             "Every tunable default of ruimtekit is defined once, in `ruimtekit/defaults.py`",
             "(this page is generated from it: `python -c 'from ruimtekit import defaults; "
             "print(defaults.reference_markdown(), end=\"\")' > docs/defaults.md`). Modules, study-file",
             "sections and CLI options take their defaults from these names; change a value for",
             "an analysis by passing it (study file, parameter object or CLI option).", ""]
    section = None
    src_lines = source.splitlines()
    body = tree.body
    for i, node in enumerate(body):
        if not isinstance(node, ast.Assign) or not isinstance(node.targets[0], ast.Name):
            continue
        # the section is the last ``# ---- name`` comment line above the constant
        for ln in range(node.lineno - 2, -1, -1):
            text = src_lines[ln].strip()
            if text.startswith("# ---") and text.strip("# -"):
                name = text.strip("# -")
                if name != section:
                    section = name
                    lines += ["", f"## {section.capitalize()}", "", "| name | value | meaning |",
                              "|---|---|---|"]
                break
        nxt = body[i + 1] if i + 1 < len(body) else None
        doc = (nxt.value.value if isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
               else "")
        value = repr(globals()[node.targets[0].id])
        lines.append(f"| `{node.targets[0].id}` | `{value}` | {' '.join(doc.split())} |")
    return "\n".join(lines) + "\n"
