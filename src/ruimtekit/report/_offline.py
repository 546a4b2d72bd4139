"""Offline web-map assets: Leaflet and Leaflet.markercluster served from ``maps/<study>/lib/``.

folium references Leaflet, jQuery, Bootstrap and Font Awesome on CDNs. ruimtekit's maps
use only Leaflet (and Leaflet.markercluster for large point layers): in offline mode the
files vendored in ``ruimtekit/_assets/`` (from the npm packages ``leaflet`` 1.9.4,
BSD-2-Clause, and ``leaflet.markercluster`` 1.5.3, MIT; see ``_assets/SOURCES.md``) are copied
next to the maps and referenced by relative URLs, so the maps work from a USB stick, a
file share or ``file://`` without internet. Online mode references the same versions on
jsDelivr.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

ASSET_DIR = Path(__file__).resolve().parents[1] / "_assets"
LIB = "lib"

_LEAFLET_FILES = ("leaflet.js", "leaflet.css", "LICENSE", "images/layers.png", "images/layers-2x.png",
                  "images/marker-icon.png", "images/marker-icon-2x.png", "images/marker-shadow.png")
_CLUSTER_FILES = ("leaflet.markercluster.js", "MarkerCluster.css", "MarkerCluster.Default.css",
                  "MIT-LICENCE.txt")

_CDN = {
    "leaflet": "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist",
    "leaflet.markercluster": "https://cdn.jsdelivr.net/npm/leaflet.markercluster@1.5.3/dist",
}


def _base(package: str, offline: bool) -> str:
    return f"{LIB}/{package}" if offline else _CDN[package]


def js_links(offline: bool, cluster: bool) -> list[tuple[str, str]]:
    """``(name, url)`` pairs of the JavaScript files a map needs (folium ``default_js`` format)."""
    out = [("leaflet", f"{_base('leaflet', offline)}/leaflet.js")]
    if cluster:
        out.append(("markercluster", f"{_base('leaflet.markercluster', offline)}/leaflet.markercluster.js"))
    return out


def css_links(offline: bool, cluster: bool) -> list[tuple[str, str]]:
    """``(name, url)`` pairs of the stylesheets a map needs (folium ``default_css`` format)."""
    out = [("leaflet_css", f"{_base('leaflet', offline)}/leaflet.css")]
    if cluster:
        base = _base("leaflet.markercluster", offline)
        out += [("markercluster_css", f"{base}/MarkerCluster.css"),
                ("markercluster_default_css", f"{base}/MarkerCluster.Default.css")]
    return out


def copy_assets(out_dir: str | Path) -> list[Path]:
    """Copy the vendored Leaflet files into ``out_dir/lib/`` (with their licence files).

    Parameters
    ----------
    out_dir : str or Path
        The maps folder (``maps/<study>``); normally a temporary folder being built.

    Returns
    -------
    list of Path
        The copied files.
    """
    out: list[Path] = []
    for package, files in (("leaflet", _LEAFLET_FILES), ("leaflet.markercluster", _CLUSTER_FILES)):
        for rel in files:
            src = ASSET_DIR / package / rel
            dst = Path(out_dir) / LIB / package / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            out.append(dst)
    shutil.copyfile(ASSET_DIR / "SOURCES.md", Path(out_dir) / LIB / "SOURCES.md")
    return out


_REMOTE = re.compile(r"""<(?:script|link)\b[^>]*?(?:src|href)\s*=\s*["'](?P<url>(?:https?:)?//[^"']+)""", re.I)


def remote_urls(html: str) -> list[str]:
    """Remote (``http(s)://`` or ``//``) script and stylesheet URLs referenced by an HTML page."""
    return [m["url"] for m in _REMOTE.finditer(html)]
