"""Windows along the sample age: their bounds and names, the reduced model's overrides, the
inherited values, the rates and stderrs of windows.csv, and the change points wired to them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from heterodyne.age.window_table import GlobalCurves, change_point_table, nlsq_rates, window_table
from heterodyne.age.windows import (
    DEFAULT_FREE,
    TIME_LOCAL_ZEROS,
    Window,
    disjoint,
    inherited_overrides,
    window_bounds,
    window_overrides,
)
from heterodyne.cli import main
from heterodyne.cmc.result import CmcResult
from heterodyne.errors import HeterodyneError
from heterodyne.nlsq.result import NlsqResult
from heterodyne.parameters import PHYSICS_NAMES, PHYSICS_PARAMETERS
from heterodyne.run_directory import Run, write_run


def test_disjoint_windows_tile_the_selection_and_a_last_partial_window_is_dropped():
    windows = window_bounds(11, 250, 100)
    assert [(w.start, w.end) for w in windows] == [(11, 110), (111, 210)]  # 211..250 (40 frames) is dropped
    assert [w.name for w in windows] == ["window=0011-0110", "window=0111-0210"]
    assert all(w.frames == 100 for w in windows)


def test_a_window_that_ends_on_the_last_frame_is_kept():
    assert [(w.start, w.end) for w in window_bounds(1, 200, 100)] == [(1, 100), (101, 200)]
    assert [(w.start, w.end) for w in window_bounds(1, 200, 200)] == [(1, 200)]


def test_overlapping_windows_and_gaps_between_windows():
    assert [(w.start, w.end) for w in window_bounds(1, 100, 40, 20)] == [(1, 40), (21, 60), (41, 80), (61, 100)]
    assert [(w.start, w.end) for w in window_bounds(1, 100, 20, 50)] == [(1, 20), (51, 70)]


def test_names_are_padded_to_the_last_frames_digits_and_sort_in_age_order():
    names = [w.name for w in window_bounds(1, 12000, 3000)]
    assert names == ["window=00001-03000", "window=03001-06000", "window=06001-09000", "window=09001-12000"]
    assert names == sorted(names)


@pytest.mark.parametrize("width, step, message", [
    (300, None, "dataset d: windows: width 300 is more than the 200 frames selected (1..200)"),
    (100, 0, "dataset d: windows: step must be an integer >= 1, got 0"),
    (1, None, "dataset d: windows: width must be an integer >= 2, got 1"),
    (50.0, None, "dataset d: windows: width must be an integer >= 2, got 50.0"),
    (True, None, "dataset d: windows: width must be an integer >= 2, got True"),
])
def test_impossible_windows_are_one_line_errors(width, step, message):
    with pytest.raises(HeterodyneError) as error:
        window_bounds(1, 200, width, step, where="dataset d: windows")
    assert str(error.value) == message


def test_disjoint_keeps_every_window_that_shares_no_frame_with_the_last_kept():
    windows = [(w.start, w.end) for w in window_bounds(1, 100, 40, 20)]
    assert disjoint(windows) == [0, 2]
    assert disjoint([(1, 10), (11, 20), (15, 24), (21, 30)]) == [0, 1, 3]


def test_the_default_reduction_frees_the_four_levels_and_zeroes_the_time_dependence():
    overrides = window_overrides(Window(101, 200, "window=0101-0200"))
    assert overrides["analyzer_parameters.start_frame"] == 101 and overrides["analyzer_parameters.end_frame"] == 200
    assert [name for name in PHYSICS_NAMES if overrides[f"parameters.{name}.vary"]] == list(DEFAULT_FREE)
    assert {key.split(".")[1] for key, value in overrides.items() if key.endswith(".initial")} == set(TIME_LOCAL_ZEROS)
    assert all(overrides[f"parameters.{name}.initial"] == 0.0 for name in TIME_LOCAL_ZEROS)
    assert "parameters.phi0.initial" not in overrides  # inherited: its value comes from the global fit


def test_a_chosen_set_of_free_and_inherited_parameters():
    overrides = window_overrides(Window(1, 50, "w"), free=("D0_sample", "v0", "beta"), inherit=("f0", "scaling"))
    assert [name for name in PHYSICS_NAMES if overrides[f"parameters.{name}.vary"]] == ["D0_sample", "v0", "beta"]
    assert "parameters.beta.initial" not in overrides and "parameters.f0.initial" not in overrides
    assert "parameters.D0_ref.initial" not in overrides  # held at its configured initial value


@pytest.mark.parametrize("free, inherit, message", [
    (("v0", "v1"), (), "windows.free: unknown parameter 'v1'"),
    (("v0",), ("contrast",), "windows.inherit: unknown parameter 'contrast'"),
    (("v0", "f0"), ("f0",), "windows: f0 both free and inherited"),
    ((), ("phi0",), "windows.free: no parameter to fit"),
    (("v0", "v0"), (), "windows.free: a parameter is listed twice"),
])
def test_bad_parameter_lists_are_refused(free, inherit, message):
    with pytest.raises(HeterodyneError, match=message):
        window_overrides(Window(1, 50, "w"), free=free, inherit=inherit)


def test_inherited_values_are_the_global_fits_estimate():
    document = {"nlsq": {"phi0": 1.5, "v0": 900.0, "contrast": [0.2, 0.3], "offset": [1.0, 1.01]}}
    assert inherited_overrides(document, ["phi0", "scaling"]) == {
        "parameters.phi0.initial": 1.5, "parameters.phi0.vary": False, "scaling.mode": "fixed",
        "scaling.contrast.initial": [0.2, 0.3], "scaling.offset.initial": [1.0, 1.01]}
    with pytest.raises(HeterodyneError, match="no nlsq section"):
        inherited_overrides({"nlsq": None}, ["phi0"])


DEFAULTS = np.array([p.default for p in PHYSICS_PARAMETERS])


def fake_run(start: int, end: int, values: dict, covariance: np.ndarray, free: list[str], *, seed: int = 0,
             dt: float = 0.01, status: str = "converged") -> Run:
    """A window run as read back from its directory, with the given estimate and covariance."""
    theta = DEFAULTS.copy()
    for name, value in values.items():
        theta[PHYSICS_NAMES.index(name)] = value
    arrays = {"values": np.concatenate([theta, [0.2, 1.0]]), "free_names": np.array(free),
              "covariance": covariance, "t": dt * np.arange(start, end + 1, dtype=float)}
    document = {"status": status, "method": "nlsq", "data": {"start_frame": start, "end_frame": end},
                "config": {"optimization": {"nlsq": {"seed": seed}}}}
    return Run(run_dir=Path(f"w{start}"), document=document,
               nlsq=NlsqResult({"chi2_reduced": 1.0}, arrays), cmc=None)


def test_the_default_reductions_rates_are_its_parameters_with_their_stderrs():
    covariance = np.diag([4.0e6, 9.0e6, 25.0, 1e-4, 1e-4])  # D0_ref, D0_sample, v0, f0, contrast
    free = ["D0_ref", "D0_sample", "v0", "f0", "contrast[0]"]
    run = fake_run(101, 200, {"D0_ref": 2e4, "D0_sample": 8e4, "v0": 1200.0, "f0": 0.3}, covariance, free)
    values, errors = nlsq_rates(run, 1.505)
    np.testing.assert_allclose(values, [2e4, 8e4, 1200.0, 0.3], rtol=1e-12)
    np.testing.assert_allclose(errors, [2e3, 3e3, 5.0, 0.01], rtol=1e-12)


def test_a_rate_of_several_free_parameters_gets_the_delta_method_stderr():
    """v = v0 t^β at t: g = (t^β, v0 t^β ln t), stderr² = gᵀ C g (the covariance's off-diagonal term counts)."""
    covariance = np.array([[100.0, -0.5], [-0.5, 0.01]])
    run = fake_run(1, 100, {"v0": 1000.0, "beta": 0.3}, covariance, ["v0", "beta"])
    age = 0.505
    values, errors = nlsq_rates(run, age)
    gradient = np.array([age**0.3, 1000.0 * age**0.3 * np.log(age)])
    assert values[2] == pytest.approx(1000.0 * age**0.3, rel=1e-12)
    assert errors[2] == pytest.approx(np.sqrt(gradient @ covariance @ gradient), rel=1e-10)
    assert errors[0] == 0.0  # J_ref depends on no free parameter


def velocity_windows(factor: float, jump_age: float, seed: int, *, width: int = 50, count: int = 12,
                     relative_error: float = 0.01) -> list[Run]:
    """Windows of a flow v = 1000 t^0.3 that jumps by ``factor`` at ``jump_age``; noisy estimates."""
    rng = np.random.default_rng(seed)
    runs = []
    for k in range(count):
        start = 1 + k * width
        end = start + width - 1
        ages = 0.01 * np.arange(start, end + 1)
        truth = float(np.mean(1000.0 * ages**0.3 * np.where(ages >= jump_age, factor, 1.0)))
        error = relative_error * truth
        runs.append(fake_run(start, end, {"v0": truth + error * rng.standard_normal()}, np.diag([error**2]), ["v0"]))
    return runs


def global_curve(seed: int = 0) -> dict[int, GlobalCurves]:
    times = 0.01 * np.arange(1, 601)
    curves = {"J_ref": np.full(600, 1e4), "J_sample": np.full(600, 1e4), "v": 1000.0 * times**0.3,
              "f_s": np.full(600, 0.5)}
    return {seed: GlobalCurves(times, curves)}


@pytest.mark.parametrize("seed", range(3))
def test_a_velocity_jump_fires_at_its_age_and_a_smooth_power_law_does_not(seed):
    jumped = change_point_table(window_table(velocity_windows(1.2, 3.3, seed)), global_curve())
    [v] = jumped[jumped.quantity == "v"].to_dict("records")
    assert v["fired"] and v["null_trend"] == "a + b x global fit" and v["windows_used"] == 12
    assert v["step_low_s"] <= 3.3 <= v["step_high_s"] and abs(v["step_s"] - 3.3) <= 0.5
    smooth = change_point_table(window_table(velocity_windows(1.0, 3.3, seed)), global_curve())
    assert not smooth[smooth.quantity == "v"].fired.iloc[0]


def test_windows_without_a_stderr_are_left_out_and_too_few_are_a_note():
    table = window_table(velocity_windows(1.2, 3.3, 0, count=4))
    table.loc[2, "v_err"] = np.nan
    rows = change_point_table(table, global_curve())
    [v] = rows[rows.quantity == "v"].to_dict("records")
    assert v["windows_used"] == 3 and pd.isna(v["fired"]) and "3 windows are too few" in v["note"]
    # J_ref has no stderr in any window (no free parameter): no test either
    [j_ref] = rows[rows.quantity == "J_ref"].to_dict("records")
    assert j_ref["windows_used"] == 0 and j_ref["note"] == "no window with a finite estimate and stderr"


def test_overlapping_windows_are_tested_on_a_disjoint_subset():
    runs = velocity_windows(1.2, 3.3, 1, width=50, count=12)
    half_steps = [fake_run(run.document["data"]["start_frame"] + 25, run.document["data"]["end_frame"] + 25,
                           {"v0": float(run.nlsq.arrays["values"][6])}, run.nlsq.covariance, ["v0"])
                  for run in runs[:-1]]
    table = window_table(runs + half_steps)
    assert len(table) == 23 and list(table.start_frame[:3]) == [1, 26, 51]
    rows = change_point_table(table, global_curve())
    assert rows[rows.quantity == "v"].windows_used.iloc[0] == 12


def test_a_window_table_refuses_a_window_given_twice_and_a_seed_without_a_global_run():
    runs = velocity_windows(1.0, 3.3, 0, count=4)
    with pytest.raises(HeterodyneError, match="frames 1..50 of seed 0 given twice"):
        window_table(runs + runs[:1])
    with pytest.raises(HeterodyneError, match="no global run of seed 0"):
        change_point_table(window_table(runs), global_curve(seed=7))


def test_cmc_windows_get_the_quantiles_of_the_rates_over_the_consensus_draws():
    run = fake_run(1, 100, {"D0_ref": 2e4, "v0": 1200.0}, np.diag([1e6, 4.0]), ["D0_ref", "v0"])
    draws = np.random.default_rng(0).normal([2e4, 1200.0], [1e3, 2.0], size=(4, 250, 2))
    posterior = CmcResult({}, {"names": np.array(["D0_ref", "v0"]), "consensus": draws}, None)
    [row] = window_table([Run(run.run_dir, run.document, run.nlsq, posterior)]).to_dict("records")
    for name, column in (("J_ref", 0), ("v", 1)):
        np.testing.assert_allclose([row[f"{name}_q05"], row[f"{name}_q50"], row[f"{name}_q95"]],
                                   np.quantile(draws[..., column], [0.05, 0.5, 0.95]), rtol=1e-12)
    assert row["J_sample_q05"] == row["J_sample_q95"] == DEFAULTS[PHYSICS_NAMES.index("D0_sample")]


def written_run(directory: Path, start: int, end: int, v0: float, seed: int = 0) -> Path:
    """A run directory as a fit writes it, with only what the windows command reads filled in."""
    run = fake_run(start, end, {"v0": v0}, np.diag([25.0]), ["v0"], seed=seed)
    arrays = {**run.nlsq.arrays, "names": np.array([*PHYSICS_NAMES, "contrast[0]", "offset[0]"]),
              "vary": np.isin(PHYSICS_NAMES + ("c", "o"), ["v0"]), "free_values": np.array([v0]),
              **{key: np.zeros(1) for key in ("covariance_independent", "degrees_of_freedom", "chi2_reduced",
                                              "n_points", "contrast", "offset", "q", "phi")}}
    document = {**run.document, "data_sha256": "same", "cmc": None}
    write_run(Run(directory, document, NlsqResult({"chi2_reduced": 1.0}, arrays), None))
    return directory


def test_the_windows_command_writes_the_tables_and_figure_and_refuses_a_seed_without_a_global_run(tmp_path):
    windows = [written_run(tmp_path / f"w{k}", 1 + 20 * k, 20 + 20 * k, 1000.0 + 100.0 * (k >= 4))
               for k in range(8)]
    global_run = written_run(tmp_path / "global", 1, 160, 1050.0)
    outputs = [tmp_path / "windows.csv", tmp_path / "changepoints.csv", tmp_path / "windows.png"]
    arguments = [*map(str, windows), "--global", str(global_run), "--table", str(outputs[0]),
                 "--change-points", str(outputs[1]), "--figure", str(outputs[2])]
    assert main(["windows", *arguments]) == 0
    table = pd.read_csv(outputs[0])
    assert list(table.start_frame) == [1 + 20 * k for k in range(8)]
    np.testing.assert_allclose(table.mid_age_s, 0.01 * (10.5 + 20 * np.arange(8)))
    [v] = pd.read_csv(outputs[1]).query("quantity == 'v'").to_dict("records")
    assert v["fired"] and v["step_low_s"] <= 0.805 <= v["step_high_s"] and v["step_size"] == pytest.approx(100.0)
    assert outputs[2].stat().st_size > 10_000
    for path in outputs:
        path.unlink()
    other_seed = written_run(tmp_path / "w_other", 1, 20, 1000.0, seed=3)
    assert main(["windows", *arguments[:2], str(other_seed), *arguments[2:]]) == 1
    assert not any(path.exists() for path in outputs)


def test_resolve_config_holds_inherited_parameters_at_the_global_results_estimate(tmp_path):
    result = tmp_path / "result.json"
    result.write_text('{"nlsq": {"phi0": 1.25, "contrast": [0.2, 0.3, 0.25], "offset": [1.0, 1.0, 1.01]}}')
    base = tmp_path / "base.yaml"
    base.write_text("experimental_data: {file_path: data.h5}\n")
    output = tmp_path / "run.yaml"
    arguments = ["resolve-config", str(base), "--set", "parameters.phi0.vary=false", "--inherit-from", str(result),
                 "--inherit", "phi0", "--inherit", "scaling", "--output", str(output)]
    assert main(arguments) == 0
    resolved = yaml.safe_load(output.read_text())
    assert resolved["parameters"]["phi0"] == {**resolved["parameters"]["phi0"], "initial": 1.25, "vary": False}
    assert resolved["scaling"]["mode"] == "fixed" and resolved["scaling"]["contrast"]["initial"] == [0.2, 0.3, 0.25]
    assert f"--inherit-from {result} --inherit phi0 --inherit scaling" in output.read_text().splitlines()[0]
    output.unlink()
    assert main([*arguments[:4], "--inherit", "phi0", "--output", str(output)]) == 1  # no --inherit-from
    assert not output.exists()


def test_windows_are_reported_in_the_global_fits_labelling():
    from heterodyne.age.window_table import MIRRORED, aligned_to_global

    times = 0.01 * np.arange(1, 601)
    curves = {0: GlobalCurves(times, {"J_ref": np.full(600, 2e4), "J_sample": np.full(600, 8e4),
                                      "v": np.full(600, 1e3), "f_s": np.full(600, 0.3)})}
    common = {"seed": 0, "mid_age_s": 1.0, "v": 1e3, "v_err": 10.0, "f_s_err": 0.02}
    as_global = {**common, "J_ref": 2.1e4, "J_ref_err": 1e3, "J_sample": 7.9e4, "J_sample_err": 4e3, "f_s": 0.31,
                 "f_s_q05": 0.28, "f_s_q50": 0.31, "f_s_q95": 0.35, "J_ref_q05": 1.9e4, "J_sample_q05": 7e4}
    swapped = {**common, "J_ref": 7.9e4, "J_ref_err": 4e3, "J_sample": 2.1e4, "J_sample_err": 1e3, "f_s": 0.69,
               "f_s_q05": 0.65, "f_s_q50": 0.69, "f_s_q95": 0.72, "J_ref_q05": 7e4, "J_sample_q05": 1.9e4}
    table = aligned_to_global(pd.DataFrame([as_global, swapped]), curves).to_dict("records")
    assert table[0]["labelling"] == "as fitted" and table[0]["J_ref"] == 2.1e4
    assert table[1]["labelling"] == MIRRORED
    assert (table[1]["J_ref"], table[1]["J_ref_err"], table[1]["J_sample"], table[1]["J_sample_err"]) == (
        2.1e4, 1e3, 7.9e4, 4e3)
    assert (table[1]["J_ref_q05"], table[1]["J_sample_q05"]) == (1.9e4, 7e4)
    assert table[1]["f_s"] == pytest.approx(0.31) and table[1]["f_s_err"] == 0.02
    assert (table[1]["f_s_q05"], table[1]["f_s_q50"], table[1]["f_s_q95"]) == pytest.approx((0.28, 0.31, 0.35))
    assert table[1]["v"] == 1e3
    with pytest.raises(HeterodyneError, match="no global run of seed 0"):
        aligned_to_global(pd.DataFrame([as_global]), {3: curves[0]})


def test_a_window_fit_from_the_defaults_reaches_the_fit_started_at_the_truth_at_one_and_two_threads(tmp_path):
    """A window of constant rates as the workflow fits it: the template's defaults with the window's
    overrides (phi0 held at its truth, as inherited from a global fit), on a constant-rate flow."""
    from dataclasses import replace

    from heterodyne.config import resolve_config
    from heterodyne.data import load_file
    from heterodyne.nlsq.run import run_nlsq
    from heterodyne.simulation import SimulationSpec, simulate_dataset

    truth = dict(D0_ref=1.5e4, D0_sample=6e4, v0=1500.0, f0=0.4, phi0=2.0)
    path = tmp_path / "flow.h5"
    simulate_dataset(path, replace(SimulationSpec(n_frames=200, seed=21), params=truth))
    [window] = window_bounds(101, 200, 100)
    overrides = {**window_overrides(window), "parameters.phi0.initial": truth["phi0"], "experimental_data.q": 0.009,
                 "experimental_data.phi": [-157.5, -67.5, 22.5]}
    data = None

    def fit(threads: int, **raw):
        nonlocal data
        config = resolve_config(raw, overrides=overrides)
        data = data or load_file(path, q=0.009, phi=[-157.5, -67.5, 22.5], start_frame=window.start,
                                 end_frame=window.end)
        return run_nlsq(config, data, progress=False, threads=threads)

    default = fit(1)
    at_truth = fit(1, parameters={name: {"initial": value} for name, value in truth.items()},
                   optimization={"nlsq": {"start": "initial", "multistart": 1}})
    assert default.section["cost"] <= 1.01 * at_truth.section["cost"]
    assert default.section["residual_structure"]["passed"], default.warning
    for name in ("D0_ref", "D0_sample", "v0", "f0"):
        assert abs(default.section[name] - truth[name]) < 4 * default.section["stderr"][name], name
    two_threads = fit(2)
    assert two_threads.section["cost"] == default.section["cost"]
    assert two_threads.section["v0"] == default.section["v0"]
