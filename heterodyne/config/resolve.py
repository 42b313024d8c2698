"""From raw YAML data (plus dotted-path overrides) to the validated, fully default-filled config tree."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from heterodyne.config.checks import semantic_problems
from heterodyne.config.dotted import set_dotted
from heterodyne.config.messages import describe_value, suggestion
from heterodyne.config.schema import SCHEMA, Schema
from heterodyne.config.tree import AnalysisConfig
from heterodyne.config.validate import is_valid, schema_problem
from heterodyne.config.yaml_io import read_yaml
from heterodyne.errors import HeterodyneError

Config = dict[str, Any]


def read_config(path: str | Path, overrides: dict[str, Any] | None = None) -> AnalysisConfig:
    """Read a YAML analysis config, apply dotted-path ``overrides``, validate and fill defaults.

    Raises HeterodyneError (one line naming the file, and the key path or line:column) when the
    file is missing, unreadable, not YAML, or not a valid configuration.
    """
    path = Path(path)
    return resolve_config(read_yaml(path), str(path), overrides)


def resolve_config(raw: Config | None, source: str = "<config>",
                   overrides: dict[str, Any] | None = None) -> AnalysisConfig:
    """Validate raw config data (None: all defaults) with ``overrides`` applied; fill every default.

    ``overrides`` maps dotted key paths to values, e.g. ``{"optimization.cmc.seed": 3}``. The
    tree's ``as_dict()`` is :func:`resolved_dict` of the same arguments. ``raw`` is not modified.
    """
    return AnalysisConfig.from_resolved(resolved_dict(raw, source, overrides))


def resolved_dict(raw: Config | None, source: str = "<config>",
                  overrides: dict[str, Any] | None = None) -> Config:
    """The validated, default-filled config as plain data: what result.json records.

    It holds plain dicts, lists and scalars only (numbers of float-valued keys as floats), with keys
    in schema order, so it is JSON-serialisable and identical for equivalent inputs. Invalid data
    raise HeterodyneError naming ``source`` and the key path (and whether an override set it).
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise HeterodyneError(f"{source}: expected a mapping of sections at the top level, "
                              f"got {describe_value(raw)}")
    config = copy.deepcopy(raw)
    overrides = overrides or {}
    for path, value in overrides.items():
        _check_override_path(path, source)
        try:
            set_dotted(config, path, copy.deepcopy(value))
        except HeterodyneError as error:
            raise HeterodyneError(f"{source}: {error}") from error
    problem = schema_problem(config)
    if problem is None:
        resolved = fill_defaults(SCHEMA, config)
        problem = next(semantic_problems(resolved), None)
        if problem is None:
            return resolved
    key_path, message = problem
    origin = " (value from override)" if _under_override(key_path, overrides) else ""
    raise HeterodyneError(f"{source}: {key_path}: {message}{origin}")


def fill_defaults(schema: Schema, value: Any) -> Any:
    """A schema-valid ``value`` with every missing key defaulted and float-typed ints as floats; a
    key with no default given as null is left out (absent and null mean the same there)."""
    for keyword in ("oneOf", "anyOf"):
        branches = schema.get(keyword, [])
        schema = next((branch for branch in branches if is_valid(branch, value)), schema)
    if "properties" in schema:
        given = value or {}
        filled = {}
        for key, sub in schema["properties"].items():
            if key in given and (given[key] is not None or "default" in sub or "properties" in sub):
                filled[key] = fill_defaults(sub, given[key])
            elif "default" in sub:
                filled[key] = fill_defaults(sub, copy.deepcopy(sub["default"]))
            elif "properties" in sub:
                filled[key] = fill_defaults(sub, None)
        return filled
    if isinstance(value, list):
        prefix = schema.get("prefixItems", [])
        items = schema.get("items", {})
        return [fill_defaults(prefix[i] if i < len(prefix) else items, item)
                for i, item in enumerate(value)]
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    if "number" in types and "integer" not in types and type(value) is int:
        return float(value)
    return value


def _check_override_path(path: str, source: str) -> None:
    """Refuse an override whose dotted path does not name a key of the schema."""
    node = SCHEMA
    parts = path.split(".")
    for depth, key in enumerate(parts):
        known = node.get("properties", {})
        if key not in known:
            where = ".".join(parts[: depth + 1])
            hint = suggestion(key, known) if known else f" ({'.'.join(parts[:depth])} has no sub-keys)"
            raise HeterodyneError(f"{source}: override {where}: unknown key{hint}")
        node = known[key]


def _under_override(key_path: str, overrides: dict[str, Any]) -> bool:
    """Whether the key path lies at or below one of the overridden dotted paths."""
    return any(key_path == p or key_path.startswith((f"{p}.", f"{p}[")) for p in overrides)
