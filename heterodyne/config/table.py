"""The per-parameter view of a resolved config that the fitters use."""

from __future__ import annotations

from typing import Any

from heterodyne.config.tree import AnalysisConfig
from heterodyne.parameters import PHYSICS_NAMES


def parameter_table(config: AnalysisConfig) -> list[dict[str, Any]]:
    """One row per physics parameter, in canonical order: name, initial, lower, upper, vary, prior.

    ``config`` is resolved (from :func:`read_config` or :func:`resolve_config`), so every
    parameter is present with validated bounds and prior. The prior is ``{"type": "uniform"}``
    (over [lower, upper]) or ``{"type": "normal" | "lognormal", "mu": float, "sigma": float}``.
    """
    rows = []
    for name in PHYSICS_NAMES:
        entry = config.parameters[name]
        lower, upper = entry.bounds
        rows.append({
            "name": name,
            "initial": entry.initial,
            "lower": lower,
            "upper": upper,
            "vary": entry.vary,
            "prior": entry.prior.as_dict(),
        })
    return rows
