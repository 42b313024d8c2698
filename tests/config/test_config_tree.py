"""The typed config tree: it gives back exactly the resolved dict, mirrors the schema, and is frozen."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
import types
import typing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from heterodyne.batch.datasets import from_sheet
from heterodyne.batch.sweep import expand_sweep
from heterodyne.config import SCHEMA, read_config, resolve_config, template_text
from heterodyne.config.resolve import resolved_dict
from heterodyne.config.schema import Schema
from heterodyne.config.tree import AnalysisConfig, ParameterConfig
from heterodyne.config.yaml_io import parse_yaml, read_yaml
from heterodyne.errors import HeterodyneError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "config" / "examples").glob("*.yaml"))
_PYTHON_TYPES = {"null": type(None), "boolean": bool, "integer": int, "number": float, "string": str,
                 "array": tuple}


def assert_round_trip(resolved: dict[str, Any]) -> None:
    """``from_resolved(d).as_dict()`` is ``d``: equal, and the same JSON text (key order, int vs float)."""
    back = AnalysisConfig.from_resolved(resolved).as_dict()
    assert back == resolved
    assert json.dumps(back) == json.dumps(resolved)


def _example_configs(example: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[dict[str, Any]]:
    """Every analysis config a workflow example asks for: its base config with each sweep point,
    then each sheet row, then each seed applied (the sheet's data files stand in as empty files)."""
    workflow = read_yaml(example)
    base = read_yaml(ROOT / workflow["analysis"])
    overrides: list[dict[str, Any]] = [point.values for point in expand_sweep(workflow.get("sweep") or {})]
    sheet = workflow["datasets"].get("sheet")
    if sheet:
        rows = (ROOT / sheet).read_text(encoding="utf-8").splitlines()[1:]
        monkeypatch.chdir(tmp_path)
        for row in rows:
            (tmp_path / row.split("\t")[1]).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / row.split("\t")[1]).touch()
        overrides += [dict(dataset.overrides) for dataset in from_sheet(str(ROOT / sheet))]
    overrides += [{"optimization.nlsq.seed": seed, "optimization.cmc.seed": seed} for seed in workflow["seeds"]]
    return [resolved_dict(base, str(example), values) for values in overrides]


def test_round_trip_of_the_template_and_the_demo_config():
    assert_round_trip(resolved_dict(None))
    assert_round_trip(resolved_dict(parse_yaml(template_text(), "template")))
    demo = ROOT / "config" / "analysis.yaml"
    assert_round_trip(resolved_dict(read_yaml(demo), str(demo)))
    assert read_config(demo).as_dict() == resolved_dict(read_yaml(demo), str(demo))


@pytest.mark.parametrize("example", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_round_trip_of_every_example_run(example: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    configs = _example_configs(example, monkeypatch, tmp_path)
    assert len(configs) > 1
    for resolved in configs:
        assert_round_trip(resolved)


def test_sheet_overrides_reach_the_tree(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    configs = _example_configs(ROOT / "config" / "examples" / "survey.yaml", monkeypatch, tmp_path)
    trees = [AnalysisConfig.from_resolved(config) for config in configs]
    assert [tree.analyzer_parameters.start_frame for tree in trees[1:3]] == [1, 50]
    assert [tree.experimental_data.q for tree in trees[1:3]] == [0.009, 0.012]


def test_round_trip_keeps_lists_prior_keys_and_number_types():
    resolved = resolved_dict({
        "experimental_data": {"phi": [[-10, 10], [170, 190]], "q": 1},
        "parameters": {"D0_ref": {"prior": {"type": "lognormal", "mu": 9, "sigma": 1}}},
        "scaling": {"mode": "fixed", "contrast": {"initial": [1, 0.2, 0.3]}},
        "optimization": {"cmc": {"max_points_per_shard": 500}},
    })
    tree = AnalysisConfig.from_resolved(resolved)
    assert tree.experimental_data.phi == ((-10.0, 10.0), (170.0, 190.0))
    assert tree.scaling.contrast.initial == (1.0, 0.2, 0.3)
    assert tree.parameters["D0_ref"].prior.as_dict() == {"type": "lognormal", "mu": 9.0, "sigma": 1.0}
    assert tree.parameters["v0"].prior.as_dict() == {"type": "uniform"}
    assert tree.optimization.cmc.max_points_per_shard == 500
    assert_round_trip(resolved)


def _leaf_types(schema: Schema) -> set[type]:
    """The Python types a leaf's schema allows (``oneOf`` branches and ``const`` included)."""
    if "oneOf" in schema:
        return set().union(*(_leaf_types(branch) for branch in schema["oneOf"]))
    if "const" in schema:
        return {type(schema["const"])}
    kinds = schema["type"]
    return {_PYTHON_TYPES[kind] for kind in ([kinds] if isinstance(kinds, str) else kinds)}


def _hint_types(hint: Any) -> set[type]:
    """The runtime types a field's annotation allows (``tuple[float, ...]`` counts as tuple)."""
    arms = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    return {typing.get_origin(arm) or arm for arm in arms}


def _check_mirror(schema: Schema, hint: Any, path: str, may_be_absent: bool = False) -> None:
    """The record type ``hint`` has exactly the schema's properties, in order, with matching types.

    ``may_be_absent``: a key the schema neither requires nor defaults, so None in the record.
    """
    if dataclasses.is_dataclass(hint):
        names = [field.name for field in dataclasses.fields(hint)]
        assert names == list(schema["properties"]), f"{path}: fields {names} vs schema"
        hints = typing.get_type_hints(hint)
        required = schema.get("required", [])
        for name in names:
            sub = schema["properties"][name]
            absent = name not in required and "default" not in sub and "properties" not in sub
            _check_mirror(sub, hints[name], f"{path}.{name}", may_be_absent=absent)
    elif typing.get_origin(hint) is typing.get_origin(typing.Mapping[str, Any]):
        _, entry = typing.get_args(hint)
        for name, sub in schema["properties"].items():
            _check_mirror(sub, entry, f"{path}.{name}")
    else:
        assert "properties" not in schema, f"{path}: a section, typed as a leaf {hint}"
        absent = {type(None)} if may_be_absent else set()
        assert _hint_types(hint) == _leaf_types(schema) | absent, f"{path}: {hint} vs schema"


def test_every_schema_property_is_a_field_and_every_field_a_property():
    _check_mirror(SCHEMA, AnalysisConfig, "config")
    tree = resolve_config(None)
    assert list(tree.parameters) == list(SCHEMA["properties"]["parameters"]["properties"])
    assert all(isinstance(entry, ParameterConfig) for entry in tree.parameters.values())


def test_a_drifted_record_is_caught():
    @dataclasses.dataclass(frozen=True)
    class Missing:
        dt: float | None
        start_frame: int
        end_frame: int | None

    @dataclasses.dataclass(frozen=True)
    class Mistyped:
        dt: float | None
        time_origin: float
        start_frame: int
        end_frame: int | None

    section = SCHEMA["properties"]["analyzer_parameters"]
    for record in (Missing, Mistyped):
        with pytest.raises(AssertionError):
            _check_mirror(section, record, "analyzer_parameters")


def test_the_tree_is_frozen():
    tree = read_config(ROOT / "config" / "analysis.yaml")
    with pytest.raises(dataclasses.FrozenInstanceError):
        tree.optimization.nlsq.seed = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        tree.output = tree.output  # type: ignore[misc]
    with pytest.raises(TypeError):
        tree.parameters["v0"] = tree.parameters["beta"]  # type: ignore[index]
    assert isinstance(tree.experimental_data.phi, tuple)
    assert isinstance(tree.parameters["v0"].bounds, tuple)


def test_a_changed_copy_leaves_the_original_and_its_dict():
    resolved = read_config(ROOT / "config" / "analysis.yaml").as_dict()
    text = json.dumps(resolved)
    tree = AnalysisConfig.from_resolved(resolved)
    quiet = dataclasses.replace(tree, output=dataclasses.replace(tree.output, plots=True))
    assert quiet.output.plots and not tree.output.plots
    assert quiet.as_dict() == {**resolved, "output": {**resolved["output"], "plots": True}}
    assert json.dumps(resolved) == text


def test_pickle_and_deepcopy_give_an_equal_tree():
    tree = resolve_config({"parameters": {"f0": {"prior": {"type": "normal", "mu": 0.3, "sigma": 0.1}}}})
    for copied in (pickle.loads(pickle.dumps(tree)), copy.deepcopy(tree)):
        assert copied == tree
        assert copied.as_dict() == tree.as_dict()


def test_an_unknown_key_is_refused():
    resolved = resolved_dict(None)
    resolved["output"]["colour"] = "red"
    with pytest.raises(TypeError, match="colour"):
        AnalysisConfig.from_resolved(resolved)


# Generated configs: every section may be null or any subset of its keys, every leaf any value its
# schema allows (ints where floats go, both forms of phi and of scaling initial), with bounds
# increasing and initial values inside them.

_MAGNITUDE = 1e9


def _numbers(schema: Schema) -> st.SearchStrategy[Any]:
    """Floats and ints within the schema's minimum or exclusive minimum."""
    low = schema.get("minimum", schema.get("exclusiveMinimum", -_MAGNITUDE))
    exclusive = "exclusiveMinimum" in schema
    floats = st.floats(min_value=low, max_value=_MAGNITUDE, exclude_min=exclusive)
    integers = st.integers(min_value=int(low) + 1 if exclusive else int(low), max_value=int(_MAGNITUDE))
    return floats | integers


def _leaf(schema: Schema) -> st.SearchStrategy[Any]:
    """Any value a leaf's schema accepts."""
    if "oneOf" in schema:
        return st.one_of([_leaf(branch) for branch in schema["oneOf"]])
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kinds = schema["type"]
    choices = []
    for kind in [kinds] if isinstance(kinds, str) else kinds:
        if kind == "null":
            choices.append(st.none())
        elif kind == "boolean":
            choices.append(st.booleans())
        elif kind == "integer":
            low = schema.get("minimum", 0)
            choices.append(st.integers(min_value=low, max_value=low + 10_000))
        elif kind == "number":
            choices.append(_numbers(schema))
        elif kind == "string":
            choices.append(st.text(min_size=schema.get("minLength", 0), max_size=8))
        elif kind == "array" and "prefixItems" in schema:
            choices.append(st.tuples(*(_leaf(item) for item in schema["prefixItems"])).map(list))
        else:
            choices.append(st.lists(_leaf(schema["items"]), min_size=schema.get("minItems", 0), max_size=4))
    return st.one_of(choices)


@st.composite
def _bounded(draw: st.DrawFn, schema: Schema) -> dict[str, Any]:
    """A parameter or scaling entry: any subset of its keys, bounds increasing, initial inside them
    (never a tie: ties are cross-checked against the other parameters, tests/test_ties.py)."""
    properties = schema["properties"]
    keys = draw(st.lists(st.sampled_from([key for key in properties if key != "tied_to"]), unique=True))
    lower, upper = properties["bounds"]["default"]
    if "bounds" in keys:
        lower, upper = sorted(draw(st.lists(st.integers(-1000, 1000) | st.floats(-1e6, 1e6), min_size=2,
                                            max_size=2, unique=True)))
    inside = st.floats(min_value=lower, max_value=upper) | st.just(lower)
    many = "array" in properties["initial"]["type"]
    entry: dict[str, Any] = {
        "bounds": [lower, upper],
        "initial": draw(st.lists(inside, min_size=1, max_size=4) | inside if many else inside),
        "vary": draw(st.booleans()),
        "prior": draw(st.sampled_from([{"type": "uniform"}, {"type": "normal", "mu": lower, "sigma": 2}])),
    }
    return {key: entry[key] for key in keys}


def _node(schema: Schema) -> st.SearchStrategy[Any]:
    """Any value of a schema node: a leaf, or a section (null, or any subset of its keys)."""
    if "properties" not in schema:
        return _leaf(schema)
    if "bounds" in schema["properties"]:
        return _bounded(schema)
    section = st.fixed_dictionaries({}, optional={key: _node(sub) for key, sub in schema["properties"].items()})
    return st.none() | section if "null" in schema["type"] else section


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=_node(SCHEMA))
def test_round_trip_of_generated_configs(raw: dict[str, Any] | None):
    try:
        resolved = resolved_dict(raw)
    except HeterodyneError:
        reject()
    assert_round_trip(resolved)
