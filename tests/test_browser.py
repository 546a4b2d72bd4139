"""Real-browser test: headless Chromium loads the index and every map from a local server.

Checks per page: no JavaScript errors (an injected ``window.onerror``/``error`` collector,
read back from the dumped DOM), the expected number of rendered features (Leaflet SVG
``path.leaflet-interactive`` elements: the visible measure's zones plus unclustered markers),
and, on the choropleth, that a zone named ``<script>…<img onerror>`` shows as text in its
tooltip without executing. Screenshots are saved under ``tests/artifacts/``.

Needs Debian's ``chromium``; when missing, set-up runs ``apt-get update`` and
``apt-get install -y chromium`` and skips only when that fails. No internet is used: the
maps are built offline (Leaflet from ``lib/``, no tiles).
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

from ruimtekit import maps
from test_maps import ATTR, NOTES, PAYLOAD, amsterdam_zones, candidates, catchments, stations

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1280,900", "--virtual-time-budget=10000"]

COLLECTOR = (
    "<script>window.__rkErrors=[];window.addEventListener('error',function(e){var t=e.target;"
    "window.__rkErrors.push((e.message||('failed to load '+(t&&(t.src||t.href))))+' @'+(e.filename||'')"
    "+':'+(e.lineno||''));},true);</script>"
)
REPORT = """<script>window.addEventListener('load',function(){setTimeout(function(){
var r={errors:window.__rkErrors,paths:document.querySelectorAll('path.leaflet-interactive').length,tooltip:null};
try{var el=document.querySelector('.folium-map');if(el){var m=window[el.id];var hit=null;
m.eachLayer(function(l){if(!hit&&l.feature&&l.feature.properties&&String(l.feature.properties.n).indexOf('<')>=0)hit=l;});
if(hit){hit.openTooltip(hit.getBounds?hit.getBounds().getCenter():hit.getLatLng());
var tt=document.querySelector('.leaflet-tooltip');r.tooltip=tt?tt.textContent:null;
r.tooltipElements=tt?tt.querySelectorAll('script,img').length:-1;}}}catch(e){r.errors.push('probe: '+e);}
setTimeout(function(){r.xss=!!window.__rkXss;var d=document.createElement('pre');d.id='rk-report';
d.style.display='none';d.textContent=JSON.stringify(r);document.body.appendChild(d);},300);},500);});</script>"""


def _chromium() -> str:
    exe = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
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


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    exe = _chromium()
    z = amsterdam_zones()
    st = stations(z)
    root = tmp_path_factory.mktemp("site")
    maps.build_study_maps(
        {"accessibility": z, "candidates": candidates(z), "catchments": catchments(st)},
        root / "demo", title="Browser test", notes=NOTES, attributions=ATTR, offline=True,
        layers={"stations": st}, figures=False,
    )
    manifest = json.loads((root / "demo" / "maps.json").read_text())
    # instrument copies of the pages (the built files stay untouched)
    for page in ["index.html"] + [m["file"] for m in manifest]:
        p = root / "demo" / page
        text = p.read_text(encoding="utf-8")
        p.write_text(text.replace("<head>", "<head>" + COLLECTOR, 1).replace("</html>", REPORT + "</html>"),
                     encoding="utf-8")
    handler = functools.partial(_QuietHandler, directory=str(root / "demo"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"exe": exe, "base": f"http://127.0.0.1:{server.server_port}/", "manifest": manifest,
               "zones": z, "stations": st}
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass


def _run(exe: str, *args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as prof:
        return subprocess.run([exe, *FLAGS, f"--user-data-dir={prof}", *args], capture_output=True,
                              text=True, timeout=180)


def _report(site, page: str) -> dict:
    out = _run(site["exe"], "--dump-dom", site["base"] + page)
    m = re.search(r'<pre id="rk-report"[^>]*>(.*?)</pre>', out.stdout, re.S)
    assert m, f"no report from {page}: {out.stderr[-1500:]}"
    return json.loads(html.unescape(m.group(1)))


def _screenshot(site, page: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / f"browser_{Path(page).stem}.png"
    _run(site["exe"], f"--screenshot={target}", site["base"] + page)
    assert target.is_file() and target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return target


def test_index_page(site):
    r = _report(site, "index.html")
    assert r["errors"] == []
    assert r["paths"] == 0


def test_choropleth_renders_all_zones(site):
    r = _report(site, "accessibility.html")
    assert r["errors"] == []
    # independent oracle: zones with a geometry (measure layer shown) + 6 unclustered stations;
    # catchment outlines start hidden on a choropleth
    n_zones = int((~site["zones"].geometry.is_empty).sum())
    assert r["paths"] == n_zones + len(site["stations"])
    # the malicious zone name is shown as text and did not execute
    assert r["tooltip"] is not None and PAYLOAD in r["tooltip"]
    assert r["tooltipElements"] == 0 and r["xss"] is False
    assert _screenshot(site, "accessibility.html").stat().st_size > 20_000


def test_candidate_map(site):
    r = _report(site, "candidates.html")
    assert r["errors"] == []
    # 12 candidates + 6 stations + 2 catchment outlines (shown on the candidate map)
    assert r["paths"] == 12 + 6 + 2
    _screenshot(site, "candidates.html")
