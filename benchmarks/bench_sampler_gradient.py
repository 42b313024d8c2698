"""The sampler's gradient where it runs, inside NUTS (issue: every core busy).

One chain of ``--warmup`` + ``--samples`` draws on shard 0 of bench_cmc's problem (N frames × 3
angles, 9 physics + 6 scaling parameters, NLSQ warm start, one shard), three ways: on the dense
tiles of ``heterodyne.cmc.tiles`` (what the sampler uses for a shard holding most points), point
by point with the likelihood's own reverse-mode rule (``model.c2_points_reverse``, what it uses
for smaller shards), and point by point with plain reverse mode through ``model.c2_points``. The
layout is forced by swapping module attributes before anything is traced, for this comparison
only. Each variant runs in a process of its own and in all three the problem is the same. The
three densities agree to round-off (tests/cmc/test_cmc_tiles.py, tests/test_model.py), so the
chains take nearly the same trajectories. Prints the wall time of the second, compiled call and
the leapfrog steps of the draws.

    .venv/bin/python benchmarks/bench_sampler_gradient.py [--frames 100] [--warmup 200] [--samples 200]
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_cmc import fitted_problem  # noqa: E402

VARIANTS = ("tiles", "points, own rule", "points, plain reverse mode")


def run_variant(args) -> None:
    from heterodyne import model
    from heterodyne.cmc import setup as cmc_setup
    from heterodyne.cmc.setup import prepare, sample_one

    if args.variant != VARIANTS[0]:
        cmc_setup.use_tiles = lambda *_: False
    if args.variant == VARIANTS[2]:
        model.c2_points_reverse = model.c2_points
    with tempfile.TemporaryDirectory() as scratch:
        config, data, nlsq = fitted_problem(Path(scratch), args.frames, num_warmup=args.warmup,
                                            num_samples=args.samples)
        one_chain = dataclasses.replace(config.optimization.cmc, num_chains=1)  # a config asks for at least 2
        config = dataclasses.replace(config, optimization=dataclasses.replace(config.optimization, cmc=one_chain))
        setup = prepare(config, data, nlsq.arrays)
        sample_one(setup, 0)  # compile
        started = time.perf_counter()
        draws = sample_one(setup, 0)
        seconds = time.perf_counter() - started
    print(f"N={args.frames} x 3, {setup.plan.sizes[0]} points, {args.variant}: {seconds:.2f} s for "
          f"{args.warmup} + {args.samples} draws, {int(draws.num_steps.sum())} leapfrog steps in the draws "
          f"({np.mean(draws.num_steps):.1f} a draw)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        run_variant(args)
        return
    for variant in VARIANTS:
        subprocess.run([sys.executable, __file__, "--frames", str(args.frames), "--warmup", str(args.warmup),
                        "--samples", str(args.samples), "--variant", variant], check=True)


if __name__ == "__main__":
    main()
