"""The sweep: a grid over analysis-config keys (dotted paths), expanded as a Cartesian product.

Each grid point gets a readable, filesystem-safe name built from its values, e.g.
``start_frame=100__dt=0.001``: keys are shortened to their last component when that is
unambiguous within the sweep, pairs are joined by ``__``. Without a sweep there is one point,
``base``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from heterodyne.batch.names import check_name, safe_text
from heterodyne.errors import HeterodyneError

BASE_POINT = "base"
PAIR_SEPARATOR = "__"


@dataclass(frozen=True)
class SweepPoint:
    """One grid point: its directory name and the value of every sweep key."""

    name: str
    values: Mapping[str, Any]


def value_text(value: Any) -> str:
    """A short filesystem-safe rendering of a config value (lists joined by ``_``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format(value, "g")
    if isinstance(value, list):
        return "_".join(value_text(item) for item in value) or "empty"
    return safe_text(str(value)) or "empty"


def key_labels(keys: list[str]) -> dict[str, str]:
    """Each dotted key's label: its last component, or the whole path when two keys share it."""
    last = [key.rsplit(".", 1)[-1] for key in keys]
    return {key: short if last.count(short) == 1 else key for key, short in zip(keys, last, strict=True)}


def expand_sweep(grid: Mapping[str, list[Any]]) -> list[SweepPoint]:
    """Every combination of the grid's values, in the grid's key and value order.

    Raises HeterodyneError when a key has no values or two points would get the same name.
    """
    if not grid:
        return [SweepPoint(BASE_POINT, {})]
    keys = list(grid)
    for key in keys:
        if not grid[key]:
            raise HeterodyneError(f"sweep {key}: no values")
    labels = key_labels(keys)
    points: dict[str, SweepPoint] = {}
    for combination in itertools.product(*(grid[key] for key in keys)):
        values = dict(zip(keys, combination, strict=True))
        name = PAIR_SEPARATOR.join(f"{labels[key]}={value_text(value)}" for key, value in values.items())
        check_name(name, "sweep point")
        if name in points:
            raise HeterodyneError(
                f"sweep: points {dict(points[name].values)} and {values} would share the directory name {name!r}"
            )
        points[name] = SweepPoint(name, values)
    return list(points.values())
