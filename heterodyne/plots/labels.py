"""Axis labels of physics parameters: the name with its unit from the parameter registry."""

from __future__ import annotations

from heterodyne.parameters import BY_NAME


def parameter_label(name: str) -> str:
    """``name (unit)``, or just the name for a dimensionless parameter."""
    unit = BY_NAME[name].unit
    return name if unit == "-" else f"{name} ({unit})"
