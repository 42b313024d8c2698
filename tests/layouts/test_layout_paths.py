"""Each file layout's HDF5 paths are defined once, in heterodyne/layouts/, for readers and writers alike.

The scan reads every string constant of the package (docstrings and other bare string statements
excepted) and keeps those under a layout's top-level groups (``/xpcs``, ``/entry``, …, taken from
the layout modules themselves).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

import heterodyne
from heterodyne.layouts import aps_u, legacy, transitional

PACKAGE = Path(heterodyne.__file__).parent
LAYOUTS = PACKAGE / "layouts"


def layout_roots() -> set[str]:
    """The top-level groups of every path the layout modules define: ``/xpcs``, ``/entry``, …"""
    paths = [value for module in (aps_u, legacy, transitional) for name, value in vars(module).items()
             if name.isupper() and isinstance(value, str) and value.startswith("/")]
    return {"/" + path.split("/")[1] for path in paths}


def path_literals(source: str, roots: set[str]) -> list[tuple[int, str]]:
    """(line, text) of every string constant of ``source`` that is a layout root or lies under one."""
    tree = ast.parse(source)
    statements = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in statements
        and any(node.value == root or node.value.startswith(root + "/") for root in roots)
    ]


def test_the_layout_roots_are_the_groups_of_both_layouts():
    assert layout_roots() == {"/xpcs", "/entry", "/exchange", "/measurement"}


def test_the_scan_finds_paths_in_assignments_calls_and_f_strings_but_not_in_docstrings():
    source = '"""Reads ``/xpcs/qmap``."""\nA = "/xpcs/qmap"\nf(h5["/entry/x"], f"/exchange/{k}", "/xpcsx")\n'
    assert path_literals(source, layout_roots()) == [(2, "/xpcs/qmap"), (3, "/entry/x"), (3, "/exchange/")]


def test_no_layout_path_is_written_outside_heterodyne_layouts():
    roots = layout_roots()
    outside = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {text!r}"
        for path in sorted(PACKAGE.rglob("*.py")) if LAYOUTS not in path.parents
        for line, text in path_literals(path.read_text(encoding="utf-8"), roots)
    ]
    assert not outside, "layout paths belong in heterodyne/layouts/:\n" + "\n".join(outside)


def test_no_layout_path_is_defined_in_two_layout_modules():
    roots = layout_roots()
    modules_of: defaultdict[str, set[str]] = defaultdict(set)
    for path in sorted(LAYOUTS.glob("*.py")):
        for _, text in path_literals(path.read_text(encoding="utf-8"), roots):
            modules_of[text].add(path.name)
    twice = {text: sorted(modules) for text, modules in modules_of.items() if len(modules) > 1}
    assert not twice
    assert modules_of, "the layout modules define no path: the scan is broken"


@pytest.mark.parametrize(
    ("module", "paths"),
    [
        (aps_u, {"MATRIX_GROUP": "/xpcs/twotime/correlation_map", "PROCESSED_BINS": "/xpcs/twotime/processed_bins",
                 "QMAP_INDEX_MAPPING": "/xpcs/qmap/dynamic_index_mapping", "BEGIN": "/xpcs/twotime/config/begin_frame",
                 "FRAME_TIME": "/entry/instrument/detector_1/frame_time"}),
        (legacy, {"RESULT_POINTER": "/xpcs/output_data", "MATRIX_GROUP": "/exchange/C2T_all",
                  "BINS_TO_PROCESS": "/xpcs/qphi_bin_to_process", "DATA_BEGIN_TODO": "/xpcs/data_begin_todo",
                  "FRAME_TIME": "/measurement/instrument/detector/exposure_period"}),
        (transitional, {"MATRIX_GROUP": "/xpcs/C2T_all"}),
    ],
)
def test_the_layout_paths_are_those_of_docs_data_formats(module, paths):
    assert {name: getattr(module, name) for name in paths} == paths


def test_matrix_keys_are_zero_padded_counters():
    assert (aps_u.matrix_key(1), legacy.matrix_key(123)) == ("c2_00001", "g2_00123")
