"""Cluster runs: jobs that fit the node, a job status that sees cancelled jobs, one-line refusals.

The SLURM status test drives the installed executor plugin's own status check with a fake
squeue/sacct/scontrol on PATH, so it fails if a plugin update changes what the profile relies on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import snakemake_executor_plugin_slurm as slurm_plugin
import yaml
from workflow_helpers import REPO, filled_profile, shell_commands, snakemake

ANALYSIS = ("experimental_data: {q: 0.009, phi: [-157.5, -67.5, 22.5]}\n"
            "optimization:\n  cmc: {max_points_per_shard: 500}\n")
THREADS = re.compile(r"^\s*threads: (\d+)$", re.MULTILINE)
MEM_MB = re.compile(r"\bmem_mb=(\d+)")


def workflow_config(directory: Path, **changes) -> dict:
    """Three seeds of one simulated dataset, NLSQ and CMC (three shards per run), plots on."""
    (directory / "analysis.yaml").write_text(ANALYSIS)
    return {"analysis": str(directory / "analysis.yaml"), "results": "results", "methods": ["nlsq", "cmc"],
            "seeds": [1, 2, 3], "datasets": {"simulate": {"a": {"frames": 30}}}, **changes}


def output_of(completed) -> str:
    return completed.stdout + completed.stderr


# --- SLURM job status ------------------------------------------------------------------------

STATUS_OPTION = "status_command"
"""The plugin setting (profile key slurm-status-command) that picks squeue over sacct."""


def slurm_profile() -> dict:
    return yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text())


def test_slurm_profile_options_exist_in_the_installed_plugin():
    fields = {field.name for field in dataclasses.fields(slurm_plugin.ExecutorSettings)}
    profile = slurm_profile()
    for key in ("slurm-status-command", "slurm-requeue", "slurm-init-seconds-before-status-checks"):
        assert key in profile and key.removeprefix("slurm-").replace("-", "_") in fields
    assert profile["slurm-status-command"] == "squeue" and STATUS_OPTION in fields
    # The plugin falls back to sacct unless MinJobAge >= 3 x the first delay; SLURM's default MinJobAge is 300 s.
    assert 3 * profile["slurm-init-seconds-before-status-checks"] <= 300
    assert profile["retries"] == 1


class _Unlimited:
    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False


def plugin_status(tmp_path: Path, command: str, answer: str, requeue: bool) -> str:
    """What the installed plugin's status check makes of one job whose `command` prints `answer`:
    "error" (reported failed: retried or given up), "success", or "waiting" (still active)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool, text in {"squeue": answer, "sacct": answer, "scontrol": "MinJobAge               = 300 sec"}.items():
        (bin_dir / tool).write_text(f"#!/bin/sh\necho '{text}'\n")
        (bin_dir / tool).chmod(0o755)
    reports = []
    settings = SimpleNamespace(status_attempts=1, keep_successful_logs=True, requeue=requeue,
                               init_seconds_before_status_checks=10, **{STATUS_OPTION: command})
    quiet = SimpleNamespace(debug=lambda *a: None, info=lambda *a: None, warning=lambda *a: None)
    executor = SimpleNamespace(
        workflow=SimpleNamespace(executor_settings=settings), run_uuid="run", logger=quiet,
        status_rate_limiter=_Unlimited(), get_status_command=lambda: command,
        _status_query_failures=0, _status_query_calls=0, _status_query_total_seconds=0.0,
        _status_query_min_seconds=None, _status_query_max_seconds=0.0, _status_query_cycle_rows=[],
        _preemption_warning=False, _failed_nodes=set(), next_seconds_between_status_checks=10,
        report_job_success=lambda job: reports.append("success"),
        report_job_error=lambda job, **kw: reports.append("error"))

    async def check():
        job = SimpleNamespace(external_jobid="123", aux={})
        return [job async for job in slurm_plugin.Executor.check_active_jobs(executor, [job])]

    path = os.environ["PATH"]
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin"
    try:
        active = asyncio.run(check())
    finally:
        os.environ["PATH"] = path
    return reports[0] if reports else "waiting" if active else "lost"


@pytest.mark.parametrize("state", ["CANCELLED", "OUT_OF_MEMORY", "TIMEOUT", "FAILED"])
def test_squeue_status_reports_cancelled_and_killed_jobs_as_failed(tmp_path, state):
    assert plugin_status(tmp_path, "squeue", f"123|{state}", requeue=slurm_profile()["slurm-requeue"]) == "error"


@pytest.mark.parametrize("state", ["PREEMPTED", "NODE_FAIL", "PENDING", "RUNNING"])
def test_squeue_status_leaves_requeued_and_live_jobs_to_slurm(tmp_path, state):
    # with slurm-requeue, SLURM puts a preempted job or one on a failed node back in the queue
    assert plugin_status(tmp_path, "squeue", f"123|{state}", requeue=slurm_profile()["slurm-requeue"]) == "waiting"


def test_sacct_status_would_wait_forever_for_a_job_cancelled_by_the_scheduler(tmp_path):
    # why the profile uses squeue: sacct reports "CANCELLED by 0", which the plugin does not read as a failure
    assert plugin_status(tmp_path, "sacct", "123|CANCELLED by 0", requeue=True) == "waiting"
    assert plugin_status(tmp_path, "squeue", "123|COMPLETED", requeue=True) == "success"


# --- Jobs within the node ----------------------------------------------------------------------

@pytest.mark.e2e
@pytest.mark.parametrize("profile", ["slurm", "pbs"])
@pytest.mark.parametrize("cpus", [2, 64])
def test_profile_dry_run_asks_no_job_for_more_than_the_node(tmp_path, profile, cpus):
    mem_mb = 4000 * cpus
    profile_dir = filled_profile(tmp_path, profile, cpus_per_node=cpus, mem_mb_per_node=mem_mb)
    settings = yaml.safe_load((profile_dir / "config.yaml").read_text())
    assert settings["max-threads"] == cpus and settings["group-components"] == {"nlsq_batch": cpus}
    assert settings["config"] == [f"node_cpus={cpus}", f"node_mem_mb={mem_mb}"]
    for nlsq_jobs in ("per_run", "per_dataset") if cpus == 2 else ("per_run",):
        completed = snakemake(tmp_path, "-n", "-p", "--cores", "256", "--workflow-profile", str(profile_dir),
                              config=workflow_config(tmp_path, nlsq_jobs=nlsq_jobs))
        output = output_of(completed)
        assert completed.returncode == 0, output
        threads = [int(value) for value in THREADS.findall(output)]
        assert max(threads) <= cpus and (cpus > 2 or max(threads) == cpus)  # plot (4) and cmc_shard lowered to 2
        assert max(int(value) for value in MEM_MB.findall(output)) <= mem_mb
        commands = [c for rule in ("nlsq", "nlsq_dataset", "cmc_shard", "plot") for c in shell_commands(output, rule)]
        assert commands and all(int(n) <= cpus for c in commands for n in re.findall(r"--threads (\d+)", c))


@pytest.mark.e2e
def test_local_run_never_asks_for_more_than_its_cores(tmp_path):
    for nlsq_jobs in ("per_run", "per_dataset"):
        completed = snakemake(tmp_path, "-n", "-p", "--cores", "1", "--workflow-profile",
                              str(REPO / "profiles" / "local"), config=workflow_config(tmp_path, nlsq_jobs=nlsq_jobs))
        output = output_of(completed)
        assert completed.returncode == 0, output
        assert THREADS.findall(output) == []  # snakemake prints threads only above 1
        commands = [c for rule in ("nlsq", "nlsq_dataset", "cmc_shard", "plot") for c in shell_commands(output, rule)]
        assert commands and {n for c in commands for n in re.findall(r"--threads (\d+)", c)} == {"1"}


@pytest.mark.e2e
@pytest.mark.parametrize("changes, message", [
    ({"node_cpus": 1}, "rule cmc_shard (run a/base/seed1) asks for 2 threads, more than a node has (node_cpus = 1)"),
    ({"node_mem_mb": 1000}, "rule simulate (dataset a) needs 1024 MB, more than a node has (node_mem_mb = 1000)"),
    ({"node_mem_mb": 1100, "methods": ["nlsq"], "datasets": {"simulate": {"big": {"frames": 3000}}}},
     "rule nlsq (run big/base/seed1) needs"),
])
def test_oversized_job_fails_before_any_job_with_one_line(tmp_path, changes, message):
    completed = snakemake(tmp_path, "--cores", "2", config=workflow_config(tmp_path, **changes))
    assert completed.returncode == 1
    [line] = [line for line in output_of(completed).splitlines() if "invalid workflow config" in line]
    assert message in line
    assert not (tmp_path / "results").exists()


@pytest.mark.e2e
def test_oversized_group_fails_before_any_job_with_one_line(tmp_path):
    profile_dir = filled_profile(tmp_path, "slurm", cpus_per_node=64, mem_mb_per_node=16_000)
    completed = snakemake(tmp_path, "-n", "--cores", "256", "--workflow-profile", str(profile_dir),
                          "--set-threads", "nlsq=2", config=workflow_config(tmp_path, seeds=list(range(40))))
    assert completed.returncode == 1
    [line] = [line for line in output_of(completed).splitlines() if "invalid workflow config" in line]
    assert "group nlsq_batch: 40 jobs ask for 80 threads, more than a node has (node_cpus = 64)" in line
