"""Write config/README.md from the workflow's config schema (workflow/schemas/config.schema.yaml).

    python workflow/scripts/config_readme.py     # from any directory; rewrites config/README.md

Every key of the schema, nested ones as dotted paths (``<name>`` standing for a key the user
chooses), becomes one row: its type, default, allowed values and description.
tests/workflow/test_workflow_config_readme.py fails when config/README.md differs from what this writes.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
README = ROOT / "config" / "README.md"

INTRODUCTION = """\
# Workflow configuration

<!-- Generated from workflow/schemas/config.schema.yaml by workflow/scripts/config_readme.py:
     edit the schema, then run `python workflow/scripts/config_readme.py` to rewrite this file. -->

{description}

`config/config.yaml` is the demo's configuration and `config/examples/` holds more (a sweep, several
seeds, a dataset survey). Snakemake checks a config against the schema before it plans any job and
stops with one line naming the key at fault.

## Using the workflow

- From this checkout: `snakemake --cores all --configfile my.yaml` (`--workflow-profile profiles/local`,
  `profiles/slurm` or `profiles/pbs` for the execution settings).
- As a module from another directory, a Snakefile of three statements:

  ```python
  configfile: "config.yaml"

  module heterodyne:
      snakefile: "/path/to/heterodyne/Snakefile"
      config: config

  use rule * from heterodyne
  ```

## Software

Every rule calls the `heterodyne` command. The package is not released on PyPI or conda-forge: it is
installed from its source tree, into the environment that runs Snakemake (`make env`, or
`pip install -e .`), or with `--use-conda` into the rules' environment `workflow/envs/heterodyne.yaml`,
whose dependencies are pinned to the versions of `uv.lock` and whose post-deploy script installs the
package from the checkout named by `$HETERODYNE_SOURCE`
(`HETERODYNE_SOURCE=/path/to/heterodyne snakemake --use-conda ...`).

Without `--use-conda`, before planning any job, the workflow checks that the first `heterodyne` on
`PATH` (the command its rules run) reports the version of the package Snakemake imported, and
otherwise stops with one line naming both. With `--use-conda`, the rules run the package installed
when their environment was created: after updating the checkout, remove that environment (its path:
`snakemake --list-conda-envs`) so that the next run builds it again.

## Keys

| key | type | default | allowed values | description |
| --- | --- | --- | --- | --- |
"""


def type_of(schema: dict) -> str:
    """The JSON type of a schema, in words ("integer or null", "array of string")."""
    if "enum" in schema and "type" not in schema:
        return "string"
    kinds = schema.get("type", "any")
    kinds = " or ".join(kinds) if isinstance(kinds, list) else kinds
    if kinds == "array" and "items" in schema:
        return f"array of {type_of(schema['items'])}"
    return kinds


def literal(value) -> str:
    """A value as the YAML of a config file writes it, in code style."""
    text = "null" if value is None else yaml.safe_dump(value, default_flow_style=True).strip()
    return f"`{text.removesuffix(chr(10) + '...')}`"


def allowed(schema: dict) -> str:
    """The constraints of a schema, in words."""
    terms = []
    for source in (schema, schema.get("items", {})):
        if "enum" in source:
            terms.append(", ".join(literal(v) for v in source["enum"]))
    if "minimum" in schema:
        terms.append(f"≥ {schema['minimum']}")
    if schema.get("minLength", 0) >= 1:
        terms.append("non-empty")
    if schema.get("minItems", 0) >= 1 or schema.get("minProperties", 0) >= 1:
        terms.append("at least one")
    if schema.get("uniqueItems"):
        terms.append("no repeats")
    if "pattern" in schema.get("propertyNames", {}):
        terms.append(f"keys matching `{schema['propertyNames']['pattern']}`")
    return "; ".join(terms)


def cell(text: str) -> str:
    """Text on one line of a Markdown table, its placeholders (<name>) shown as written."""
    return " ".join(text.split()).replace("|", "\\|").replace("<", "\\<")


def rows(properties: dict, required: list, prefix: str) -> list[str]:
    """One table row per key of ``properties`` and, after each, the rows of its nested keys (the
    keys a user names, ``additionalProperties``, as ``<name>``)."""
    lines = []
    for name, schema in properties.items():
        key = prefix + name
        default = "required" if name in required else literal(schema["default"]) if "default" in schema else ""
        lines.append(f"| `{key}` | {type_of(schema)} | {default} | {cell(allowed(schema))} "
                     f"| {cell(schema.get('description', ''))} |")
        lines += rows(schema.get("properties", {}), schema.get("required", []), key + ".")
        entries = schema.get("additionalProperties")
        if isinstance(entries, dict):
            lines += rows({"<name>": entries}, [], key + ".")
    return lines


def render(schema: dict) -> str:
    """The text of config/README.md for ``schema``."""
    introduction = INTRODUCTION.format(description=" ".join(schema["description"].split()))
    return introduction + "\n".join(rows(schema["properties"], schema.get("required", []), "")) + "\n"


def main() -> int:
    text = render(yaml.safe_load(SCHEMA.read_text()))
    with tempfile.NamedTemporaryFile("w", dir=README.parent, delete=False, suffix=".tmp") as handle:
        handle.write(text)
    os.replace(handle.name, README)
    return 0


if __name__ == "__main__":
    sys.exit(main())
