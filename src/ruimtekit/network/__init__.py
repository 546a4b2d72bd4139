"""Transport networks: the compact graph, travel profiles, OSM/GraphML/link-table readers,
edge linking, zone connectors and ferries.

Second step of the data flow ``io → network → engine → analysis → report``.
"""
