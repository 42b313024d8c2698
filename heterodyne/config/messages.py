"""Turning a jsonschema validation error into a one-line ``key.path: what is wrong`` message."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from jsonschema.exceptions import ValidationError

from heterodyne.config.dotted import format_path

_TYPE_PHRASES = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}
_MAX_VALUE_TEXT = 60


def describe_value(value: Any) -> str:
    """A short YAML-flavoured rendering of a value: ``'abc'``, ``3``, ``null``, ``true``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= _MAX_VALUE_TEXT else text[: _MAX_VALUE_TEXT - 3] + "..."


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the choice closest to ``word``, or ``""`` when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def suggestion(word: str, choices: Iterable[str]) -> str:
    """:func:`did_you_mean`, or `` (valid: a, b, c)`` when no choice is close."""
    choices = list(choices)
    return did_you_mean(word, choices) or f" (valid: {', '.join(choices)})"


def _as_list(types: str | list[str]) -> list[str]:
    """A schema ``type`` keyword as a list of type names."""
    return [types] if isinstance(types, str) else list(types)


def _type_phrase(types: str | list[str]) -> str:
    """``"integer"`` → ``"an integer"``; ``["number", "null"]`` → ``"a number or null"``."""
    return " or ".join(_TYPE_PHRASES[name] for name in _as_list(types))


def _expected_ancestor(error: ValidationError) -> ValidationError | None:
    """The outermost error in the ``parent`` chain whose schema says what it ``x-expected``."""
    found = None
    node: ValidationError | None = error
    while node is not None:
        if isinstance(node.schema, dict) and "x-expected" in node.schema:
            found = node
        node = node.parent
    return found


def _limit_message(error: ValidationError, relation: str) -> str:
    """``expected an integer >= 1, got 0`` from a minimum-like error."""
    types = [t for t in _as_list(error.schema.get("type", "number")) if t != "null"]
    got = describe_value(error.instance)
    return f"expected {_type_phrase(types)} {relation} {error.validator_value}, got {got}"


def format_validation_error(error: ValidationError) -> tuple[str, str]:
    """The key path and the one-line message describing a jsonschema ``ValidationError``."""
    expected = _expected_ancestor(error)
    if expected is not None:
        got = describe_value(expected.instance)
        return format_path(expected.absolute_path), f"expected {expected.schema['x-expected']}, got {got}"
    path = list(error.absolute_path)
    got = describe_value(error.instance)
    kind = error.validator
    if kind == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        key = str(next(k for k in error.instance if k not in allowed))
        reason = error.schema.get("x-unknown")
        hint = f" ({reason})" if reason else suggestion(key, allowed)
        return format_path([*path, key]), f"unknown key{hint}"
    if kind == "required":
        missing = next(k for k in error.validator_value if k not in error.instance)
        return format_path([*path, missing]), "required key is missing"
    if kind == "type":
        return format_path(path), f"expected {_type_phrase(error.validator_value)}, got {got}"
    if kind == "enum":
        choices = [str(choice) for choice in error.validator_value]
        hint = did_you_mean(str(error.instance), choices)
        return format_path(path), f"expected one of {', '.join(choices)}, got {got}{hint}"
    if kind == "minimum":
        return format_path(path), _limit_message(error, ">=")
    if kind == "exclusiveMinimum":
        return format_path(path), _limit_message(error, ">")
    if kind == "minLength":
        return format_path(path), "expected a non-empty string"
    return format_path(path), error.message
