"""Memory estimates of the workflow's jobs (``resources: mem_mb``) against the measured peak RSS.

For each size (angles × frames) a simulated file is written and the job's real command runs in a
child process: ``heterodyne --method nlsq`` (an NLSQ job) and, with ``--cmc``, ``heterodyne
cmc-shard`` (one CMC shard job, few draws, its two chains side by side on ``--shard-threads 2``
or one after the other on 1). Its peak resident memory (``ru_maxrss`` of the child)
is printed beside the estimate of :mod:`heterodyne.batch.resources`; the estimate must lie within
2× of the peak. The peak is reached in the first Jacobian (NLSQ) or gradient (NUTS) evaluation,
so the fits are cut short (few iterations, few draws) to keep the benchmark quick.

    .venv/bin/python benchmarks/bench_memory.py [--sizes 3x400 7x2000] [--cmc] [--shard-points 50000]
        [--shard-threads 1]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

HETERODYNE = str(Path(sys.executable).with_name("heterodyne"))
PHI_ALL = [-157.5, -112.5, -67.5, -22.5, 22.5, 112.5, 157.5]
"""The seven processed angles of the simulated q = 0.009 row."""


@dataclass(frozen=True)
class Measurement:
    """Estimated and measured peak memory of one job, in MiB."""

    job: str
    n_angles: int
    n_frames: int
    estimate_mb: int
    peak_mb: float

    @property
    def ratio(self) -> float:
        return self.estimate_mb / self.peak_mb


def simulate(directory: Path, n_frames: int) -> Path:
    """A simulated file of ``n_frames`` frames (seven angles at q = 0.009)."""
    from heterodyne.simulation import SimulationSpec, simulate_dataset

    spec = replace(SimulationSpec(), n_frames=n_frames, frame_time=1e-3 * min(1.0, 200 / n_frames),
                   processed_q_rows=(1,), seed=1)
    path = directory / f"sim_{n_frames}.h5"
    if not path.exists():
        simulate_dataset(path, spec)
    return path


def run_config(directory: Path, data: Path, n_angles: int, max_points_per_shard: int) -> Path:
    """A resolved run config on the first ``n_angles`` angles, with short fits and few draws."""
    from heterodyne.config import resolve_config

    base = {
        "experimental_data": {"q": 0.009, "phi": PHI_ALL[:n_angles]},
        "scaling": {"mode": "individual"},
        "optimization": {"nlsq": {"max_iterations": 3},
                         "cmc": {"num_warmup": 10, "num_samples": 10, "num_chains": 2,
                                 "max_points_per_shard": max_points_per_shard}},
    }
    config = resolve_config(base, "bench", {"experimental_data.file_path": str(data)})
    path = directory / f"run_{n_angles}x{data.stem}.yaml"
    path.write_text(yaml.safe_dump(config.as_dict()))
    return path


PEAK_OF_CHILD = """
import os, subprocess, sys
process = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
_, status, usage = os.wait4(process.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
sys.stderr.write(process.stderr.read().decode())
"""
"""Runs a command and prints its exit code and peak RSS (KiB). A forked child's peak counts the
pages of its parent before the exec, so the job is started from this small process, never from a
large one (a test worker that has fitted in-process)."""


def peak_mb(arguments: list[str], cache: Path) -> float:
    """Peak resident memory of one child process, MiB (exit 0 or 2, else the run stops).

    ``cache`` is the JAX compile cache of the child: a new, empty one measures a cold job, which
    compiles its functions (the first job of its shape; XLA's compiler needs memory too).
    """
    environment = dict(os.environ, HETERODYNE_NUM_WORKERS="1", HETERODYNE_JAX_CACHE_DIR=str(cache))
    report = subprocess.run([sys.executable, "-c", PEAK_OF_CHILD, *arguments], capture_output=True, text=True,
                            env=environment, check=True)
    code, peak_kib = (int(value) for value in report.stdout.split())
    if code not in (0, 2):
        raise SystemExit(f"{' '.join(arguments)}: exit {code}\n{report.stderr}")
    return peak_kib / 1024


def measure(directory: Path, n_angles: int, n_frames: int, cmc: bool, shard_points: int,
            shard_threads: int = 1) -> list[Measurement]:
    """The NLSQ job (and one CMC shard job on ``shard_threads`` threads) of one size: estimate and measured peak."""
    from heterodyne.batch.plan import Run
    from heterodyne.batch.shape import Selection
    from heterodyne.config import read_config

    data = simulate(directory, n_frames)
    config_path = run_config(directory, data, n_angles, shard_points)
    run = Run(None, None, 0, read_config(config_path), Selection(n_angles, n_frames))
    run_dir = directory / f"run_{n_angles}x{n_frames}"
    nlsq = peak_mb([HETERODYNE, "--config", str(config_path), "--method", "nlsq", "--run-dir", str(run_dir / "nlsq"),
                    "--threads", "1", "--no-plots"], run_dir / "nlsq_cache")
    results = [Measurement("nlsq", n_angles, n_frames, run.nlsq_mem_mb(), nlsq)]
    if cmc:
        shard = peak_mb([HETERODYNE, "cmc-shard", "--config", str(config_path), "--nlsq", str(run_dir / "nlsq"),
                         "--shard", "0", "--output", str(run_dir / "shard_0.npz"), "--threads", str(shard_threads)],
                      run_dir / "cmc_cache")
        results.append(Measurement("cmc_shard", n_angles, n_frames, run.shard_mem_mb(shard_threads), shard))
    return results


def parse_size(text: str) -> tuple[int, int]:
    angles, frames = text.split("x")
    return int(angles), int(frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=parse_size, default=[(3, 400), (7, 2000)],
                        metavar="AxN", help="angles x frames (at most 7 angles)")
    parser.add_argument("--cmc", action="store_true", help="also measure one CMC shard job per size")
    parser.add_argument("--shard-points", type=int, default=50_000, help="max_points_per_shard of the CMC runs")
    parser.add_argument("--shard-threads", type=int, choices=(1, 2), default=1,
                        help="threads of the shard job: its 2 chains one after the other (1) or side by side (2)")
    args = parser.parse_args()
    worst = 1.0
    with tempfile.TemporaryDirectory() as scratch:
        for n_angles, n_frames in args.sizes:
            for m in measure(Path(scratch), n_angles, n_frames, args.cmc, args.shard_points,
                             args.shard_threads):
                worst = max(worst, m.ratio, 1 / m.ratio)
                print(f"{m.job:9s} {m.n_angles} x {m.n_frames:5d} frames: estimate {m.estimate_mb:6d} MiB, "
                      f"peak {m.peak_mb:7.0f} MiB, estimate/peak {m.ratio:4.2f}", flush=True)
    print(f"worst factor {worst:.2f} (must be <= 2)")
    if worst > 2:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
