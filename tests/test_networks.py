"""Tests for ruimtekit.network.networks, ruimtekit.network.profiles and ruimtekit.network._osm on the real fixtures
in data/raw/ (OSM PBF extracts, the osmnx Delft GraphML, the NWB link fragment and the
unnoded Delft shapefile). Oracles: networkx/osmnx on the same files, hand-computed travel
times, brute-force nearest neighbours, and format round trips (PBF = XML = Overpass JSON).
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from ruimtekit._errors import InputError
from ruimtekit.network import _osm, networks, profiles

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
GRAPHML = RAW / "osm" / "delft_drive.graphml"
AMS = RAW / "osm" / "amsterdam_watergraafsmeer.osm.pbf"
BIKE = RAW / "osm" / "renkum_wageningen_bike.osm.pbf"
NWB = RAW / "nwb" / "nwb_network_fragment.geojson"
SHP = RAW / "osm" / "delft_roads.shp"


def edge_set(g) -> set[tuple]:
    """Directed edges of a Graph as (source id, target id) pairs."""
    return set(zip(g.node_ids[g.edge_sources()].tolist(), g.node_ids[g.indices].tolist(),
                   strict=True))


def edge_weights(g) -> dict[tuple, int]:
    return dict(zip(zip(g.node_ids[g.edge_sources()].tolist(), g.node_ids[g.indices].tolist(),
                        strict=True), g.weights.tolist(), strict=True))


# ---------------------------------------------------------------------------------------
# tag parsing
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("50", 50.0),
    ("50 km/h", 50.0),
    ("30 mph", 30 * 1.609344),
    ("NL:urban", 50.0),
    ("NL:rural", 80.0),
    ("NL:zone30", 30.0),
    ("30;50", 40.0),
    ("['30', '50']", 40.0),
    (["100", "70", "50"], (100 + 70 + 50) / 3),
    ("['30', 'none']", 30.0),
    ("5 knots", 5 * 1.852),
    ("12,5", 12.5),
    (60, 60.0),
])
def test_parse_maxspeed(value, expected):
    assert _osm.parse_maxspeed(value) == pytest.approx(expected)


@pytest.mark.parametrize("value", [None, "", "none", "signals", "variable", "0", "-30", float("nan")])
def test_parse_maxspeed_unusable(value):
    assert np.isnan(_osm.parse_maxspeed(value))


@pytest.mark.parametrize("value, expected", [
    ("yes", 1), ("True", 1), (True, 1), ("1", 1), ("-1", -1), ("reverse", -1), ("no", 0),
    ("False", 0), ("reversible", 0), (None, None), ("['False', 'True']", 1), ("maybe", None),
])
def test_parse_oneway(value, expected):
    assert _osm.parse_oneway(value) == expected


def test_parse_list_forms():
    assert _osm.parse_list("['living_street', 'residential']") == ["living_street", "residential"]
    assert _osm.parse_list("residential") == ["residential"]
    assert _osm.parse_list(float("nan")) == []


# ---------------------------------------------------------------------------------------
# profiles
# ---------------------------------------------------------------------------------------

def test_profile_rules_dutch_cases():
    walk, bike, car = (profiles.get_profile(m) for m in ("walk", "bike", "car"))
    # motorway and autoweg
    assert walk.rule({"highway": "motorway"}) is None
    assert walk.rule({"highway": "trunk"}) is None
    assert bike.rule({"highway": "trunk", "motorroad": "yes"}) is None
    assert car.rule({"highway": "motorway"}).speed_kmh == 100.0
    # access tags
    assert walk.rule({"highway": "cycleway", "foot": "no"}) is None
    assert walk.rule({"highway": "service", "access": "private"}) is None
    assert walk.rule({"highway": "service", "access": "private", "foot": "yes"}) is not None
    assert bike.rule({"highway": "footway"}) is None
    assert bike.rule({"highway": "footway", "bicycle": "designated"}) is not None
    assert bike.rule({"highway": "tertiary", "bicycle": "use_sidepath"}) is None
    assert car.rule({"highway": "cycleway"}) is None
    assert car.rule({"highway": "residential", "motor_vehicle": "no"}) is None
    assert car.rule({"highway": "residential", "access": "no", "motorcar": "yes"}) is not None
    # contraflow cycling in one-way streets
    r = bike.rule({"highway": "residential", "oneway": "yes"})
    assert (r.forward, r.backward) == (True, False)
    r = bike.rule({"highway": "residential", "oneway": "yes", "oneway:bicycle": "no"})
    assert (r.forward, r.backward) == (True, True)
    r = bike.rule({"highway": "residential", "oneway": "yes", "cycleway": "opposite_lane"})
    assert (r.forward, r.backward) == (True, True)
    r = bike.rule({"highway": "tertiary", "oneway:bicycle": "-1"})
    assert (r.forward, r.backward) == (False, True)
    # car one-way, reverse and roundabouts; walk ignores one-way
    r = car.rule({"highway": "primary", "oneway": "-1"})
    assert (r.forward, r.backward) == (False, True)
    r = car.rule({"highway": "primary", "junction": "roundabout"})
    assert (r.forward, r.backward) == (True, False)
    r = walk.rule({"highway": "primary", "oneway": "yes"})
    assert (r.forward, r.backward) == (True, True)
    # speeds: steps, ebike, maxspeed, class defaults, periods
    assert walk.rule({"highway": "steps"}).speed_kmh == pytest.approx(2.4)
    assert profiles.get_profile("ebike").rule({"highway": "cycleway"}).speed_kmh == 20.0
    assert car.rule({"highway": "residential", "maxspeed": "NL:urban"}).speed_kmh == 50.0
    assert car.rule({"highway": "living_street"}).speed_kmh == 15.0
    assert car.rule({"highway": "motorway_link"}).speed_kmh == 60.0
    peak = car.rule({"highway": "motorway", "maxspeed": "100"}, "morning_peak")
    assert peak.speed_kmh == pytest.approx(65.0)
    assert car.rule({"highway": "motorway_link"}, "morning_peak").speed_kmh == pytest.approx(39.0)
    assert car.rule({"highway": "residential"}, "morning_peak").speed_kmh == pytest.approx(27.0)


def test_profile_overrides_merge_and_validate():
    p = profiles.get_profile("car", {"highway_speed_kmh": {"residential": 25},
                                     "periods": {"night": 1.1}})
    assert p.class_speed_kmh("residential") == 25.0
    assert p.class_speed_kmh("tertiary") == 50.0  # other defaults kept
    assert set(p.periods) >= {"offpeak", "morning_peak", "night"}
    with pytest.raises(InputError, match="speed_kmh"):
        profiles.get_profile("walk", {"speed_kmh": -1})
    with pytest.raises(InputError, match="unknown mode 'tram'"):
        profiles.get_profile("tram")
    with pytest.raises(InputError, match="unknown period 'rush'.*morning_peak"):
        profiles.get_profile("car").validate_period("rush")
    with pytest.raises(InputError, match="none are defined for this mode"):
        profiles.get_profile("walk").validate_period("morning_peak")


# ---------------------------------------------------------------------------------------
# osmnx GraphML (Delft)
# ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def delft_nx():
    return nx.read_graphml(GRAPHML, force_multigraph=True)


@pytest.fixture(scope="module")
def delft_car():
    return networks.load_network(GRAPHML, "car")


@pytest.fixture(scope="module")
def delft_car_all_access():
    return networks.load_network(GRAPHML, "car", profile={"no_access_values": []})


def test_graphml_scc_matches_networkx(delft_nx, delft_car, delft_car_all_access):
    assert delft_nx.number_of_nodes() == 2156  # PROVENANCE: 2,156 nodes
    scc = max(nx.strongly_connected_components(delft_nx), key=len)
    assert len(scc) == 2130  # PROVENANCE: largest SCC 2,130
    # with access tags ignored we keep exactly the osmnx graph's largest SCC
    g = delft_car_all_access
    assert g.n_nodes == 2130
    assert set(g.node_ids.astype(str).tolist()) == scc
    assert g.dropped_nodes == 2156 - 2130
    # by default access=no edges (closed Sint Sebastiaansbrug, bus-only Mijnbouwstraat) are
    # excluded: the oracle is networkx on the same graph without those edges
    h = delft_nx.copy()
    h.remove_edges_from([(u, v, k) for u, v, k, d in delft_nx.edges(keys=True, data=True)
                         if d.get("access") in ("no", "private")])
    scc2 = max(nx.strongly_connected_components(h), key=len)
    assert delft_car.n_nodes == len(scc2) == 2128
    assert delft_car.mode == "car"
    assert delft_car.x.min() > 80_000 and delft_car.x.max() < 90_000  # RD metres (Delft)
    assert delft_car.y.min() > 440_000 and delft_car.y.max() < 455_000


def test_graphml_lengths_oneway_and_times(delft_nx, delft_car_all_access):
    g = delft_car_all_access
    scc = max(nx.strongly_connected_components(delft_nx), key=len)
    # oracle: osmnx edges inside the SCC; parallel edges reduced to the fastest one
    best: dict[tuple, tuple[float, dict]] = {}
    for u, v, d in delft_nx.subgraph(scc).edges(data=True):
        if u == v:
            continue
        length = float(d["length"])
        sp = _osm.parse_maxspeed(d.get("maxspeed"))
        if not sp > 0:
            hw = [h for h in _osm.parse_list(d["highway"])]
            sp = np.mean([profiles.CAR_SPEEDS_KMH[h] for h in hw])
        t = length / (sp / 3.6)
        if (u, v) not in best or t < best[(u, v)][0]:
            best[(u, v)] = (t, d)
    total = sum(float(d["length"]) for _, d in best.values())
    assert g.n_edges == len(best)
    assert g.length_m.sum() == pytest.approx(total, rel=1e-3)
    w = {(str(a), str(b)): t for (a, b), t in edge_weights(g).items()}
    # one-way edges exist in one direction only
    n_oneway = 0
    for (u, v), (_, d) in best.items():
        if d.get("oneway") == "True" and not delft_nx.has_edge(v, u):
            n_oneway += 1
            assert (u, v) in w and (v, u) not in w
    assert n_oneway > 500
    # every travel time is length/speed rounded to whole seconds
    for (u, v), (t, _) in best.items():
        assert abs(w[(u, v)] - t) <= 0.5 + 1e-9


def test_graphml_hand_checked_edges(delft_nx, delft_car_all_access):
    w = {(str(a), str(b)): t for (a, b), t in edge_weights(delft_car_all_access).items()}
    checked = 0
    # one long edge each: a 30 km/h tag, a list tag (mean), a missing tag (class default)
    wanted = {"30": 30.0, "['30', '50']": 40.0, None: None}
    for u, v, d in delft_nx.edges(data=True):
        ms = d.get("maxspeed")
        if ms not in wanted or float(d["length"]) < 150 or (u, v) not in w:
            continue
        if delft_nx.number_of_edges(u, v) > 1:
            continue
        if ms is None:
            hw = d["highway"]
            if hw not in ("residential", "tertiary", "unclassified"):
                continue
            speed = {"residential": 30.0, "tertiary": 50.0, "unclassified": 50.0}[hw]
        else:
            speed = wanted[ms]
        assert w[(u, v)] == round(float(d["length"]) / (speed / 3.6))
        wanted.pop(ms)
        checked += 1
        if not wanted:
            break
    assert checked == 3


def test_graphml_periods_and_walk(delft_car):
    peak = networks.load_network(GRAPHML, "car", period="morning_peak")
    assert peak.n_nodes == delft_car.n_nodes
    assert peak.weights.sum() > delft_car.weights.sum() * 1.05
    walk = networks.load_network(GRAPHML, "walk")
    # walkers use motorway-free ways in both directions: every edge has its reverse
    e = edge_set(walk)
    assert all((b, a) in e for a, b in e)
    # walking 4.8 km/h: time = length / (4.8/3.6), rounded
    np.testing.assert_allclose(walk.weights, np.rint(walk.length_m / (4.8 / 3.6)), atol=1)


# ---------------------------------------------------------------------------------------
# OSM PBF / XML / Overpass JSON
# ---------------------------------------------------------------------------------------

def _way_nodes(path: Path) -> dict[int, tuple[dict, list[int]]]:
    import osmium

    out = {}
    for w in osmium.FileProcessor(str(path), osmium.osm.WAY):
        out[w.id] = ({t.k: t.v for t in w.tags}, [n.ref for n in w.nodes])
    return out


def test_pbf_mode_filters():
    ways = _way_nodes(AMS)
    kw = {"largest_component": False}
    walk = edge_set(networks.load_network(AMS, "walk", **kw))
    bike = edge_set(networks.load_network(AMS, "bike", **kw))
    car = edge_set(networks.load_network(AMS, "car", **kw))
    # cycleway 389437866 (two nodes, oneway=no): bike both ways, walk yes, car no
    _, (a, b) = ways[389437866]
    assert ways[389437866][0]["highway"] == "cycleway"
    assert {(a, b), (b, a)} <= bike and {(a, b), (b, a)} <= walk
    assert (a, b) not in car and (b, a) not in car
    # trunk (autoweg, motorroad=yes, oneway): car along the way only; no walk, no bike
    tags, (a, b) = ways[139155954]
    assert tags["highway"] == "trunk"
    assert (a, b) in car and (b, a) not in car
    assert (a, b) not in walk and (b, a) not in walk and (a, b) not in bike
    trunk_nodes = {n for t, refs in ways.values() if t.get("highway") == "trunk" for n in refs}
    assert not any(a in trunk_nodes and b in trunk_nodes for a, b in walk)


def test_pbf_bike_fixture():
    ways = _way_nodes(BIKE)
    bike = networks.load_network(BIKE, "bike")
    car = networks.load_network(BIKE, "car", largest_component=False)
    walk = networks.load_network(BIKE, "walk")
    eb, ec = edge_set(bike), edge_set(car)
    cyc = [refs for t, refs in ways.values() if t.get("highway") == "cycleway"]
    cyc_edges = {(r[i], r[j]) for r in cyc for i in range(len(r)) for j in range(len(r))}
    assert eb & cyc_edges, "a cycleway edge must be in the bike graph"
    assert not (ec & cyc_edges), "cycleways must not be in the car graph"
    # oneway:bicycle=-1 on way 223905520 (two nodes): bikes only against the digitised way
    _, (a, b) = ways[223905520]
    full_bike = edge_set(networks.load_network(BIKE, "bike", largest_component=False))
    assert (b, a) in full_bike and (a, b) not in full_bike
    # bicycle=no primary road: car yes, bike no
    _, refs = ways[6885605]
    assert (refs[0], refs[1]) in ec and (refs[0], refs[1]) not in full_bike
    # every component count is consistent with networkx on the graph's own edges
    assert bike.n_nodes >= 7 and walk.n_nodes == 28
    dg = nx.DiGraph(list(full_bike))
    assert bike.n_nodes == max(len(c) for c in nx.strongly_connected_components(dg))
    # bike time = length at 15 km/h
    np.testing.assert_allclose(bike.weights, np.rint(bike.length_m / (15 / 3.6)), atol=1)


def test_pbf_lengths_against_osmnx_style_haversine():
    g = networks.load_network(BIKE, "walk", largest_component=False)
    ways = _way_nodes(BIKE)
    import osmium

    loc = {n.id: (n.lon, n.lat) for n in osmium.FileProcessor(str(BIKE), osmium.osm.NODE)}
    total = 0.0
    for t, refs in ways.values():
        if profiles.get_profile("walk").rule(t) is None:
            continue
        lon = np.array([loc[r][0] for r in refs])
        lat = np.array([loc[r][1] for r in refs])
        total += _osm.haversine_m(lon[:-1], lat[:-1], lon[1:], lat[1:]).sum()
    # walk edges come in pairs (both directions) on distinct node pairs
    assert g.length_m.sum() / 2 == pytest.approx(total, rel=1e-9)


def test_osm_formats_give_identical_graphs(tmp_path):
    import osmium

    xml = tmp_path / "bike.osm"
    with osmium.SimpleWriter(str(xml)) as w:
        for o in osmium.FileProcessor(str(BIKE)):
            w.add(o)
    elements = []
    for o in osmium.FileProcessor(str(BIKE)):
        if o.is_node():
            elements.append({"type": "node", "id": o.id, "lat": o.location.lat,
                             "lon": o.location.lon})
        elif o.is_way():
            elements.append({"type": "way", "id": o.id, "nodes": [n.ref for n in o.nodes],
                             "tags": {t.k: t.v for t in o.tags}})
    js = tmp_path / "overpass.json"
    js.write_text(json.dumps({"version": 0.6, "elements": elements}))
    graphs = [networks.load_network(p, "bike") for p in (BIKE, xml, js)]
    for g in graphs[1:]:
        np.testing.assert_array_equal(g.indptr, graphs[0].indptr)
        np.testing.assert_array_equal(g.indices, graphs[0].indices)
        np.testing.assert_array_equal(g.weights, graphs[0].weights)
        np.testing.assert_array_equal(g.node_ids, graphs[0].node_ids)


def test_osm_broken_inputs(tmp_path):
    raw = BIKE.read_bytes()
    trunc = tmp_path / "cut.osm.pbf"
    trunc.write_bytes(raw[:5000])
    with pytest.raises(InputError, match="cannot read the OSM file"):
        networks.load_network(trunc, "walk")
    nohw = tmp_path / "buildings.osm"
    nohw.write_text('<?xml version="1.0"?><osm version="0.6">'
                    '<node id="1" lat="52.0" lon="4.3"/><node id="2" lat="52.001" lon="4.3"/>'
                    '<way id="5"><nd ref="1"/><nd ref="2"/><tag k="building" v="yes"/></way>'
                    '</osm>')
    with pytest.raises(InputError, match="no ways with a `highway` tag"):
        networks.load_network(nohw, "walk")
    foot = tmp_path / "foot.osm"
    foot.write_text('<?xml version="1.0"?><osm version="0.6">'
                    '<node id="1" lat="52.0" lon="4.3"/><node id="2" lat="52.001" lon="4.3"/>'
                    '<way id="5"><nd ref="1"/><nd ref="2"/><tag k="highway" v="footway"/></way>'
                    '</osm>')
    with pytest.raises(InputError, match=r"no way is usable by the car profile; highway "
                       r"values present: footway ×1"):
        networks.load_network(foot, "car")
    bad_json = tmp_path / "overpass.json"
    bad_json.write_text('{"elements": 5}')
    with pytest.raises(InputError, match="not an Overpass API JSON"):
        networks.read_osm(bad_json, "walk")
    with pytest.raises(InputError, match="unknown period"):
        networks.load_network(BIKE, "car", period="rush_hour")


# ---------------------------------------------------------------------------------------
# link tables: NWB fragment
# ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def nwb_table():
    return gpd.read_file(NWB)


def _nwb_oracle(t: pd.DataFrame) -> dict[tuple, tuple[float, float]]:
    """Directed NWB edges → (travel time s, length m), the fastest of parallel links."""
    best: dict[tuple, tuple[float, float]] = {}
    for row in t.itertuples():
        a, b, length = row.fromNodeId, row.toNodeId, row.distanceInMeters
        cands = [((a, b), row.speedInKilometersPerHour)]
        if row.reverseSpeedInKilometersPerHour > 0:
            cands.append(((b, a), row.reverseSpeedInKilometersPerHour))
        for key, speed in cands:
            tt = length / (speed / 3.6)
            if key not in best or tt < best[key][0]:
                best[key] = (tt, length)
    return best


def test_nwb_links(nwb_table):
    t = nwb_table
    assert (t.reverseSpeedInKilometersPerHour == 0).sum() > 300  # mostly one-way carriageways
    full = networks.load_network(NWB, "car", largest_component=False)
    e = edge_weights(full)
    lengths = dict(zip(zip(full.node_ids[full.edge_sources()].tolist(),
                           full.node_ids[full.indices].tolist(), strict=True),
                       full.length_m.tolist(), strict=True))
    oracle = _nwb_oracle(t)
    assert set(e) == set(oracle)  # reverse speed 0 => no reverse edge, > 0 => reverse edge
    for key, (tt, length) in oracle.items():
        assert abs(e[key] - tt) <= 0.5 + 1e-9
        assert lengths[key] == pytest.approx(length, abs=1e-9)  # = distanceInMeters
    one_way = [(r.toNodeId, r.fromNodeId) for r in t.itertuples()
               if r.reverseSpeedInKilometersPerHour == 0]
    assert any(k not in e for k in one_way)
    # dropped components: networkx oracle on the directed links
    dg = nx.DiGraph(list(oracle))
    sccs = sorted((len(c) for c in nx.strongly_connected_components(dg)), reverse=True)
    assert nx.number_weakly_connected_components(dg) == 10  # PROVENANCE: 10 components
    g = networks.load_network(NWB, "car")
    assert g.n_nodes == sccs[0]
    assert g.dropped_nodes == dg.number_of_nodes() - sccs[0]
    assert g.meta["weak_components"] == 10
    assert g.meta["dropped_components"] == len(sccs) - 1


def test_links_columns_mapping_and_csv(tmp_path, nwb_table):
    t = nwb_table.rename(columns={"fromNodeId": "van", "toNodeId": "naar",
                                  "speedInKilometersPerHour": "snelheid",
                                  "reverseSpeedInKilometersPerHour": "terug",
                                  "distanceInMeters": "meters"})
    gpkg = tmp_path / "links.gpkg"
    t.to_file(gpkg)
    cols = {"u": "van", "v": "naar", "speed_kmh": "snelheid", "reverse_speed_kmh": "terug",
            "length_m": "meters"}
    a = networks.load_network(gpkg, "car", options={"columns": cols})
    b = networks.load_network(NWB, "car")
    np.testing.assert_array_equal(a.weights, b.weights)
    np.testing.assert_array_equal(a.node_ids, b.node_ids)
    # CSV of from/to ids with travel times (no geometry, coordinates from columns)
    rd = nwb_table.to_crs(28992)
    st = shapely.get_coordinates(shapely.get_point(rd.geometry.to_numpy(), 0))
    en = shapely.get_coordinates(shapely.get_point(rd.geometry.to_numpy(), -1))
    df = pd.DataFrame({"u": t.van, "v": t.naar, "x_u": st[:, 0], "y_u": st[:, 1],
                       "x_v": en[:, 0], "y_v": en[:, 1],
                       "travel_time_s": t.meters / (t.snelheid / 3.6), "oneway": "yes"})
    csv = tmp_path / "links.csv"
    df.to_csv(csv, index=False)
    c = networks.load_network(csv, "car", options={"crs": "EPSG:28992"}, largest_component=False)
    forward = {k: v for k, v in _nwb_oracle(nwb_table).items()
               if k in set(zip(t.van, t.naar, strict=True))}
    ec = edge_weights(c)
    assert set(ec) == set(forward)  # oneway=yes: no reverse edges at all
    assert all(abs(ec[k] - tt) <= 0.5 + 1e-9 for k, (tt, _) in forward.items())
    assert c.length_m is None  # times given, no lengths in the table
    ref = networks.load_network(NWB, "car", largest_component=False)
    pos = np.searchsorted(ref.node_ids, c.node_ids)
    np.testing.assert_array_equal(ref.node_ids[pos], c.node_ids)
    np.testing.assert_allclose(c.x, ref.x[pos], atol=1e-6)
    np.testing.assert_allclose(c.y, ref.y[pos], atol=1e-6)


def test_links_broken_inputs(tmp_path, nwb_table):
    bad = tmp_path / "net.xyz"
    bad.write_text("x")
    with pytest.raises(InputError, match=r"(?s)unknown network format.*\.osm\.pbf.*\.graphml.*\.gpkg"):
        networks.load_network(bad, "car")
    csv = tmp_path / "ids.csv"
    pd.DataFrame({"a": [1, 2], "b": [2, 3]}).to_csv(csv, index=False)
    with pytest.raises(InputError, match=r"neither node id columns.*fromnodeid"):
        networks.load_network(csv, "walk")
    t = nwb_table.copy()
    t.loc[3, "speedInKilometersPerHour"] = -10
    p = tmp_path / "neg.geojson"
    t.to_file(p)
    with pytest.raises(InputError, match="zero or negative speeds in 'speedInKilometersPerHour'"):
        networks.load_network(p, "car")
    nocrs = nwb_table.copy().set_crs(None, allow_override=True)
    with pytest.raises(InputError, match="no CRS"):
        networks.graph_from_links(nocrs, "car", source="nocrs.shp")
    with pytest.raises(InputError, match="column 'snelheid' .* is not in the table"):
        networks.load_network(NWB, "car", options={"columns": {"speed_kmh": "snelheid"}})
    nospeed = nwb_table.drop(columns=["speedInKilometersPerHour",
                                      "reverseSpeedInKilometersPerHour"])
    with pytest.raises(InputError, match=r"car links need a speed.*speedinkilometersperhour"):
        networks.graph_from_links(nospeed, "car")
    with pytest.raises(InputError, match="not found"):
        networks.load_network(tmp_path / "missing.gpkg", "car")


# ---------------------------------------------------------------------------------------
# link tables: unnoded Delft shapefile
# ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def delft_lines():
    return gpd.read_file(SHP)


def test_shapefile_noding(delft_lines):
    lines = delft_lines
    noded = networks.split_at_shared_vertices(lines)
    # noding conserves length and vertices
    assert noded.length_m.sum() == pytest.approx(lines.geometry.length.sum(), rel=1e-9)
    assert noded.geometry.length.sum() == pytest.approx(lines.geometry.length.sum(), rel=1e-9)
    # oracle: no interior vertex of a piece occurs in any other piece (or twice in its own)
    coords, idx = shapely.get_coordinates(noded.geometry.to_numpy(), return_index=True)
    key = [tuple(r) for r in np.round(coords / 0.1).astype(np.int64)]
    counts = pd.Series(key).value_counts()
    first = np.r_[True, idx[1:] != idx[:-1]]
    last = np.r_[idx[1:] != idx[:-1], True]
    interior = ~(first | last)
    assert (counts.loc[[k for k, i in zip(key, interior, strict=True) if i]] == 1).all()
    # component sizes before/after (walk): largest SCC fraction rises from ~1/3 to ~99 %
    before = networks.graph_from_links(lines, "walk", source=SHP)
    after = networks.graph_from_links(lines, "walk", options={"node_lines": True}, source=SHP)
    frac_before = before.n_nodes / before.meta["nodes_before_component_filter"]
    frac_after = after.n_nodes / after.meta["nodes_before_component_filter"]
    assert frac_before < 0.5 and frac_after > 0.95
    assert after.n_nodes > 2.5 * before.n_nodes and after.n_nodes > 8000
    # independent undirected check on the noded pieces' endpoints (walk classes only)
    walk_ok = noded.OSM_TYPE.isin(profiles.WALK_HIGHWAYS)
    sub = noded[walk_ok]
    st = np.round(shapely.get_coordinates(shapely.get_point(sub.geometry.to_numpy(), 0)) / 0.1)
    en = np.round(shapely.get_coordinates(shapely.get_point(sub.geometry.to_numpy(), -1)) / 0.1)
    ug = nx.Graph()
    ug.add_edges_from((tuple(a), tuple(b)) for a, b in zip(st, en, strict=True)
                      if tuple(a) != tuple(b))
    assert after.n_nodes == max(len(c) for c in nx.connected_components(ug))


def test_shapefile_mode_filter_and_errors(delft_lines, tmp_path):
    car = networks.graph_from_links(delft_lines, "car", options={"node_lines": True}, source=SHP)
    walk = networks.graph_from_links(delft_lines, "walk", options={"node_lines": True}, source=SHP)
    assert car.meta["links_used"] < walk.meta["links_used"]
    # car speeds from OSM_TYPE: a residential piece at 30 km/h
    noded = networks.split_at_shared_vertices(delft_lines)
    assert not noded.OSM_TYPE[noded.OSM_TYPE.isin(["footway", "cycleway"])].empty
    only_mw = delft_lines[delft_lines.OSM_TYPE.isin(["motorway", "motorway_link"])]
    with pytest.raises(InputError, match=r"no way is usable by the walk profile.*motorway ×41"):
        networks.graph_from_links(only_mw, "walk", source=SHP)
    pts = delft_lines.copy()
    pts["geometry"] = pts.geometry.centroid
    with pytest.raises(InputError, match="link geometry must be lines, found Point"):
        networks.graph_from_links(pts, "walk", source=SHP)
    with pytest.raises(InputError, match="unrecognised one-way values"):
        networks.graph_from_links(delft_lines.assign(oneway="sometimes"), "car", source=SHP)


# ---------------------------------------------------------------------------------------
# GraphML broken inputs
# ---------------------------------------------------------------------------------------

def test_graphml_broken_inputs(tmp_path, delft_nx):
    junk = tmp_path / "junk.graphml"
    junk.write_text("<graphml><graph")
    with pytest.raises(InputError, match="cannot read the GraphML file"):
        networks.load_network(junk, "car")
    small = delft_nx.subgraph(list(delft_nx.nodes)[:300]).copy()
    nocrs = small.copy()
    nocrs.graph.pop("crs")
    p = tmp_path / "nocrs.graphml"
    nx.write_graphml(nocrs, p)
    with pytest.raises(InputError, match="no `crs` graph attribute"):
        networks.load_network(p, "car")
    assert networks.load_network(p, "car", options={"crs": "EPSG:4326"}).n_nodes > 0
    nolen = small.copy()
    for *_, d in nolen.edges(data=True):
        d.pop("length", None)
    p = tmp_path / "nolen.graphml"
    nx.write_graphml(nolen, p)
    with pytest.raises(InputError, match="no numeric `length` attribute.*looked for `length`"):
        networks.load_network(p, "car")
    empty = nx.MultiDiGraph(crs="epsg:4326")
    p = tmp_path / "empty.graphml"
    nx.write_graphml(empty, p)
    with pytest.raises(InputError, match="no nodes or no edges"):
        networks.load_network(p, "car")


# ---------------------------------------------------------------------------------------
# snapping
# ---------------------------------------------------------------------------------------

def test_snap_against_brute_force(delft_car):
    g = delft_car
    rng = np.random.default_rng(42)  # synthetic query points, deterministic
    x = rng.uniform(g.x.min() - 2000, g.x.max() + 2000, 400)
    y = rng.uniform(g.y.min() - 2000, g.y.max() + 2000, 400)
    x[0], y[0] = np.nan, 447_000.0
    s = networks.snap(g, x, y, max_distance_m=300)
    d = np.hypot(x[:, None] - g.x[None, :], y[:, None] - g.y[None, :])
    nearest = np.nanargmin(np.where(np.isnan(d), np.inf, d), axis=1)
    dmin = d[np.arange(x.size), nearest]
    ok = np.isfinite(x)
    np.testing.assert_allclose(s.distance_m[ok], dmin[ok])
    within = ok & (dmin <= 300)
    np.testing.assert_array_equal(s.node[within], nearest[within])
    assert (s.node[~within] == -1).all()
    assert np.isnan(s.distance_m[0]) and s.unsnapped[0]
    assert 0 < within.sum() < x.size
    t = s.access_seconds(4.8)
    np.testing.assert_allclose(t[within], dmin[within] / (4.8 / 3.6))


# ---------------------------------------------------------------------------------------
# study section and pipeline step
# ---------------------------------------------------------------------------------------

def test_network_spec_and_pipeline_step(tmp_path):
    from ruimtekit._context import RunContext

    specs = {
        "delft_car": networks.NetworkSpec(path="data/raw/osm/delft_drive.graphml", mode="car",
                                          period="morning_peak"),
        "ams_bike": networks.NetworkSpec(path="data/raw/osm/amsterdam_watergraafsmeer.osm.pbf",
                                         mode="bike", profile={"ebike": True}),
        "rail": networks.NetworkSpec(path="data/raw/ns_rail/network.json", kind="ns_rail"),
    }

    class _Study:
        networks = specs

    ctx = RunContext(study=_Study(), root=ROOT)
    networks.pipeline_step(ctx)
    assert set(ctx.networks) == {"delft_car", "ams_bike"}
    assert ctx.networks["ams_bike"].mode == "ebike"
    assert ctx.networks["delft_car"].meta["period"] == "morning_peak"
    tab = ctx.tables["networks"]
    assert tab.set_index("network").loc["delft_car", "nodes"] == 2128
    assert any("assumptions" in n for n in ctx.notes)
    with pytest.raises(ValueError, match="needs a mode"):
        networks.NetworkSpec(path="x.osm.pbf", kind="osm")
    with pytest.raises(ValueError, match="Extra inputs"):
        networks.NetworkSpec(path="x.osm.pbf", mode="car", speed=3)


def test_links_wkt_csv_and_geoparquet_match_geojson(tmp_path, nwb_table):
    ref = networks.load_network(NWB, "car")
    pq = tmp_path / "links.parquet"
    nwb_table.to_parquet(pq)
    csv = tmp_path / "links_wkt.csv"
    pd.DataFrame(nwb_table.drop(columns="geometry")).assign(
        wkt=nwb_table.geometry.to_wkt()).to_csv(csv, index=False)
    with pytest.raises(InputError, match="line geometry .* but no CRS"):
        networks.load_network(csv, "car")
    for g in (networks.load_network(pq, "car"),
              networks.load_network(csv, "car", options={"crs": "EPSG:4326"})):
        np.testing.assert_array_equal(g.node_ids, ref.node_ids)
        np.testing.assert_array_equal(g.weights, ref.weights)
        np.testing.assert_allclose(g.x, ref.x, atol=1e-3)
