"""Tiny real runs of the workflow: simulated data, small N; up-to-date reruns; interruption."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from heterodyne.summary import summary_columns
from workflow_helpers import REPO, SNAKEFILE, BIN, job_counts, workflow_env, write_config, snakemake

SWEEP_KEY = "analyzer_parameters.start_frame"
LOCAL_PROFILE = str(REPO / "profiles" / "local")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    """One JAX compile cache for the module's runs (compiled once, reused as in a real batch)."""
    return tmp_path_factory.mktemp("jax-cache")


def tiny_config(directory: Path) -> dict:
    """Two sweep points x two seeds of a 30-frame, three-angle simulated dataset, NLSQ only."""
    analysis = directory / "analysis.yaml"
    analysis.write_text(
        "experimental_data: {q: 0.009, phi: [-157.5, -67.5, 22.5]}\n"
        "parameters:\n"
        "  D0_ref: {initial: 3.0e4}\n  D0_sample: {initial: 5.0e4}\n  v0: {initial: 1100.0}\n  f0: {initial: 0.4}\n"
        + "".join(f"  {name}: {{vary: false}}\n" for name in
                  ("alpha_ref", "D_offset_ref", "alpha_sample", "D_offset_sample", "beta", "v_offset",
                   "f1", "f2", "f3", "phi0"))
        + "scaling: {mode: individual, contrast: {initial: 0.1}}\n"
    )
    return {
        "analysis": str(analysis), "results": "results", "methods": ["nlsq"], "seeds": [1, 2],
        "sweep": {SWEEP_KEY: [1, 6]},
        "datasets": {"simulate": {"tiny": {"frames": 30, "seed": 3, "layout": "legacy",
                                           "truth": {"D0_ref": 20000.0, "D0_sample": 80000.0, "v0": 1200.0,
                                                     "f0": 0.3}}}},
    }


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


def test_interrupted_workflow_reruns_to_the_same_summary(tmp_path, reference, cache_dir):
    interrupted = tmp_path / "interrupted"
    interrupted.mkdir()
    config_file = write_config(interrupted, tiny_config(interrupted))
    command = [str(BIN / "snakemake"), "--snakefile", str(SNAKEFILE), "--directory", str(interrupted),
               "--configfile", str(config_file), "--cores", "1"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=workflow_env(cache_dir))
    logs = interrupted / "results" / "tiny"
    deadline = time.monotonic() + 120
    while not list(logs.glob("*/seed*/logs/nlsq.log")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # mid-fit: the process has started and is loading or fitting
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=120) != 0
    finished = list(logs.glob("*/seed*/nlsq/result.json"))
    assert len(finished) < 4, "the interruption came too late to test anything"

    plan = snakemake(interrupted, "-n", "--workflow-profile", LOCAL_PROFILE, config=tiny_config(interrupted))
    assert plan.returncode == 0, plan.stderr[-3000:]
    # Every fit without a result is planned again, and so is the one cut off by the signal even
    # if its process got to write result.json: Snakemake did not see that job finish.
    assert job_counts(plan.stdout + plan.stderr)["nlsq"] >= max(1, 4 - len(finished))
    rerun = snakemake(interrupted, "--workflow-profile", LOCAL_PROFILE, "--cores", "2",
                      config=tiny_config(interrupted), cache_dir=cache_dir)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    summary = (interrupted / "results" / "summary.csv").read_text()
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
