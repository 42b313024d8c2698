"""The model comparison in the workflow (config `model_comparison`): the job graph by dry runs
(a compare job per global run after its NLSQ fit, one table across runs, the reductions passed on,
bad settings); the command itself runs end to end in tests/comparison/."""

from __future__ import annotations

import pytest
import yaml
from workflow_helpers import REPO, job_counts, shell_commands, snakemake

pytestmark = pytest.mark.e2e  # every test runs snakemake (dry runs)


def write_analysis(directory) -> str:
    path = directory / "analysis.yaml"
    path.write_text("experimental_data: {q: 0.009, phi: [-157.5, -67.5, 22.5]}\n")
    return str(path)


def dry_run(directory, config: dict, *arguments: str) -> str:
    completed = snakemake(directory, "-n", "-p", *arguments, config=config)
    assert completed.returncode == 0, completed.stderr + completed.stdout
    return completed.stdout + completed.stderr


def test_the_comparison_example_adds_a_compare_job_per_run_and_one_table_across_runs(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "analysis.yaml").write_text((REPO / "config" / "analysis.yaml").read_text())
    config = yaml.safe_load((REPO / "config" / "examples" / "comparison.yaml").read_text())
    output = dry_run(tmp_path, config)
    assert job_counts(output) == {"simulate": 1, "run_config": 2, "nlsq": 2, "compare": 2, "model_comparison": 1,
                                  "plot": 1, "summary": 1, "trends": 1, "all": 1}
    run = "results/comparison/flow/start_frame=21/seed0"
    assert f"heterodyne compare {run}/nlsq  --threads 1 > {run}/logs/compare.log 2>&1" in shell_commands(
        output, "compare")
    [collect] = shell_commands(output, "model_comparison")
    assert collect == ("heterodyne compare results/comparison/flow/start_frame=1/seed0/nlsq"
                       " results/comparison/flow/start_frame=21/seed0/nlsq --root results/comparison"
                       " --sweep-key analyzer_parameters.start_frame"
                       " --collect results/comparison/model_comparison.csv"
                       " > results/comparison/model_comparison.log 2>&1")


def test_listed_reductions_are_passed_on_and_window_runs_are_not_compared(tmp_path):
    config = {"analysis": write_analysis(tmp_path), "results": "results", "seeds": [1, 2], "plots": False,
              "nlsq_jobs": "per_dataset", "model_comparison": ["steady", "one_component"],
              "windows": {"width": 40}, "datasets": {"simulate": {"a": {"frames": 90}}}}
    output = dry_run(tmp_path, config)
    counts = job_counts(output)
    # two seeds x (a global run and two windows of 40 frames); only the global runs are compared
    assert (counts["nlsq_dataset"], counts["nlsq"], counts["compare"], counts["model_comparison"]) == (1, 4, 2, 1)
    commands = shell_commands(output, "compare")
    assert sorted(c.split()[2] for c in commands) == ["results/a/base/seed1/nlsq", "results/a/base/seed2/nlsq"]
    assert all("--reduction steady --reduction one_component --threads 1" in c for c in commands)
    [collect] = shell_commands(output, "model_comparison")
    assert "window=" not in collect and "--sweep-key" not in collect


def test_without_the_key_no_comparison_is_planned(tmp_path):
    config = {"analysis": write_analysis(tmp_path), "results": "results", "plots": False,
              "datasets": {"simulate": {"a": {"frames": 30}}}}
    counts = job_counts(dry_run(tmp_path, config))
    assert counts["nlsq"] == 1 and "compare" not in counts and "model_comparison" not in counts


@pytest.mark.parametrize("setting, message", [
    (["steady", "flat"], "model_comparison[1]: expected one of one_component, tied_transport, steady, "
                         "constant_fraction, got 'flat'"),
    ([], "model_comparison: [] should be non-empty"),
    ("yes", "model_comparison: expected true or false or a list, got 'yes'"),
])
def test_a_bad_comparison_setting_stops_before_any_job(tmp_path, setting, message):
    config = {"analysis": write_analysis(tmp_path), "results": "results", "model_comparison": setting,
              "datasets": {"simulate": {"a": {"frames": 30}}}}
    completed = snakemake(tmp_path, "--cores", "1", config=config)
    assert completed.returncode == 1
    assert f"invalid workflow config: {message}" in completed.stderr + completed.stdout
    assert not (tmp_path / "results").exists()
