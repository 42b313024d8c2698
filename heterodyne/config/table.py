"""The per-parameter view of a resolved config that the fitters use."""

from __future__ import annotations

from typing import Any

from heterodyne.config.tree import AnalysisConfig
from heterodyne.parameters import PHYSICS_NAMES


def parameter_table(config: AnalysisConfig) -> list[dict[str, Any]]:
    """One row per physics parameter, in canonical order: name, initial, lower, upper, vary, prior, tied_to.

    ``config`` is resolved (from :func:`read_config` or :func:`resolve_config`), so every
    parameter is present with validated bounds and prior. The prior is ``{"type": "uniform"}``
    (over [lower, upper]) or ``{"type": "normal" | "lognormal", "mu": float, "sigma": float}``.
    A parameter tied to another (``tied_to``: the other's name, else None) is not fitted itself
    (vary false): its row carries the initial value, bounds and prior of the parameter it equals.
    """
    rows = []
    for name in PHYSICS_NAMES:
        tied_to = config.parameters[name].tied_to
        entry = config.parameters[tied_to or name]
        lower, upper = entry.bounds
        rows.append({
            "name": name,
            "initial": entry.initial,
            "lower": lower,
            "upper": upper,
            "vary": entry.vary and tied_to is None,
            "prior": entry.prior.as_dict(),
            "tied_to": tied_to,
        })
    return rows
