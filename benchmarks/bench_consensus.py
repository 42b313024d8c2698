"""Does the CMC combination match the full-data posterior at any shard count? (issue: consensus).

bench_cmc's data and model (simulated N frames × 3 angles, independent noise, 9 varying physics
parameters and 6 scaling ones), one NLSQ fit as the warm start, then CMC in this process at K = 1
(the full-data posterior: both combinations are the same run there) and at each requested K > 1
with each requested combination. Per K and combination: wall time, and per parameter the combined
sd ÷ the full-data sd and |Δ mean| in full-data sds (target: 0.9–1.1 and ≤ 0.2), the worst over
the scaling parameters, and the trust test's smallest p-value. For ``scott`` it also prints Scott's
average taken in the sampler's whitened coordinates z (same shard draws; candidate of the issue).

    .venv/bin/python benchmarks/bench_consensus.py [--frames 200] [--shards 2 5 10 20] [--scott 5 20]
        [--chains 4] [--warmup 500] [--samples 500] [--threads N]
"""

from __future__ import annotations

import argparse
import copy
import logging
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_cmc import VARYING, fitted_problem  # noqa: E402


def sample(config: dict, data, arrays: dict, threads: int):
    """(setup, shards, cmc section, consensus draws, seconds) of one CMC run in this process."""
    from heterodyne.cmc.run import report
    from heterodyne.cmc.setup import prepare
    from heterodyne.cmc.workers import sample_all

    started = time.perf_counter()
    setup = prepare(config, data, arrays)
    shards = sample_all(setup, threads)
    section, samples, _ = report(setup, shards, arrays)
    return setup, shards, section, samples["consensus"], time.perf_counter() - started


def scott_in_z(setup, shards) -> np.ndarray:
    """Scott's weighted average of the shard draws taken in whitened z, mapped back to x."""
    from heterodyne.cmc import combine
    from heterodyne.cmc.geometry import parameters_from, whitened_of

    geometry = setup.geometry()
    whitened = [whitened_of(s.draws, geometry) for s in shards]
    covariances = [combine.regularised_covariance(d)[0] for d in whitened]
    return parameters_from(combine.consensus_draws(whitened, covariances), geometry)


def compare(label: str, names: list[str], draws: np.ndarray, reference: np.ndarray, seconds: float,
            extra: str = "") -> None:
    """One line: sd ratio and mean shift per varying physics parameter, worst over scaling."""
    flat, full = draws.reshape(-1, len(names)), reference.reshape(-1, len(names))
    ratio = flat.std(axis=0, ddof=1) / full.std(axis=0, ddof=1)
    shift = np.abs(flat.mean(axis=0) - full.mean(axis=0)) / full.std(axis=0, ddof=1)
    physics = [names.index(n) for n in VARYING]
    scaling = [k for k in range(len(names)) if k not in physics]
    cells = " ".join(f"{names[k]} {ratio[k]:.2f}/{shift[k]:.2f}" for k in physics)
    print(f"{label:<24s} {seconds:7.0f} s | sd ratio/shift: {cells} | scaling: sd ratio "
          f"{ratio[scaling].min():.2f}-{ratio[scaling].max():.2f}, max shift {shift[scaling].max():.2f}"
          f" | worst |1-ratio| {np.abs(1 - ratio).max():.2f}, max shift {shift.max():.2f}{extra}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--shards", type=int, nargs="+", default=[2, 5, 10, 20])
    parser.add_argument("--scott", type=int, nargs="*", default=[5, 20], metavar="K",
                        help="shard counts at which Scott's average is also run (after the barycenter runs)")
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    args = parser.parse_args()
    os.environ["HETERODYNE_NUM_WORKERS"] = "1"
    from heterodyne.runtime import apply_thread_budget

    apply_thread_budget(args.threads)
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as scratch:
        config, data, nlsq = fitted_problem(Path(scratch), args.frames, num_warmup=args.warmup,
                                            num_samples=args.samples, num_chains=args.chains)
        n_points = 3 * args.frames * (args.frames - 1) // 2
        print(f"N = {args.frames} x 3 angles ({n_points} points), {args.chains} chains x ({args.warmup} + "
              f"{args.samples}), {args.threads} threads; NLSQ chi2_red {nlsq.section['chi2_reduced']:.3f}", flush=True)

        def configured(n_shards: int, combination: str) -> dict:
            resolved = copy.deepcopy(config)
            resolved["optimization"]["cmc"].update(max_points_per_shard=max(100, math.ceil(n_points / n_shards)),
                                                   combination=combination)
            return resolved

        setup, _, section, reference, seconds = sample(configured(1, "barycenter"), data, nlsq.arrays, args.threads)
        names = list(setup.names)
        nlsq_ratio = " ".join(f"{n} {section['sd'][n] / nlsq.section['stderr'][n]:.2f}" for n in VARYING)
        print(f"K = 1 (full data)        {seconds:7.0f} s | sd / NLSQ stderr: {nlsq_ratio}", flush=True)
        runs = [(k, "barycenter") for k in args.shards] + [(k, "scott") for k in args.scott]
        for n_shards, combination in runs:
            setup, shards, section, draws, seconds = sample(configured(n_shards, combination), data,
                                                            nlsq.arrays, args.threads)
            trust = section["trust"]
            extra = f" | trust min p {min(trust['p_value'].values()):.2g}" if trust else ""
            compare(f"K = {setup.plan.n_shards} {combination}", names, draws, reference, seconds, extra)
            if combination == "scott":
                compare(f"K = {setup.plan.n_shards} scott in z", names, scott_in_z(setup, shards), reference, 0.0)


if __name__ == "__main__":
    main()
