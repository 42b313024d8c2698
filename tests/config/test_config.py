"""The analysis configuration: defaults, overrides, YAML reading, template and parameter table."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from heterodyne.config import (
    SCHEMA,
    get_dotted,
    parameter_table,
    read_config,
    resolve_config,
    set_dotted,
    template_text,
)
from heterodyne.config.resolve import resolved_dict
from heterodyne.config.validate import StrictValidator
from heterodyne.config.yaml_io import parse_yaml
from heterodyne.errors import HeterodyneError
from heterodyne.parameters import PHYSICS_NAMES, PHYSICS_PARAMETERS, SCALING_PARAMETERS


def _walk(schema: dict, path: str = ""):
    """Every (dotted path, sub-schema) of the schema's properties."""
    for key, sub in schema.get("properties", {}).items():
        yield f"{path}{key}", sub
        yield from _walk(sub, f"{path}{key}.")


def test_schema_is_a_valid_draft_2020_12_schema():
    StrictValidator.check_schema(SCHEMA)


def test_every_key_is_described_and_every_leaf_has_a_default():
    """…except the keys whose absence is the meaning: a prior's mu and sigma, and a parameter's tie."""
    for path, sub in _walk(SCHEMA):
        assert sub.get("description"), path
        absence_means = path.split(".")[-2:-1] == ["prior"] or path.endswith(".tied_to")
        if "properties" not in sub and not absence_means:
            assert "default" in sub, path


def test_defaults_resolve_and_round_trip_through_json():
    config = resolved_dict(None)
    assert json.loads(json.dumps(config)) == config
    assert list(config) == [
        "experimental_data", "analyzer_parameters", "parameters", "scaling", "optimization",
        "output", "compute",
    ]
    assert config["optimization"]["nlsq"]["seed"] == 0
    assert config["optimization"]["cmc"]["seed"] == 42
    assert config["optimization"]["cmc"]["max_points_per_shard"] == "auto"
    assert config["scaling"]["mode"] == "auto"
    assert config["analyzer_parameters"] == {"dt": None, "time_origin": None, "start_frame": 1, "end_frame": None}


def test_parameter_defaults_come_from_the_registry():
    config = resolved_dict({})
    assert list(config["parameters"]) == list(PHYSICS_NAMES)
    for spec in PHYSICS_PARAMETERS:
        entry = config["parameters"][spec.name]
        assert entry == {"initial": spec.default, "bounds": [spec.lower, spec.upper],
                         "vary": spec.varies_by_default, "prior": {"type": "uniform"}}
    for spec in SCALING_PARAMETERS:
        assert config["scaling"][spec.name] == {"initial": spec.default,
                                                "bounds": [spec.lower, spec.upper]}


def test_empty_and_null_sections_mean_defaults():
    assert resolved_dict({"scaling": None, "parameters": {"f0": None}}) == resolved_dict(None)


def test_partial_entries_keep_the_other_defaults():
    config = resolved_dict({"parameters": {"f0": {"vary": False}}, "optimization": {"cmc": {"seed": 7}}})
    assert config["parameters"]["f0"]["vary"] is False
    assert config["parameters"]["f0"]["initial"] == 0.5
    assert config["optimization"]["cmc"]["seed"] == 7
    assert config["optimization"]["cmc"]["num_chains"] == 4


def test_equivalent_numbers_resolve_identically():
    as_ints = resolved_dict({"parameters": {"v0": {"bounds": [1, 100], "initial": 10}},
                              "experimental_data": {"phi": [[0, 90]], "q": 1}})
    as_floats = resolved_dict({"parameters": {"v0": {"bounds": [1.0, 100.0], "initial": 10.0}},
                                "experimental_data": {"phi": [[0.0, 90.0]], "q": 1.0}})
    assert json.dumps(as_ints) == json.dumps(as_floats)
    assert type(as_ints["parameters"]["v0"]["initial"]) is float
    assert type(as_ints["optimization"]["nlsq"]["max_iterations"]) is int


def test_phi_accepts_angles_and_ranges():
    angles = resolved_dict({"experimental_data": {"phi": [0, 45.5]}})
    ranges = resolved_dict({"experimental_data": {"phi": [[-10, 10], [80, 100]]}})
    assert angles["experimental_data"]["phi"] == [0.0, 45.5]
    assert ranges["experimental_data"]["phi"] == [[-10.0, 10.0], [80.0, 100.0]]


def test_informative_priors_and_per_angle_contrast_resolve():
    config = resolved_dict({
        "parameters": {"D0_ref": {"prior": {"type": "lognormal", "mu": 9, "sigma": 1}},
                       "f0": {"prior": {"type": "normal", "mu": 0.5, "sigma": 0.1}}},
        "scaling": {"mode": "fixed", "contrast": {"initial": [0.1, 0.2, 0.3]}},
        "optimization": {"cmc": {"max_points_per_shard": 20000}},
    })
    assert config["parameters"]["D0_ref"]["prior"] == {"type": "lognormal", "mu": 9.0, "sigma": 1.0}
    assert config["parameters"]["f0"]["prior"] == {"type": "normal", "mu": 0.5, "sigma": 0.1}
    assert config["scaling"]["contrast"]["initial"] == [0.1, 0.2, 0.3]
    assert config["optimization"]["cmc"]["max_points_per_shard"] == 20000


def test_overrides_apply_and_leave_the_input_untouched():
    raw = {"experimental_data": {"file_path": "a.h5"}, "optimization": {"nlsq": {"seed": 1}}}
    before = copy.deepcopy(raw)
    config = resolved_dict(raw, overrides={
        "experimental_data.file_path": "b.h5",
        "optimization.nlsq.seed": 5,
        "optimization.cmc.seed": 5,
        "output.output_dir": "elsewhere",
        "parameters.beta.bounds": [-1, 1],
    })
    assert raw == before
    assert config["experimental_data"]["file_path"] == "b.h5"
    assert config["optimization"]["nlsq"]["seed"] == 5
    assert config["optimization"]["cmc"]["seed"] == 5
    assert config["output"]["output_dir"] == "elsewhere"
    assert config["parameters"]["beta"]["bounds"] == [-1.0, 1.0]


def test_override_can_fill_a_null_section():
    config = resolved_dict({"output": None}, overrides={"output.plots": True})
    assert config["output"] == {"output_dir": "results", "plots": True, "viewer_file": False}


def test_set_and_get_dotted():
    config: dict = {"a": {"b": 1}}
    set_dotted(config, "a.c.d", 2)
    set_dotted(config, "a.b", 3)
    assert config == {"a": {"b": 3, "c": {"d": 2}}}
    assert get_dotted(config, "a.c.d") == 2
    with pytest.raises(HeterodyneError, match=r"a\.x"):
        get_dotted(config, "a.x")
    with pytest.raises(HeterodyneError, match=r"cannot set a\.b\.z: a\.b is not a mapping"):
        set_dotted(config, "a.b.z", 1)


def test_load_config_reads_a_file(tmp_path: Path):
    path = tmp_path / "run.yaml"
    path.write_text("experimental_data:\n  file_path: data.h5\n  q: 0.01\n"
                    "parameters:\n  D0_ref: {initial: 2e4, bounds: [1e2, 1E6]}\n")
    config = read_config(path, overrides={"optimization.cmc.seed": 3}).as_dict()
    assert config["experimental_data"]["file_path"] == "data.h5"
    assert config["parameters"]["D0_ref"] == {"initial": 2e4, "bounds": [100.0, 1e6], "vary": True,
                                              "prior": {"type": "uniform"}}
    assert config["optimization"]["cmc"]["seed"] == 3


def test_empty_file_means_all_defaults(tmp_path: Path):
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing but a comment\n")
    assert read_config(str(path)) == resolve_config(None)


@pytest.mark.parametrize("text, expected", [
    ("1e4", 1e4), ("1E-3", 1e-3), ("-2.5e+5", -2.5e5), ("+3e2", 300.0), (".5e1", 5.0),
    ("1.0e-10", 1e-10), ("2.", 2.0), ("1_000.5", 1000.5),
])
def test_exponent_floats_without_a_dot_parse_as_floats(text: str, expected: float):
    value = parse_yaml(f"x: {text}", "t.yaml")["x"]
    assert isinstance(value, float) and value == expected


@pytest.mark.parametrize("text, expected", [("10", 10), ("'1e4'", "1e4"), ("e4", "e4"), ("1e", "1e")])
def test_other_scalars_keep_their_types(text: str, expected: object):
    value = parse_yaml(f"x: {text}", "t.yaml")["x"]
    assert value == expected and type(value) is type(expected)


def test_template_loads_to_the_defaults(tmp_path: Path):
    text = template_text()
    path = tmp_path / "template.yaml"
    path.write_text(text, encoding="utf-8")
    assert read_config(path) == resolve_config(None)
    assert resolve_config(yaml.safe_load(text)) == resolve_config(None)  # plain PyYAML reads it too


def test_template_comments_every_key():
    lines = [line for line in template_text().splitlines() if line.strip()]
    keys = [line for line in lines if not line.lstrip().startswith("#")]
    assert all(" # " in line for line in keys)
    written = {line.split(":")[0].strip() for line in keys}
    for name in PHYSICS_NAMES:
        assert name in written
    for path, _ in _walk(SCHEMA):
        parts = path.split(".")
        if "parameters" not in parts and parts[-2:-1] not in (["contrast"], ["offset"]):
            assert parts[-1] in written, path


def test_parameter_table_is_in_canonical_order_and_resolved():
    config = resolve_config({"parameters": {"f1": {"initial": 1, "bounds": [-2, 3], "vary": False},
                                            "v0": {"prior": {"type": "normal", "mu": 5, "sigma": 2}}}})
    table = parameter_table(config)
    assert [row["name"] for row in table] == list(PHYSICS_NAMES)
    rows = {row["name"]: row for row in table}
    assert rows["f1"] == {"name": "f1", "initial": 1.0, "lower": -2.0, "upper": 3.0, "vary": False,
                          "prior": {"type": "uniform"}, "tied_to": None}
    assert rows["v0"]["prior"] == {"type": "normal", "mu": 5.0, "sigma": 2.0}
    rows["v0"]["prior"]["mu"] = 0.0
    assert config.parameters["v0"].prior.mu == 5.0
