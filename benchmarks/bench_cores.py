"""Every core busy (issue 13): whole-process wall and CPU time of NLSQ and CMC per thread budget,
the shard layout on larger machines, and bit-identical draws across layouts.

    .venv/bin/python benchmarks/bench_cores.py nlsq [--frames 400] [--threads 1 2] [--repeats 3]
    .venv/bin/python benchmarks/bench_cores.py cmc [--frames 100] [--threads 1 2]
    .venv/bin/python benchmarks/bench_cores.py cmc --frames 400 --threads 2     # 5 shards (~minutes)
    .venv/bin/python benchmarks/bench_cores.py layout
    .venv/bin/python benchmarks/bench_cores.py determinism

nlsq: simulated N frames × 3 angles, 13 free physics parameters (all but f2, which trades off
exactly with f0) plus individual scaling, started 10–30 % off the truth (seeded signs and sizes);
one cold run fills the compile cache, then ``--repeats`` warm runs (wall, CPU, CPU/wall,
residual-and-Jacobian evaluations). cmc: bench_cmc's problem (9 physics + 6 scaling parameters,
4 chains × (500 + 500)), the NLSQ warm start included, cold and warm compile cache. layout: the
workers × chains side by side × threads that a budget of 1 to 64 cores gives 1, 5 or 30 shards.
determinism: one small CMC run under several layouts (threads, workers), a 16-core budget among
them (run oversubscribed on a smaller machine); its draws compared bit for bit.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from bench_cmc import cmc_config, describe  # noqa: E402
from bench_nlsq import HETERODYNE, NOISE, TRUTH, run_process, simulate  # noqa: E402

TRUTH_13 = {**TRUTH, "D_offset_ref": 2000.0, "D_offset_sample": -3000.0, "v_offset": 20.0, "phi0": 2.0}


def start_13(seed: int = 0) -> dict[str, float]:
    """Every free parameter 10–30 % off its truth, up or down (seeded)."""
    rng = np.random.default_rng(seed)
    factors = 1.0 + rng.choice([-1.0, 1.0], len(TRUTH_13)) * rng.uniform(0.1, 0.3, len(TRUTH_13))
    return {name: float(value * factor) for (name, value), factor in zip(TRUTH_13.items(), factors, strict=True)}


def simulate_13(directory: Path, n_frames: int) -> Path:
    from dataclasses import replace

    from heterodyne.simulation import SimulationSpec, simulate_dataset

    spec = replace(SimulationSpec(), n_frames=n_frames, frame_time=1e-3 * min(1.0, 200 / n_frames),
                   noise_sigma=NOISE, params=TRUTH_13, processed_q_rows=(1,), seed=1)
    path = directory / f"sim13_{n_frames}.h5"
    simulate_dataset(path, spec)
    return path


def nlsq_config(directory: Path) -> Path:
    from heterodyne.parameters import PHYSICS_NAMES

    parameters = {name: {"vary": False} for name in PHYSICS_NAMES}
    parameters.update({name: {"initial": value} for name, value in start_13().items()})
    config = {
        "experimental_data": {"q": 0.009, "phi": [-157.5, -67.5, 22.5]},
        "parameters": parameters,
        "scaling": {"mode": "individual", "contrast": {"initial": 0.1}},
        "optimization": {"nlsq": {"noise_sigma": NOISE}},
        "compute": {"jax_cache_dir": str(directory / "cache")},
    }
    path = directory / "run13.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def timed(command: list[str], label: str) -> dict:
    run = run_process(command)
    if run["code"] not in (0, 2):
        raise SystemExit(f"{label}: exit {run['code']}\n{run['stderr']}")
    return run


def bench_nlsq(args, directory: Path) -> None:
    data = simulate_13(directory, args.frames)
    config = nlsq_config(directory)
    for threads in args.threads:
        out = directory / f"nlsq_{threads}"
        command = [HETERODYNE, "--config", str(config), "--data", str(data), "--run-dir", str(out),
                   "--method", "nlsq", "--threads", str(threads)]
        runs = [timed(command, "nlsq") for _ in range(1 + args.repeats)]
        nlsq = json.loads((out / "result.json").read_text())["nlsq"]
        worst = max(abs(nlsq[n] - v) / nlsq["stderr"][n] for n, v in TRUTH_13.items() if nlsq["stderr"][n])
        warm = runs[1:]
        walls, cpus = (" ".join(f"{run[key]:.2f}" for run in warm) for key in ("wall", "cpu"))
        print(f"nlsq N={args.frames} x 3, 13 physics + scaling, --threads {threads}: cold {runs[0]['wall']:.2f} s; "
              f"warm wall {walls} s, cpu {cpus} s (cpu/wall {warm[0]['cpu'] / warm[0]['wall']:.2f}), "
              f"{nlsq['function_evaluations']} evaluations, {nlsq['iterations']} Jacobians, "
              f"cost {nlsq['cost']:.10g}, max|err|/se {worst:.2f}, exit {runs[-1]['code']}", flush=True)


def bench_cmc(args, directory: Path) -> None:
    data = simulate(directory, args.frames)
    for threads in args.threads:
        own = directory / f"threads_{threads}"  # each thread budget starts from an empty compile cache
        own.mkdir()
        config = cmc_config(own, own / "cache")
        for label in ("cold", "warm"):
            run_dir = own / f"run_{label}"
            run = timed([HETERODYNE, "--config", str(config), "--data", str(data), "--run-dir", str(run_dir),
                         "--method", "cmc", "--threads", str(threads)], "cmc")
            timing = json.loads((run_dir / "result.json").read_text())["timing"]
            print(f"cmc N={args.frames} x 3, --threads {threads}, {label} cache: wall {run['wall']:.1f} s "
                  f"(nlsq {timing['nlsq_seconds']:.1f}, cmc {timing['cmc_seconds']:.1f}), cpu {run['cpu']:.1f} s, "
                  f"cpu/wall {run['cpu'] / run['wall']:.2f}, exit {run['code']} | {describe(run_dir)}", flush=True)


def bench_layout(_args, _directory: Path) -> None:
    from heterodyne.cmc.workers import shard_layout

    print("cores shards chains -> workers x threads, chains side by side (threads per chain)")
    for cores in (1, 2, 4, 16, 64):
        for shards in (1, 5, 30):
            layout = shard_layout(cores, shards, 4, configured_workers=max(1, cores // 2 - 1))
            busy = layout.workers * layout.threads
            print(f"{cores:5d} {shards:6d} {4:6d} -> {layout.workers:2d} x {layout.threads:2d}, "
                  f"{layout.side_by_side} side by side ({layout.threads_per_chain}), {busy}/{cores} threads used")


def bench_determinism(_args, directory: Path) -> None:
    data = simulate(directory, 60)
    config = cmc_config(directory, directory / "cache")
    raw = yaml.safe_load(config.read_text())
    raw["optimization"]["cmc"].update(num_warmup=100, num_samples=100, max_points_per_shard=2700)
    config.write_text(yaml.safe_dump(raw))
    nlsq_dir = directory / "nlsq"
    timed([HETERODYNE, "--config", str(config), "--data", str(data), "--run-dir", str(nlsq_dir),
           "--method", "nlsq"], "nlsq")
    draws = {}
    for threads, workers in ((1, 1), (2, 1), (2, 2), (2, 1), (3, 1), (16, 4)):
        run_dir = directory / f"run_{len(draws)}"
        shutil.copytree(nlsq_dir, run_dir)
        os.environ["HETERODYNE_NUM_WORKERS"] = str(workers)
        run = timed([HETERODYNE, "--config", str(config), "--data", str(data), "--run-dir", str(run_dir),
                     "--method", "cmc", "--threads", str(threads)], "cmc")
        with np.load(run_dir / "cmc_samples.npz") as npz:
            draws[(threads, workers, len(draws))] = npz["shard_draws"]
        print(f"--threads {threads}, {workers} worker(s): wall {run['wall']:.1f} s, exit {run['code']}", flush=True)
    reference_key, reference = next(iter(draws.items()))
    for key, value in draws.items():
        print(f"layout {key[:2]} vs {reference_key[:2]}: bit-identical {np.array_equal(value, reference)}, "
              f"max |difference| {np.abs(value - reference).max():.3g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("nlsq", "cmc", "layout", "determinism"))
    parser.add_argument("--frames", type=int, default=None)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    args.frames = args.frames or (400 if args.what == "nlsq" else 100)
    with tempfile.TemporaryDirectory() as scratch:
        {"nlsq": bench_nlsq, "cmc": bench_cmc, "layout": bench_layout,
         "determinism": bench_determinism}[args.what](args, Path(scratch))


if __name__ == "__main__":
    main()
