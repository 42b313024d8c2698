"""Each dataset's windows along the sample age: the workflow's ``windows`` is every dataset's
default, and a dataset's own ``windows`` overrides it key by key.

A dataset gives its own windows in the datasets sheet (columns ``windows`` and ``windows.<key>``)
or, when simulated, under ``datasets.simulate.<name>.windows`` (workflow/schemas/config.schema.yaml):

- nothing (no such column, an empty cell, no such key): the workflow's windows, or none when the
  workflow config has no ``windows``;
- off (a ``windows`` cell ``off``; ``windows: off`` or ``false`` in YAML): no windows for this
  dataset, whatever the workflow's;
- some of ``width``, ``step``, ``free`` and ``inherit`` (cells of the columns ``windows.width``,
  ``windows.step``, …; a mapping in YAML): these replace the workflow's values and the others are
  kept (``step: null`` brings back the default step, the width). Without workflow windows the
  dataset gives ``width`` and its other keys take the defaults of the workflow key (step = width,
  free D0_ref, D0_sample, v0, f0; inherit phi0).

A sheet cell holds what the YAML key would: ``width`` and ``step`` integers (``step`` may be
``null``), ``free`` and ``inherit`` parameter names separated by commas or spaces (``D0_ref, v0``
or ``D0_ref v0``; ``[]`` for none). The values are checked as the workflow's own ``windows`` are
(:mod:`heterodyne.age.windows`); a bad one raises :class:`HeterodyneError` naming the dataset and
the column or key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, NamedTuple

from heterodyne.age.windows import DEFAULT_FREE, DEFAULT_INHERIT, SCALING, check_parameter_lists
from heterodyne.config.messages import describe_value, suggestion
from heterodyne.config.yaml_io import parse_yaml
from heterodyne.errors import HeterodyneError
from heterodyne.parameters import PHYSICS_NAMES

DatasetWindows = Mapping[str, Any] | Literal[False] | None
"""A dataset's own windows: None (the workflow's), False (off) or the keys it overrides."""

WINDOWS_KEY = "windows"
"""The key of a simulated dataset's own windows, and the sheet's column that turns them off."""
NAME_SEPARATORS = re.compile(r"[,\s]+")
WITHOUT_WORKFLOW_WINDOWS = {"width": None, "step": None, "free": DEFAULT_FREE, "inherit": DEFAULT_INHERIT}
"""A dataset's window settings when the workflow config has no ``windows`` (the defaults of that
key in workflow/schemas/config.schema.yaml); the dataset must give the width."""


def is_window_column(column: str) -> bool:
    """Whether a sheet column sets the dataset's windows (``windows``, ``windows.<key>``)."""
    return column == WINDOWS_KEY or column.startswith(f"{WINDOWS_KEY}.")


def parameter_names(text: str) -> list[str]:
    """A cell's parameter names: ``D0_ref, v0``, ``D0_ref v0`` or ``[D0_ref, v0]``; ``[]`` is none."""
    inner = text.strip().removeprefix("[").removesuffix("]")
    return [name for name in NAME_SEPARATORS.split(inner) if name]


def _cell_value(key: str, text: str, where: str) -> Any:
    """The value of a ``windows.<key>`` cell: a list of names for the name lists (free, inherit),
    else its YAML."""
    return parameter_names(text) if key in WINDOW_KEYS and WINDOW_KEYS[key].names else parse_yaml(text, where)


def _sheet_off(cells: Mapping[str, str], where: str) -> Literal[False]:
    """A row whose ``windows`` cell is filled: it must say off, and no ``windows.<key>`` cell may be filled."""
    value = parse_yaml(cells[WINDOWS_KEY], f"{where}: column {WINDOWS_KEY}")
    if value is not False:
        raise HeterodyneError(f"{where}: column {WINDOWS_KEY}: expected off (or an empty cell: the workflow's "
                              f"windows), got {describe_value(value)}")
    others = sorted(column for column in cells if column != WINDOWS_KEY)
    if others:
        raise HeterodyneError(f"{where}: column {WINDOWS_KEY} is off, but {', '.join(others)} is set too")
    return False


def sheet_windows(cells: Mapping[str, str], where: str) -> DatasetWindows:
    """A sheet row's own windows from its non-empty window cells (column → text); ``where`` names
    the row and its dataset."""
    if not cells:
        return None
    if WINDOWS_KEY in cells:
        return _sheet_off(cells, where)
    own = {column.removeprefix(f"{WINDOWS_KEY}."): text for column, text in cells.items()}
    parsed = {key: _cell_value(key, text, f"{where}: column {WINDOWS_KEY}.{key}") for key, text in own.items()}
    return check_own_windows(parsed, f"{where}: column {WINDOWS_KEY}")


def _integer(least: int, allow_null: bool = False) -> Callable[[Any, str], None]:
    """A check that a value is an integer >= ``least`` (or null when ``allow_null``)."""
    def check(value: Any, where: str) -> None:
        if allow_null and value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            nullable = " or null" if allow_null else ""
            raise HeterodyneError(f"{where}: expected an integer >= {least}{nullable}, got {describe_value(value)}")
    return check


def _names(known: Sequence[str], at_least_one: bool = False) -> Callable[[Any, str], None]:
    """A check that a value is a list of distinct names from ``known`` (not empty when ``at_least_one``)."""
    def check(value: Any, where: str) -> None:
        if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
            raise HeterodyneError(f"{where}: expected a list of parameter names, got {describe_value(value)}")
        unknown = [name for name in value if name not in known]
        if unknown:
            raise HeterodyneError(f"{where}: unknown parameter {unknown[0]!r} (known: {', '.join(known)})")
        if len(set(value)) != len(value):
            raise HeterodyneError(f"{where}: a parameter is listed twice")
        if at_least_one and not value:
            raise HeterodyneError(f"{where}: no parameter to fit")
    return check


class WindowKey(NamedTuple):
    """What a key of a dataset's own windows may hold, and whether a sheet cell lists names."""

    check: Callable[[Any, str], None]
    names: bool


WINDOW_KEYS = {"width": WindowKey(_integer(2), names=False),
               "step": WindowKey(_integer(1, allow_null=True), names=False),
               "free": WindowKey(_names(PHYSICS_NAMES, at_least_one=True), names=True),
               "inherit": WindowKey(_names((*PHYSICS_NAMES, SCALING)), names=True)}
"""The keys of a dataset's own windows (those of the workflow's ``windows``)."""


def check_own_windows(own: Any, where: str) -> DatasetWindows:
    """A dataset's own windows as given (None, off or a mapping of some keys), checked and returned;
    ``where`` names the dataset's ``windows`` (the messages append ``.<key>``)."""
    if own is None or own is False:
        return own
    if not isinstance(own, Mapping):
        raise HeterodyneError(f"{where}: expected off (false) or a mapping of {', '.join(WINDOW_KEYS)}, "
                              f"got {describe_value(own)}")
    for key, value in own.items():
        if key not in WINDOW_KEYS:
            raise HeterodyneError(f"{where}.{key}: unknown key{suggestion(str(key), WINDOW_KEYS)}")
        WINDOW_KEYS[key].check(value, f"{where}.{key}")
    return own


def resolve_windows(workflow: Mapping[str, Any] | None, own: DatasetWindows,
                    dataset: str) -> Mapping[str, Any] | None:
    """A dataset's window settings (width, step, free, inherit), or None for no windows: the
    workflow's ``windows`` (default-filled, or None) with the dataset's own over it, key by key
    (module docstring)."""
    if own is None:
        return workflow
    if own is False:
        return None
    where = f"dataset {dataset}: {WINDOWS_KEY}"
    if workflow is None and "width" not in own:
        raise HeterodyneError(f"{where}.width: required, as the workflow config has no windows to take it from")
    settings = {**(WITHOUT_WORKFLOW_WINDOWS if workflow is None else workflow), **own}
    check_parameter_lists(settings["free"], settings["inherit"], where)
    return settings
