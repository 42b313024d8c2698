"""Cross-field checks that a schema cannot express, run on the resolved configuration."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from heterodyne.config.dotted import format_path
from heterodyne.config.messages import did_you_mean
from heterodyne.parameters import BY_NAME, PHYSICS_NAMES

Problem = tuple[str, str]


def semantic_problems(config: dict[str, Any]) -> Iterator[Problem]:
    """Every ``(key path, message)`` problem of a schema-valid, default-filled configuration."""
    yield from _non_finite(config, [])
    yield from _frame_problems(config["analyzer_parameters"])
    for name, entry in config["parameters"].items():
        yield from _bounded_problems(f"parameters.{name}", entry)
        yield from _prior_problems(f"parameters.{name}", entry)
        yield from _tie_problems(name, config["parameters"])
    for name in ("contrast", "offset"):
        yield from _bounded_problems(f"scaling.{name}", config["scaling"][name])
    yield from _weight_problems(config["optimization"]["nlsq"])


def _weight_problems(nlsq: dict[str, Any]) -> Iterator[Problem]:
    """A given ``noise_sigma`` is the σ of uniform weights; lag_noise estimates σ per lag instead."""
    if nlsq["weights"] == "lag_noise" and nlsq["noise_sigma"] is not None:
        yield ("optimization.nlsq.noise_sigma",
               "is used with weights: uniform only (lag_noise estimates σ per lag from the data)")


def _non_finite(value: Any, path: list[str | int]) -> Iterator[Problem]:
    """Infinities and NaNs (YAML ``.inf``, ``.nan``) anywhere: results must be valid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        yield format_path(path), f"expected a finite number, got {value}"
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _non_finite(item, [*path, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _non_finite(item, [*path, index])


def _frame_problems(analyzer: dict[str, Any]) -> Iterator[Problem]:
    """``end_frame`` (when given) must not precede ``start_frame`` and must leave two frames."""
    start, end = analyzer["start_frame"], analyzer["end_frame"]
    if end is None:
        return
    if end < start:
        yield "analyzer_parameters.end_frame", f"{end} is before start_frame {start}"
    elif end - start + 1 < 2:
        yield ("analyzer_parameters.end_frame",
               f"frames {start} to {end} select 1 frame; at least 2 are needed")


def _bounded_problems(path: str, entry: dict[str, Any]) -> Iterator[Problem]:
    """``bounds`` must be increasing and every ``initial`` value (one or a list) inside them."""
    lower, upper = entry["bounds"]
    if lower >= upper:
        yield f"{path}.bounds", f"lower bound {lower} must be below upper bound {upper}"
        return
    initial = entry["initial"]
    values = enumerate(initial) if isinstance(initial, list) else [(None, initial)]
    for index, value in values:
        if not lower <= value <= upper:
            where = f"{path}.initial" if index is None else f"{path}.initial[{index}]"
            yield where, f"{value} is outside bounds [{lower}, {upper}]"


def _prior_problems(path: str, entry: dict[str, Any]) -> Iterator[Problem]:
    """A lognormal prior has no mass at or below zero, so it needs an upper bound above zero."""
    if entry["prior"]["type"] == "lognormal" and entry["bounds"][1] <= 0:
        yield (f"{path}.prior",
               f"a lognormal prior needs a positive upper bound, got bounds {entry['bounds']}")


def _tie_problems(name: str, parameters: dict[str, Any]) -> Iterator[Problem]:
    """``tied_to`` names another physics parameter of the same unit, fitted and not tied itself;
    the tied parameter is not fixed (it follows its target)."""
    target = parameters[name].get("tied_to")
    if target is None:
        return
    path = f"parameters.{name}.tied_to"
    if target not in PHYSICS_NAMES or target == name:
        hint = did_you_mean(target, PHYSICS_NAMES)
        what = "itself" if target == name else f"{target!r}, not a physics parameter{hint}"
        yield path, f"a parameter is tied to another physics parameter, got {what}"
    elif parameters[target].get("tied_to") is not None:
        yield path, (f"{target} is itself tied to {parameters[target]['tied_to']}; "
                     f"tie {name} to {parameters[target]['tied_to']} directly (no chains of ties)")
    elif not parameters[target]["vary"]:
        yield path, f"{target} has vary: false; a parameter can be tied only to a fitted one"
    elif not parameters[name]["vary"]:
        yield path, f"{name} has vary: false; a tied parameter follows {target} and cannot also be fixed"
    elif BY_NAME[name].unit != BY_NAME[target].unit:
        yield path, f"{name} is in {BY_NAME[name].unit} and {target} in {BY_NAME[target].unit}: ties need one unit"
