"""model_comparison.csv across the workflow's runs (``heterodyne compare RUN_DIR ... --collect``):
every run's rows under the run columns of summary.csv, and bad input refused in one line."""

from __future__ import annotations

import csv
import json

import pytest

from heterodyne.cli import main
from heterodyne.comparison import COLUMNS

KEY = "analyzer_parameters.start_frame"


def write_run(root, dataset: str, start: int, seed: int, rows: list[dict]):
    """A run directory as the workflow lays it out: result.json (its config) and model_comparison.csv."""
    run_dir = root / dataset / f"start_frame={start}" / f"seed{seed}" / "nlsq"
    run_dir.mkdir(parents=True)
    document = {"nlsq": {}, "config": {"analyzer_parameters": {"start_frame": start}}}
    (run_dir / "result.json").write_text(json.dumps(document))
    with open(run_dir / "model_comparison.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows({**dict.fromkeys(COLUMNS, ""), **row} for row in rows)
    return run_dir


def comparison_row(reduction: str, p_value: str) -> dict:
    return {"reduction": reduction, "p_value": p_value, "decision": "keep reduction", "status": "ok"}


@pytest.fixture
def runs(tmp_path):
    root = tmp_path / "results"
    first = write_run(root, "a", 1, 0, [comparison_row("steady", "0.25"), comparison_row("one_component", "0.5")])
    second = write_run(root, "b", 21, 3, [comparison_row("steady", "0.0125")])
    return root, first, second


def test_the_table_across_runs_puts_the_run_columns_first_and_keeps_every_row(runs, capsys):
    root, first, second = runs
    table = root / "model_comparison.csv"
    assert main(["compare", str(first), str(second), "--collect", str(table), "--root", str(root),
                 "--sweep-key", KEY]) == 0
    assert capsys.readouterr().out.strip() == str(table)
    with open(table, newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert tuple(reader.fieldnames or ()) == ("dataset", "run", "seed", KEY, *COLUMNS)
    assert [(r["dataset"], r["run"], r["seed"], r[KEY], r["reduction"], r["p_value"]) for r in rows] == [
        ("a", "start_frame=1", "0", "1", "steady", "0.25"),
        ("a", "start_frame=1", "0", "1", "one_component", "0.5"),
        ("b", "start_frame=21", "3", "21", "steady", "0.0125"),
    ]
    assert {r["status"] for r in rows} == {"ok"} and {r["chi2_red_full"] for r in rows} == {""}


@pytest.mark.parametrize("change, message", [
    (lambda root, first, second: (second / "model_comparison.csv").unlink(),
     "model_comparison.csv: no model comparison (run `heterodyne compare"),
    (lambda root, first, second: (second / "model_comparison.csv").write_text("reduction,p_value\nsteady,0.1\n"),
     "model_comparison.csv: columns reduction, p_value, expected reduction, constraints,"),
    (lambda root, first, second: (second / "result.json").write_text("[]"), "not a run result"),
])
def test_a_run_without_a_readable_table_stops_the_collection_in_one_line_and_writes_nothing(
        runs, capsys, change, message):
    root, first, second = runs
    change(root, first, second)
    table = root / "model_comparison.csv"
    assert main(["compare", str(first), str(second), "--collect", str(table), "--root", str(root)]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("heterodyne: error: ") and message in error
    assert not table.exists()


@pytest.mark.parametrize("arguments, message", [
    (["{first}", "--collect", "{root}/t.csv"], "--collect needs --root"),
    (["{first}", "--collect", "{root}/t.csv", "--root", "{root}", "--threads", "2"], "--collect fits nothing"),
    (["{first}", "{second}"], "compare fits one RUN_DIR at a time"),
    (["{first}", "--root", "{root}"], "compare fits one RUN_DIR at a time"),
    (["{first}", "--reduction", "flat"], "unknown reduction 'flat'"),
    (["{first}", "--collect", "{root}/t.csv", "--root", "{root}/elsewhere"], "not under the results directory"),
])
def test_misused_options_are_refused_in_one_line(runs, capsys, arguments, message):
    root, first, second = runs
    before = (first / "model_comparison.csv").read_bytes()
    assert main(["compare", *(a.format(root=root, first=first, second=second) for a in arguments)]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and message in error
    assert not (root / "t.csv").exists() and (first / "model_comparison.csv").read_bytes() == before
