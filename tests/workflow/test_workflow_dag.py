"""The workflow's job graph, by dry runs: job counts per rule, dataset forms, profiles, bad configs, lint."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml
from workflow_helpers import REPO, filled_profile, job_counts, shell_commands, snakemake

from heterodyne.simulation import SimulationSpec, simulate_dataset

pytestmark = pytest.mark.e2e  # every test runs snakemake (dry runs, 1 to 5 s each)

PHI = [-157.5, -67.5, 22.5]
FRAMES = 30


def write_analysis(directory: Path, max_points_per_shard: int = 500) -> Path:
    """A base analysis config: three angles at q = 0.009, shards of at most ``max_points_per_shard``."""
    path = directory / "analysis.yaml"
    path.write_text(
        "experimental_data: {q: 0.009, phi: [-157.5, -67.5, 22.5]}\n"
        f"optimization:\n  cmc: {{max_points_per_shard: {max_points_per_shard}}}\n"
    )
    return path


def simulated(names: list[str]) -> dict:
    """``datasets.simulate`` entries of ``FRAMES`` frames."""
    return {"simulate": {name: {"frames": FRAMES, "seed": index} for index, name in enumerate(names)}}


def dry_run(directory: Path, config: dict, *arguments: str) -> str:
    """The output of a successful dry run with shell commands."""
    completed = snakemake(directory, "-n", "-p", *arguments, config=config)
    assert completed.returncode == 0, completed.stderr + completed.stdout
    return completed.stdout + completed.stderr


def test_lint_passes(tmp_path):
    config = {"analysis": str(write_analysis(tmp_path)), "results": str(tmp_path / "results"),
              "datasets": simulated(["a"])}
    completed = snakemake(tmp_path, "--lint", config=config)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Congratulations, your workflow is in a good condition!" in completed.stdout + completed.stderr


def test_sweep_datasets_seeds_and_methods_give_the_expected_jobs(tmp_path):
    start_frames, iterations, seeds = [1, 11], [50, 100, 200], [1, 2]
    config = {
        "analysis": str(write_analysis(tmp_path)), "results": "results", "methods": ["nlsq", "cmc"],
        "seeds": seeds, "datasets": simulated(["a", "b"]),
        "sweep": {"analyzer_parameters.start_frame": start_frames,
                  "optimization.nlsq.max_iterations": iterations},
    }
    output = dry_run(tmp_path, config)
    runs = 2 * len(start_frames) * len(iterations) * len(seeds)
    # K per run = ceil(points / 500) with points = 3 angles x N (N - 1) / 2, N = frames after start_frame.
    shards_per_run = {start: math.ceil(3 * (FRAMES - start + 1) * (FRAMES - start) / 2 / 500)
                      for start in start_frames}
    assert shards_per_run == {1: 3, 11: 2}
    shards = sum(shards_per_run.values()) * len(iterations) * 2 * len(seeds)
    assert job_counts(output) == {"simulate": 2, "run_config": runs, "nlsq": runs, "cmc_shard": shards,
                                  "cmc_combine": runs, "plot": 2, "summary": 1, "trends": 1, "all": 1}
    assert "results/a/start_frame=11__max_iterations=100/seed2/cmc/shards/shard_1.npz" in output
    assert "results/a/start_frame=11__max_iterations=100/seed2/cmc/shards/shard_2.npz" not in output
    [summary] = shell_commands(output, "summary")
    assert summary.count("/result.json") == 2 * runs
    assert "--stability results/stability.csv" in summary
    # One trend figure per sweep key and NLSQ against CMC, all declared (and so in the report).
    for figure in ("trend_analyzer_parameters_start_frame", "trend_optimization_nlsq_max_iterations", "nlsq_vs_cmc"):
        assert f"results/trends/{figure}.png" in output
    # One plot job per dataset draws the figures of its runs and methods, up to --threads at once.
    [plot_a] = [c for c in shell_commands(output, "plot") if "> results/a/logs/plot.log" in c]
    run_dirs = plot_a.split(" --threads ")[0].split()[2:]
    assert len(run_dirs) == runs and len(set(run_dirs)) == runs  # dataset a's runs / 2 runs, two methods each
    assert all(d.startswith("results/a/") and d.endswith(("/nlsq", "/cmc")) for d in run_dirs)
    assert "results/a/start_frame=11__max_iterations=100/seed2/cmc" in run_dirs


def test_per_dataset_nlsq_jobs_fit_each_datasets_runs_in_one_job_and_cmc_stays_per_run(tmp_path):
    config = {"analysis": str(write_analysis(tmp_path)), "results": "results", "methods": ["nlsq", "cmc"],
              "seeds": [1, 2], "datasets": simulated(["a", "b"]), "nlsq_jobs": "per_dataset",
              "sweep": {"analyzer_parameters.start_frame": [1, 11]}}
    output = dry_run(tmp_path, config, "--cores", "16")
    counts = job_counts(output)
    assert counts["nlsq_dataset"] == 2 and "nlsq" not in counts
    assert (counts["run_config"], counts["cmc_combine"], counts["cmc_shard"]) == (8, 8, 2 * 2 * (3 + 2))
    [fit_a] = [c for c in shell_commands(output, "nlsq_dataset") if "> results/a/logs/nlsq.log" in c]
    configs = " ".join(f"results/a/start_frame={start}/seed{seed}/run.yaml" for start in (1, 11) for seed in (1, 2))
    assert fit_a == (f"heterodyne nlsq-batch {configs} --threads 4 --no-plots > results/a/logs/nlsq.log 2>&1"
                     " || [ $? -eq 2 ]")


def test_nlsq_only_sweep_plans_no_cmc_jobs_and_names_points_by_value(tmp_path):
    config = {"analysis": str(write_analysis(tmp_path)), "results": "results", "seeds": [3],
              "datasets": simulated(["a"]), "sweep": {"experimental_data.phi": [[-157.5], [22.5, -67.5]]}}
    output = dry_run(tmp_path, config)
    assert job_counts(output) == {"simulate": 1, "run_config": 2, "nlsq": 2, "plot": 1, "summary": 1, "trends": 1,
                                  "all": 1}
    commands = shell_commands(output, "run_config")
    assert any("--set 'experimental_data.phi=[22.5, -67.5]'" in c and "phi=22.5_-67.5/seed3/run.yaml" in c
               for c in commands)
    [summary] = shell_commands(output, "summary")
    assert "--stability" not in summary and "--sweep-key experimental_data.phi" in summary


@pytest.mark.parametrize("plots", [True, False])
def test_plots_switch_adds_or_drops_the_figure_jobs_and_fits_never_plot(tmp_path, plots):
    config = {"analysis": str(write_analysis(tmp_path)), "results": "results", "methods": ["nlsq", "cmc"],
              "plots": plots, "datasets": simulated(["a"])}
    output = dry_run(tmp_path, config, "--cores", "8")  # the plot job's threads: min(4, its 2 runs)
    counts = job_counts(output)
    assert (counts.get("plot", 0), counts.get("trends", 0)) == ((1, 1) if plots else (0, 0))
    assert all("--no-plots" in c for c in shell_commands(output, "nlsq") + shell_commands(output, "cmc_combine"))
    if plots:
        assert shell_commands(output, "plot") == [
            "heterodyne plot results/a/base/seed0/nlsq results/a/base/seed0/cmc --threads 2"
            " > results/a/logs/plot.log 2>&1"]
        [trends] = shell_commands(output, "trends")
        assert trends == "heterodyne trends results/summary.csv --output-dir results/trends > results/trends.log 2>&1"
        assert "results/trends/trend_run.png" in output and "results/trends/nlsq_vs_cmc.png" in output
    else:
        assert "/plots" not in output and "results/trends" not in output


@pytest.mark.parametrize("preview", [True, False])
def test_preview_switch_adds_one_preview_job_per_dataset(tmp_path, preview):
    config = {"analysis": str(write_analysis(tmp_path)), "results": "results", "plots": False, "preview": preview,
              "datasets": simulated(["a", "b"])}
    output = dry_run(tmp_path, config, "--cores", "2")
    assert job_counts(output).get("preview", 0) == (2 if preview else 0)
    expected = [f"heterodyne preview results/simulated/{name}.h5 --output-dir results/{name}/preview"
                f" > results/{name}/logs/preview.log 2>&1" for name in ("a", "b")]
    assert sorted(shell_commands(output, "preview")) == (expected if preview else [])


@pytest.fixture(scope="module")
def data_files(tmp_path_factory) -> list[Path]:
    """Two small simulated files on disk (legacy layout: byte-identical for equal specs)."""
    directory = tmp_path_factory.mktemp("survey")
    paths = []
    for index, name in enumerate(["run-A", "run B"]):
        path = directory / f"{name}.h5"
        simulate_dataset(path, SimulationSpec(n_frames=20, seed=index, layout="legacy"))
        paths.append(path)
    return paths


def test_survey_sheet_with_per_dataset_overrides(tmp_path, data_files):
    sheet = tmp_path / "datasets.tsv"
    sheet.write_text("name\tpath\tanalyzer_parameters.start_frame\n"
                     f"first\t{data_files[0]}\t5\n"
                     f"second\t{data_files[1]}\t\n")
    config = {"analysis": str(write_analysis(tmp_path)), "datasets": {"sheet": str(sheet)}}
    output = dry_run(tmp_path, config)
    assert job_counts(output) == {"run_config": 2, "nlsq": 2, "plot": 2, "summary": 1, "trends": 1, "all": 1}
    assert "heterodyne plot results/second/base/seed0/nlsq --threads 1 > results/second/logs/plot.log" in output
    commands = shell_commands(output, "run_config")
    [first] = [c for c in commands if "results/first/base/seed0/run.yaml" in c]
    [second] = [c for c in commands if "results/second/base/seed0/run.yaml" in c]
    assert "--set analyzer_parameters.start_frame=5" in first
    assert "--set" not in second


def test_survey_glob_names_datasets_by_file_stem(tmp_path, data_files):
    pattern = str(data_files[0].parent / "*.h5")
    config = {"analysis": str(write_analysis(tmp_path)), "seeds": [1, 2], "datasets": {"glob": pattern}}
    output = dry_run(tmp_path, config)
    assert job_counts(output) == {"run_config": 4, "nlsq": 4, "plot": 2, "summary": 1, "trends": 1, "all": 1}
    for name in ("run-A", "run_B"):
        for seed in (1, 2):
            assert f"results/{name}/base/seed{seed}/nlsq/result.json" in output


@pytest.mark.parametrize("change, message", [
    ({"seed": [1]}, "invalid workflow config: seed: unknown key (did you mean 'seeds'?)"),
    ({"sweep": {"analyzer_parameters.start_frme": [1, 2]}},
     "sweep analyzer_parameters.start_frme: {analysis}: override analyzer_parameters.start_frme: "
     "unknown key (did you mean 'start_frame'?)"),
    ({"sweep": {"analyzer_parameters.start_frame": [0]}},
     "analyzer_parameters.start_frame: expected an integer >= 1, got 0 (value from override)"),
    ({"datasets": {"files": {"x": "missing.h5"}}}, "datasets.files.x: dataset 'x': no such file missing.h5"),
    ({"datasets": {"glob": "nothing/*.h5"}}, "datasets.glob 'nothing/*.h5': matches no file"),
    ({"sweep": {"analyzer_parameters.end_frame": [500]}}, "end_frame = 500 is beyond the data"),
])
def test_invalid_config_fails_before_any_job_naming_the_problem(tmp_path, change, message):
    analysis = write_analysis(tmp_path)
    config = {"analysis": str(analysis), "results": "results", "datasets": simulated(["a"]), **change}
    completed = snakemake(tmp_path, "--cores", "1", config=config)
    assert completed.returncode == 1
    assert message.format(analysis=analysis) in completed.stderr + completed.stdout
    assert not (tmp_path / "results").exists()


PROFILE_SHARD_THREADS = {"local": 4, "slurm": 4, "pbs": 4}  # the rule's own: 4 chains x 1 thread


@pytest.mark.parametrize("profile", sorted(PROFILE_SHARD_THREADS))
def test_profiles_dry_run_nlsq_with_one_thread_per_fit(tmp_path, profile):
    config = {"analysis": str(write_analysis(tmp_path)), "seeds": [1, 2], "datasets": simulated(["a"])}
    profile_dir = filled_profile(tmp_path, profile, cpus_per_node=64, mem_mb_per_node=256_000)
    output = dry_run(tmp_path, config, "--cores", "64", "--workflow-profile", str(profile_dir))
    commands = shell_commands(output, "nlsq")
    assert len(commands) == 2 and all("--threads 1 " in command for command in commands)


@pytest.mark.parametrize("profile", sorted(PROFILE_SHARD_THREADS))
def test_profiles_dry_run_cmc_shards_with_their_threads(tmp_path, profile):
    config = {"analysis": str(write_analysis(tmp_path)), "methods": ["nlsq", "cmc"], "seeds": [1, 2],
              "datasets": simulated(["a"])}
    profile_dir = filled_profile(tmp_path, profile, cpus_per_node=64, mem_mb_per_node=256_000)
    output = dry_run(tmp_path, config, "--cores", "64", "--workflow-profile", str(profile_dir))
    commands = shell_commands(output, "cmc_shard")
    assert len(commands) == 2 * 3
    assert all(f"--threads {PROFILE_SHARD_THREADS[profile]} " in command for command in commands)


def test_a_shard_job_asks_for_one_thread_per_chain(tmp_path):
    """num_chains: 6 → cmc_shard jobs of 6 threads (every chain side by side), lowered to --cores."""
    analysis = write_analysis(tmp_path)
    analysis.write_text(analysis.read_text().replace("cmc: {", "cmc: {num_chains: 6, "))
    config = {"analysis": str(analysis), "methods": ["nlsq", "cmc"], "seeds": [1], "datasets": simulated(["a"])}
    for cores, threads in (("64", "6"), ("4", "4")):
        commands = shell_commands(dry_run(tmp_path, config, "--cores", cores), "cmc_shard")
        assert commands and all(f"--threads {threads} " in command for command in commands), commands[0]


def test_seed_study_example_plans_five_replicates_and_a_stability_table(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "analysis.yaml").write_text((REPO / "config" / "analysis.yaml").read_text())
    config = yaml.safe_load((REPO / "config" / "examples" / "seeds.yaml").read_text())
    output = dry_run(tmp_path, config)
    counts = job_counts(output)
    assert (counts["nlsq"], counts["cmc_combine"], counts["summary"]) == (5, 5, 1)
    assert "results/seeds/stability.csv" in output


def test_default_config_is_the_demo_and_needs_no_data(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "analysis.yaml").write_text((REPO / "config" / "analysis.yaml").read_text())
    completed = snakemake(tmp_path, "-n", "--config", "methods=[nlsq]")
    assert completed.returncode == 0, completed.stderr
    counts = job_counts(completed.stdout + completed.stderr)
    assert counts == {"simulate": 1, "run_config": 4, "nlsq": 4, "plot": 1, "summary": 1, "trends": 1, "all": 1}
