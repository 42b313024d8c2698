"""Per-angle contrast and offset as linear functions of a few coefficients.

For A detector angles at (q_a, φ_a), contrast = B · c and offset = B · o, with the basis B (A × m):

    individual   B = I_A                                   (m = A: free per angle)
    constant     B = 1                                     (m = 1: one value for all angles)
    fourier      within each q:  B = [1, cos φ, sin φ, …, cos Kφ, sin Kφ]   (2K + 1 per q: smooth in φ)
    fixed        B = I_A, every coefficient held at its configured value
    auto         individual: with the scaling solved linearly (heterodyne/nlsq/projection.py)
                 free per-bin values cost no nonlinear dimension, and only they represent every
                 contrast a detector gives (irregular per bin, or varying as cos 2φ)

Contrast depends on q, so a Fourier series never spans several q: with several q the basis is
block-diagonal, one block per q (angles of equal q form a group, groups in increasing q).
Coefficient names: ``contrast[a]`` per angle a, ``contrast_mean``, ``contrast_cos1``, … for one q,
``contrast[q1]_mean``, ``contrast[q1]_cos1``, … for the Fourier series of the second q.

Coefficient bounds: the configured contrast/offset bounds for the constant term (and for every
per-angle value), ±(upper − lower)/2 for the Fourier harmonics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from heterodyne.errors import HeterodyneError

if TYPE_CHECKING:  # the config schema reads this module's MODES
    from heterodyne.config.tree import ScalingConfig, ScalingParameterConfig

MODES = ("individual", "constant", "fourier", "fixed")
"""The scaling modes of the table above; the config also accepts ``auto`` (individual, solved linearly)."""


@dataclass(frozen=True)
class Coefficient:
    """One scaling coefficient: name, initial value, bounds, whether it varies."""

    name: str
    initial: float
    lower: float
    upper: float
    vary: bool


@dataclass(frozen=True)
class QGroup:
    """The angles (indices into the selection) that share one q, and the scaling within them."""

    q: float
    angles: tuple[int, ...]
    mode: str

    def as_dict(self) -> dict:
        """Plain JSON-ready form."""
        return {"q": self.q, "angles": list(self.angles), "mode": self.mode}


@dataclass(frozen=True)
class ScalingModel:
    """The resolved scaling: mode, basis (A × m), the coefficients of contrast and offset, and the
    q groups of the angles."""

    mode: str
    basis: np.ndarray
    contrast: tuple[Coefficient, ...]
    offset: tuple[Coefficient, ...]
    groups: tuple[QGroup, ...] = ()

    def values(self, contrast_coefficients, offset_coefficients):
        """(contrast, offset) per angle from coefficient vectors (numpy or jax arrays)."""
        return self.basis @ contrast_coefficients, self.basis @ offset_coefficients


def q_groups(mode: str, q: np.ndarray) -> tuple[QGroup, ...]:
    """The angles of each distinct q (increasing q), each group with the concrete ``mode``."""
    return tuple(QGroup(float(value), tuple(int(a) for a in np.flatnonzero(q == value)), mode)
                 for value in np.unique(q))


def _per_angle(initial, n_angles: int, what: str) -> np.ndarray:
    values = np.atleast_1d(np.asarray(initial, dtype=np.float64))
    if values.size == 1:
        return np.full(n_angles, values[0])
    if values.size != n_angles:
        raise HeterodyneError(
            f"scaling.{what}.initial: {values.size} values given for {n_angles} selected angles"
        )
    return values


def _fourier_coefficients(prefix: str, initial: np.ndarray, lower: float, upper: float,
                          order: int) -> list[Coefficient]:
    mean = float(np.clip(initial.mean(), lower, upper))
    half_range = (upper - lower) / 2.0
    harmonics = [
        Coefficient(f"{prefix}_{part}{k}", 0.0, -half_range, half_range, True)
        for k in range(1, order + 1)
        for part in ("cos", "sin")
    ]
    return [Coefficient(f"{prefix}_mean", mean, lower, upper, True), *harmonics]


def _coefficients(kind: str, mode: str, groups: tuple[QGroup, ...], settings: ScalingParameterConfig, n_angles: int,
                  order: int) -> tuple[Coefficient, ...]:
    initial = _per_angle(settings.initial, n_angles, kind)
    lower, upper = settings.bounds
    if mode == "constant":
        return (Coefficient(kind, float(np.clip(initial.mean(), lower, upper)), lower, upper, True),)
    if mode in ("individual", "fixed"):
        return tuple(Coefficient(f"{kind}[{a}]", float(initial[a]), lower, upper, mode == "individual")
                     for a in range(n_angles))
    coefficients = []
    for index, group in enumerate(groups):
        prefix = kind if len(groups) == 1 else f"{kind}[q{index}]"
        coefficients += _fourier_coefficients(prefix, initial[list(group.angles)], lower, upper, order)
    return tuple(coefficients)


def _basis(mode: str, groups: tuple[QGroup, ...], phi_deg: np.ndarray, order: int) -> np.ndarray:
    n_angles = phi_deg.size
    if mode == "constant":
        return np.ones((n_angles, 1))
    if mode in ("individual", "fixed"):
        return np.eye(n_angles)
    blocks = []
    for group in groups:
        rows = list(group.angles)
        phi = np.deg2rad(phi_deg[rows])
        columns = [np.ones(len(rows))]
        for k in range(1, order + 1):
            columns += [np.cos(k * phi), np.sin(k * phi)]
        block = np.stack(columns, axis=1)
        placed = np.zeros((n_angles, block.shape[1]))
        placed[rows] = block
        blocks.append(placed)
    return np.concatenate(blocks, axis=1)


def build_scaling(scaling_config: ScalingConfig, phi_deg: np.ndarray, q: np.ndarray | None = None) -> ScalingModel:
    """The scaling model of the ``scaling`` config section for the selected angles at (q, φ);
    ``q`` None: one q for all angles."""
    phi_deg = np.asarray(phi_deg, dtype=np.float64)
    n_angles = phi_deg.size
    q = np.zeros(n_angles) if q is None else np.asarray(q, dtype=np.float64)
    order = scaling_config.fourier_order
    mode = "individual" if scaling_config.mode == "auto" else scaling_config.mode
    groups = q_groups(mode, q)
    for group in groups:
        if group.mode == "fourier" and 2 * order + 1 > len(group.angles):
            at_q = "" if len(groups) == 1 else f" at q = {group.q:g}"
            raise HeterodyneError(
                f"scaling.mode: fourier of order {order} needs at least {2 * order + 1} angles{at_q}, "
                f"{len(group.angles)} selected (use individual or constant, or lower scaling.fourier_order)"
            )
    return ScalingModel(
        mode=mode,
        basis=_basis(mode, groups, phi_deg, order),
        contrast=_coefficients("contrast", mode, groups, scaling_config.contrast, n_angles, order),
        offset=_coefficients("offset", mode, groups, scaling_config.offset, n_angles, order),
        groups=groups,
    )
