"""ruimtekit: Dutch spatial-planning analysis.

The package tree is the data flow, and imports run one way along it
(``tests/test_layering.py`` enforces it)::

    ruimtekit.io        readers: CBS zones and tables, jobs, GTFS, layers, places
    ruimtekit.network   graph, profiles, OSM/GraphML/link readers, linking, connectors
    ruimtekit.engine    measures, road search + kernels, crow-fly, RAPTOR, rail, batches
    ruimtekit.analysis  accessibility, catchments, borrowed size, candidates, statistics
    ruimtekit.report    GeoPackage export, web maps, figures
    api, study, pipeline, calibrate, cli, defaults   the nouns, workflows and CLI

All geometry inside an analysis is in the working CRS (EPSG:28992 unless set otherwise).

The nouns of a notebook session (see docs/api.md)::

    import ruimtekit as rk
    net = rk.TransportNetwork(roads={"bike": "links.csv"})
    ttm = rk.TravelTimeMatrix(net, origins, destinations, mode="bike")
    acc = rk.Accessibility(net, origins, jobs, mode="bike", measures=rk.MeasureSpec(cutoffs=[30]))
    iso = rk.isochrones(net, origins, cutoffs=[15, 30], mode="bike")
"""

from __future__ import annotations

__version__ = "0.1.0"

CRS = "EPSG:28992"
"""The default working CRS: Amersfoort / RD New (metres)."""

from ruimtekit._compat import install as _install_old_paths  # noqa: E402
from ruimtekit._crs import set_crs as set_crs  # noqa: E402  (the working CRS setting)
from ruimtekit._crs import use_crs as use_crs  # noqa: E402
from ruimtekit._crs import working_crs as working_crs  # noqa: E402

_install_old_paths()  # ruimtekit.accessibility etc. (the 0.1 layout), deprecated

_LAZY = {
    "Accessibility": "api", "IsochroneOptions": "api", "MeasureSpec": "api",
    "RoutingOptions": "api", "TransportNetwork": "api", "TravelTimeMatrix": "api",
    "isochrones": "api", "read_opportunities": "api", "write_matrix": "api",
    "read_places": "io.places", "as_places": "io.places",
}
"""Public nouns, imported on first use (``import ruimtekit`` stays light for the CLI)."""


def __getattr__(name: str) -> object:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'ruimtekit' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{mod}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "CRS",
    "Accessibility",
    "IsochroneOptions",
    "MeasureSpec",
    "RoutingOptions",
    "TransportNetwork",
    "TravelTimeMatrix",
    "__version__",
    "as_places",
    "isochrones",
    "read_opportunities",
    "read_places",
    "set_crs",
    "use_crs",
    "working_crs",
    "write_matrix",
]
