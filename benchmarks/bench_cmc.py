"""Whole-process cost of ``heterodyne --method cmc`` (issue: CMC).

Simulated N frames × 3 angles (bench_nlsq's data), 9 varying physics parameters (ageing
reference and sample transport, accelerating flow, time-varying fraction, flow-angle offset),
individual scaling (6 more), 4 chains per shard, 500 warm-up + 500 draws, shards from
``max_points_per_shard: auto``. f3 (the fraction's baseline) is held at its true value: over a
~1 s window it trades off exactly with f0 (NLSQ pins it at its bound), so bench_nlsq's ninth
parameter is replaced by phi0. For each N: wall time of the process with an empty compile cache
(cold) and again with the cache it left (warm; the draws are the same), shards, per-shard ESS
per second (min bulk ESS over parameters ÷ shard sampling time), max R-hat, divergences,
leapfrog steps per draw, and truth inside the 99 % interval.

    .venv/bin/python benchmarks/bench_cmc.py [--frames 100 200] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from bench_nlsq import HETERODYNE, START, TRUTH, run_process, simulate, write_config  # noqa: E402

VARYING = [name for name in START if name != "f3"] + ["phi0"]


def cmc_config(directory: Path, cache: Path) -> Path:
    """bench_nlsq's config with phi0 varying instead of f3, plus the CMC settings of the issue."""
    path = write_config(directory, cache)
    config = yaml.safe_load(path.read_text())
    config["parameters"]["f3"] = {"initial": TRUTH["f3"], "vary": False}
    config["parameters"]["phi0"] = {"initial": 1.0}
    config["optimization"]["cmc"] = {"num_warmup": 500, "num_samples": 500, "num_chains": 4}
    path.write_text(yaml.safe_dump(config))
    return path


def fitted_problem(directory: Path, n_frames: int, **cmc_settings):
    """(config, data, NLSQ result) of bench_nlsq's simulated N frames under ``cmc_config`` with
    ``cmc_settings`` overriding its optimization.cmc keys, fitted in this process."""
    from heterodyne.config import read_config
    from heterodyne.data.configured import load_selected_data
    from heterodyne.nlsq.run import run_nlsq

    overrides = {"experimental_data.file_path": str(simulate(directory, n_frames)),
                 **{f"optimization.cmc.{key}": value for key, value in cmc_settings.items()}}
    config = read_config(cmc_config(directory, directory / "cache"), overrides)
    data = load_selected_data(config)
    return config, data, run_nlsq(config, data, progress=False)


def describe(run_dir: Path) -> str:
    """Shards, ESS/s, R-hat, divergences, steps, and coverage of the truth by the 99 % interval."""
    cmc = json.loads((run_dir / "result.json").read_text())["cmc"]
    with np.load(run_dir / "cmc_samples.npz", allow_pickle=False) as npz:
        names, consensus = list(npz["names"]), npz["consensus"]
    truth = {**TRUTH, "phi0": 0.0}
    intervals = {n: np.quantile(consensus[..., names.index(n)], [0.005, 0.995]) for n in VARYING}
    covered = sum(bool(low < truth[n] < high) for n, (low, high) in intervals.items())
    shards = "; ".join(
        f"shard {s['index']}: {s['n_points']} pts, {s['wall_seconds']:.0f} s, min ESS {s['min_ess_bulk']:.0f} "
        f"({s['min_ess_bulk'] / s['wall_seconds']:.1f}/s), R-hat {s['max_r_hat']:.3f}, "
        f"{s['divergences']} div, {s['mean_leapfrog_steps']:.1f} steps/draw"
        for s in cmc["shards"])
    return (f"{cmc['n_shards']} shards, max R-hat {cmc['max_r_hat']:.3f}, min bulk ESS {cmc['min_ess_bulk']:.0f}, "
            f"truth in 99% interval {covered}/{len(VARYING)} | {shards}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[100, 200])
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        for n_frames in args.frames:
            data = simulate(directory, n_frames)
            config = cmc_config(directory, directory / f"cache_{n_frames}")
            for label in ("cold", "warm"):
                run_dir = directory / f"run_{n_frames}_{label}"
                command = [HETERODYNE, "--config", str(config), "--data", str(data), "--run-dir", str(run_dir),
                           "--method", "cmc"]
                if args.threads:
                    command += ["--threads", str(args.threads)]
                run = run_process(command)
                if run["code"] not in (0, 2):
                    raise SystemExit(f"N={n_frames} {label}: exit {run['code']}\n{run['stderr']}")
                points = 3 * n_frames * (n_frames - 1) // 2
                print(f"N={n_frames:4d} ({points:6d} points) {label}: wall {run['wall']:6.1f} s, cpu/wall "
                      f"{run['cpu'] / run['wall']:4.2f}, peak {run['peak_mb']:5.0f} MB, exit {run['code']}, "
                      f"{describe(run_dir)}", flush=True)


if __name__ == "__main__":
    main()
