"""Analysis along the sample age: windowed estimates checked against smooth trends.

:mod:`~heterodyne.age.changepoint` finds one abrupt change (e.g. the velocity's jump at yield) in
estimates from non-overlapping windows, with a Monte Carlo p-value, an interval on its time and
the step's size (:func:`find_change_point`). Pure numpy/scipy.
"""

from heterodyne.age.changepoint import ChangePoint, find_change_point

__all__ = ["ChangePoint", "find_change_point"]
