"""A flow whose velocity jumps once: the simulated yield of a fast band.

With v_m(t) = v0 t^β + v_offset the model's velocity (:mod:`heterodyne.model`), a jump at time T
by a factor F gives

    v(t) = v_m(t)        t < T
    v(t) = F · v_m(t)    t > T

and the displacement stays continuous across T:

    D(t) = C(t)                       t ≤ T
    D(t) = C(T) + F · (C(t) − C(T))   t > T

where C is the model's cumulative trapezoid of v_m on the simulated frame times and C(T) its
linear interpolation at T (the trapezoid's own value there, exact when v_m is constant on the
step that holds T). The cross term's phase of frames i < j is then q cos(φ + φ0) (D(t_j) − D(t_i)),
which for β = 0 and no offset is q cos(φ + φ0) (v0 (T − t_i) + F v0 (t_j − T)) across the jump.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class VelocityJump:
    """The velocity times ``factor`` from ``time`` (s, the file's absolute clock) on."""

    time: float
    factor: float

    def displacement(self, times: np.ndarray, cumulative: np.ndarray) -> np.ndarray:
        """D at ``times`` from the model's cumulative displacement C there (module docstring)."""
        at_jump = np.interp(self.time, times, cumulative)
        return np.where(times > self.time, at_jump + self.factor * (cumulative - at_jump), cumulative)
