"""``heterodyne trends SUMMARY.csv``: a trend figure per sweep column, NLSQ versus CMC when both
ran, and one-line errors for a malformed table (hand-made CSVs in the workflow's columns)."""

import pytest
from summary_helpers import VARIED, sweep_rows, write_summary

from heterodyne.cli import main
from heterodyne.plots.agreement import agreement_figure, method_pairs
from heterodyne.plots.summary_table import read_summary
from heterodyne.plots.trends import trend_figure, x_positions


def test_one_trend_figure_per_sweep_column_and_agreement(tmp_path, capsys):
    summary = write_summary(tmp_path / "summary.csv", sweep_rows())
    assert main(["trends", str(summary), "--output-dir", str(tmp_path / "out")]) == 0
    names = ["trend_analyzer_parameters_start_frame.png", "trend_scaling_mode.png", "nlsq_vs_cmc.png"]
    assert capsys.readouterr().out.split() == [str(tmp_path / "out" / name) for name in names]
    assert all((tmp_path / "out" / name).read_bytes()[:4] == b"\x89PNG" for name in names)


def test_trend_panels_series_and_error_bars(tmp_path):
    table = read_summary(write_summary(tmp_path / "s.csv", sweep_rows()))
    assert table.sweep_columns == ["analyzer_parameters.start_frame", "scaling.mode"]
    assert table.varied == list(VARIED)
    figure = trend_figure(table, "analyzer_parameters.start_frame")
    panels = figure.axes
    assert [axis.get_title() for axis in panels] == list(VARIED)
    assert all(axis.get_xlabel() == "analyzer_parameters.start_frame" for axis in panels)
    # 2 datasets × 2 scaling modes = 4 series, each with an NLSQ and a CMC error-bar line
    assert len(panels[0].containers) == 8
    legend = [text.get_text() for text in figure.legends[0].get_texts()]
    assert "A, seed 1, mode=individual" in legend and "not converged" in legend
    nlsq_bars = panels[0].containers[0]
    assert len(nlsq_bars.lines[0].get_xdata()) == 4


def test_text_sweep_values_become_categories(tmp_path):
    table = read_summary(write_summary(tmp_path / "s.csv", sweep_rows()))
    positions, categories = x_positions(table, "scaling.mode")
    assert categories == ["individual", "constant"]
    assert set(positions) == {0.0, 1.0}
    figure = trend_figure(table, "scaling.mode")
    assert [label.get_text() for label in figure.axes[0].get_xticklabels()] == categories


def test_agreement_pairs_runs_with_both_methods(tmp_path):
    table = read_summary(write_summary(tmp_path / "s.csv", sweep_rows()))
    pairs = method_pairs(table)
    assert len(pairs) == 16
    assert all(table.rows[n]["method"] == "nlsq" and table.rows[c]["method"] == "cmc" for n, c in pairs)
    figure = agreement_figure(table, pairs)
    assert [axis.get_title().split(":")[0] for axis in figure.axes] == list(VARIED)
    assert figure.axes[0].get_title().startswith("D0_ref: median |Δ|/σ = ")


def test_nlsq_only_sweep_without_sweep_columns_plots_against_run(tmp_path, capsys):
    rows = [{k: v for k, v in row.items() if "." not in k} for row in sweep_rows(methods=("nlsq",))]
    summary = write_summary(tmp_path / "s.csv", rows)
    assert main(["trends", str(summary), "--output-dir", str(tmp_path / "out"), "--format", "svg"]) == 0
    assert capsys.readouterr().out.split() == [str(tmp_path / "out" / "trend_run.svg")]


@pytest.mark.parametrize(("edit", "message"), [
    (lambda rows: [{k: v for k, v in r.items() if k != "method"} for r in rows], "missing column(s) method"),
    (lambda rows: [{k: v for k, v in r.items() if k != "v0_q95"} for r in rows], "missing column(s) v0_q95"),
    (lambda rows: [dict(r, D0_ref="lots") for r in rows], "row 2, column D0_ref: 'lots' is not a number"),
    (lambda rows: [dict(r, method="mcmc") for r in rows], "row 2, column method: 'mcmc' is not nlsq or cmc"),
    (lambda rows: [dict(r, varied="D0_ref;D9") for r in rows], "column varied names unknown parameter(s) D9"),
])
def test_malformed_summary_is_one_line_naming_file_and_column(tmp_path, capsys, edit, message):
    summary = write_summary(tmp_path / "s.csv", edit(sweep_rows()))
    assert main(["trends", str(summary), "--output-dir", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err == f"heterodyne: error: {summary}: {message}\n"


def test_empty_or_missing_summary(tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_text("dataset,run,seed,method,status,varied\n")
    assert main(["trends", str(empty), "--output-dir", str(tmp_path)]) == 1
    assert capsys.readouterr().err == f"heterodyne: error: {empty}: no rows\n"
    assert main(["trends", str(tmp_path / "none.csv"), "--output-dir", str(tmp_path)]) == 1
    expected = f"heterodyne: error: {tmp_path}/none.csv: cannot read (No such file or directory)\n"
    assert capsys.readouterr().err == expected
