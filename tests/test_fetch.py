"""Tests for ruimtekit fetch: sources, cache engine and study YAML (local HTTP server only).

The server on 127.0.0.1 serves the recorded responses in tests/fixtures/recorded/ (real wire
formats; see its README for what is real and what is synthetic) and can simulate failures:
HTTP errors, 5xx-then-success, truncated bodies, ignored/served Range requests, redirects.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import zipfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml

from ruimtekit._errors import InputError
from ruimtekit.io import _download, fetch, regions, sources

REC = Path(__file__).resolve().parent / "fixtures" / "recorded"
RAW = Path(__file__).resolve().parents[1] / "data" / "raw"
BUURTEN = ["BU03630000", "BU03630001", "BU03630002", "BU03630003", "BU03630004", "BU03630102"]


# --------------------------------------------------------------------------- local server
class Route:
    def __init__(self, body: bytes, ctype: str = "application/json", *, status: int = 200,
                 fail_first: int = 0, truncate_first: int = 0, redirect: str | None = None,
                 ranges: bool = True) -> None:
        self.body, self.ctype, self.status = body, ctype, status
        self.fail_first, self.truncate_first = fail_first, truncate_first
        self.redirect, self.ranges = redirect, ranges
        self.hits = 0


class Server:
    """Threaded HTTP server with a route table: '<path>' or '<path>?page=N' → Route."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.log: list[tuple[str, dict, dict]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                outer.log.append((parts.path, query, dict(self.headers)))
                key = parts.path + (f"?page={query['page'][0]}" if "page" in query else "")
                route = outer.routes.get(key) or outer.routes.get(parts.path)
                if route is None:
                    return self._send(404, b"Not Found", "text/plain")
                route.hits += 1
                if route.redirect:
                    self.send_response(302)
                    self.send_header("Location", route.redirect)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                if route.hits <= route.fail_first:
                    return self._send(503, b"Service Unavailable", "text/plain")
                if route.status != 200:
                    return self._send(route.status, b"error", "text/plain")
                body = route.body.replace(b"{BASE}", outer.url.encode()) \
                    if route.ctype.startswith("application/json") else route.body
                rng = self.headers.get("Range")
                if rng and route.ranges:
                    start = int(rng.split("=")[1].split("-")[0])
                    part = body[start:]
                    self.send_response(206)
                    self.send_header("Content-Type", route.ctype)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                    self.send_header("Content-Length", str(len(part)))
                    self.end_headers()
                    self.wfile.write(part)
                    return None
                if route.hits <= route.fail_first + route.truncate_first:
                    self.send_response(200)
                    self.send_header("Content-Type", route.ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return None
                return self._send(200, body, route.ctype)

            def do_POST(self) -> None:  # noqa: N802 - http.server API (Overpass queries)
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = urlsplit(self.path)
                outer.log.append((parts.path, parse_qs(data.decode("utf-8", "replace")),
                                  dict(self.headers)))
                route = outer.routes.get(parts.path)
                if route is None:
                    return self._send(404, b"Not Found", "text/plain")
                route.hits += 1
                if route.hits <= route.fail_first:
                    return self._send(503, b"Service Unavailable", "text/plain")
                if route.status != 200:
                    return self._send(route.status, b"error", "text/plain")
                return self._send(200, route.body, route.ctype)

            def _send(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def add(self, key: str, body: bytes | str | Path, ctype: str = "application/json",
            **kw: object) -> Route:
        if isinstance(body, Path):
            body = body.read_bytes()
        elif isinstance(body, str):
            body = body.encode()
        self.routes[key] = Route(body, ctype, **kw)  # type: ignore[arg-type]
        return self.routes[key]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    s.add("/cbs/collections/buurten/items", REC / "pdok_buurten_p1.json")
    s.add("/cbs/collections/buurten/items?page=2", REC / "pdok_buurten_p2.json")
    s.add("/statline/84799NED/TypedDataSet", REC / "statline_p1.json")
    s.add("/statline/84799NED/TypedDataSet?page=2", REC / "statline_p2.json")
    s.add("/bag/collections/verblijfsobject/items", REC / "bag_p1.json")
    s.add("/bag/collections/verblijfsobject/items?page=2", REC / "bag_p2.json")
    s.add("/osm/gelderland-latest.osm.pbf", REC / "gelderland-latest.osm.pbf",
          "application/octet-stream")
    s.add("/osm/gelderland-latest.osm.pbf.md5", REC / "gelderland-latest.osm.pbf.md5",
          "text/plain")
    s.add("/gtfs/gtfs-nl.zip", REC / "gtfs-nl.zip", "application/zip")
    s.add("/ns/stations-2023-09.csv", REC / "stations-2023-09.csv", "text/csv")
    s.add("/nsapi/stations", REC / "ns_api_stations.json")
    yield s
    s.close()


def bases(s: Server) -> dict[str, str]:
    return {n: f"{s.url}/{n}" for n in ("cbs", "statline", "bag", "osm", "gtfs", "ns", "nsapi")}


def dl_for(tmp: Path, **kw: object) -> _download.Downloader:
    opts = {"quiet": True, "max_attempts": 3, "backoff_s": 0.0, "sleep": lambda s: None}
    opts.update(kw)
    return _download.Downloader(tmp, **opts)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def amsterdam_region() -> regions.Region:
    # the six buurten of the recorded responses, as a WGS84 bbox study area (no buffer)
    return regions.select_region("4.890,52.366,4.906,52.380", buffer_km=0.0)


def prov() -> _download.Provenance:
    return sources.CATALOGUE["gtfs"].provenance()


# --------------------------------------------------------------------------- success paths
def test_full_fetch_writes_cache_metadata_checksums_and_study(server, tmp_path, amsterdam_region):
    out = tmp_path / "amsterdam"
    res = fetch.fetch_region(amsterdam_region, sources_="cbs,statline,bag,gtfs,ns", year=2020,
                             out=out, base_urls=bases(server), downloader=dl_for(out))
    # paging: both pages of each paged source were requested
    paths = [p for p, q, h in server.log]
    assert paths.count("/cbs/collections/buurten/items") == 2
    assert paths.count("/statline/84799NED/TypedDataSet") == 2
    first_cbs = next(q for p, q, h in server.log if p == "/cbs/collections/buurten/items")
    assert first_cbs["f"] == ["json"] and len(first_cbs["bbox"][0].split(",")) == 4
    flt = next(q for p, q, h in server.log if p.startswith("/statline"))["$filter"][0]
    assert "startswith(WijkenEnBuurten,'BU0363')" in flt

    # every cached file has a metadata record whose sha256 is the file's, and SHA256SUMS
    sums = dict(reversed(line.split("  ")) for line in
                (out / "SHA256SUMS").read_text().splitlines())
    for rel in ["cbs/buurten_2020.gpkg", "statline/84799NED.csv", "bag/verblijfsobject.gpkg",
                "gtfs/gtfs-nl.zip", "ns/stations-2023-09.csv", "zones_buurt.gpkg",
                "bag_kantoor_winkel.gpkg", "stations.gpkg"]:
        meta = json.loads((out / (rel + ".meta.json")).read_text())
        digest = hashlib.sha256((out / rel).read_bytes()).hexdigest()
        assert meta["sha256"] == digest == sums[rel]
        assert meta["bytes"] == (out / rel).stat().st_size
        assert meta["retrieved_utc"].endswith("Z") and meta["licence"] and meta["attribution"]
    meta = json.loads((out / "statline/84799NED.csv.meta.json").read_text())
    assert meta["licence"] == "CC BY 4.0" and meta["source"] == "statline"
    assert "AantalInwoners_5" in meta["schema"]["columns"] and meta["rows"] == 6
    gtfs_meta = json.loads((out / "gtfs/gtfs-nl.zip.meta.json").read_text())
    assert "stops.txt:stop_lat" in gtfs_meta["schema"]["columns"]

    # zones: oracle = the CBS values of the six buurten read straight from data/raw
    z = gpd.read_file(out / "zones_buurt.gpkg", layer="zones")
    kwb = pd.read_parquet(RAW / "cbs_kwb2020_amsterdam_buurten.parquet",
                          columns=["BU_CODE", "a_inw", "a_hh", "a_bedv", "g_woz", "a_woning"])
    kwb = kwb[kwb["BU_CODE"].isin(BUURTEN)].set_index("BU_CODE")
    assert sorted(z["zone_id"]) == BUURTEN
    assert z.crs.to_epsg() == 28992
    zi = z.set_index("zone_id")
    assert np.allclose(zi.loc[BUURTEN, "population"], kwb.loc[BUURTEN, "a_inw"])
    assert np.allclose(zi.loc[BUURTEN, "establishments"], kwb.loc[BUURTEN, "a_bedv"])
    assert np.allclose(zi.loc[BUURTEN, "woz_keur"], kwb.loc[BUURTEN, "g_woz"])
    assert np.allclose(zi.loc[BUURTEN, "dwellings"], kwb.loc[BUURTEN, "a_woning"])
    assert (z["gemeente_code"] == "GM0363").all() and (z["wijk_code"].str.len() == 8).all()
    inside = z.representative_point().within(amsterdam_region.polygon)
    assert (z["in_study_area"] == inside).all()

    # vacancy input: hand-checked from the synthetic BAG fixture (8 objects)
    v = gpd.read_file(out / "bag_kantoor_winkel.gpkg", layer="vacancy")
    assert "vacant_since" not in v.columns
    got = sorted(zip(v["object_id"], v["function"], v["floor_area_m2"].fillna(-1), strict=True))
    assert got == [("0363010000900001", "kantoor", 420.0),
                   ("0363010000900003", "winkel", 130.0),
                   ("0363010000900004", "winkel", 160.0),
                   ("0363010000900005", "winkel", 90.0),
                   ("0363010000900007", "kantoor", -1)]  # oppervlakte 0 → NaN
    assert not v["synthetic"].any()

    # study YAML: plain mapping, paths relative to the study file and existing
    study = yaml.safe_load(res.study_path.read_text())
    assert study["name"] == res.region.slug.replace("-", "_")
    assert {k: v for k, v in study["layers"]["zones"].items() if k != "description"} == {
        "path": "zones_buurt.gpkg", "kind": "zones", "level": "buurt", "layer": "zones"}
    assert study["layers"]["catchment"]["layer"] == "catchment"
    assert len(gpd.read_file(out / "zones_buurt.gpkg", layer="catchment")) == 6
    assert study["accessibility"] == []  # no street network fetched in this run
    assert study["transit"][0]["opportunity_column"] == "establishments_proxy"
    for spec in list(study["layers"].values()) + list(study["networks"].values()):
        assert (res.study_path.parent / spec["path"]).exists()
    assert study["networks"]["transit"] == {"path": "gtfs/gtfs-nl.zip", "kind": "gtfs"}
    assert "Bron: CBS" in study["attribution"]
    man = json.loads((out / "fetch_manifest.json").read_text())
    assert {f["file"] for f in man["files"]} >= {"statline/84799NED.csv", "zones_buurt.gpkg"}

    # a second run uses the cache only: no new requests
    n = len(server.log)
    fetch.fetch_region(amsterdam_region, sources_="cbs,statline,bag,gtfs,ns", year=2020,
                       out=out, base_urls=bases(server), downloader=dl_for(out))
    assert len(server.log) == n


def test_offline_with_cache_and_without(server, tmp_path, amsterdam_region):
    out = tmp_path / "c"
    fetch.fetch_region(amsterdam_region, sources_="cbs,ns", year=2020, out=out,
                       base_urls=bases(server), downloader=dl_for(out))
    n = len(server.log)
    res = fetch.fetch_region(amsterdam_region, sources_="cbs,ns", year=2020, out=out,
                             base_urls=bases(server), downloader=dl_for(out, offline=True))
    assert len(server.log) == n and res.layers["zones"].exists()
    with pytest.raises(InputError) as exc:
        fetch.fetch_region(amsterdam_region, sources_="statline", year=2020, out=out,
                           base_urls=bases(server), downloader=dl_for(out, offline=True))
    msg = str(exc.value)
    assert "offline" in msg and "statline" in msg and "/statline/84799NED/TypedDataSet" in msg
    assert "without --offline" in exc.value.fix
    assert len(server.log) == n


def _renkum_region() -> regions.Region:
    # the western part of the highways in the recorded Renkum extract (5.735–5.742 E)
    region = regions.select_region("5.725,51.966,5.7375,51.990", buffer_km=0.0)
    return regions.Region(**{**region.__dict__, "provinces": ("Gelderland",)})


def test_osm_geofabrik_md5_and_clip(server, tmp_path):
    from ruimtekit.network import _osm

    region = _renkum_region()
    out = tmp_path / "w"
    res = fetch.fetch_region(region, sources_="osm", out=out, osm_method="geofabrik",
                             base_urls=bases(server), downloader=dl_for(out))
    e = res.entries["osm"][0]
    assert e.meta["md5"] == (REC / "gelderland-latest.osm.pbf.md5").read_text().split()[0]
    assert e.path.read_bytes() == (REC / "gelderland-latest.osm.pbf").read_bytes()
    # oracle: the ways of the full extract with a vertex inside the catchment bbox
    full = _osm.read_osm_ways(e.path)
    clipped = _osm.read_osm_ways(res.layers["osm"])
    x0, y0, x1, y1 = region.bbox_wgs84
    inside = (full.lon >= x0) & (full.lon <= x1) & (full.lat >= y0) & (full.lat <= y1)
    seg = np.repeat(np.arange(len(full.way_id)), np.diff(full.offsets))
    expect = set(full.way_id[np.unique(seg[inside])].tolist())
    assert 0 < len(expect) < len(set(full.way_id.tolist()))
    assert set(clipped.way_id.tolist()) == expect
    # whole ways are kept: same vertices as in the full extract
    w = next(iter(expect))
    fi = int(np.flatnonzero(full.way_id == w)[0])
    ci = int(np.flatnonzero(clipped.way_id == w)[0])
    assert np.array_equal(full.node_ref[full.offsets[fi]:full.offsets[fi + 1]],
                          clipped.node_ref[clipped.offsets[ci]:clipped.offsets[ci + 1]])
    assert clipped.tags[ci] == full.tags[fi]
    study = yaml.safe_load(res.study_path.read_text())
    assert study["networks"]["bike"] == {"path": f"osm/{region.slug}_catchment.osm.pbf",
                                         "kind": "osm", "mode": "bike"}
    assert study["accessibility"] == []  # no zones fetched in this run


WATERGRAAFSMEER = "4.925,52.339,4.9405,52.3478"  # bbox of the recorded Overpass response


def test_osm_overpass_via_osmnx(server, tmp_path):
    """A small catchment fetches each mode's network from Overpass (osmnx POSTs its query
    to <base>/interpreter); the GraphML loads as a network inside the region; a second run
    uses the cache; offline works from the cache."""
    from ruimtekit.network import networks

    server.add("/overpass/interpreter", REC / "overpass_watergraafsmeer.json")
    region = regions.select_region(WATERGRAAFSMEER, buffer_km=0.0)
    out = tmp_path / "w"
    urls = {**bases(server), "overpass": f"{server.url}/overpass"}
    res = fetch.fetch_region(region, sources_="osm", out=out, osm_method="auto",
                             base_urls=urls, downloader=dl_for(out))
    posts = [q for p, q, _ in server.log if p == "/overpass/interpreter"]
    assert len(posts) == len(fetch.MODES)
    query = posts[0]["data"][0]
    assert query.startswith("[out:json]") and '["highway"]' in query and "poly:" in query
    bike = next(e for e in res.entries["osm"] if e.path.name == "overpass_bike.graphml")
    # the graph is built from the served response: its node and way ids are the recorded ones
    rec = json.loads((REC / "overpass_watergraafsmeer.json").read_text())["elements"]
    rec_nodes = {e["id"] for e in rec if e["type"] == "node"}
    rec_ways = {e["id"] for e in rec if e["type"] == "way"}
    g = networks.load_network(bike.path, "bike", kind="graphml")
    assert 20 <= g.n_nodes <= len(rec_nodes) and g.n_edges >= g.n_nodes
    assert set(np.asarray(g.node_ids).astype(int).tolist()) <= rec_nodes
    import networkx as nx

    raw = nx.read_graphml(bike.path)
    way_ids = {int(w) for _, _, d in raw.edges(data=True)
               for w in str(d["osmid"]).strip("[]").split(",")}
    assert way_ids <= rec_ways and len(way_ids) >= 10
    x0, y0, x1, y1 = region.buffered.bounds
    assert (g.x >= x0 - 1).all() and (g.x <= x1 + 1).all()
    assert (g.y >= y0 - 1).all() and (g.y <= y1 + 1).all()
    study = yaml.safe_load(res.study_path.read_text())
    assert study["networks"]["bike"] == {"path": "osm/overpass_bike.graphml", "kind": "graphml",
                                         "mode": "bike"}
    # cached: no new query; offline: from the cache, and a clear error without it
    fetch.fetch_region(region, sources_="osm", out=out, osm_method="overpass", base_urls=urls,
                       downloader=dl_for(out))
    assert len([1 for p, _, _ in server.log if p == "/overpass/interpreter"]) == len(fetch.MODES)
    off = sources.fetch_osm_overpass(dl_for(out, offline=True), region, "bike", base_urls=urls)
    assert off.path == bike.path
    with pytest.raises(InputError, match="offline"):
        sources.fetch_osm_overpass(dl_for(tmp_path / "empty", offline=True), region, "bike",
                                   base_urls=urls)


def test_osm_overpass_failure_is_a_clear_error_after_bounded_retries(server, tmp_path):
    server.add("/overpass/interpreter", b"error", "text/plain", status=500)
    region = regions.select_region(WATERGRAAFSMEER, buffer_km=0.0)
    with pytest.raises(InputError, match="Overpass request to .* failed") as exc:
        sources.fetch_osm_overpass(dl_for(tmp_path), region, "bike",
                                   base_urls={"overpass": f"{server.url}/overpass"})
    assert "--osm-method geofabrik" in str(exc.value)
    assert server.routes["/overpass/interpreter"].hits == 3  # max_attempts
    assert not (tmp_path / "osm" / "overpass_bike.graphml").exists()


def test_osm_md5_mismatch_is_an_error(server, tmp_path):
    server.add("/osm/gelderland-latest.osm.pbf.md5", "0" * 32 + "  gelderland-latest.osm.pbf\n",
               "text/plain")
    region = _renkum_region()
    with pytest.raises(InputError, match="checksum mismatch"):
        sources.fetch_osm_geofabrik(dl_for(tmp_path), region, base_urls=bases(server))
    assert not (tmp_path / "osm" / "gelderland-latest.osm.pbf").exists()


def test_ns_stations_clipped_to_catchment_and_api_key(server, tmp_path, monkeypatch):
    region = regions.select_region("'s-Hertogenbosch", buffer_km=5.0)
    out = tmp_path / "n"
    res = fetch.fetch_region(region, sources_="ns", out=out, base_urls=bases(server),
                             downloader=dl_for(out))
    st = gpd.read_file(res.layers["stations"], layer="stations")
    # hand-checked: HT and HTO are in 's-Hertogenbosch, 't Harde (HDE) is 120 km away
    assert sorted(st["station_id"]) == ["HT", "HTO"]
    assert dict(zip(st["station_id"], st["station_type"], strict=True)) == {
        "HT": "intercity", "HTO": "sprinter"}
    study = yaml.safe_load(res.study_path.read_text())
    assert study["layers"]["stations"] == {"path": "stations.gpkg", "kind": "stations",
                                           "layer": "stations"}
    monkeypatch.setenv("NS_API_KEY", "secret-key")
    out2 = tmp_path / "n2"
    res2 = fetch.fetch_region(region, sources_="ns", out=out2, base_urls=bases(server),
                              downloader=dl_for(out2))
    hdr = next(h for p, q, h in server.log if p == "/nsapi/stations")
    assert hdr.get("Ocp-Apim-Subscription-Key") == "secret-key"
    st2 = gpd.read_file(res2.layers["stations"], layer="stations")
    assert dict(zip(st2["station_id"], st2["station_type"], strict=True)) == {
        "HT": "intercity", "HTO": "sprinter"}


def test_env_var_overrides_base_url(server, tmp_path, monkeypatch):
    monkeypatch.setenv("RUIMTEKIT_SOURCE_BASE_URL_GTFS", f"{server.url}/gtfs")
    assert sources.base_url("gtfs") == f"{server.url}/gtfs"
    e = sources.fetch_gtfs(dl_for(tmp_path))
    assert e.meta["url"] == f"{server.url}/gtfs/gtfs-nl.zip"
    assert sources.base_url("cbs", 2021).endswith("/wijken-en-buurten-2021/ogc/v1")


# --------------------------------------------------------------------------- failures
def test_http_404_is_a_clear_error(server, tmp_path):
    with pytest.raises(InputError) as exc:
        sources.fetch_gtfs(dl_for(tmp_path), base_urls={"gtfs": f"{server.url}/missing"})
    msg = str(exc.value)
    assert "HTTP 404" in msg and "/missing/gtfs-nl.zip" in msg and "gtfs" in msg
    assert "RUIMTEKIT_SOURCE_BASE_URL_GTFS" in exc.value.fix
    assert not list(tmp_path.rglob("*.zip"))


def test_500_then_success_retries_bounded(server, tmp_path):
    r = server.add("/gtfs/gtfs-nl.zip", REC / "gtfs-nl.zip", "application/zip", fail_first=2)
    e = sources.fetch_gtfs(dl_for(tmp_path, max_attempts=3), base_urls=bases(server))
    assert r.hits == 3 and e.path.read_bytes() == (REC / "gtfs-nl.zip").read_bytes()
    # the same for JSON pages (paged OGC source)
    server.add("/cbs/collections/buurten/items?page=2", REC / "pdok_buurten_p2.json",
               fail_first=1)
    region = regions.select_region("4.890,52.366,4.906,52.380", buffer_km=0.0)
    e2 = sources.fetch_cbs_buurten(dl_for(tmp_path / "b"), region, 2020, base_urls=bases(server))
    assert e2.meta["features"] == 6 and e2.meta["pages"] == 2
    # bounded: always failing → error after exactly max_attempts requests
    r = server.add("/gtfs/gtfs-nl.zip", REC / "gtfs-nl.zip", "application/zip", fail_first=99)
    with pytest.raises(InputError, match="503"):
        sources.fetch_gtfs(dl_for(tmp_path / "x", max_attempts=3), base_urls=bases(server))
    assert r.hits == 3


def test_backoff_is_exponential_and_bounded(server, tmp_path):
    server.add("/gtfs/gtfs-nl.zip", REC / "gtfs-nl.zip", "application/zip", fail_first=99)
    delays: list[float] = []
    dl = dl_for(tmp_path, max_attempts=4, backoff_s=0.5, sleep=delays.append)
    with pytest.raises(InputError):
        sources.fetch_gtfs(dl, base_urls=bases(server))
    assert delays == [0.5, 1.0, 2.0]


def test_truncated_download_errors_then_resumes_with_range(server, tmp_path):
    body = (REC / "gtfs-nl.zip").read_bytes()
    r = server.add("/gtfs/gtfs-nl.zip", body, "application/zip", truncate_first=1)
    with pytest.raises(InputError) as exc:
        sources.fetch_gtfs(dl_for(tmp_path, max_attempts=1), base_urls=bases(server))
    assert "truncated" in exc.value.problem and f"of {len(body)} bytes" in exc.value.problem
    part = tmp_path / "gtfs" / "gtfs-nl.zip.part"
    assert part.exists() and part.stat().st_size == len(body) // 2
    assert not (tmp_path / "gtfs" / "gtfs-nl.zip").exists()
    e = sources.fetch_gtfs(dl_for(tmp_path, max_attempts=1), base_urls=bases(server))
    last = [h for p, q, h in server.log if p == "/gtfs/gtfs-nl.zip"][-1]
    assert last.get("Range") == f"bytes={len(body) // 2}-"
    assert e.path.read_bytes() == body and not part.exists() and r.hits == 2
    # within one call (attempts > 1) the truncation is resumed automatically
    server.add("/gtfs/gtfs-nl.zip", body, "application/zip", truncate_first=1)
    e2 = sources.fetch_gtfs(dl_for(tmp_path / "auto", max_attempts=2), base_urls=bases(server))
    assert e2.path.read_bytes() == body


def test_server_ignoring_range_restarts_from_zero(server, tmp_path):
    body = (REC / "gtfs-nl.zip").read_bytes()
    server.add("/gtfs/gtfs-nl.zip", body, "application/zip", truncate_first=1, ranges=False)
    e = sources.fetch_gtfs(dl_for(tmp_path, max_attempts=2), base_urls=bases(server))
    assert e.path.read_bytes() == body


def test_checksum_mismatch_expected_and_recorded(server, tmp_path):
    with pytest.raises(InputError, match="checksum mismatch") as exc:
        sources.fetch_gtfs(dl_for(tmp_path), base_urls=bases(server), expected_sha256="ab" * 32)
    assert "ab" * 32 in exc.value.problem
    assert not (tmp_path / "gtfs" / "gtfs-nl.zip").exists()
    good = hashlib.sha256((REC / "gtfs-nl.zip").read_bytes()).hexdigest()
    e = sources.fetch_gtfs(dl_for(tmp_path), base_urls=bases(server), expected_sha256=good)
    # the cached file is altered afterwards → its recorded checksum no longer matches
    with open(e.path, "ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(InputError) as exc:
        sources.fetch_gtfs(dl_for(tmp_path, offline=True), base_urls=bases(server))
    assert "checksum mismatch" in exc.value.problem and good in exc.value.problem
    assert "--refresh" in exc.value.fix


def test_changed_columns_schema_error_names_missing_and_found(server, tmp_path):
    doc = json.loads((REC / "statline_p2.json").read_text())
    for row in doc["value"]:
        row["Inwoners_5"] = row.pop("AantalInwoners_5")
    server.add("/statline/84799NED/TypedDataSet", json.dumps(doc))
    region = regions.select_region("4.890,52.366,4.906,52.380", buffer_km=0.0)
    with pytest.raises(InputError) as exc:
        sources.fetch_statline_kwb(dl_for(tmp_path), region, 2020, base_urls=bases(server))
    msg = exc.value.problem
    assert "missing column(s) AantalInwoners" in msg and "Inwoners" in msg
    assert "HuishoudensTotaal" in msg  # the columns found are listed
    # GTFS: a stops.txt without stop_lat
    buf = tmp_path / "bad.zip"
    with zipfile.ZipFile(REC / "gtfs-nl.zip") as src, zipfile.ZipFile(buf, "w") as dst:
        for n in src.namelist():
            data = src.read(n)
            if n == "stops.txt":
                data = data.replace(b"stop_lat", b"latitude", 1)
            dst.writestr(n, data)
    server.add("/gtfs/gtfs-nl.zip", buf, "application/zip")
    with pytest.raises(InputError) as exc:
        sources.fetch_gtfs(dl_for(tmp_path / "g"), base_urls=bases(server))
    assert "stop_lat" in exc.value.problem and "latitude" in exc.value.problem
    assert not (tmp_path / "g" / "gtfs" / "gtfs-nl.zip").exists()


def test_redirect_is_followed_and_recorded(server, tmp_path):
    server.add("/old/gtfs-nl.zip", b"", redirect=f"{server.url}/gtfs/gtfs-nl.zip")
    e = sources.fetch_gtfs(dl_for(tmp_path), base_urls={"gtfs": f"{server.url}/old"})
    assert e.meta["final_url"] == f"{server.url}/gtfs/gtfs-nl.zip"
    assert e.path.read_bytes() == (REC / "gtfs-nl.zip").read_bytes()


def test_paging_loop_and_short_paging_are_errors(server, tmp_path):
    p1 = json.loads((REC / "pdok_buurten_p1.json").read_text())
    loop = dict(p1, links=[{"rel": "next", "href": "{BASE}/cbs/collections/buurten/items"}])
    server.add("/cbs/collections/buurten/items", json.dumps(loop))
    with pytest.raises(InputError, match="paging does not end"):
        sources.ogc_items(dl_for(tmp_path), prov(), f"{server.url}/cbs/collections/buurten/items",
                          {"f": "json"})
    short = dict(p1, links=[])
    server.add("/cbs/collections/buurten/items", json.dumps(short))
    with pytest.raises(InputError, match="numberMatched=6"):
        sources.ogc_items(dl_for(tmp_path), prov(), f"{server.url}/cbs/collections/buurten/items",
                          {"f": "json"})


def test_html_instead_of_json_is_an_error(server, tmp_path):
    server.add("/cbs/collections/buurten/items", "<html>maintenance</html>", "text/html")
    with pytest.raises(InputError, match="did not return JSON"):
        sources.ogc_items(dl_for(tmp_path), prov(), f"{server.url}/cbs/collections/buurten/items",
                          {"f": "json"})


def test_parse_sources_and_sentinels():
    assert fetch.parse_sources("cbs, osm") == ["cbs", "osm"]
    assert fetch.parse_sources(None) == list(sources.SOURCE_NAMES)
    with pytest.raises(InputError, match="did you mean 'statline'"):
        fetch.parse_sources("statlin")
    v = fetch._numeric(pd.Series([12, -99997, "-99995", 3.5, None]))
    assert v.isna().tolist() == [False, True, True, False, True]


def test_ns_api_type_names():
    assert fetch._ns_api_type("MEGA_STATION") == "megastation"
    assert fetch._ns_api_type("KNOOPPUNT_INTERCITY_STATION") == "knooppuntIntercitystation"
    assert fetch._ns_api_type("STOPTREIN_STATION") == "stoptreinstation"
    assert fetch._ns_api_type("FACULTATIEF_STATION") == "facultatiefStation"


def _study_module():
    try:
        from ruimtekit import study
    except Exception as exc:  # the study model is assembled from other modules
        pytest.skip(f"ruimtekit.study not importable in this tree: {exc}")
    return study


def test_generated_study_validates(server, tmp_path, amsterdam_region):
    study = _study_module()
    out = tmp_path / "s"
    res = fetch.fetch_region(amsterdam_region, sources_="cbs,statline,bag,gtfs,ns", year=2020,
                             out=out, base_urls=bases(server), downloader=dl_for(out))
    s = study.validate_study(yaml.safe_load(res.study_path.read_text()), res.study_path)
    assert set(s.layers) == {"zones", "catchment", "vacancy"}  # no station in this bbox
    out2 = tmp_path / "o"
    res2 = fetch.fetch_region(_renkum_region(), sources_="osm", out=out2, osm_method="geofabrik",
                              base_urls=bases(server), downloader=dl_for(out2))
    s2 = study.validate_study(yaml.safe_load(res2.study_path.read_text()), res2.study_path)
    assert set(s2.networks) == {"walk", "bike", "car"}


def test_cli_fetch(server, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from ruimtekit.cli import app

    monkeypatch.setenv("RUIMTEKIT_SOURCE_BASE_URL_NS", f"{server.url}/ns")
    runner = CliRunner()
    out = tmp_path / "den_bosch"
    r = runner.invoke(app, ["fetch", "'s-Hertogenbosch", "--buffer-km", "5", "--sources", "ns",
                            "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    assert (out / "stations.gpkg").exists() and (out / "study.yaml").exists()
    r = runner.invoke(app, ["fetch", "'s-Hertogenbosch", "--sources", "statline", "--out",
                            str(out), "--offline", "--quiet"])
    assert r.exit_code == 2 and "offline" in r.output
    r = runner.invoke(app, ["fetch", "Delfd", "--quiet", "--out", str(out)])
    assert r.exit_code == 2 and "Delft" in r.output


def test_cbs_zip_download_reads_gpkg_inside(server, tmp_path, amsterdam_region):
    # the national wijk- en buurtkaart layout: a zip holding a GeoPackage with layer buurten
    # and the CBS short column names (bu_code, bu_naam, gm_code, ...)
    feats = json.loads((REC / "pdok_buurten_p1.json").read_text())["features"]
    gdf = gpd.GeoDataFrame.from_features(feats, crs=4326).to_crs(28992)
    gdf = gdf.rename(columns={"buurtcode": "BU_CODE", "buurtnaam": "BU_NAAM",
                              "gemeentecode": "GM_CODE", "wijkcode": "WK_CODE"})
    gp = tmp_path / "wijkenbuurten_2020_v1.gpkg"
    gdf.to_file(gp, layer="buurten", driver="GPKG")
    zp = tmp_path / "WijkBuurtkaart_2020_v1.zip"
    with zipfile.ZipFile(zp, "w") as z:
        z.write(gp, f"WijkBuurtkaart_2020_v1/{gp.name}")
    server.add("/cbszip/WijkBuurtkaart_2020_v1.zip", zp, "application/zip")
    out = tmp_path / "cache"
    e = sources.fetch_cbs_buurten_zip(dl_for(out), amsterdam_region, 2020,
                                      base_urls={"cbs_zip": f"{server.url}/cbszip"})
    got = gpd.read_file(e.path, layer="buurten")
    assert sorted(got["buurtcode"]) == BUURTEN[:4] and got.crs.to_epsg() == 28992
    assert e.meta["zip_member"].endswith(".gpkg") and e.meta["features"] == 4
    # a zip without a GeoPackage is a clear error
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("readme.txt", "no data")
    server.add("/cbszip/WijkBuurtkaart_2020_v1.zip", bad, "application/zip")
    with pytest.raises(InputError, match="no GeoPackage"):
        sources.fetch_cbs_buurten_zip(dl_for(tmp_path / "c2"), amsterdam_region, 2020,
                                      base_urls={"cbs_zip": f"{server.url}/cbszip"})
