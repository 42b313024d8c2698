"""Whole-process cost of ``heterodyne --method nlsq`` (issue: NLSQ run).

Simulated N frames × 3 angles, 9 varying physics parameters (ageing transport, accelerating flow,
a time-varying fraction), individual scaling. For each N: wall time of the whole process with an
empty compile cache (cold) and again with the cache it left (warm), CPU time ÷ wall, peak
resident memory, and whether the fit recovered the truth (max |error| / stderr).

    .venv/bin/python benchmarks/bench_nlsq.py [--frames 100 200 400 1000] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import yaml

TRUTH = dict(D0_ref=2e4, alpha_ref=-0.3, D0_sample=6e4, alpha_sample=0.4, v0=1000.0, beta=0.3,
             f0=0.2, f1=0.8, f3=0.1)
START = dict(D0_ref=3e4, alpha_ref=0.0, D0_sample=5e4, alpha_sample=0.0, v0=950.0, beta=0.0,
             f0=0.3, f1=0.0, f3=0.05)
NOISE = 0.002
HETERODYNE = str(Path(sys.executable).with_name("heterodyne"))


def simulate(directory: Path, n_frames: int) -> Path:
    from heterodyne.simulation import SimulationSpec, simulate_dataset

    # keep the 6 ms time step but shrink it for long series so the window stays ~1.2 s of decay
    frame_time = 1e-3 * min(1.0, 200 / n_frames)
    spec = replace(SimulationSpec(), n_frames=n_frames, frame_time=frame_time, noise_sigma=NOISE,
                   params=TRUTH, processed_q_rows=(1,), seed=1)
    path = directory / f"sim_{n_frames}.h5"
    simulate_dataset(path, spec)
    return path


def write_config(directory: Path, cache: Path) -> Path:
    from heterodyne.parameters import PHYSICS_NAMES

    parameters = {name: {"vary": False} for name in PHYSICS_NAMES}
    parameters.update({name: {"initial": value} for name, value in START.items()})
    config = {
        "experimental_data": {"q": 0.009, "phi": [-157.5, -67.5, 22.5]},
        "parameters": parameters,
        "scaling": {"mode": "individual", "contrast": {"initial": 0.1}},
        "optimization": {"nlsq": {"noise_sigma": NOISE}},
        "compute": {"jax_cache_dir": str(cache)},
    }
    path = directory / "run.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def run_process(arguments: list[str]) -> dict:
    """Wall and CPU seconds and peak RSS (MB) of one child process, and its exit code."""
    started = time.perf_counter()
    process = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    output = process.stdout.read().decode().strip()
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,
        "code": os.waitstatus_to_exitcode(status),
        "result": output.splitlines()[-1] if output else "",
        "stderr": process.stderr.read().decode(),
    }


def accuracy(result_path: str) -> str:
    nlsq = json.loads(Path(result_path).read_text())["nlsq"]
    worst = max(abs(nlsq[n] - v) / nlsq["stderr"][n] for n, v in TRUTH.items() if nlsq["stderr"][n])
    return f"max|err|/se {worst:4.2f}, chi2_red {nlsq['chi2_reduced']:.3f}, {nlsq['iterations']} it"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[100, 200, 400, 1000])
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        for n_frames in args.frames:
            data = simulate(directory, n_frames)
            cache = directory / f"cache_{n_frames}"
            config = write_config(directory, cache)
            command = [HETERODYNE, "--config", str(config), "--data", str(data),
                       "--output-dir", str(directory / f"out_{n_frames}"), "--method", "nlsq"]
            if args.threads:
                command += ["--threads", str(args.threads)]
            for label in ("cold", "warm"):
                run = run_process(command)
                if run["code"] not in (0, 2):
                    raise SystemExit(f"N={n_frames} {label}: exit {run['code']}\n{run['stderr']}")
                points = 3 * n_frames * (n_frames - 1) // 2
                print(
                    f"N={n_frames:5d} ({points:8d} points) {label}: wall {run['wall']:6.1f} s, "
                    f"cpu/wall {run['cpu'] / run['wall']:4.2f}, peak {run['peak_mb']:6.0f} MB, "
                    f"exit {run['code']}, {accuracy(run['result'])}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
