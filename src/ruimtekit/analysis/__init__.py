"""Analyses on top of the engine: zone accessibility by road, crow-fly, skim and transit,
catchments, agglomeration and borrowed size, spatial statistics, gravity fits, inequality
and densification candidates.

Fourth step of the data flow ``io → network → engine → analysis → report``.
"""
