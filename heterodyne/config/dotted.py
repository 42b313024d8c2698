"""Dotted key paths (``"optimization.cmc.seed"``): reading, writing and naming config locations."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from heterodyne.errors import HeterodyneError


def format_path(parts: Iterable[str | int]) -> str:
    """``["experimental_data", "phi", 1]`` → ``"experimental_data.phi[1]"``; empty → ``"<top>"``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "<top>"


def get_dotted(config: dict[str, Any], path: str) -> Any:
    """The value at a dotted path; raises HeterodyneError naming the path when it is absent."""
    value: Any = config
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            raise HeterodyneError(f"{path}: no such key in the configuration")
        value = value[key]
    return value


def set_dotted(config: dict[str, Any], path: str, value: Any) -> None:
    """Set ``config[a][b][c] = value`` for ``path = "a.b.c"``, creating missing (or null) mappings.

    Raises HeterodyneError when an intermediate value exists and is not a mapping. The path is
    not checked against the schema here: :func:`heterodyne.config.resolve_config` does that.
    """
    *parents, last = path.split(".")
    node = config
    for depth, key in enumerate(parents):
        child = node.get(key)
        if child is None:
            child = node[key] = {}
        if not isinstance(child, dict):
            raise HeterodyneError(
                f"cannot set {path}: {'.'.join(parents[:depth + 1])} is not a mapping"
            )
        node = child
    node[last] = value
