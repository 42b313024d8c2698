"""The parameter registry: the one place that names, orders, bounds and defaults every parameter.

The 14 physics parameters come in canonical order (``docs/model.md``); every array of
physics parameters in the package (``theta``) uses this order. Each detector angle adds two
scaling parameters, ``contrast`` and ``offset``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ParameterSpec:
    """One model parameter: name, default value, closed bounds [lower, upper], unit, meaning, and
    ``fixed_because``: why the parameter is held at its default unless the config frees it
    (empty: it varies by default)."""

    name: str
    default: float
    lower: float
    upper: float
    unit: str
    description: str
    fixed_because: str = ""

    @property
    def varies_by_default(self) -> bool:
        return not self.fixed_because


PHYSICS_PARAMETERS: tuple[ParameterSpec, ...] = (
    ParameterSpec("D0_ref", 1e4, 100.0, 1e6, "Å²/s^(α+1)", "reference transport prefactor"),
    ParameterSpec("alpha_ref", 0.0, -2.0, 2.0, "-", "reference transport exponent"),
    ParameterSpec("D_offset_ref", 0.0, -1e5, 1e5, "Å²/s", "reference transport rate offset"),
    ParameterSpec("D0_sample", 1e4, 100.0, 1e6, "Å²/s^(α+1)", "sample transport prefactor"),
    ParameterSpec("alpha_sample", 0.0, -2.0, 2.0, "-", "sample transport exponent"),
    ParameterSpec("D_offset_sample", 0.0, -1e5, 1e5, "Å²/s", "sample transport rate offset"),
    ParameterSpec("v0", 1e3, 1e-6, 1e4, "Å/s^(β+1)", "velocity prefactor"),
    ParameterSpec("beta", 0.0, -2.0, 2.0, "-", "velocity exponent"),
    ParameterSpec("v_offset", 0.0, -100.0, 100.0, "Å/s", "velocity offset"),
    ParameterSpec("f0", 0.5, 0.0, 1.0, "-", "sample-fraction amplitude"),
    ParameterSpec("f1", 0.0, -10.0, 10.0, "1/s", "sample-fraction exponential rate"),
    ParameterSpec("f2", 0.0, -1e4, 1e4, "s", "sample-fraction time shift",
                  "f0 exp(f1 (t - f2)) = f0 exp(-f1 f2) exp(f1 t): f0 and f2 cannot both be fitted"),
    ParameterSpec("f3", 0.0, 0.0, 1.0, "-", "sample-fraction baseline"),
    ParameterSpec("phi0", 0.0, -10.0, 10.0, "deg", "flow-angle offset added to each detector angle"),
)

SCALING_PARAMETERS: tuple[ParameterSpec, ...] = (
    ParameterSpec("contrast", 0.5, 0.0, 1.0, "-", "speckle contrast of one detector angle"),
    ParameterSpec("offset", 1.0, 0.5, 1.5, "-", "baseline of one detector angle"),
)

PHYSICS_NAMES: tuple[str, ...] = tuple(p.name for p in PHYSICS_PARAMETERS)
SCALING_NAMES: tuple[str, ...] = tuple(p.name for p in SCALING_PARAMETERS)
N_PHYSICS = len(PHYSICS_NAMES)

BY_NAME: dict[str, ParameterSpec] = {p.name: p for p in PHYSICS_PARAMETERS + SCALING_PARAMETERS}

RATE_UNITS: dict[str, str] = {"J_ref": "Å²/s", "J_sample": "Å²/s", "v": "Å/s", "f_s": ""}
"""The model's rates along the age (docs/model.md) and their units: the transport rates
J_n(t) = D0_n t^alpha_n + D_offset_n, the velocity v(t) and the sample fraction f_s(t)."""
RATES: tuple[str, ...] = tuple(RATE_UNITS)
