"""Windows along the sample age in the workflow: the job graph by dry runs (job counts, the
windows' configs and what they wait for, bad settings), and one windowed survey run end to end
on a small simulated flow whose velocity jumps."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import yaml
from workflow_helpers import REPO, job_counts, shell_commands, snakemake

from heterodyne.simulation import SimulationSpec, simulate_dataset

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


def window_count(frames: int, width: int, step: int | None = None) -> int:
    """Full windows of ``width`` frames every ``step`` (default ``width``) in frames 1..frames."""
    return len(range(1, frames - width + 2, step or width))


def write_data(directory, frames: dict[str, int]) -> None:
    """data/<name>.h5 of ``frames[name]`` frames each: three angles at q = 0.009 (legacy layout)."""
    (directory / "data").mkdir()
    for seed, (name, count) in enumerate(frames.items()):
        simulate_dataset(directory / "data" / f"{name}.h5",
                         SimulationSpec(n_frames=count, seed=seed, layout="legacy", q_centres=(0.009,),
                                        phi_centres=(-157.5, -67.5, 22.5), empty_cells=(), processed_q_rows=(0,)))


def assert_stopped_in_one_line(directory, config: dict, message: str) -> None:
    """The workflow stops with exit 1 before any job, the config error on one line and no traceback."""
    completed = snakemake(directory, "--cores", "1", config=config)
    output = completed.stderr + completed.stdout
    assert completed.returncode == 1
    assert [line for line in output.splitlines() if "invalid workflow config" in line] == [
        f"invalid workflow config: {message}"]
    assert "Traceback" not in output and not (directory / "results").exists()


def test_the_windows_survey_example_gives_each_sheet_dataset_its_own_windows(tmp_path):
    """The sheet of config/examples/windows-survey.yaml: fast (100 every 50), slow (400), calibration
    (off) and steady (the workflow's 200); the job counts follow from each file's frames."""
    (tmp_path / "config" / "examples").mkdir(parents=True)
    (tmp_path / "config" / "analysis.yaml").write_text((REPO / "config" / "analysis.yaml").read_text())
    sheet = "config/examples/windows-datasets.tsv"
    (tmp_path / sheet).write_text((REPO / sheet).read_text())
    frames = {"fast": 250, "slow": 450, "calibration": 250, "steady": 450}
    write_data(tmp_path, frames)
    config = yaml.safe_load((REPO / "config" / "examples" / "windows-survey.yaml").read_text())
    output = dry_run(tmp_path, config)
    windows = {"fast": window_count(frames["fast"], 100, 50), "slow": window_count(frames["slow"], 400),
               "calibration": 0, "steady": window_count(frames["steady"], config["windows"]["width"])}
    runs = len(frames) + sum(windows.values())
    assert job_counts(output) == {"run_config": runs, "nlsq": runs, "plot": len(frames), "summary": 1, "trends": 1,
                                  "windows": 3, "all": 1}
    assert {name: len(set(re.findall(rf"results/windows-survey/{name}/window=\d+-\d+/", output)))
            for name in frames} == windows
    assert "calibration/windows.csv" not in output
    commands = shell_commands(output, "run_config")
    [fast] = [c for c in commands if "fast/window=0051-0150/seed0/run.yaml" in c]
    [slow] = [c for c in commands if "slow/window=0001-0400/seed0/run.yaml" in c]
    assert "--inherit phi0 --inherit scaling" in fast
    assert "--inherit phi0 --data" in slow


def test_a_simulated_dataset_overrides_the_workflows_windows_key_by_key_or_turns_them_off(tmp_path):
    """Workflow windows of 40 every 20 frames, nothing inherited: `short` changes the width only (30,
    still every 20, still nothing inherited), `long` is off, `mid` keeps the workflow's."""
    config = windows_config(tmp_path, seeds=[1], windows={"width": 40, "step": 20, "inherit": []}, datasets={
        "simulate": {"short": {"frames": 90, "windows": {"width": 30}}, "long": {"frames": 130, "windows": False},
                     "mid": {"frames": 130, "seed": 2}}})
    output = dry_run(tmp_path, config)
    expected = {"short": window_count(90, 30, 20), "long": 0, "mid": window_count(130, 40, 20)}
    runs = 3 + sum(expected.values())
    counts = job_counts(output)
    assert (counts["run_config"], counts["windows"]) == (runs, 2)
    assert len(set(re.findall(r"results/short/(window=\d+-\d+)/", output))) == expected["short"]
    assert "results/short/window=0021-0050/seed1/run.yaml" in output
    assert "results/long/window=" not in output and "results/long/windows.csv" not in output
    assert not any("--inherit" in command for command in shell_commands(output, "run_config"))


def test_a_dataset_has_windows_of_its_own_when_the_workflow_has_none(tmp_path):
    config = windows_config(tmp_path, seeds=[1], datasets={
        "simulate": {"short": {"frames": 90, "windows": {"width": 45}}, "long": {"frames": 130}}})
    del config["windows"]
    output = dry_run(tmp_path, config)
    assert job_counts(output)["windows"] == 1
    assert len(set(re.findall(r"results/short/(window=\d+-\d+)/", output))) == window_count(90, 45)
    assert "results/long/window=" not in output
    [window] = [c for c in shell_commands(output, "run_config") if "short/window=0046-0090/seed1" in c]
    assert "--inherit-from results/short/base/seed1/nlsq/result.json --inherit phi0 " in window


@pytest.mark.parametrize("column, cell, windows, message", [
    ("windows.width", "abc", {"width": 40},
     "datasets.sheet datasets.tsv:2: dataset a: column windows.width: expected an integer >= 2, got 'abc'"),
    ("windows.width", "100", None, "dataset a: windows: width 100 is more than the 90 frames selected (1..90)"),
    ("windows.inherit", "v0", {"width": 40}, "dataset a: windows: v0 both free and inherited"),
    ("windows.step", "10", None,
     "dataset a: windows.width: required, as the workflow config has no windows to take it from"),
])
def test_bad_windows_of_a_sheet_dataset_stop_before_any_job_in_one_line(tmp_path, column, cell, windows, message):
    write_data(tmp_path, {"a": 90})
    (tmp_path / "datasets.tsv").write_text(f"name\tpath\t{column}\na\tdata/a.h5\t{cell}\n")
    config = windows_config(tmp_path, windows=windows, datasets={"sheet": "datasets.tsv"})
    if windows is None:
        del config["windows"]
    assert_stopped_in_one_line(tmp_path, config, message)


@pytest.mark.parametrize("windows, sweep, message", [
    ({"width": 40, "stp": 20}, {}, "datasets.simulate.short.windows.stp: unknown key (did you mean 'step'?)"),
    ({"width": 40}, {"analyzer_parameters.start_frame": [1, 11]},
     "dataset short: windows: not combined with a sweep (each dataset's windows lie beside its one global run)"),
])
def test_bad_windows_of_a_simulated_dataset_stop_before_any_job_in_one_line(tmp_path, windows, sweep, message):
    config = windows_config(tmp_path, sweep=sweep, datasets={"simulate": {"short": {"frames": 90, "windows": windows}}})
    del config["windows"]
    assert_stopped_in_one_line(tmp_path, config, message)


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
