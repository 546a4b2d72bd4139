"""Results for people: QGIS-ready GeoPackages with styles, interactive web maps and
figures.

Last step of the data flow ``io → network → engine → analysis → report``.
"""
