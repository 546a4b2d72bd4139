"""Real-browser test: headless Chromium (DevTools protocol over a pipe) clicks through the maps.

One Chromium serves the whole module (:class:`ruimtekit.report._browser.Chromium`); the maps are
built from real Amsterdam buurten (synthetic measures: car, bike, decay), candidates,
stations and catchments, and served by a local HTTP server. Every other host resolves to
"not found", as on an offline machine, so the PDOK base map fails and the fallback shows.

Checked by interaction (mouse clicks dispatched through the protocol, not by counting
features alone):

* switching measures with the radio buttons draws exactly one measure layer (SVG paths of
  class ``rk-m-<i>``) and the legend shows that measure; Leaflet's own layer control no
  longer lists measures, so it cannot re-add one;
* clicking a zone opens its popup; a zone named ``<script>…<img onerror>`` shows as text;
* candidates: the top list has a row per candidate, sorting by a column header reorders it,
  clicking a row zooms to that candidate and opens its popup with the reasons;
* the base-map fallback is announced; no control covers the title; no script errors.

Needs Debian's ``chromium``; when missing, set-up runs ``apt-get install -y chromium`` and
skips only when that fails. Screenshots: ``tests/artifacts/browser_*.png``.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from ruimtekit.report import _browser, maps
from test_maps import ATTR, NOTES, PAYLOAD, amsterdam_zones, candidates, catchments, stations

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CAR_NOTE = "accessibility test (car): crow-fly impedance model"
NS_NOTE = "ns_stations: station_type derived from service links (NS open data has no station type)"


def _chromium() -> str:
    exe = _browser.find_chromium()
    if exe:
        return exe
    try:
        subprocess.run(["apt-get", "update"], check=True, capture_output=True, timeout=300)
        subprocess.run(["apt-get", "install", "-y", "chromium"], check=True, capture_output=True, timeout=600,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"headless Chromium is not installed and `apt-get install -y chromium` failed: {exc}")
    exe = shutil.which("chromium")
    if not exe:
        pytest.skip("`apt-get install -y chromium` ran but no chromium executable was found")
    return exe


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    exe = _chromium()
    z = amsterdam_zones()
    st = stations(z)
    cand = candidates(z)
    root = tmp_path_factory.mktemp("site")
    maps.build_study_maps(
        {"accessibility": z, "candidates": cand, "catchments": catchments(st)},
        root / "demo", page=maps.MapPage(title="Browser test study", notes=[*NOTES, CAR_NOTE, NS_NOTE],
                                         attributions=ATTR),
        config=maps.MapsConfig(offline=True, figures=False), layers={"stations": st},
    )
    handler = functools.partial(_QuietHandler, directory=str(root / "demo"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    browser = _browser.Chromium(exe)
    try:
        yield {"browser": browser, "base": f"http://127.0.0.1:{server.server_port}/", "zones": z,
               "stations": st, "candidates": cand,
               "manifest": json.loads((root / "demo" / "maps.json").read_text())}
    finally:
        browser.close()
        server.shutdown()
        server.server_close()


def _open(site, page: str) -> _browser.Chromium:
    c = site["browser"]
    _browser.script_errors(c)
    c.goto(site["base"] + page, settle_ms=600)
    return c


def _shot(c: _browser.Chromium, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    png = c.screenshot(ARTIFACTS / f"browser_{name}.png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_index_page(site):
    c = _open(site, "index.html")
    assert _browser.script_errors(c) == []
    links = c.eval("Array.prototype.map.call(document.querySelectorAll('.card h2 a'), a => a.getAttribute('href'))")
    assert sorted(links) == ["accessibility.html", "candidates.html"]
    # every note has an anchor the maps link to
    assert c.eval(f"!!document.getElementById({json.dumps(maps.note_anchor(CAR_NOTE))})")


def test_measure_switch_is_exclusive_and_legend_follows(site):
    c = _open(site, "accessibility.html")
    st = _browser.map_state(c)
    n_zones = int((~site["zones"].geometry.is_empty).sum())
    labels = [r["label"] for r in st["radios"]]
    assert labels[:2] == ["jobs within 45 min (car)", "jobs within 45 min (bike)"] and len(labels) == 3
    assert st["measures"] == {"0": n_zones}  # the main measure only, every zone drawn
    assert st["legend"][0] == "jobs within 45 min (car)"
    # Leaflet's layer control lists base maps and overlays, never a measure
    ctl = c.eval("document.querySelector('.leaflet-control-layers:not(.rk-measures)').textContent")
    assert "stations" in ctl and "PDOK" in ctl and not any(lab in ctl for lab in labels)
    clicks = _browser.switch_measures(c)  # raises with the details when a click goes wrong
    assert [k["index"] for k in clicks] == [1, 2, 0]
    # the bug of issue #18: car shown, click bike -> both were drawn; now only bike
    c.click(".rk-measures label:nth-of-type(2) input")
    st = _browser.map_state(c)
    assert st["measures"] == {"1": n_zones} and st["legend"][0] == "jobs within 45 min (bike)"
    assert [r["checked"] for r in st["radios"]] == [False, True, False]
    # clicking the checked one again changes nothing
    c.click(".rk-measures label:nth-of-type(2) input")
    assert _browser.map_state(c)["measures"] == {"1": n_zones}
    c.eval("new Promise(r => setTimeout(r, 300))")
    _shot(c, "accessibility_bike")
    assert _browser.script_errors(c) == []


def test_notes_follow_the_visible_measure(site):
    c = _open(site, "accessibility.html")
    st = _browser.map_state(c)
    assert CAR_NOTE in st["notes"] and NOTES[0] in st["notes"]
    assert NS_NOTE not in st["notes"]  # not about a car or bike measure
    c.click(".rk-measures label:nth-of-type(2) input")  # bike
    st = _browser.map_state(c)
    assert CAR_NOTE not in st["notes"] and NOTES[0] in st["notes"]
    # the panel is collapsed at first and opens on a click; each note links to the index
    assert c.eval("document.querySelector('.rk-notes details').open") is False
    c.click(".rk-notes summary")
    assert c.eval("document.querySelector('.rk-notes details').open") is True
    href = c.eval("document.querySelector('.rk-note a').getAttribute('href')")
    assert href == f"index.html#{maps.note_anchor(NOTES[0])}"


def test_legend_follows_overlay_checkbox(site):
    c = _open(site, "accessibility.html")
    assert "stations" in _browser.map_state(c)["legend"]
    c.click(".leaflet-control-layers-toggle")  # the collapsed control opens on hover
    c.eval("new Promise(r => setTimeout(r, 300))")
    assert c.eval("document.querySelector('.leaflet-control-layers:not(.rk-measures)')"
                  ".classList.contains('leaflet-control-layers-expanded')")
    idx = c.eval("Array.prototype.findIndex.call(document.querySelectorAll('.leaflet-control-layers-overlays label'),"
                 " l => l.textContent.indexOf('stations') >= 0)")
    assert idx >= 0
    c.click(f".leaflet-control-layers-overlays label:nth-of-type({idx + 1}) input")
    st = _browser.map_state(c)
    assert "stations" not in st["legend"] and st["stations"] == 0
    assert list(st["measures"]) == ["0"]  # the measure stays


def test_popup_opens_on_click_and_escapes(site):
    c = _open(site, "accessibility.html")
    # a point inside a zone: the centre of a zone path that is the top element there
    pt = c.eval("""(function(){var ps = document.querySelectorAll('path.rk-m-0');
      for (var i = 0; i < ps.length; i++) { var r = ps[i].getBoundingClientRect();
        var x = r.left + r.width / 2, y = r.top + r.height / 2;
        if (r.width > 8 && document.elementFromPoint(x, y) === ps[i]) return [x, y]; } return null; })()""")
    assert pt, "no clickable zone found"
    for kind in ("mousePressed", "mouseReleased"):
        c.send("Input.dispatchMouseEvent", {"type": kind, "x": pt[0], "y": pt[1], "button": "left", "clickCount": 1})
    popup = _browser.map_state(c)["popup"]
    assert popup and "jobs within 45 min (car)" in popup and "inhabitants" in popup  # info column too
    # the zone named <script>… shows as text in its popup and did not run
    c.eval("""(function(){var m = rkMaps[Object.keys(rkMaps)[0]].map; var hit = null;
      m.eachLayer(function(l){ if (!hit && l.feature && String(l.feature.properties.n).indexOf('<') >= 0 && l._path) hit = l; });
      hit.openPopup(hit.getBounds().getCenter()); })()""")
    text = c.eval("document.querySelector('.leaflet-popup-content').textContent")
    assert PAYLOAD in text
    assert c.eval("document.querySelectorAll('.leaflet-popup-content script, .leaflet-popup-content img').length") == 0
    assert c.eval("!!window.__rkXss") is False


def test_basemap_fallback_and_title(site):
    c = _open(site, "accessibility.html")
    st = _browser.map_state(c)
    assert "unavailable (offline?)" in st["status"]
    assert st["title"] == "Job accessibility"
    assert st["titleCoveredBy"] == []
    assert c.eval("document.querySelector('.rk-study').textContent") == "Browser test study"
    # the layer control now has "no background" selected
    checked = c.eval("Array.prototype.filter.call(document.querySelectorAll('.leaflet-control-layers-base label'),"
                     " l => l.querySelector('input').checked).map(l => l.textContent.trim())")
    assert checked == ["no background"]


def test_candidate_map_list_zooms(site):
    c = _open(site, "candidates.html")
    st = _browser.map_state(c)
    cand = site["candidates"]
    assert st["candidates"] == len(cand) and st["stations"] == len(site["stations"])
    assert st["listRows"] == min(len(cand), maps.TOP_N)
    assert st["titleCoveredBy"] == [] and st["legend"][0].endswith("by rank")
    first = c.eval("document.querySelector('#rk-list tbody tr td:nth-child(2)').textContent")
    assert first == "1"
    # sort by score (ascending on the first click): the worst candidate comes first
    c.click("#rk-list th:nth-child(3)")
    assert c.eval("document.querySelector('#rk-list tbody tr td:nth-child(2)').textContent") == str(len(cand))
    c.click("#rk-list th:nth-child(3)")
    assert c.eval("document.querySelector('#rk-list tbody tr td:nth-child(2)').textContent") == "1"
    c.eval("rkMaps[Object.keys(rkMaps)[0]].map.setZoom(12, {animate: false}) && null")  # zoomed out, as a user might
    zoom0 = c.eval("rkMaps[Object.keys(rkMaps)[0]].map.getZoom()")
    c.click("#rk-list tbody tr:nth-child(3)")  # rank 3
    c.eval("new Promise(r => setTimeout(r, 400))")
    view = c.eval("(function(){var m = rkMaps[Object.keys(rkMaps)[0]].map; var ce = m.getCenter();"
                  " return [m.getZoom(), ce.lat, ce.lng];})()")
    assert view[0] >= maps.LIST_ZOOM > zoom0
    import geopandas as gpd

    p = gpd.GeoSeries(cand.geometry[cand["rank"] == 3].values, crs=28992).to_crs(4326).iloc[0]
    assert abs(view[1] - p.y) < 1e-4 and abs(view[2] - p.x) < 1e-4
    popup = _browser.map_state(c)["popup"]
    assert popup and "vacant shop #2" in popup and "rank" in popup  # rank 3 = row #2: its reason
    _shot(c, "candidates_zoomed")
    assert _browser.script_errors(c) == []
