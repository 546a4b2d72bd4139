"""ruimtekit: Dutch spatial-planning analysis.

Data flow: sources → layers → networks → accessibility → analyses (borrowed size,
candidates) → exports (GeoPackage, web maps, figures). All geometry is in EPSG:28992.
"""

from __future__ import annotations

__version__ = "0.1.0"

CRS = "EPSG:28992"
"""The canonical internal CRS: Amersfoort / RD New (metres)."""
