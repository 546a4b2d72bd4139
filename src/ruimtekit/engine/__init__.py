"""The compiled engine: measures (one definition of cumulative and decay measures), road
searches and their numba kernels, crow-fly impedance, timetable routing (range-RAPTOR),
NS rail, and origin batches on Dask.

Third step of the data flow ``io → network → engine → analysis → report``.
"""
