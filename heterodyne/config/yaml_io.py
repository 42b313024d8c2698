"""Reading configuration YAML safely: exponent floats without a dot, duplicate keys refused.

PyYAML implements YAML 1.1, whose float pattern needs a dot, so ``1e4`` and ``1E-3`` load as
strings. :class:`ConfigLoader` is a ``SafeLoader`` whose float resolver also accepts them.
It also refuses a mapping that repeats a key (PyYAML would silently keep the last one).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from heterodyne.errors import HeterodyneError

_FLOAT_TAG = "tag:yaml.org,2002:float"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_FLOAT_PATTERN = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?
        |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
    re.VERBOSE,
)


class ConfigLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that reads ``1e4`` as a float and rejects repeated mapping keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """Build a mapping, first refusing any key written twice in the same mapping."""
        seen: set[tuple[str, str]] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
                continue
            key = (key_node.tag, key_node.value)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    f"duplicate key {key_node.value!r}", key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


ConfigLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _FLOAT_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
ConfigLoader.add_implicit_resolver(_FLOAT_TAG, _FLOAT_PATTERN, list("-+0123456789."))


def parse_yaml(text: str, source: str) -> Any:
    """Parse YAML text; a syntax error becomes ``source:line:column: invalid YAML: problem``."""
    try:
        return yaml.load(text, Loader=ConfigLoader)  # noqa: S506 - ConfigLoader is a SafeLoader
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = error.problem or error.context or "syntax error"
        raise HeterodyneError(f"{where}: invalid YAML: {problem}") from error
    except yaml.YAMLError as error:
        raise HeterodyneError(f"{source}: invalid YAML: {error}") from error


def read_yaml(path: Path) -> Any:
    """Read and parse a YAML file; missing, unreadable or malformed files raise HeterodyneError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise HeterodyneError(f"{path}: configuration file not found") from error
    except OSError as error:
        raise HeterodyneError(f"{path}: cannot read configuration file: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise HeterodyneError(f"{path}: cannot read configuration file: not UTF-8 text") from error
    return parse_yaml(text, str(path))
