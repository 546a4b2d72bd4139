"""ruimtekit: Dutch spatial-planning analysis.

Data flow: sources → layers → networks → accessibility → analyses (borrowed size,
candidates) → exports (GeoPackage, web maps, figures). All geometry is in EPSG:28992.
"""

from __future__ import annotations

__version__ = "0.1.0"

CRS = "EPSG:28992"
"""The default working CRS: Amersfoort / RD New (metres)."""

from ._crs import set_crs as set_crs  # noqa: E402  (the working CRS setting)
from ._crs import use_crs as use_crs  # noqa: E402
from ._crs import working_crs as working_crs  # noqa: E402
