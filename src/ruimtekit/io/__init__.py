"""Reading and fetching inputs: CBS zones and tables, jobs, vacancy, stations, GTFS feeds,
layers and places (points or polygons with ids).

First step of the data flow ``io → network → engine → analysis → report``: modules here
import nothing from the later layers.
"""
