"""The workflow used as a Snakemake module from another directory: a Snakefile that only declares
the module and uses its rules gives the summary of the repository's Snakefile run directly."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest
from workflow_helpers import BIN, SNAKEFILE, job_counts, snakemake, tiny_config, workflow_env, write_config

pytestmark = pytest.mark.e2e

MODULE_SNAKEFILE = f"""\
configfile: "workflow-config.yaml"


module heterodyne:
    snakefile:
        "{SNAKEFILE}"
    config:
        config


use rule * from heterodyne
"""


def module_config(directory: Path) -> dict:
    """The tiny workflow config with one seed and no figures: two NLSQ fits."""
    return {**tiny_config(directory), "seeds": [1], "plots": False}


def module_snakemake(directory: Path, *arguments: str, cache_dir: Path | None = None) -> subprocess.CompletedProcess:
    """snakemake on the module-only Snakefile of ``directory``, run from another working directory."""
    command = [str(BIN / "snakemake"), "--snakefile", str(directory / "Snakefile"), "--directory", str(directory)]
    return subprocess.run([*command, *arguments], capture_output=True, text=True, env=workflow_env(cache_dir),
                          cwd=directory.parent, timeout=300)


@pytest.fixture
def deployment(tmp_path) -> Path:
    """A directory holding only a Snakefile that uses the workflow as a module, and its config."""
    directory = tmp_path / "deployment"
    directory.mkdir()
    write_config(directory, module_config(directory))
    (directory / "Snakefile").write_text(MODULE_SNAKEFILE)
    return directory


def test_the_module_plans_the_jobs_of_the_snakefile(deployment, tmp_path):
    planned = module_snakemake(deployment, "-n")
    assert planned.returncode == 0, planned.stderr[-3000:]
    direct = tmp_path / "direct"
    direct.mkdir()
    reference = snakemake(direct, "-n", config=module_config(direct))
    assert reference.returncode == 0, reference.stderr[-3000:]
    counts = job_counts(planned.stdout + planned.stderr)
    assert counts == job_counts(reference.stdout + reference.stderr)
    assert counts == {"simulate": 1, "run_config": 2, "nlsq": 2, "summary": 1, "all": 1}


@pytest.mark.slow  # 25 to 45 s on two shared cores
def test_the_module_runs_to_the_summary_of_the_snakefile_and_its_report(deployment, tmp_path):
    cache_dir = tmp_path / "jax-cache"  # the second run loads what the first compiled
    completed = module_snakemake(deployment, "--cores", "2", cache_dir=cache_dir)
    assert completed.returncode == 0, completed.stderr[-3000:]
    direct = tmp_path / "direct"
    direct.mkdir()
    reference = snakemake(direct, "--cores", "2", config=module_config(direct), cache_dir=cache_dir)
    assert reference.returncode == 0, reference.stderr[-3000:]
    summary = (deployment / "results" / "summary.csv").read_bytes()
    assert summary == (direct / "results" / "summary.csv").read_bytes()

    report = module_snakemake(deployment, "--report", "report.zip")  # captions from the module's own files
    assert report.returncode == 0, report.stderr[-3000:]
    with zipfile.ZipFile(deployment / "report.zip") as archive:
        stored = [archive.read(name) for name in archive.namelist() if name.endswith("/summary.csv")]
        html = archive.read("report/report.html").decode()
    assert stored == [summary]
    assert "One row per run and method" in html
