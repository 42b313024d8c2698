"""Tiny real runs of the workflow: simulated data, small N; up-to-date reruns; interruption;
figures and the Snakemake report."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from workflow_helpers import (
    BIN,
    REPO,
    SNAKEFILE,
    SWEEP_KEY,
    job_counts,
    snakemake,
    tiny_config,
    workflow_env,
    write_config,
)

from heterodyne.run_tables import summary_columns

# Every test needs the reference run (80 s on two shared cores) or takes longer itself (CMC: 120 s).
pytestmark = [pytest.mark.slow, pytest.mark.e2e]

LOCAL_PROFILE = str(REPO / "profiles" / "local")
RUN_FIGURES = ["c2_cuts.png", "c2_fit_00.png", "c2_fit_01.png", "c2_fit_02.png", "rates.png"]  # three angles
POINTS = ["start_frame=1", "start_frame=6"]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    """One JAX compile cache for the module's runs (compiled once, reused as in a real batch)."""
    return tmp_path_factory.mktemp("jax-cache")


@pytest.fixture(scope="module")
def reference(tmp_path_factory, cache_dir) -> Path:
    """A directory where the tiny workflow ran once, uninterrupted."""
    directory = tmp_path_factory.mktemp("reference")
    completed = snakemake(directory, "--cores", "2", config=tiny_config(directory), cache_dir=cache_dir)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return directory


def test_tiny_run_writes_the_summary_and_a_second_run_has_nothing_to_do(reference, cache_dir):
    tmp_path = reference
    config = tiny_config(tmp_path)
    table = pd.read_csv(tmp_path / "results" / "summary.csv")
    assert list(table.columns) == summary_columns([SWEEP_KEY])
    assert len(table) == 2 * 2  # sweep points x seeds, one method
    assert set(zip(table[SWEEP_KEY], table["seed"], strict=True)) == {(1, 1), (1, 2), (6, 1), (6, 2)}
    assert set(table["run"]) == {"start_frame=1", "start_frame=6"}
    assert (table["method"] == "nlsq").all() and (table["status"] == "converged").all()
    assert (table["D0_ref"] > 0).all() and (table["D0_ref_err"] > 0).all()
    assert (tmp_path / "results" / "stability.csv").exists()
    run_yaml = tmp_path / "results/tiny/start_frame=6/seed2/run.yaml"
    assert "start_frame: 6" in run_yaml.read_text()

    again = snakemake(tmp_path, "--cores", "2", config=config, cache_dir=cache_dir)
    assert again.returncode == 0
    assert "Nothing to be done" in again.stdout + again.stderr


def report_script(html: str, name: str):
    """The JSON object a Snakemake report page assigns in its ``<script id="NAME">`` block."""
    match = re.search(rf'<script id="{name}">\s*var {name} = (.*?);\s*</script>', html, re.DOTALL)
    return json.loads(match.group(1))


def test_tiny_run_draws_each_runs_figures_and_the_trends_and_the_report_holds_them(reference):
    results = reference / "results"
    runs = [f"tiny/{point}/seed{seed}" for point in POINTS for seed in (1, 2)]
    for run in runs:
        assert sorted(p.name for p in (results / run / "nlsq" / "plots").glob("*.png")) == RUN_FIGURES
    assert [p.name for p in (results / "trends").iterdir()] == ["trend_analyzer_parameters_start_frame.png"]

    completed = snakemake(reference, "--report", "report.zip", config=tiny_config(reference))
    assert completed.returncode == 0, completed.stderr[-3000:]
    # docutils reports a caption it cannot render as "(ERROR/3) ..." or "(WARNING/2) ..."
    messages = completed.stdout + completed.stderr
    assert not re.search(r"\((ERROR|WARNING|SEVERE)/\d\)|Undefined substitution", messages), messages[-3000:]
    with zipfile.ZipFile(reference / "report.zip") as archive:
        stored = {name.rsplit("/", 1)[-1]: archive.read(name) for name in archive.namelist()
                  if name.endswith("/summary.csv") or name.endswith("/trend_analyzer_parameters_start_frame.png")}
        figures = [name for name in archive.namelist() if name.endswith(".png")]
        html = archive.read("report/report.html").decode()
    assert stored["summary.csv"] == (results / "summary.csv").read_bytes()
    assert stored["trend_analyzer_parameters_start_frame.png"] == \
        (results / "trends" / "trend_analyzer_parameters_start_frame.png").read_bytes()
    assert len(figures) == 1 + len(runs) * len(RUN_FIGURES)

    categories = report_script(html, "categories")
    assert categories["All runs"] == {
        "tables": ["results/comparison.csv", "results/stability.csv", "results/summary.csv"],
        "figures": ["results/trends/trend_analyzer_parameters_start_frame.png"]}
    assert sorted(categories["tiny"]) == POINTS
    for point in POINTS:
        assert sorted(categories["tiny"][point]) == sorted(
            f"results/tiny/{point}/seed{seed}/nlsq/plots/{figure}" for seed in (1, 2) for figure in RUN_FIGURES)
    items = report_script(html, "results")
    cuts = items["results/tiny/start_frame=6/seed2/nlsq/plots/c2_cuts.png"]
    assert cuts["labels"] == {"seed": "2", "method": "nlsq", "figure": "c2_cuts"}
    assert cuts["caption"].startswith("<p>One-time cuts") and "Measured c2" not in cuts["caption"]
    assert items["results/tiny/start_frame=1/seed1/nlsq/plots/c2_fit_01.png"]["caption"].startswith("<p>Measured c2")
    assert "Fitted parameters against one sweep variable" in \
        items["results/trends/trend_analyzer_parameters_start_frame.png"]["caption"]
    assert items["results/summary.csv"]["caption"].startswith("<p>One row per run and method")


def test_interrupted_workflow_reruns_to_the_same_summary(tmp_path, reference, cache_dir):
    interrupted = tmp_path / "interrupted"
    interrupted.mkdir()
    config = {**tiny_config(interrupted), "plots": False}  # and a run with plots off writes none
    config_file = write_config(interrupted, config)
    command = [str(BIN / "snakemake"), "--snakefile", str(SNAKEFILE), "--directory", str(interrupted),
               "--configfile", str(config_file), "--cores", "1"]
    # Its own process group, so that the SIGINT below reaches Snakemake and its running job
    # together, as Ctrl-C in a terminal does. Snakemake alone can lose a SIGINT that lands while
    # its main thread writes a log record: its log handler swallows KeyboardInterrupt.
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=workflow_env(cache_dir), start_new_session=True)
    logs = interrupted / "results" / "tiny"
    deadline = time.monotonic() + 120
    while not list(logs.glob("*/seed*/logs/nlsq.log")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # mid-fit: the process has started and is loading or fitting
    os.killpg(process.pid, signal.SIGINT)
    assert process.wait(timeout=120) != 0
    finished = list(logs.glob("*/seed*/nlsq/result.json"))
    assert len(finished) < 4, "the interruption came too late to test anything"

    plan = snakemake(interrupted, "-n", "--workflow-profile", LOCAL_PROFILE, config=config)
    assert plan.returncode == 0, plan.stderr[-3000:]
    # Every fit without a result is planned again, and so is the one cut off by the signal even
    # if its process got to write result.json: Snakemake did not see that job finish.
    assert job_counts(plan.stdout + plan.stderr)["nlsq"] >= max(1, 4 - len(finished))
    rerun = snakemake(interrupted, "--workflow-profile", LOCAL_PROFILE, "--cores", "2",
                      config=config, cache_dir=cache_dir)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    summary = (interrupted / "results" / "summary.csv").read_text()
    assert summary == (reference / "results" / "summary.csv").read_text()
    assert not list(interrupted.rglob("plots")) and not list(interrupted.rglob("*.png"))


def test_per_dataset_nlsq_jobs_give_the_summary_of_per_run_jobs(tmp_path, reference, cache_dir):
    config = {**tiny_config(tmp_path), "plots": False, "nlsq_jobs": "per_dataset"}
    completed = snakemake(tmp_path, "--cores", "2", config=config, cache_dir=cache_dir)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert re.search(r"^nlsq_dataset\s+1$", completed.stdout + completed.stderr, re.MULTILINE)
    summary = (tmp_path / "results" / "summary.csv").read_text()
    assert summary == (reference / "results" / "summary.csv").read_text()


def test_tiny_cmc_run_gives_nlsq_and_cmc_rows_and_a_comparison(tmp_path, cache_dir):
    """One run, both methods, two CMC shard jobs: summary rows per method with the CMC columns filled."""
    config = tiny_config(tmp_path)
    analysis = Path(config["analysis"])
    analysis.write_text(analysis.read_text() + "optimization:\n  cmc: {num_warmup: 100, num_samples: 100, "
                        "num_chains: 2, max_points_per_shard: 700}\n")
    config.update(methods=["nlsq", "cmc"], seeds=[1], sweep={})
    completed = snakemake(tmp_path, "--cores", "2", config=config, cache_dir=cache_dir)
    assert completed.returncode == 0, completed.stderr[-3000:]
    run = tmp_path / "results" / "tiny" / "base" / "seed1"
    assert sorted(p.name for p in (run / "cmc" / "shards").iterdir()) == ["shard_0.npz", "shard_1.npz"]
    table = pd.read_csv(tmp_path / "results" / "summary.csv")
    assert sorted(table["method"]) == ["cmc", "nlsq"]
    cmc = table[table["method"] == "cmc"].iloc[0]
    assert cmc["D0_ref_q05"] < cmc["D0_ref"] < cmc["D0_ref_q95"]
    assert cmc["max_r_hat"] > 1.0 and cmc["min_ess_bulk"] > 0
    comparison = pd.read_csv(tmp_path / "results" / "comparison.csv")
    assert set(comparison["parameter"]) == {"D0_ref", "D0_sample", "v0", "f0"}
    assert sorted(p.name for p in (run / "cmc" / "plots").glob("*.png")) == sorted(
        RUN_FIGURES + ["cmc_corner.png", "cmc_trace_shard_00.png", "cmc_trace_shard_01.png"])
    assert sorted(p.name for p in (tmp_path / "results" / "trends").iterdir()) == ["nlsq_vs_cmc.png", "trend_run.png"]
