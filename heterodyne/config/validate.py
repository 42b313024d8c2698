"""Schema validation with strict integers (``true`` and ``3.0`` are not integers), one problem at a time."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import best_match

from heterodyne.config.messages import format_validation_error
from heterodyne.config.schema import SCHEMA, Schema


def _is_strict_integer(_checker: Any, instance: Any) -> bool:
    """An ``int`` that is not a ``bool`` (Draft 2020-12 would also accept ``3.0``)."""
    return isinstance(instance, int) and not isinstance(instance, bool)


StrictValidator = validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_strict_integer),
)
VALIDATOR = StrictValidator(SCHEMA)


def is_valid(schema: Schema, instance: Any) -> bool:
    """Whether ``instance`` is valid against a sub-schema of :data:`SCHEMA`."""
    return VALIDATOR.evolve(schema=schema).is_valid(instance)


def schema_problem(instance: Any) -> tuple[str, str] | None:
    """The most relevant schema violation as ``(key path, message)``, or None when valid."""
    error = best_match(VALIDATOR.iter_errors(instance))
    return None if error is None else format_validation_error(error)
