"""Tests for region selection (bundled offline lookups in data/raw)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from ruimtekit._errors import InputError
from ruimtekit.io import regions

RAW = Path(__file__).resolve().parents[1] / "data" / "raw"


def test_delft_by_name_and_code():
    r = regions.select_region("Delft", buffer_km=0)
    assert r.kind == "gemeente" and r.codes == ("GM0503",) and r.gemeente_codes == ("GM0503",)
    assert r.slug == "delft" and r.polygon.is_valid
    # published: gemeente Delft covers 24.06 km² (land + water); the polygons are generalised
    assert r.area_km2 == pytest.approx(24.06, rel=0.05)
    r2 = regions.select_region("gm0503", buffer_km=0)
    assert r2.polygon.equals(r.polygon)
    x0, y0, x1, y1 = r.bbox_rd  # Delft lies around x 80–90 km, y 440–452 km (RD)
    assert 78_000 < x0 < x1 < 92_000 and 438_000 < y0 < y1 < 454_000
    lon0, lat0, lon1, lat1 = r.bbox_wgs84
    assert 4.28 < lon0 < lon1 < 4.45 and 51.95 < lat0 < lat1 < 52.05


def test_buffer_grows_area_within_minkowski_bounds():
    base = regions.select_region("Delft", buffer_km=0)
    a = base.polygon.area
    p = base.polygon.length
    sizes = []
    for km in (2.0, 10.0):
        r = regions.select_region("Delft", buffer_km=km)
        m = km * 1000
        # Brunn–Minkowski lower bound and Steiner upper bound for a buffer of radius m
        lower = (math.sqrt(a) + math.sqrt(math.pi) * m) ** 2
        upper = a + p * m + math.pi * m * m
        assert lower * 0.999 <= r.buffered.area <= upper * 1.001
        assert r.buffered.contains(base.polygon.buffer(-1))
        assert set(base.catchment_gemeente_codes) <= set(r.catchment_gemeente_codes)
        sizes.append((r.buffered_area_km2, len(r.catchment_gemeente_codes)))
    assert sizes[0][0] < sizes[1][0] and sizes[0][1] < sizes[1][1]
    assert "GM0518" in regions.select_region("Delft", buffer_km=10).catchment_gemeente_codes


def test_misspelt_name_suggests_and_unknown_lists_fix():
    with pytest.raises(InputError) as exc:
        regions.select_region("Delfd")
    assert "did you mean 'Delft'" in exc.value.fix
    with pytest.raises(InputError) as exc:
        regions.select_region("Qwxzv")
    assert "unknown region 'Qwxzv'" in exc.value.problem
    assert "GM0503" in exc.value.fix and "bounding box" in exc.value.fix
    with pytest.raises(InputError, match="unknown gemeente code"):
        regions.select_region("GM9999")
    with pytest.raises(InputError, match="buffer"):
        regions.select_region("Delft", buffer_km=-1)


def test_provinces_and_corop_match_published_counts():
    # published (CBS gemeentelijke indeling 2022): Utrecht province has 26 gemeenten;
    # COROP Delft en Westland = Delft, Midden-Delfland, Westland
    u = regions.select_region("provincie Utrecht", buffer_km=0)
    assert u.kind == "provincie" and u.codes == ("PV26",)
    assert len(u.gemeente_codes) == 26 and "GM0344" in u.gemeente_codes
    assert regions.select_region("PV26", buffer_km=0).polygon.equals(u.polygon)
    assert regions.select_region("Utrecht", buffer_km=0).codes == ("GM0344",)
    c = regions.select_region("CR27", buffer_km=0)
    assert c.name == "Delft en Westland"
    assert set(c.gemeente_codes) == {"GM0503", "GM1842", "GM1783"}
    assert regions.select_region("corop Delft en Westland", buffer_km=0).polygon.equals(c.polygon)
    fr = regions.select_region("Friesland", buffer_km=0)
    assert fr.name == "provincie Fryslân" and fr.provinces == ("Fryslân",)


def test_province_tables_agree_with_topojson_lookup():
    """The hard-coded PV/CR tables map the 2015 TopoJSON codes to the postcode-lookup names."""
    topo = regions.decode_topojson(json.loads(
        (RAW / "cbs_gemeente_2015_regions.topojson").read_text(encoding="utf-8")))
    gm = regions.gemeenten()
    names = dict(zip(gm["gemeente_name"], zip(gm["provincie"], gm["corop"], strict=True),
                     strict=True))
    agree = total = 0
    for _, row in topo.iterrows():
        if row["statnaam"] in names:
            total += 1
            prov, corop = names[row["statnaam"]]
            agree += (regions.PROVINCES[row["provincie"]] == prov
                      and regions.COROPS[row["corop_gebied"]] == corop)
    assert total > 250 and agree / total > 0.97


def test_topojson_decoding_matches_2022_polygon():
    topo = regions.decode_topojson(json.loads(
        (RAW / "cbs_gemeente_2015_regions.topojson").read_text(encoding="utf-8")))
    assert len(topo) == 393 and topo.crs.to_epsg() == 4326
    old = topo[topo["statcode"] == "GM0193"].to_crs(28992).geometry.iloc[0]  # Zwolle
    new = regions.select_region("GM0193", buffer_km=0).polygon
    iou = old.intersection(new).area / old.union(new).area
    assert iou > 0.85


def test_bbox_rd_and_wgs84_and_errors():
    rd = regions.select_region("80000,443000,90000,452000", buffer_km=0)
    assert rd.kind == "bbox" and rd.area_km2 == pytest.approx(90.0)
    assert "GM0503" in rd.gemeente_codes
    ll = regions.select_region("bbox:4.32,51.96,4.41,52.03", buffer_km=0)
    assert "GM0503" in ll.gemeente_codes
    lon0, lat0, lon1, lat1 = ll.bbox_wgs84
    assert lon0 <= 4.32 + 1e-6 and lat0 <= 51.96 + 1e-6 and lon1 >= 4.41 - 1e-6
    with pytest.raises(InputError, match="outside the Netherlands"):
        regions.select_region("13.3,52.4,13.5,52.6")  # Berlin
    with pytest.raises(InputError, match="inverted"):
        regions.select_region("90000,443000,80000,452000")


def test_polygon_file_pc4_and_place(tmp_path):
    delft = regions.select_region("Delft", buffer_km=0)
    p = tmp_path / "area.gpkg"
    gpd.GeoDataFrame({"n": [1]}, geometry=[delft.polygon], crs=28992).to_crs(4326).to_file(p)
    r = regions.select_region(p, buffer_km=0)
    assert r.kind == "polygon" and r.gemeente_codes == ("GM0503",)
    assert shapely.symmetric_difference(r.polygon, delft.polygon).area < 1e-4 * delft.polygon.area
    pc = regions.select_region("2611", buffer_km=0)
    assert pc.kind == "pc4" and pc.gemeente_codes == ("GM0503",) and pc.area_km2 < 5
    assert regions.select_region("Nootdorp", buffer_km=0).codes == ("GM1926",)
    assert regions.select_region("Den Haag", buffer_km=0).codes == ("GM0518",)
    with pytest.raises(InputError, match="not found"):
        regions.select_region(tmp_path / "missing.gpkg")


def test_catchment_buffer_km_hand_computed():
    # 45 min × 80 km/h / 1.3 = 46.2 km → 50; bike 45 min × 16 / 1.25 = 9.6 → 10; walk 2.9 → 5
    assert regions.catchment_buffer_km(45, "car") == 50.0 == regions.DEFAULT_BUFFER_KM
    assert regions.catchment_buffer_km(45, "bike") == 10.0
    assert regions.catchment_buffer_km(45, "walk") == 5.0
    with pytest.raises(InputError):
        regions.catchment_buffer_km(45, "rocket")


def test_region_to_dict_is_json():
    d = regions.select_region("Delft", buffer_km=1).to_dict()
    json.dumps(d)
    assert d["gemeente_codes"] == ["GM0503"] and d["crs"] == "EPSG:28992"
