"""Each vocabulary of the package (methods, combinations, scaling modes, prior families, ...) is
written out once; every other module derives it, and every map keyed by one has exactly its words.

A vocabulary is a module-level tuple, list, set or frozenset of two or more string literals, or the
string keys of a module-level dict literal. Two of them sharing two or more words define the same
thing twice, unless one is a map checked against the other below or the pair is allowed below.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import itertools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "heterodyne"

KEYED_MAPS = {
    "heterodyne.plots.trends:MARKERS": "heterodyne.methods:METHODS",
    "heterodyne.cmc.combination:GAUSSIAN_CHECK": "heterodyne.cmc.combination:COMBINATIONS",
    "heterodyne.cmc.plan:AUTO_REASONS": "heterodyne.cmc.combination:COMBINATIONS",
    "heterodyne.cmc.posterior:PRIOR_KINDS": "heterodyne.config.schema:PRIOR_TYPES",
    "heterodyne.plots.canvas:NO_DATE": "heterodyne.plots.canvas:IMAGE_FORMATS",
    "heterodyne.plots.canvas:ENCODER": "heterodyne.plots.canvas:IMAGE_FORMATS",
    "heterodyne.batch.windows:WITHOUT_WORKFLOW_WINDOWS": "heterodyne.batch.windows:WINDOW_KEYS",
}
"""Map -> the vocabulary its keys must be, exactly."""

ALLOWED = {
    # Array names of nlsq.npz (contrast and offset among them) against the simulation settings
    # that only the independent-noise model takes (contrast and offset among them).
    frozenset({"heterodyne.run_directory:NLSQ_ARRAYS", "heterodyne.simulation.spec:INDEPENDENT_ONLY"}),
}
"""Pairs of word lists that share words but name different things (each with its reason)."""


def _parameter_selection(words: set[str]) -> bool:
    """Every word names a parameter, or some of the model's rates: a selection from the registry
    (heterodyne/parameters.py, where each name is defined once) for one role, e.g. the parameters a
    starting estimate reads off the data or the rates tested for a change point; such selections
    overlap without defining anything twice."""
    from heterodyne.parameters import BY_NAME, RATE_UNITS

    return words <= set(BY_NAME) or words < set(RATE_UNITS)


def _words(value: ast.expr) -> set[str] | None:
    """The string literals of a literal collection (or a dict's keys); None when not all literal."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in {
            "frozenset", "set", "tuple", "list"} and len(value.args) == 1:
        value = value.args[0]
    if isinstance(value, ast.Dict):
        elements: list[ast.expr | None] = list(value.keys)
    elif isinstance(value, (ast.Tuple, ast.List, ast.Set)):
        elements = list(value.elts)
    else:
        return None
    if not all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in elements):
        return None
    words = {e.value for e in elements if isinstance(e, ast.Constant)}
    return words if len(words) >= 2 else None


def vocabularies() -> dict[str, set[str]]:
    """``module:NAME`` -> words, for every module-level word list of the package."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets, value = [node.target], node.value
            else:
                continue
            words = _words(value)
            for target in targets:
                if words and not _parameter_selection(words) and isinstance(target, ast.Name):
                    found[f"{module}:{target.id}"] = words
    return found


def _keyed_together(a: str, b: str) -> bool:
    """One map is keyed by the other vocabulary, or both are keyed by the same one."""
    return (KEYED_MAPS.get(a) == b or KEYED_MAPS.get(b) == a
            or (a in KEYED_MAPS and KEYED_MAPS.get(a) == KEYED_MAPS.get(b)))


def _value(qualified: str):
    module, name = qualified.split(":")
    return getattr(importlib.import_module(module), name)


def test_the_scan_finds_the_vocabularies_it_is_meant_to_guard():
    found = vocabularies()
    assert found["heterodyne.methods:METHODS"] == {"nlsq", "cmc"}
    assert found["heterodyne.cmc.combination:COMBINATIONS"] == {"barycenter", "scott"}
    assert found["heterodyne.scaling:MODES"] == {"individual", "constant", "fourier", "fixed"}
    assert found["heterodyne.config.schema:PRIOR_TYPES"] == {"uniform", "normal", "lognormal"}


def test_no_vocabulary_is_defined_twice():
    found = vocabularies()
    twice = [f"{a} and {b} share {sorted(found[a] & found[b])}"
             for a, b in itertools.combinations(sorted(found), 2)
             if len(found[a] & found[b]) >= 2 and frozenset({a, b}) not in ALLOWED and not _keyed_together(a, b)]
    assert twice == []


def test_every_allowed_pair_still_exists_and_still_overlaps():
    found = vocabularies()
    for pair in ALLOWED:
        a, b = sorted(pair)
        assert a in found and b in found and len(found[a] & found[b]) >= 2, pair


@pytest.mark.parametrize("keyed, vocabulary", sorted(KEYED_MAPS.items()))
def test_every_map_keyed_by_a_vocabulary_has_exactly_its_words(keyed, vocabulary):
    assert set(_value(keyed)) == set(_value(vocabulary))


def test_the_derived_vocabularies_follow_their_definition():
    from heterodyne.cmc.combination import COMBINATIONS
    from heterodyne.commands.run import add_arguments
    from heterodyne.config.schema import SCHEMA
    from heterodyne.methods import METHODS, RUN_CHOICES
    from heterodyne.scaling import MODES

    cmc = SCHEMA["properties"]["optimization"]["properties"]["cmc"]["properties"]
    assert cmc["combination"]["enum"] == list(COMBINATIONS)
    scaling = SCHEMA["properties"]["scaling"]["properties"]
    assert scaling["mode"]["enum"] == ["auto", *MODES]
    assert (*METHODS, "all") == RUN_CHOICES
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    method = next(action for action in parser._actions if action.dest == "method")
    assert tuple(method.choices) == RUN_CHOICES
