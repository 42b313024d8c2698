"""Named reductions, the cluster-robust Wald test, model_comparison.csv and the test's size."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import yaml
from nlsq_helpers import FIT_PHI, FIT_Q, simulate
from scipy import stats

from heterodyne.comparison import COLUMNS, REDUCTIONS, compare, reduced_config
from heterodyne.comparison.compare import reduction_test
from heterodyne.comparison.minority_share import MINORITY_SHARE
from heterodyne.comparison.reductions import BY_NAME, nesting, select_reductions
from heterodyne.comparison.wald import BONFERRONI, TWO_SIDED, wald_test
from heterodyne.config import parameter_table, resolve_config
from heterodyne.errors import HeterodyneError
from heterodyne.parameters import PHYSICS_NAMES

TRUTH = dict(D0_ref=2e4, D0_sample=8e4, v0=1200.0, f0=0.3)
FREE = ("D0_ref", "D0_sample", "v0", "f0", "f1")


def _parameters(free=FREE, truth=TRUTH) -> dict:
    parameters = {name: {"vary": False} for name in PHYSICS_NAMES}
    parameters.update({name: {"initial": value, "vary": False} for name, value in truth.items()})
    for name in free:
        parameters[name]["vary"] = True
    return parameters


def _config(parameters: dict, file_path: str | None = None, **nlsq):
    return resolve_config({"experimental_data": {"file_path": file_path, "q": FIT_Q, "phi": FIT_PHI},
                           "parameters": parameters,
                           "optimization": {"nlsq": {"multistart": 1, "start": "initial", **nlsq}}})


def _everything_free():
    return _config(_parameters(free=("D0_ref", "alpha_ref", "D_offset_ref", "D0_sample", "alpha_sample",
                                     "D_offset_sample", "v0", "beta", "v_offset", "f0", "f1", "f3", "phi0")))


@pytest.mark.parametrize("reduction, fixed, tied", [
    ("one_component", {"f0": 1.0, "f1": 0.0, "f3": 0.0, "D0_ref": 1.0, "alpha_ref": 1.0, "D_offset_ref": 1.0,
                       "v0": 1.0, "beta": 1.0, "v_offset": 1.0, "phi0": 1.0}, {}),
    ("tied_transport", {}, {"D0_ref": "D0_sample", "alpha_ref": "alpha_sample", "D_offset_ref": "D_offset_sample"}),
    ("steady", {"alpha_ref": 0.0, "alpha_sample": 0.0, "beta": 0.0, "f1": 0.0}, {}),
    ("constant_fraction", {"f1": 0.0}, {}),
])
def test_every_reduction_builds_its_config(reduction: str, fixed: dict, tied: dict):
    """Constrained parameters are fixed at their values (held ones at the full fit's, here 1.0) or
    tied; every other parameter keeps its vary and starts at the full fit's value."""
    config = _everything_free()
    values = {name: 1.0 for name in PHYSICS_NAMES}
    reduced = reduced_config(config, BY_NAME[reduction], values)
    rows = {row["name"]: row for row in parameter_table(reduced)}
    for name in PHYSICS_NAMES:
        entry = reduced.parameters[name]
        start = min(max(1.0, entry.bounds[0]), entry.bounds[1])
        if name in fixed:
            value = start if name in BY_NAME[reduction].held else fixed[name]
            assert (entry.vary, entry.initial) == (False, value), name
        elif name in tied:
            assert entry.tied_to == tied[name] and rows[name]["vary"] is False, name
        else:
            assert entry.vary == config.parameters[name].vary and entry.tied_to is None, name
            assert entry.initial == start, name
    assert (reduced.optimization.nlsq.start, reduced.optimization.nlsq.multistart) == ("initial", 1)


def test_a_reduction_is_not_nested_when_the_config_fixes_a_parameter_elsewhere():
    config = _config({**_parameters(), "f1": {"initial": 0.2, "vary": False}})
    assert nesting(config, BY_NAME["constant_fraction"]).not_nested == "the config fixes f1 at 0.2, not 0"
    unequal = _config({**_parameters(), "alpha_ref": {"initial": 0.1, "vary": False}})
    assert nesting(unequal, BY_NAME["tied_transport"]).not_nested == (
        "the config fixes alpha_ref = 0.1 and alpha_sample = 0")


def test_constraints_the_config_already_meets_are_not_tested():
    """Fixed at the reduction's value: nothing to test; one side of a tie fixed: a value constraint."""
    config = _config(_parameters())
    assert nesting(config, BY_NAME["constant_fraction"]).tested == (("f1", 0.0),)
    assert nesting(config, BY_NAME["steady"]).tested == (("f1", 0.0),)
    assert nesting(config, BY_NAME["one_component"]).tested == (("f0", 1.0), ("f1", 0.0))
    assert nesting(config, BY_NAME["tied_transport"]).tested == (("D0_ref", "D0_sample"),)
    only_sample = _config({**_parameters(), "D0_ref": {"initial": 5e4, "vary": False}})
    assert nesting(only_sample, BY_NAME["tied_transport"]).tested == (("D0_sample", 5e4),)
    none_left = _config({**_parameters(free=("D0_sample", "v0", "f0"))})
    assert reduction_test(none_left, None, BY_NAME["constant_fraction"], np.arange(3.0)) == (
        "not tested: the full config already meets every constraint")


def test_each_constraint_is_a_t_test_in_the_sandwich_covariance_and_several_are_bonferronis():
    """t_j = g_j / √(a_j V a_jᵀ) against t(ν_j), ν_j the smallest ν of its parameters; one constraint:
    F = t², two-sided, or a one-sided t at a bound; several: q times the smallest p-value."""
    names = ("a", "b", "c")
    values = np.array([0.3, 0.5, 0.1])
    covariance = np.array([[0.04, 0.01, 0.0], [0.01, 0.09, np.nan], [0.0, np.nan, np.nan]])
    freedom = np.array([8.0, 5.0, np.nan])
    bounds = {"a": (0.0, 1.0), "b": (-1.0, 1.0), "c": (0.0, 1.0)}
    tie = -0.2 / np.sqrt(0.04 + 0.09 - 2 * 0.01)  # a = b: g = a - b, variance V_aa + V_bb - 2 V_ab
    single = wald_test((("a", "b"),), names, values, covariance, freedom, bounds)
    assert (single.statistic, single.q, single.nu, single.reference) == (
        pytest.approx(tie**2, rel=1e-12), 1, 5.0, TWO_SIDED)
    assert single.p_value == pytest.approx(stats.f.sf(tie**2, 1, 5.0), rel=1e-12)
    joint = wald_test((("a", "b"), ("b", 0.0)), names, values, covariance, freedom, bounds)
    p_tie, p_b = 2 * stats.t.sf(abs(tie), 5.0), 2 * stats.t.sf(0.5 / 0.3, 5.0)
    assert p_b < p_tie
    assert (joint.statistic, joint.q, joint.nu, joint.reference) == (pytest.approx(0.5 / 0.3), 2, 5.0, BONFERRONI)
    assert joint.p_value == pytest.approx(2 * p_b, rel=1e-12)
    upper = wald_test((("a", 1.0),), names, values, covariance, freedom, bounds)
    assert upper.one_sided and upper.statistic == pytest.approx(-0.7 / 0.2)
    assert upper.p_value == pytest.approx(stats.t.cdf(-3.5, 8.0), rel=1e-12)
    at_bound_and_tie = wald_test((("a", 1.0), ("a", "b")), names, values, covariance, freedom, bounds)
    assert at_bound_and_tie.p_value == pytest.approx(min(1.0, 2 * min(stats.t.cdf(-3.5, 8.0), p_tie)), rel=1e-12)
    assert wald_test((("c", 0.5),), names, values, covariance, freedom, bounds).problem == (
        "no honest covariance of c")


def test_reductions_are_selected_by_name_in_their_order_and_bad_names_refused():
    assert select_reductions(None) == REDUCTIONS
    assert [r.name for r in select_reductions(["constant_fraction", "one_component"])] == [
        "one_component", "constant_fraction"]
    with pytest.raises(HeterodyneError, match="unknown reduction 'flat'; the reductions are one_component, "):
        select_reductions(["steady", "flat"])
    with pytest.raises(HeterodyneError, match="a reduction is named twice in steady, steady"):
        select_reductions(["steady", "steady"])


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A run directory of the full model fitted by the command line, on a small speckle file."""
    from heterodyne.cli import main

    directory = tmp_path_factory.mktemp("run")
    path, _ = simulate(directory, TRUTH, n_frames=60, noise="speckle", seed=2)
    raw = {"experimental_data": {"file_path": str(path), "q": FIT_Q, "phi": FIT_PHI},
           "parameters": _parameters(), "output": {"output_dir": str(directory / "results")},
           "optimization": {"nlsq": {"multistart": 1, "start": "initial"}}}
    config_path = directory / "run.yaml"
    config_path.write_text(yaml.safe_dump(raw))
    assert main(["--config", str(config_path), "--method", "nlsq"]) in (0, 2)
    [result] = (directory / "results").rglob("result.json")
    return result.parent


def test_compare_writes_every_reduction_into_the_run_directory(finished_run, capsys):
    from heterodyne.cli import main

    assert main(["compare", str(finished_run), "--threads", "1"]) == 0
    table = finished_run / "model_comparison.csv"
    assert capsys.readouterr().out.strip() == str(table)
    with open(table, newline="") as handle:
        reader = csv.DictReader(handle)
        rows = {row["reduction"]: row for row in reader}
        assert tuple(reader.fieldnames or ()) == COLUMNS
    assert list(rows) == [reduction.name for reduction in REDUCTIONS]
    for name in ("one_component", "tied_transport", "constant_fraction"):
        row = rows[name]
        assert row["status"].startswith("ok"), row
        assert 0.0 <= float(row["p_value"]) <= 1.0
        assert row["decision"] == ("reject reduction" if float(row["p_value"]) < 0.05 else "keep reduction")
        assert float(row["chi2_red_reduced"]) > 0 and row["delta_aic_independent"] and row["delta_bic_independent"]
    assert {name: row["calibration"] for name, row in rows.items()} == {
        "one_component": "calibrated; little power on short runs", "tied_transport": "calibrated",
        "steady": "calibrated; little power for exponents on short runs", "constant_fraction": "calibrated"}
    assert rows["one_component"]["test"] == MINORITY_SHARE and rows["one_component"]["df"].startswith("1, ")
    # steady's constraints on this config are constant_fraction's: the same test
    assert rows["steady"]["statistic"] == rows["constant_fraction"]["statistic"]


@pytest.mark.parametrize("arguments, message", [
    (["compare", "missing-run"], "missing-run"),
    (["compare", "{run}", "--data", "{run}/nowhere.h5"], "nowhere.h5"),
])
def test_compare_refuses_bad_input_in_one_line_and_writes_nothing(finished_run, capsys, arguments, message):
    from heterodyne.cli import main

    table = finished_run / "model_comparison.csv"
    table.unlink(missing_ok=True)
    assert main([a.format(run=finished_run) for a in arguments]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("heterodyne: error: ") and message in error
    assert not table.exists()


SIZE_SEEDS = range(8)


def test_the_tests_false_alarm_rate_under_a_true_reduction_is_near_its_level(tmp_path):
    """Data from constant_fraction (f1 = 0): over 8 independent-noise replicates, the 5 % test of
    f1 = 0 rejects at most 2 times. For a test of exact size 5 %, P(X ≥ 3 of 8) = 0.6 %; one that
    ignored the frame correlation (the speckle files give 3-8x too small errors) would reject most
    of them."""
    import heterodyne as ht

    rejections = []
    for seed in SIZE_SEEDS:
        path, _ = simulate(tmp_path, TRUTH, n_frames=50, noise_sigma=0.002, seed=100 + seed)
        config = _config(_parameters(), str(path))
        data = ht.load_data(config)
        fit = ht.fit_nlsq(config, data, threads=1)
        test = reduction_test(config, fit, BY_NAME["constant_fraction"], data.times)
        assert test.problem is None and test.q == 1
        rejections.append(test.p_value < 0.05)
    assert stats.binom.sf(2, len(SIZE_SEEDS), 0.05) < 0.01
    assert sum(rejections) <= 2, rejections


def test_compare_of_the_library_matches_the_api_export(finished_run):
    import heterodyne as ht

    assert ht.compare_models is not None and "compare_models" in ht.__all__
    assert compare.__module__ == "heterodyne.comparison.compare"
