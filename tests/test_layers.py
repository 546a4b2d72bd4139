"""Layer readers: real bundled files against published totals, broken inputs, aliases."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pydantic import ValidationError
from shapely.geometry import Point, Polygon, box

from ruimtekit import _columns, _vector
from ruimtekit._errors import InputError
from ruimtekit.io import layers
from ruimtekit.io.layers import DataWarning

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
PC4 = RAW / "cbs_pc4_2021.parquet"
KWB2020 = RAW / "cbs_kwb2020_amsterdam_buurten.parquet"
KWB2021 = RAW / "cbs_kwb2021_amsterdam_buurten.parquet"
WIJK_JOBS = RAW / "cbs_wijk_banen_2014.csv"
WIJK_CENTROIDS = RAW / "cbs_wijk_centroids_2015.geojson"
GM_JOBS = RAW / "cbs_gemeente_banen_2014.csv"
GM2022 = RAW / "cbs_gemeenten_2022.geojson"
GM2015 = RAW / "cbs_gemeente_2015_regions.topojson"
GM_IND = RAW / "cbs_kwb2021_gemeente_indicators.json"
NS = RAW / "ns_rail" / "network.json"
GML = RAW / "pt_amsterdam_2022.gml"


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return func(*args, **kwargs)


@pytest.fixture(scope="module")
def pc4():
    return _quiet(layers.read_zones, PC4)


@pytest.fixture(scope="module")
def wijk_jobs():
    return _quiet(layers.read_jobs, WIJK_JOBS, geometry=WIJK_CENTROIDS)


@pytest.fixture(scope="module")
def ns():
    return layers.read_ns_stations(NS)


pytestmark = pytest.mark.filterwarnings("ignore:'crs' was not provided:UserWarning")


def _err(excinfo) -> str:
    return str(excinfo.value)


# ======================================================================================
# real bundled data, known totals

def test_pc4_population_total(pc4):
    assert pc4.attrs["level"] == "pc4"
    assert len(pc4) == 4068
    assert pc4.crs.to_epsg() == 28992
    assert pc4["population"].sum() == 17_472_870
    assert pc4["population"].isna().sum() == 3
    assert pc4["zone_id"].str.fullmatch(r"\d{4}").all()
    assert pc4["zone_id"].iloc[0] == "1011"
    # area in km² became hectares; compare with the polygon areas (independent oracle)
    assert pc4.attrs["derived"]["area_ha"].startswith("oppervlakte_km2")
    poly_ha = pc4.geometry.area.sum() / 1e4
    assert pc4["area_ha"].sum() == pytest.approx(poly_ha, rel=0.01)
    # the one real PC4 with an empty geometry is kept and reported, not dropped
    assert pc4.attrs["empty_geometry"] == ["5028"]


def test_pc4_empty_geometry_is_reported():
    with pytest.warns(DataWarning, match=r"cbs_pc4_2021.parquet: 1 zone\(s\) have an empty"):
        layers.read_zones(PC4)


def test_wijk_jobs_join_and_crs_warning():
    with pytest.warns(DataWarning) as rec:
        jobs = layers.read_jobs(WIJK_JOBS, geometry=WIJK_CENTROIDS)
    msgs = [str(w.message) for w in rec]
    assert any("cbs_wijk_centroids_2015.geojson" in m and "RD New" in m and "EPSG:28992" in m
               for m in msgs), msgs
    assert len(jobs) == 2808
    assert jobs["jobs"].sum() == 7_650_364
    assert jobs.attrs["measure"] == "jobs"
    assert jobs.attrs["source_column"] == "banen_werkplaats"
    assert jobs.attrs["unmatched_codes"] == []
    assert jobs.attrs["geometry_kind"] == "points"
    assert jobs.attrs["level"] == "wijk"
    assert "banen_woonplaats" in jobs.columns  # extra columns kept, never taken as jobs
    # Amsterdam-Centrum wijk 00 (WK036300) lies in central Amsterdam (RD)
    p = jobs.set_index("zone_id").geometry["WK036300"]
    assert 119_000 < p.x < 124_000 and 485_000 < p.y < 490_000


def test_jobs_aggregated_to_pc4_preserves_total(wijk_jobs, pc4):
    agg = layers.aggregate_to_zones(wijk_jobs, pc4, "jobs")
    info = agg.attrs["aggregation"]
    assert agg["jobs"].sum() == 7_650_364
    assert info["total_in"] == info["total_assigned"] == 7_650_364
    assert info["n_unassigned"] == 0
    # ten wijk centroids (2015 boundaries) fall outside the 2021 PC4 polygons (coast,
    # water) and go to the nearest polygon, all within 1 km
    assert info["n_nearest"] == 10
    assert info["n_inside"] + info["n_nearest"] == 2808
    assert 0 < info["nearest_max_m"] < 1000
    # brute-force oracle for the fallback points: no polygon contains them, and the
    # nearest polygon lies within max_distance_m
    pts = wijk_jobs.set_index("zone_id").geometry
    geoms = pc4.geometry.to_numpy()
    for wid in info["nearest_ids"]:
        d = shapely.distance(geoms, pts[wid])
        d = np.where(shapely.is_empty(geoms), np.inf, d)
        assert 0 < d.min() <= info["nearest_max_m"] + 1e-6
    # brute-force oracle for a sample of inside points
    rng = np.random.default_rng(0)
    sample = rng.choice(len(wijk_jobs), 40, replace=False)
    for i in sample:
        hit = np.flatnonzero(shapely.intersects(geoms, wijk_jobs.geometry.iloc[i]))
        if wijk_jobs.zone_id.iloc[i] in info["nearest_ids"]:
            assert len(hit) == 0
        else:
            assert len(hit) >= 1
    # per-zone oracle: the busiest PC4 holds exactly the jobs of the points it contains
    top = agg.loc[agg["jobs"].idxmax()]
    inside = wijk_jobs[wijk_jobs.intersects(top.geometry)]
    assert top["jobs"] == inside["jobs"].sum() > 0
    assert (agg["jobs"] >= 0).all() and (agg["jobs"] > 0).sum() <= 2808


def test_jobs_by_code_to_gemeenten_matches_gemeente_table(wijk_jobs):
    table = layers.read_jobs(WIJK_JOBS)  # code table without geometry
    assert table.attrs["geometry_kind"] == "none"
    gm2015 = _quiet(layers.read_zones, GM2015)
    assert gm2015.attrs["level"] == "gemeente" and len(gm2015) == 393
    agg = layers.aggregate_to_zones(table, gm2015, "jobs", how="code", code_column="gm_code")
    assert agg["jobs"].sum() == 7_650_364
    assert agg.attrs["aggregation"]["n_unassigned"] == 0
    # independent oracle: the derived gemeente totals file
    gm = pd.read_csv(GM_JOBS).set_index("gm_code")["banen_werkplaats"]
    got = agg.set_index("zone_id")["jobs"]
    assert (got.reindex(gm.index) == gm).all()


def test_gemeenten_2022_and_indicators_join():
    gm = layers.read_zones(GM2022)
    assert len(gm) == 345 and gm.attrs["level"] == "gemeente"
    assert gm["zone_id"].str.fullmatch(r"GM\d{4}").all()
    assert gm.set_index("zone_id").loc["GM0363", "zone_name"] == "Amsterdam"
    ind = layers.read_gemeente_indicators(GM_IND)
    assert len(ind) == 352
    assert ind["population"].sum() == ind.attrs["national_population"] == 17_475_415
    assert "derived" in ind.attrs["derived"]["establishments"]
    raw = json.loads(GM_IND.read_text(encoding="utf-8"))["Gemeente"]["GM0363"]
    ams = ind.set_index("zone_id").loc["GM0363"]
    assert ams["establishments"] == pytest.approx(raw["_biz_density"] * raw["Population"] / 1000)
    assert ams["population"] == raw["Population"]
    with pytest.warns(DataWarning, match="GM1980, GM1982, GM1991"):
        joined = layers.join_zone_table(gm, ind, what="indicators")
    assert joined.attrs["unmatched_zones"] == ["GM1980", "GM1982", "GM1991"]  # 2022 mergers
    assert len(joined.attrs["unmatched_table"]) == 10
    assert joined["population"].isna().sum() == 3
    assert len(joined) == 345


def test_amsterdam_2020_buurten():
    z = layers.read_zones(KWB2020)
    assert len(z) == 443 and z.attrs["level"] == "buurt"
    assert z["population"].sum() == 868_895
    assert z["establishments"].sum() == 139_370
    assert z["zone_id"].str.fullmatch(r"BU0363\d{4}").all()
    assert z.attrs["source_columns"]["population"] == "a_inw"
    assert {"households", "dwellings", "address_density", "urbanity", "area_ha",
            "land_area_ha", "woz_keur"} <= set(z.columns)
    assert "a_man" in z.columns and "a_inw" not in z.columns
    # residential centroid → pop_x/pop_y (RD): within 1 km of its own buurt polygon
    pts = gpd.GeoSeries(gpd.points_from_xy(z.pop_x, z.pop_y), crs=z.crs)
    assert (pts.distance(z.geometry, align=False) < 1000).all()
    assert (pts.within(z.geometry, align=False)).mean() > 0.9
    assert z.crs.to_epsg() == 28992
    assert 110_000 < z.total_bounds[0] < z.total_bounds[2] < 135_000


def test_amsterdam_2021_zero_as_missing():
    plain = layers.read_zones(KWB2021)
    assert (plain["dwellings"] == 0).all()  # the caveat: unpublished variables are 0
    z = layers.read_zones(KWB2021, zero_as_missing=layers.KWB2021_ZERO_AS_MISSING)
    assert z["dwellings"].isna().all() and z["establishments"].isna().all()
    assert z["woz_keur"].isna().all() and z["a_bed_a"].isna().all()
    assert z["p_leegsw"].isna().all()
    assert z["population"].sum() == 868_380  # published columns untouched
    assert z.attrs["zero_as_missing"]["dwellings"] == 443
    same = layers.read_zones(KWB2021, zero_as_missing="kwb2021")
    assert same["establishments"].isna().all()


def test_establishments_only_give_a_proxy():
    jobs = layers.read_jobs(KWB2020)
    assert "jobs" not in jobs.columns
    assert jobs["establishments_proxy"].sum() == 139_370
    assert jobs.attrs["proxy"] == "business establishments stand in for jobs"
    assert jobs.attrs["geometry_kind"] == "polygons"
    assert jobs["zone_id"].iloc[0] == "BU03630000"


def test_ns_stations_and_derived_types(ns):
    assert len(ns) == 395
    t = ns.set_index("station_id")["station_type"]
    for code in ("UT", "ASD", "RTD", "GVC", "EHV", "ZL", "AMF", "SHL", "LEDN"):
        assert t[code] == "intercity", code
    for code in ("HTO", "HRT"):  # 's-Hertogenbosch Oost, Horst-Sevenum: small halts
        assert t[code] == "sprinter", code
    assert "derived from service links" in ns.attrs["station_type_source"]
    assert ns["ridership"].notna().sum() == 252
    assert ns.set_index("station_id").loc["UT", "ridership"] == 194_385
    assert "Feanwâlden" in set(ns["station_name"])  # mojibake repaired
    # sanity oracle independent of the rule: intercity stations are much busier
    med = ns.groupby("station_type")["ridership"].median()
    assert med["intercity"] > 3 * med["sprinter"]
    ev = ns.set_index("station_id").loc["UT", "type_evidence"]
    assert ev.startswith("UT–") and " skips " in ev


def test_derive_intercity_hand_case():
    # line A-B-C-D every 2 km (x), sprinter links A-B, B-C, C-D; intercity link A-D skips B, C
    # E lies between A and D but 3 km off the line and is linked to A: not a skip
    x = np.array([0.0, 2000, 4000, 6000, 3000])
    y = np.array([0.0, 100, -100, 0, 3000])
    links = [(0, 1), (1, 2), (2, 3), (0, 3), (4, 0)]
    flag, ev = layers.derive_intercity(x, y, links)
    assert flag.tolist() == [True, False, False, True, False]
    assert ev[0].startswith("0–3 skips")
    flag2, _ = layers.derive_intercity(x, y, links[:3] + links[4:])
    assert not flag2.any()


def test_transit_stops_gml(ns):
    st = layers.read_transit_stops_gml(GML, ns_stations=ns)
    by_mode = st["mode"].value_counts()
    assert by_mode["metro"] == 26 and by_mode["rail"] == 15
    assert by_mode["tram"] < 117  # platforms/directions merged
    assert st["station_id"].is_unique
    rail = st[st["mode"] == "rail"].set_index("ns_station_id")
    assert rail.loc["ASD", "station_type"] == "intercity"
    assert rail.loc["HWZB", "station_type"] == "sprinter"
    assert set(st.loc[st["mode"] == "metro", "station_type"]) == {"metro"}
    assert st.crs.to_epsg() == 28992
    b = st.total_bounds
    assert 100_000 < b[0] and b[2] < 140_000 and 470_000 < b[1] and b[3] < 500_000
    assert "nearest NS station" in st.attrs["station_type_source"]
    plain = layers.read_transit_stops_gml(GML, modes=("rail",))
    assert set(plain["station_type"]) == {"other"}
    assert "pass ns_stations" in plain.attrs["station_type_source"]


# ======================================================================================
# aliases, sentinels, codes

def _classic_and_pdok(tmp_path):
    polys = [box(120_000, 487_000, 121_000, 488_000), box(121_000, 487_000, 122_000, 488_000)]
    classic = gpd.GeoDataFrame({
        "BU_CODE": ["BU03630000", "BU03630001"], "BU_NAAM": ["Kop Zeedijk", "Oude Kerk"],
        "WK_CODE": ["WK036300", "WK036300"], "GM_CODE": ["GM0363", "GM0363"],
        "GM_NAAM": ["Amsterdam"] * 2, "AANT_INW": [1100, -99999999], "AANT_HH": [700, 400],
        "WONINGEN": [800, -99999997], "OAD": [12000, 11000], "STED": [1, 1],
        "OPP_TOT": [100, 100], "OPP_LAND": [90, -99995], "WOZ": [423, 431],
        "A_BEDV": [475, 480],
    }, geometry=polys, crs="EPSG:28992")
    pdok = gpd.GeoDataFrame({
        "buurtcode": ["BU03630000", "BU03630001"], "buurtnaam": ["Kop Zeedijk", "Oude Kerk"],
        "wijkcode": ["WK036300", "WK036300"], "gemeentecode": ["GM0363", "GM0363"],
        "gemeentenaam": ["Amsterdam"] * 2, "aantalInwoners": [1100, -99997],
        "aantalHuishoudens": [700, 400], "woningvoorraad": [800, -99997],
        "omgevingsadressendichtheid": [12000, 11000], "stedelijkheidAdressenPerKm2": [1, 1],
        "oppervlakteTotaalInHa": [100, 100], "oppervlakteLandInHa": [90, -99995],
        "gemiddeldeWoningwaarde": [423, 431], "aantalBedrijfsvestigingen": [475, 480],
    }, geometry=polys, crs="EPSG:28992").to_crs(4326)  # PDOK WFS output in lon/lat
    short = gpd.GeoDataFrame({
        "bu_code": [3630000, 3630001], "bu_naam": ["Kop Zeedijk", "Oude Kerk"],
        "wk_code": ["WK036300"] * 2, "gm_code": ["GM0363"] * 2, "a_inw": [1100, -99999999],
        "a_hh": [700, 400], "a_woning": [800, -99997], "ste_oad": [12000, 11000],
        "ste_mvs": [1, 1], "a_opp_ha": [100, 100], "a_lan_ha": [90, -99995],
        "g_woz": [423, 431], "a_bedv": [475, 480],
    }, geometry=polys, crs="EPSG:28992")
    paths = {}
    for name, gdf in (("classic.shp", classic), ("pdok.gpkg", pdok), ("short.geojson", short)):
        p = tmp_path / name
        gdf.to_file(p)
        paths[name] = p
    return paths


def test_classic_pdok_and_short_names_normalise_alike(tmp_path):
    paths = _classic_and_pdok(tmp_path)
    canon = ["zone_id", "zone_name", "population", "households", "dwellings", "establishments",
             "address_density", "urbanity", "area_ha", "land_area_ha", "woz_keur",
             "gemeente_code", "wijk_code"]
    frames = [layers.read_zones(p)[canon] for p in paths.values()]
    for f in frames[1:]:
        pd.testing.assert_frame_equal(frames[0], f, check_dtype=False)
    f = frames[0]
    assert f["zone_id"].tolist() == ["BU03630000", "BU03630001"]
    assert f.loc[0, "population"] == 1100 and np.isnan(f.loc[1, "population"])
    assert np.isnan(f.loc[1, "dwellings"]) and np.isnan(f.loc[1, "land_area_ha"])
    assert f["wijk_code"].tolist() == ["WK036300"] * 2
    z = layers.read_zones(paths["pdok.gpkg"])
    assert z.attrs["level"] == "buurt"
    assert z.attrs["sentinels"] == {"population": 1, "dwellings": 1, "land_area_ha": 1}
    # geometry came back to RD within millimetres
    assert z.total_bounds == pytest.approx([120_000, 487_000, 122_000, 488_000], abs=0.01)


def test_code_normalisation_and_keys():
    s = pd.Series([363, "GM363", " gm0014 ", 3.0, None])
    assert _columns.normalise_codes(s, "gemeente").tolist() == [
        "GM0363", "GM0363", "GM0014", "GM0003", None]
    assert _columns.normalise_codes(pd.Series([36301, "2022WK036301"]), "wijk").tolist() == [
        "WK036301", "WK036301"]
    assert _columns.normalise_codes(pd.Series([3630000]), "buurt").tolist() == ["BU03630000"]
    assert _columns.normalise_codes(pd.Series([1011, "1011 AB", 1011.0]), "pc4").tolist() == [
        "1011", "1011", "1011"]
    assert _columns.key("AantalInwoners_5") == "aantalinwoners"
    assert _columns.find_column(["AantalInwoners_5", "x"],
                                _columns.ZONE_MEASURE_ALIASES["population"]) == "AantalInwoners_5"
    txt = pd.Series(["52.373", "4,89", "1.234,5", ".", "x", "7"])
    got = _columns.to_numeric(txt, "a", None).tolist()
    assert got[:3] == [52.373, 4.89, 1234.5] and np.isnan(got[3]) and got[5] == 7
    with pytest.raises(InputError, match=r"column 'a' has 1 non-numeric value\(s\), e.g. row 2"):
        _columns.to_numeric(pd.Series(["1", "veel"]), "a", None)
    df = pd.DataFrame({"a": [1, -99999999, -99995, -5], "s": ["x", "y", "z", "w"]})
    assert _columns.replace_sentinels(df) == {"a": 2}
    assert df["a"].isna().tolist() == [False, True, True, False]


def test_user_column_mapping(tmp_path):
    gdf = gpd.GeoDataFrame({"gebied": ["A1", "A2"], "inw_2021": [5, 7]},
                           geometry=[box(0, 300_000, 10, 300_010), box(10, 300_000, 20, 300_010)],
                           crs=28992)
    p = tmp_path / "own.gpkg"
    gdf.to_file(p)
    z = layers.read_zones(p, columns={"zone_id": "gebied", "population": "inw_2021"})
    assert z["zone_id"].tolist() == ["A1", "A2"] and z["population"].sum() == 12
    assert z.attrs["level"] == "other"
    with pytest.raises(InputError) as e:
        layers.read_zones(p, columns={"zone_id": "gebeid"})
    msg = _err(e)
    assert "own.gpkg" in msg and "'gebeid'" in msg and "did you mean 'gebied'" in msg
    with pytest.raises(InputError, match="unknown canonical column 'populaton'"):
        layers.read_zones(p, columns={"populaton": "inw_2021"})


# ======================================================================================
# broken input: zones

def _gpkg(tmp_path, name, gdf):
    p = tmp_path / name
    gdf.to_file(p)
    return p


def _two_squares(**cols):
    return gpd.GeoDataFrame(cols, geometry=[box(120_000, 487_000, 121_000, 488_000),
                                            box(121_000, 487_000, 122_000, 488_000)],
                            crs="EPSG:28992")


def test_zones_missing_id_column(tmp_path):
    p = _gpkg(tmp_path, "noid.gpkg", _two_squares(naam=["a", "b"], a_inw=[1, 2]))
    with pytest.raises(InputError) as e:
        layers.read_zones(p)
    msg = _err(e)
    assert "noid.gpkg" in msg and "no zone id column" in msg
    assert "bu_code" in msg and "buurtcode" in msg and "pc4" in msg and "statcode" in msg
    assert "fix:" in msg and "columns: {zone_id" in msg and "a_inw" in msg


def test_zones_duplicate_ids(tmp_path):
    p = _gpkg(tmp_path, "dup.gpkg", _two_squares(bu_code=["BU03630000"] * 2, a_inw=[1, 2]))
    with pytest.raises(InputError) as e:
        layers.read_zones(p)
    msg = _err(e)
    assert "dup.gpkg" in msg and "duplicate zone ids" in msg and "BU03630000 (×2)" in msg
    assert "fix:" in msg and "unique" in msg


def test_zones_empty_layer(tmp_path):
    empty = gpd.GeoDataFrame({"bu_code": pd.Series([], dtype=str)},
                             geometry=gpd.GeoSeries([], crs=28992))
    p = _gpkg(tmp_path, "empty.gpkg", empty)
    with pytest.raises(InputError) as e:
        layers.read_zones(p)
    msg = _err(e)
    assert "empty.gpkg" in msg and "empty" in msg and "fix:" in msg


def test_zones_unknown_crs_and_assumed_rd(tmp_path):
    far = gpd.GeoDataFrame({"bu_code": ["BU1"]}, geometry=[box(5e6, 5e6, 5.1e6, 5.1e6)])
    p = _gpkg(tmp_path, "far.gpkg", far)
    with pytest.raises(InputError) as e:
        layers.read_zones(p)
    msg = _err(e)
    assert "far.gpkg" in msg and "unknown CRS" in msg and "crs: EPSG:28992" in msg
    # with the CRS given in the study file it reads (and warns that it is outside NL)
    with pytest.warns(DataWarning, match="far outside the Netherlands"):
        layers.read_zones(p, crs="EPSG:3857")
    # a shapefile without .prj holding RD coordinates: assumed RD, with a warning
    rd = _two_squares(bu_code=["BU03630000", "BU03630001"]).set_crs(None, allow_override=True)
    p2 = tmp_path / "noprj.shp"
    rd.to_file(p2)
    assert not p2.with_suffix(".prj").exists()
    with pytest.warns(DataWarning, match=r"noprj.shp: no CRS declared.*assuming EPSG:28992"):
        z = layers.read_zones(p2)
    assert z.crs.to_epsg() == 28992
    assert z.total_bounds == pytest.approx([120_000, 487_000, 122_000, 488_000])


def test_zones_unreadable_and_missing_file(tmp_path):
    p = tmp_path / "broken.gpkg"
    p.write_bytes(b"this is not a geopackage\x00\x01")
    with pytest.raises(InputError) as e:
        layers.read_zones(p)
    msg = _err(e)
    assert "broken.gpkg" in msg and "cannot be read" in msg and "GeoPackage" in msg
    with pytest.raises(InputError, match="missing.gpkg: file not found"):
        layers.read_zones(tmp_path / "missing.gpkg")
    bad_parquet = tmp_path / "bad.parquet"
    bad_parquet.write_text("nope")
    with pytest.raises(InputError, match="bad.parquet: the file cannot be read"):
        layers.read_zones(bad_parquet)


def test_zones_non_polygon_and_no_geometry(tmp_path):
    with pytest.raises(InputError) as e, pytest.warns(DataWarning):
        layers.read_zones(WIJK_CENTROIDS)
    msg = _err(e)
    assert "cbs_wijk_centroids_2015.geojson" in msg and "non-polygon geometry (Point" in msg
    assert "kind: jobs" in msg
    with pytest.raises(InputError, match=r"cbs_wijk_banen_2014.csv: the file has no geometry"):
        layers.read_zones(WIJK_JOBS)


def test_zones_level_mismatch_and_multilayer(tmp_path):
    p = tmp_path / "multi.gpkg"
    _two_squares(buurtcode=["BU03630000", "BU03630001"]).to_file(p, layer="buurten")
    _two_squares(wijkcode=["WK036300", "WK036301"]).to_file(p, layer="wijken")
    with pytest.raises(InputError) as e:
        layers.read_zones(p)
    assert "2 layers: buurten, wijken" in _err(e) and "layer:" in _err(e)
    assert layers.read_zones(p, level="wijk")["zone_id"].tolist() == ["WK036300", "WK036301"]
    with pytest.raises(InputError, match="`level: gemeente` was given but the codes"):
        layers.read_zones(p, layer="buurten", level="gemeente")
    with pytest.raises(InputError, match="layer 'gemeenten' not found"):
        layers.read_zones(p, layer="gemeenten")


def test_invalid_geometry_repair(tmp_path):
    # a ring touching itself at a point (valid area, invalid ring) is repaired safely
    touching = Polygon([(120_000, 487_000), (120_200, 487_000), (120_100, 487_100),
                        (120_200, 487_200), (120_000, 487_200), (120_100, 487_100)])
    bowtie = Polygon([(0, 300_000), (100, 300_100), (100, 300_000), (0, 300_100)])
    ok = gpd.GeoDataFrame({"bu_code": ["BU1", "BU2"]},
                          geometry=[touching, box(120_300, 487_000, 120_400, 487_100)],
                          crs=28992)
    assert not ok.is_valid.all()
    p = _gpkg(tmp_path, "touch.gpkg", ok)
    with pytest.warns(DataWarning, match=r"touch.gpkg: repaired 1 invalid geometry"):
        z = layers.read_zones(p)
    assert z.is_valid.all() and len(z) == 2
    assert z.attrs["repaired_geometries"] == 1
    bad = gpd.GeoDataFrame({"bu_code": ["BU1"]}, geometry=[bowtie], crs=28992)
    p2 = _gpkg(tmp_path, "bowtie.gpkg", bad)
    with pytest.raises(InputError) as e:
        layers.read_zones(p2)
    msg = _err(e)
    assert "bowtie.gpkg" in msg and "cannot be repaired" in msg and "row 1" in msg
    assert "Fix geometries" in msg


# ======================================================================================
# broken input: jobs

def test_jobs_missing_column(tmp_path):
    p = tmp_path / "nojobs.csv"
    p.write_text("wk_code;aantal\nWK036300;5\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        layers.read_jobs(p)
    msg = _err(e)
    assert "nojobs.csv" in msg and "no jobs column" in msg and "banen" in msg
    assert "werkzame_personen" in msg and "a_bedv" in msg
    assert "columns: {jobs:" in msg and "aantal" in msg


def test_jobs_points_csv_and_bad_values(tmp_path):
    p = tmp_path / "lisa.csv"
    p.write_text("vestiging,x,y,werkzame_personen\n1,121000,487500,10\n2,121500,487500,5\n"
                 "3,130000,487500,7\n", encoding="utf-8")
    with pytest.warns(DataWarning, match=r"lisa.csv: no CRS declared.*RD New"):
        pts = layers.read_jobs(p)
    assert pts.attrs["geometry_kind"] == "points" and pts["jobs"].sum() == 22
    zones = layers.read_zones(_gpkg(tmp_path, "z.gpkg", _two_squares(
        bu_code=["BU03630000", "BU03630001"])))
    with pytest.warns(DataWarning, match=r"1 row\(s\) farther than 2000 m .* \(7 jobs of 22\)"):
        agg = layers.aggregate_to_zones(pts, zones, "jobs")
    assert agg["jobs"].tolist() == [10, 5]
    assert agg.attrs["aggregation"]["unassigned_total"] == 7
    neg = tmp_path / "neg.csv"
    neg.write_text("lon,lat,banen\n4.9,52.37,3\n4.91,52.37,-2\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        layers.read_jobs(neg)
    assert "neg.csv" in _err(e) and "negative" in _err(e) and "≥ 0" in _err(e)
    nocoord = tmp_path / "holes.csv"
    nocoord.write_text("lon,lat,banen\n4.9,52.37,3\n,52.37,2\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"holes.csv: 1 row\(s\) have no coordinates"):
        layers.read_jobs(nocoord)


def test_jobs_code_table_join_problems(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("wk_code,banen_werkplaats\nWK036300,10\nWK999999,4\n", encoding="utf-8")
    geo = gpd.GeoDataFrame({"code": ["WK036300", "WK036300"]},
                           geometry=[Point(121_000, 487_500), Point(121_100, 487_500)], crs=28992)
    gp = _gpkg(tmp_path, "dupgeo.gpkg", geo)
    with pytest.raises(InputError) as e:
        layers.read_jobs(table, geometry=gp)
    assert "dupgeo.gpkg" in _err(e) and "duplicate codes in 'code'" in _err(e)
    gp2 = _gpkg(tmp_path, "geo.gpkg", geo.iloc[:1])
    with pytest.warns(DataWarning, match=r"t.csv: 1 code\(s\) have no geometry .*4 jobs.*WK999999"):
        j = layers.read_jobs(table, geometry=gp2, join_on="wk_code=code")
    assert j["jobs"].sum() == 10 and j.attrs["unmatched_codes"] == ["WK999999"]
    with pytest.raises(InputError, match="join_on names 'wijk'"):
        layers.read_jobs(table, geometry=gp2, join_on="wijk=code")
    dup = tmp_path / "dup.csv"
    dup.write_text("wk_code,banen\nWK036300,1\nWK036300,2\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"dup.csv: duplicate zone ids .*WK036300 \(×2\)"):
        layers.read_jobs(dup)


# ======================================================================================
# vacancy

def test_vacancy_points_dates_and_functions(tmp_path):
    p = tmp_path / "leeg.csv"
    p.write_text(
        "identificatie;x;y;gebruiksdoel;oppervlakte;leegstand_sinds\n"
        "0363010000000001;121000;487500;kantoorfunctie;1200;2019-03-01\n"
        "0363010000000002;121100;487500;winkelfunctie,woonfunctie;85;01-07-2020\n"
        "0363010000000003;121200;487500;industriefunctie;4000;15/11/2018\n"
        "0363010000000004;121300;487500;woonfunctie;70;\n",
        encoding="utf-8")
    v = layers.read_vacancy(p, crs="EPSG:28992")
    assert v["object_id"].tolist()[0] == "0363010000000001"
    assert v["function"].tolist() == ["kantoor", "winkel", "bedrijf", "overig"]
    assert v["floor_area_m2"].tolist() == [1200, 85, 4000, 70]
    assert v["vacant_since"].tolist()[:3] == [pd.Timestamp("2019-03-01"),
                                               pd.Timestamp("2020-07-01"),
                                               pd.Timestamp("2018-11-15")]
    assert pd.isna(v["vacant_since"].iloc[3])
    assert v["vacant_since"].dtype.kind == "M"
    assert not v["synthetic"].any()
    assert v.attrs["function_unmapped"] == {"woonfunctie": 1}


def test_vacancy_polygons_area_fallback_and_synthetic(tmp_path):
    gdf = gpd.GeoDataFrame({"id": ["a", "b"], "functie": ["Kantoor", "Winkel"],
                            "vacant_since": ["2021-01-01", "2022-06-30"]},
                           geometry=[box(121_000, 487_000, 121_020, 487_050),
                                     box(121_100, 487_000, 121_110, 487_010)], crs=28992)
    v = layers.read_vacancy(_gpkg(tmp_path, "panden.gpkg", gdf), synthetic=True)
    assert v["floor_area_m2"].tolist() == [1000, 100]
    assert "footprint" in v.attrs["floor_area_source"]
    assert v["synthetic"].all() and v.attrs["synthetic"] is True


def test_vacancy_broken_inputs(tmp_path):
    def write(name, body):
        p = tmp_path / name
        p.write_text(body, encoding="utf-8")
        return p

    bad = write("dates.csv", "id,lon,lat,functie,oppervlakte,leegstand_sinds\n"
                "a,4.9,52.37,kantoor,100,2019-02-30\nb,4.9,52.37,kantoor,100,gisteren\n"
                "c,4.9,52.37,kantoor,100,2020-01-01\n")
    with pytest.raises(InputError) as e:
        layers.read_vacancy(bad)
    msg = _err(e)
    assert "dates.csv" in msg and "2 unparseable date(s) in 'leegstand_sinds'" in msg
    assert "a: '2019-02-30'" in msg and "b: 'gisteren'" in msg and "YYYY-MM-DD" in msg
    neg = write("neg.csv", "id,lon,lat,functie,oppervlakte\na,4.9,52.37,kantoor,-5\n")
    with pytest.raises(InputError) as e:
        layers.read_vacancy(neg)
    assert "neg.csv" in _err(e) and "negative floor area" in _err(e) and ": a" in _err(e)
    nofunc = write("nofunc.csv", "id,lon,lat,oppervlakte\na,4.9,52.37,5\n")
    with pytest.raises(InputError) as e:
        layers.read_vacancy(nofunc)
    assert "nofunc.csv" in _err(e) and "no function column" in _err(e)
    assert "gebruiksdoel" in _err(e) and "columns: {function:" in _err(e)
    dup = write("dupv.csv", "id,lon,lat,functie,oppervlakte\na,4.9,52.37,kantoor,5\n"
                "a,4.9,52.37,kantoor,6\n")
    with pytest.raises(InputError, match=r"dupv.csv: duplicate ids in 'id': a"):
        layers.read_vacancy(dup)
    noarea = write("noarea.csv", "id,lon,lat,functie\na,4.9,52.37,kantoor\n")
    with pytest.raises(InputError, match=r"noarea.csv: no floor area column"):
        layers.read_vacancy(noarea)


# ======================================================================================
# stations

def test_stations_generic(tmp_path):
    p = tmp_path / "st.csv"
    p.write_text("code,naam,stationstype,x_rd,y_rd,in_uit_2018\n"
                 "ASD,Amsterdam Centraal,Knooppunt Intercitystation,121000,487900,192178\n"
                 "ASDZ,Amsterdam Zuid,intercity,119900,483500,\n"
                 "WP,Weesperplein,metrostation,122300,486300,\n"
                 "X1,Halte,zeppelinhaven,122000,486000,\n", encoding="utf-8")
    with pytest.warns(DataWarning, match=r"st.csv: station types not recognised.*zeppelinhaven"):
        st = layers.read_stations(p)
    assert st["station_type"].tolist() == ["intercity", "intercity", "metro", "other"]
    assert st["ridership"].iloc[0] == 192_178 and np.isnan(st["ridership"].iloc[1])
    assert st.attrs["station_type_source"] == "column 'stationstype'"
    # the derived WGS84 NS file (lon/lat next to RD x/y): RD columns preferred
    with pytest.warns(DataWarning, match="no station type column"):
        ns2 = layers.read_stations(RAW / "ns_rail" / "stations_derived_wgs84.csv")
    assert len(ns2) == 395 and ns2.crs.to_epsg() == 28992


def test_stations_broken_inputs(tmp_path):
    def write(name, body):
        p = tmp_path / name
        p.write_text(body, encoding="utf-8")
        return p

    noid = write("noid.csv", "x,y,type\n121000,487000,tram\n")
    with pytest.raises(InputError) as e, pytest.warns(DataWarning):
        layers.read_stations(noid)
    assert "noid.csv" in _err(e) and "no station id or name column" in _err(e)
    assert "station_id" in _err(e) and "fix:" in _err(e)
    dup = write("dupst.csv", "code,x,y,type\nA,121000,487000,tram\nA,121000,487100,tram\n")
    with pytest.raises(InputError, match=r"dupst.csv: duplicate station ids in 'code': A"), \
            pytest.warns(DataWarning):
        layers.read_stations(dup)
    nogeo = write("nogeo.csv", "code,naam\nA,B\n")
    with pytest.raises(InputError, match=r"nogeo.csv: the file has no geometry"):
        layers.read_stations(nogeo)
    with pytest.raises(InputError, match="unknown default station type 'train'"):
        layers.read_stations(nogeo, default_type="train")


def test_ns_and_gml_broken_inputs(tmp_path):
    bad = tmp_path / "network.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match=r"network.json: the file is not valid JSON"):
        layers.read_ns_stations(bad)
    bad.write_text(json.dumps({"nodes": [], "links": []}), encoding="utf-8")
    with pytest.raises(InputError, match=r"no stations: 'nodes' is missing or empty"):
        layers.read_ns_stations(bad)
    bad.write_text(json.dumps({"nodes": [{"id": "A", "x": 121000, "y": 487000}],
                               "links": [{"source": "A", "target": "ZZ"}]}), encoding="utf-8")
    with pytest.raises(InputError, match=r"links refer to unknown stations: ZZ"):
        layers.read_ns_stations(bad)
    bad.write_text(json.dumps({"nodes": [{"id": "A", "x": 4.9, "y": 52.3}]}), encoding="utf-8")
    with pytest.raises(InputError, match=r"are not RD New"):
        layers.read_ns_stations(bad)

    g = tmp_path / "stops.gml"
    g.write_text("garbage [ [", encoding="utf-8")
    with pytest.raises(InputError, match=r"stops.gml: the file cannot be read as GML"):
        layers.read_transit_stops_gml(g)
    g.write_text('graph [ directed 1 node [ id 0 x 4.9 y 52.37 stopname "A" ] ]\n')
    with pytest.raises(InputError, match=r"stop nodes lack the attribute\(s\) routetype"):
        layers.read_transit_stops_gml(g)
    g.write_text('graph [ directed 1\n'
                 'node [ id 0 x 4.90 y 52.370 routetype 0 stopid "1" stopname "Dam" '
                 'parentstation "p1" ]\n'
                 'node [ id 1 x 4.9003 y 52.3701 routetype 0 stopid "2" stopname "Dam" '
                 'parentstation "p1" ]\n'
                 'node [ id 2 x 4.9006 y 52.3702 routetype 0 stopid "3" stopname "Dam" '
                 'parentstation "" ]\n'
                 'node [ id 3 x 4.95 y 52.37 routetype 3 stopid "4" stopname "Bus" '
                 'parentstation "" ]\n'
                 'edge [ source 0 target 3 ] ]\n')
    st = layers.read_transit_stops_gml(g)
    assert len(st) == 1 and st["n_stops"].iloc[0] == 3 and st["station_id"].iloc[0] == "p1"
    with pytest.raises(InputError, match=r"no stops of mode\(s\) metro"):
        layers.read_transit_stops_gml(g, modes=("metro",))


def test_gemeente_indicators_broken(tmp_path):
    p = tmp_path / "nl_data.json"
    p.write_text(json.dumps({"Gemeenten": {}}), encoding="utf-8")
    with pytest.raises(InputError) as e:
        layers.read_gemeente_indicators(p)
    assert "nl_data.json" in _err(e) and "no 'Gemeente' mapping" in _err(e)
    p.write_text(json.dumps({"Gemeente": {"Amsterdam": {"Population": 1}}}), encoding="utf-8")
    with pytest.raises(InputError, match="keys are not GM codes: Amsterdam"):
        layers.read_gemeente_indicators(p)
    p.write_text(json.dumps({"Gemeente": {"GM0363": {"Population": "veel"}}}), encoding="utf-8")
    with pytest.raises(InputError, match=r"column 'Population' has 1 non-numeric value"):
        layers.read_gemeente_indicators(p)


# ======================================================================================
# read_any specifics, LayerSpec / load

def test_read_any_csv_lonlat_and_wkt(tmp_path):
    p = tmp_path / "pts.csv"
    p.write_text("naam;lon;lat\nDam;4,8930;52,3731\n", encoding="utf-8")
    g = _vector.read_any(p)
    assert g.crs.to_epsg() == 28992
    assert g.geometry.iloc[0].x == pytest.approx(121_300, abs=200)
    assert g.geometry.iloc[0].y == pytest.approx(487_400, abs=200)
    w = tmp_path / "wkt.csv"
    w.write_text('id,wkt\n1,"POINT (121000 487000)"\n', encoding="utf-8")
    with pytest.warns(DataWarning, match="wkt.csv: no CRS declared"):
        g2 = _vector.read_any(w)
    assert g2.geometry.iloc[0].x == 121_000
    t = _vector.read_any(WIJK_JOBS)
    assert not isinstance(t, gpd.GeoDataFrame) and len(t) == 2808
    assert _vector.guess_crs(np.array([1e6, 1e6, 2e6, 2e6])) is None


def test_layerspec_and_load():
    spec = layers.LayerSpec(path="data/raw/cbs_wijk_banen_2014.csv", kind="jobs",
                            geometry="data/raw/cbs_wijk_centroids_2015.geojson",
                            join_on="wk_code=code", crs="EPSG:28992",
                            description="CBS employee jobs per wijk, end 2014")
    gdf = layers.load(spec, ROOT)
    assert gdf["jobs"].sum() == 7_650_364
    assert gdf.attrs["description"].startswith("CBS") and gdf.attrs["synthetic"] is False
    zspec = layers.LayerSpec(path=KWB2021, kind="zones", zero_as_missing="kwb2021")
    assert layers.load(zspec, ROOT)["dwellings"].isna().all()
    with pytest.raises(ValidationError, match="not canonical names for kind 'zones'"):
        layers.LayerSpec(path="a.gpkg", kind="zones", columns={"jobs": "banen"})
    with pytest.raises(ValidationError, match="only used with kind: jobs"):
        layers.LayerSpec(path="a.gpkg", kind="zones", geometry="b.geojson")
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        layers.LayerSpec(path="a.gpkg", kind="zones", colums={})
    with pytest.raises(ValidationError):
        layers.LayerSpec(path="a.gpkg", kind="roads")
    ns = layers.load(layers.LayerSpec(path=NS, kind="ns_stations"), ROOT)
    assert len(ns) == 395 and ns.attrs["kind"] == "stations"
    tr = layers.load(layers.LayerSpec(path="data/raw/pt_amsterdam_2022.gml",
                                      kind="transit_stops",
                                      ns_network="data/raw/ns_rail/network.json"), ROOT)
    assert "intercity" in set(tr["station_type"])


def test_pipeline_step_loads_layers_and_notes():
    from types import SimpleNamespace

    from ruimtekit._context import RunContext

    study = SimpleNamespace(layers={
        "buurten": layers.LayerSpec(path=KWB2020, kind="jobs", description="establishments"),
        "ns": layers.LayerSpec(path=NS, kind="ns_stations"),
    })
    ctx = RunContext(study=study, root=ROOT)
    layers.pipeline_step(ctx)
    assert set(ctx.layers) == {"buurten", "ns"}
    assert any("business establishments stand in for jobs" in n for n in ctx.notes)
    assert any("derived from service links" in n for n in ctx.notes)
