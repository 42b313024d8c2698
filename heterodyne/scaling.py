"""Per-angle contrast and offset as linear functions of a few coefficients.

For A detector angles at φ_a, contrast = B · c and offset = B · o, with the basis B (A × m):

    individual   B = I_A                                   (m = A: free per angle)
    constant     B = 1                                     (m = 1: one value for all angles)
    fourier      B = [1, cos φ, sin φ, …, cos Kφ, sin Kφ]   (m = 2K + 1: smooth in φ)
    fixed        B = I_A, every coefficient held at its configured value
    auto         individual for A ≤ auto_max_individual, fourier otherwise

Coefficient bounds: the configured contrast/offset bounds for the constant term (and for every
per-angle value), ±(upper − lower)/2 for the Fourier harmonics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heterodyne.errors import HeterodyneError

MODES = ("individual", "constant", "fourier", "fixed")


@dataclass(frozen=True)
class Coefficient:
    """One scaling coefficient: name, initial value, bounds, whether it varies."""

    name: str
    initial: float
    lower: float
    upper: float
    vary: bool


@dataclass(frozen=True)
class ScalingModel:
    """The resolved scaling: mode, basis (A × m), and the coefficients of contrast and offset."""

    mode: str
    basis: np.ndarray
    contrast: tuple[Coefficient, ...]
    offset: tuple[Coefficient, ...]

    def values(self, contrast_coefficients, offset_coefficients):
        """(contrast, offset) per angle from coefficient vectors (numpy or jax arrays)."""
        return self.basis @ contrast_coefficients, self.basis @ offset_coefficients


def resolve_mode(requested: str, n_angles: int, auto_max_individual: int) -> str:
    """The concrete mode for ``requested`` (``auto`` decides by the number of angles)."""
    if requested != "auto":
        return requested
    return "individual" if n_angles <= auto_max_individual else "fourier"


def _per_angle(initial, n_angles: int, what: str) -> np.ndarray:
    values = np.atleast_1d(np.asarray(initial, dtype=np.float64))
    if values.size == 1:
        return np.full(n_angles, values[0])
    if values.size != n_angles:
        raise HeterodyneError(
            f"scaling.{what}.initial: {values.size} values given for {n_angles} selected angles"
        )
    return values


def _coefficients(kind: str, mode: str, settings: dict, n_angles: int, order: int) -> tuple[Coefficient, ...]:
    initial = _per_angle(settings["initial"], n_angles, kind)
    lower, upper = settings["bounds"]
    if mode in ("individual", "fixed"):
        return tuple(
            Coefficient(f"{kind}[{a}]", float(initial[a]), lower, upper, mode == "individual")
            for a in range(n_angles)
        )
    mean = float(np.clip(initial.mean(), lower, upper))
    constant = Coefficient(f"{kind}_mean" if mode == "fourier" else kind, mean, lower, upper, True)
    if mode == "constant":
        return (constant,)
    half_range = (upper - lower) / 2.0
    harmonics = [
        Coefficient(f"{kind}_{part}{k}", 0.0, -half_range, half_range, True)
        for k in range(1, order + 1)
        for part in ("cos", "sin")
    ]
    return (constant, *harmonics)


def _basis(mode: str, phi_deg: np.ndarray, order: int) -> np.ndarray:
    n_angles = phi_deg.size
    if mode in ("individual", "fixed"):
        return np.eye(n_angles)
    if mode == "constant":
        return np.ones((n_angles, 1))
    phi = np.deg2rad(phi_deg)
    columns = [np.ones(n_angles)]
    for k in range(1, order + 1):
        columns += [np.cos(k * phi), np.sin(k * phi)]
    return np.stack(columns, axis=1)


def build_scaling(scaling_config: dict, phi_deg: np.ndarray) -> ScalingModel:
    """The scaling model of the ``scaling`` config section for the selected angles."""
    phi_deg = np.asarray(phi_deg, dtype=np.float64)
    n_angles = phi_deg.size
    mode = resolve_mode(scaling_config["mode"], n_angles, scaling_config["auto_max_individual"])
    order = scaling_config["fourier_order"]
    if mode == "fourier" and 2 * order + 1 > n_angles:
        raise HeterodyneError(
            f"scaling.mode: fourier of order {order} needs at least {2 * order + 1} angles, "
            f"{n_angles} selected (use individual or constant, or lower scaling.fourier_order)"
        )
    return ScalingModel(
        mode=mode,
        basis=_basis(mode, phi_deg, order),
        contrast=_coefficients("contrast", mode, scaling_config["contrast"], n_angles, order),
        offset=_coefficients("offset", mode, scaling_config["offset"], n_angles, order),
    )
