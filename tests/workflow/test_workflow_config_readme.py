"""config/README.md is generated from the workflow's config schema and kept so."""

import importlib.util
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "workflow" / "scripts" / "config_readme.py"


def generator():
    """workflow/scripts/config_readme.py as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("config_readme", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_config_readme_is_what_the_generator_writes_from_the_schema():
    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    expected = generator().render(schema)
    assert (ROOT / "config" / "README.md").read_text() == expected, \
        "config/README.md is out of date: run python workflow/scripts/config_readme.py"


def test_every_key_gets_a_row_with_its_type_default_allowed_values_and_description():
    schema = {
        "description": "A workflow.",
        "required": ["inputs"],
        "properties": {
            "mode": {"enum": ["fast", "exact"], "default": "fast", "description": "How | to run."},
            "cores": {"type": ["integer", "null"], "minimum": 1, "default": None, "description": "CPUs."},
            "inputs": {"type": "object", "description": "Inputs.", "additionalProperties": {
                "type": "object", "properties": {"frames": {"type": "integer", "default": 200}}}},
        },
    }
    table = generator().render(schema).split("| --- | --- | --- | --- | --- |\n")[1]
    assert table.splitlines() == [
        r"| `mode` | string | `fast` | `fast`, `exact` | How \| to run. |",
        "| `cores` | integer or null | `null` | ≥ 1 | CPUs. |",
        "| `inputs` | object | required |  | Inputs. |",
        "| `inputs.<name>` | object |  |  |  |",
        "| `inputs.<name>.frames` | integer | `200` |  |  |",
    ]
