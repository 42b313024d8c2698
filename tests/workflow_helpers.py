"""Running the Snakemake workflow from tests: a config in a temporary directory, snakemake as a subprocess."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
SNAKEFILE = REPO / "Snakefile"
BIN = Path(sys.executable).parent
JOB_STATS_ROW = re.compile(r"^(\w+)\s+(\d+)$")
SWEEP_KEY = "analyzer_parameters.start_frame"


def workflow_env(cache_dir: Path | None = None) -> dict[str, str]:
    """The environment of a snakemake subprocess: the venv's `heterodyne` first on PATH."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if cache_dir is not None:
        env["HETERODYNE_JAX_CACHE_DIR"] = str(cache_dir)
    return env


def write_config(directory: Path, config: dict) -> Path:
    """Write a workflow config into ``directory`` and return its path."""
    path = directory / "workflow-config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def snakemake(directory: Path, *arguments: str, config: dict | None = None, cache_dir: Path | None = None,
              timeout: float = 300) -> subprocess.CompletedProcess:
    """Run snakemake on the repository's Snakefile in ``directory`` (with ``config`` as --configfile)."""
    command = [str(BIN / "snakemake"), "--snakefile", str(SNAKEFILE), "--directory", str(directory)]
    if config is not None:
        command += ["--configfile", str(write_config(directory, config))]
    return subprocess.run([*command, *arguments], capture_output=True, text=True, env=workflow_env(cache_dir),
                          timeout=timeout)


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


def filled_profile(directory: Path, name: str, cpus_per_node: int, mem_mb_per_node: int) -> Path:
    """A copy of profiles/<name> with its node placeholders filled in (the site ones stay)."""
    target = directory / "profiles" / name
    target.mkdir(parents=True)
    text = (REPO / "profiles" / name / "config.yaml").read_text()
    text = text.replace("<cpus_per_node>", str(cpus_per_node)).replace("<mem_mb_per_node>", str(mem_mb_per_node))
    (target / "config.yaml").write_text(text)
    return target


def job_counts(output: str) -> dict[str, int]:
    """Planned jobs per rule, from the "Job stats" table of a dry run (without the total)."""
    lines = output[output.index("Job stats:"):].splitlines()
    counts = {}
    for line in lines[3:]:
        match = JOB_STATS_ROW.match(line.strip())
        if match is None:
            break
        counts[match.group(1)] = int(match.group(2))
    counts.pop("total")
    return counts


def shell_commands(output: str, rule: str) -> list[str]:
    """The shell commands a dry run (with --printshellcmds) planned for ``rule``'s jobs."""
    blocks = re.split(r"\n(?=\s*\[[^\]]+\]\n)", output)
    return [line.split("Shell command: ", 1)[1]
            for block in blocks if re.search(rf"^\s*rule {rule}:$", block, re.MULTILINE)
            for line in block.splitlines() if "Shell command: " in line]
