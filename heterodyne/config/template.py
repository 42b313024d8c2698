"""The commented YAML template of the analysis configuration, generated from the schema."""

from __future__ import annotations

import json
import re
from typing import Any

from heterodyne.config.resolve import resolve_config
from heterodyne.config.schema import SCHEMA, Schema

_COMMENT_COLUMN = 48
_PLAIN_STRING = re.compile(r"[A-Za-z][A-Za-z0-9_./-]*")
_YAML_WORDS = {"null", "true", "false", "yes", "no", "on", "off", "y", "n"}
_HEADER = (
    "# heterodyne analysis configuration (written by `heterodyne config`).",
    "# Every key is optional: an omitted key takes the value shown here. Unknown keys are errors.",
    "# Numbers may be written as 1e4 or 1.0e-3.",
)


def template_text() -> str:
    """The whole configuration with its defaults, one comment per key from the schema."""
    lines = list(_HEADER)
    _render(SCHEMA, resolve_config(None).as_dict(), "", lines, set())
    return "\n".join(lines) + "\n"


def _render(schema: Schema, values: dict[str, Any], indent: str, lines: list[str],
            explained: set[tuple[str, ...]]) -> None:
    """Append one line per key of a mapping, recursing into block mappings.

    A one-line (``x-flow``) mapping is preceded by comment lines describing its keys, once per
    distinct set of key descriptions (so the 14 parameters share one explanation).
    """
    for key, sub in schema["properties"].items():
        if "properties" in sub and not sub.get("x-flow"):
            lines.append(_with_comment(f"{indent}{key}:", sub["description"]))
            _render(sub, values[key], indent + "  ", lines, explained)
            continue
        if "properties" in sub:
            notes = tuple(f"{indent}# {field}: {field_schema['description']}"
                          for field, field_schema in sub["properties"].items())
            if notes not in explained:
                explained.add(notes)
                lines.extend(notes)
        lines.append(_with_comment(f"{indent}{key}: {flow(values[key])}", sub["description"]))


def _with_comment(code: str, comment: str) -> str:
    """``code`` followed by ``# comment``, aligned at a common column when it fits."""
    return f"{code.ljust(_COMMENT_COLUMN - 2)}  # {comment}"


def flow(value: Any) -> str:
    """A value in YAML flow style that :class:`ConfigLoader` (and plain PyYAML) read back exactly."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        mantissa, exponent, power = repr(value).partition("e")
        return mantissa + ("" if "." in mantissa or not exponent else ".0") + exponent + power
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        plain = _PLAIN_STRING.fullmatch(value) and value.lower() not in _YAML_WORDS
        return value if plain else json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(flow(item) for item in value) + "]"
    return "{" + ", ".join(f"{key}: {flow(item)}" for key, item in value.items()) + "}"
