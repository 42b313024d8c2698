"""Windows along the sample age in the workflow: the job graph by dry runs (job counts, the
windows' configs and what they wait for, bad settings), and one windowed survey run end to end
on a small simulated flow whose velocity jumps."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from workflow_helpers import REPO, job_counts, shell_commands, snakemake

pytestmark = pytest.mark.e2e  # every test runs snakemake


def write_analysis(directory, extra: str = "") -> str:
    path = directory / "analysis.yaml"
    path.write_text("experimental_data: {q: 0.009, phi: [-157.5, -67.5, 22.5]}\n"
                    "optimization:\n  cmc: {max_points_per_shard: 5000}\n" + extra)
    return str(path)


def dry_run(directory, config: dict, *arguments: str) -> str:
    completed = snakemake(directory, "-n", "-p", *arguments, config=config)
    assert completed.returncode == 0, completed.stderr + completed.stdout
    return completed.stdout + completed.stderr


def windows_config(directory, **changes) -> dict:
    """Datasets of 90 and 130 frames, windows of 40 frames (2 and 3 windows), two seeds."""
    return {"analysis": write_analysis(directory), "results": "results", "seeds": [1, 2],
            "windows": {"width": 40},
            "datasets": {"simulate": {"short": {"frames": 90}, "long": {"frames": 130, "seed": 1}}}, **changes}


def test_the_windows_example_plans_a_run_per_window_beside_the_global_run(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "analysis.yaml").write_text((REPO / "config" / "analysis.yaml").read_text())
    config = yaml.safe_load((REPO / "config" / "examples" / "windows.yaml").read_text())
    output = dry_run(tmp_path, config)
    assert job_counts(output) == {"simulate": 1, "run_config": 7, "nlsq": 7, "plot": 1, "summary": 1, "trends": 1,
                                  "windows": 1, "all": 1}
    assert "--jump-time 2.0 --jump-factor 1.5" in shell_commands(output, "simulate")[0]
    [windows] = shell_commands(output, "windows")
    runs = " ".join(f"results/windows/yielding/window={start:04d}-{start + 99:04d}/seed0/nlsq"
                    for start in range(1, 600, 100))
    assert windows == (f"heterodyne windows {runs} --global results/windows/yielding/base/seed0/nlsq"
                       " --table results/windows/yielding/windows.csv"
                       " --change-points results/windows/yielding/changepoints.csv"
                       " --figure results/windows/yielding/windows.png"
                       " > results/windows/yielding/logs/windows.log 2>&1")


def test_each_dataset_gets_the_windows_its_frames_hold_and_each_window_inherits_from_its_seeds_global_run(tmp_path):
    output = dry_run(tmp_path, windows_config(tmp_path))
    runs = 2 * (1 + 2) + 2 * (1 + 3)  # seeds x (global + windows): 90 frames hold 2 windows of 40, 130 hold 3
    assert job_counts(output) == {"simulate": 2, "run_config": runs, "nlsq": runs, "plot": 2, "summary": 1,
                                  "trends": 1, "windows": 2, "all": 1}
    commands = shell_commands(output, "run_config")
    [window] = [c for c in commands if "results/long/window=0081-0120/seed2/run.yaml" in c]
    for option in ("--set analyzer_parameters.start_frame=81", "--set analyzer_parameters.end_frame=120",
                   "--set parameters.beta.vary=false", "--set parameters.beta.initial=0.0",
                   "--set parameters.v0.vary=true", "--set parameters.phi0.vary=false",
                   "--inherit-from results/long/base/seed2/nlsq/result.json --inherit phi0"):
        assert option in window, option
    [global_run] = [c for c in commands if "results/long/base/seed2/run.yaml" in c]
    assert "--set" not in global_run and "--inherit" not in global_run
    [summary] = shell_commands(output, "summary")
    assert summary.count("/result.json") == runs
    assert "results/short/window=0041-0080/seed1/nlsq" in output and "window=0081" not in output.split("short/")[1][:30]


def test_windows_with_per_dataset_nlsq_cmc_and_no_plots(tmp_path):
    config = windows_config(tmp_path, methods=["nlsq", "cmc"], plots=False, nlsq_jobs="per_dataset",
                            windows={"width": 40, "step": 20, "inherit": []})
    output = dry_run(tmp_path, config, "--cores", "4")
    counts = job_counts(output)
    windows = 2 * (3 + 5)  # seeds x windows of 40 every 20 frames: 3 in 90 frames, 5 in 130
    assert (counts["nlsq_dataset"], counts["nlsq"], counts["cmc_combine"]) == (2, windows, 2 * 2 + windows)
    assert "plot" not in counts and counts["windows"] == 2
    [long] = [c for c in shell_commands(output, "windows") if "results/long/windows.csv" in c]
    globals_ = "--global results/long/base/seed1/cmc --global results/long/base/seed2/cmc"
    assert f"window=0081-0120/seed2/cmc {globals_}" in long
    assert "--figure" not in long
    assert not any("--inherit" in c for c in shell_commands(output, "run_config"))


@pytest.mark.parametrize("windows, message", [
    ({"width": 100}, "dataset short: windows: width 100 is more than the 90 frames selected (1..90)"),
    ({"width": 40, "step": 0}, "invalid workflow config: windows.step: expected an integer >= 1, got 0"),
    ({"width": 40, "free": ["v0"], "inherit": ["v0"]}, "windows: v0 both free and inherited"),
])
def test_impossible_windows_stop_before_any_job(tmp_path, windows, message):
    config = windows_config(tmp_path, windows=windows)
    completed = snakemake(tmp_path, "--cores", "1", config=config)
    assert completed.returncode == 1
    assert message in completed.stderr + completed.stdout
    assert not (tmp_path / "results").exists()


def test_windows_are_not_combined_with_a_sweep(tmp_path):
    config = windows_config(tmp_path, sweep={"analyzer_parameters.start_frame": [1, 11]})
    completed = snakemake(tmp_path, "-n", config=config)
    assert completed.returncode == 1
    assert "windows: not combined with a sweep" in completed.stderr + completed.stdout


JUMP_TIME = 0.75
"""Frame 125 of 240 (dt 6 ms): inside the window 121-150."""


@pytest.mark.slow
def test_a_windowed_survey_finds_the_velocity_jump_of_a_simulated_flow(tmp_path):
    """240 frames, windows of 30 (8 windows), v jumps by 1.5x at 0.75 s: windows.csv holds the
    windows' velocities on both sides, changepoints.csv fires for v near the jump, the figure is drawn."""
    analysis = write_analysis(tmp_path, "  nlsq: {multistart: 2}\n"
                              "parameters:\n  D0_ref: {initial: 3.0e4}\n  D0_sample: {initial: 5.0e4}\n"
                              "  v0: {initial: 2500.0}\n  f0: {initial: 0.4}\n"
                              + "".join(f"  {name}: {{vary: false}}\n" for name in
                                        ("alpha_ref", "alpha_sample", "D_offset_ref", "D_offset_sample", "v_offset",
                                         "f1", "f2", "f3", "phi0"))
                              + "scaling: {mode: individual}\n")
    config = {"analysis": analysis, "results": "results", "methods": ["nlsq"], "seeds": [0],
              "windows": {"width": 30},
              "datasets": {"simulate": {"flow": {
                  "frames": 240, "seed": 1, "noise": 0.0005, "layout": "legacy",
                  "truth": {"D0_ref": 2.0e4, "D0_sample": 8.0e4, "v0": 3000.0, "f0": 0.3},
                  "velocity_jump": {"time": JUMP_TIME, "factor": 1.5}}}}}
    completed = snakemake(tmp_path, "--cores", "2", config=config, cache_dir=tmp_path / "jax-cache")
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = tmp_path / "results" / "flow"
    table = pd.read_csv(results / "windows.csv")
    assert list(table.start_frame) == list(range(1, 241, 30)) and (table.seed == 0).all()
    assert table.mid_age_s.iloc[0] == pytest.approx(0.006 * 15.5)
    before, after = table[table.end_s < JUMP_TIME], table[table.start_s > JUMP_TIME]
    assert ((before.v - 3000.0).abs() < 4 * before.v_err).all() and ((after.v - 4500.0).abs() < 4 * after.v_err).all()
    [v] = pd.read_csv(results / "changepoints.csv").query("quantity == 'v'").to_dict("records")
    assert v["fired"] and v["p_value"] < 0.01
    assert v["step_low_s"] <= JUMP_TIME <= v["step_high_s"] and abs(v["step_s"] - JUMP_TIME) < 0.2
    assert v["step_size"] == pytest.approx(1500.0, abs=4 * v["step_err"] + 100.0)
    assert (results / "windows.png").stat().st_size > 20_000
    summary = pd.read_csv(tmp_path / "results" / "summary.csv")
    assert sorted(summary.run) == sorted(["base", *(f"window={s:04d}-{s + 29:04d}" for s in range(1, 241, 30))])
