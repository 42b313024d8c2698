"""The model comparison on speckle replicates: the cluster-robust Wald test's false-alarm rate on
data from a reduced model, its power on data from the full model, beside χ²-based AIC's
preference for the full model.

Data: ``--replicates`` speckle-level files per case (the APS correlator's c2 from pixel fields and
photon counts: ``--pixels`` per bin, 4 modes, ``--counts`` photons per pixel and frame),
``--frames`` frames, three angles at q = 0.009 Å⁻¹; truth D0_ref 2e4, D0_sample 8e4 Å²/s,
v0 1200 Å/s, f0 0.3 and, per case,

- ``constant_fraction``: null f1 = 0; alternative f1 = ``--f1`` 1/s;
- ``tied_transport``: null D0_ref = D0_sample = 4e4; alternative D0_ref 2e4, D0_sample 8e4.

The full model fits D0_ref, D0_sample, v0, f0 and f1 (everything else held at the truth), per
angle contrast and offset, from the truth. Per case and truth, over the replicates: the rate at
which the 5 % Wald test rejects the reduction (heterodyne/comparison/wald.py), with its binomial
standard error, and the rate at which AIC (χ²-based, independent noise) prefers the full model
(ΔAIC = AIC_reduced − AIC_full > 0).

    .venv/bin/python benchmarks/bench_model_comparison.py [--replicates 40] [--frames 60]
        [--pixels 2000] [--counts 10] [--f1 3]
    small: --replicates 10 --frames 50
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

import heterodyne as ht
from heterodyne.comparison.compare import information_criteria, reduction_test
from heterodyne.comparison.reductions import BY_NAME, reduced_config
from heterodyne.config import resolve_config
from heterodyne.data import load_data
from heterodyne.nlsq.run import run_nlsq
from heterodyne.parameters import PHYSICS_NAMES
from heterodyne.simulation import SimulationSpec, simulate_dataset

Q, PHI = 0.009, [-157.5, -67.5, 22.5]
BASE = dict(D0_ref=2e4, D0_sample=8e4, v0=1200.0, f0=0.3)
FREE = ("D0_ref", "D0_sample", "v0", "f0", "f1")


def truths(f1: float) -> dict[str, dict[str, dict[str, float]]]:
    """Per case, the null and the alternative truth."""
    return {
        "constant_fraction": {"null": {**BASE, "f1": 0.0}, "alternative": {**BASE, "f1": f1}},
        "tied_transport": {"null": {**BASE, "D0_ref": 4e4, "D0_sample": 4e4}, "alternative": dict(BASE)},
    }


def full_config(path: Path, truth: dict[str, float]):
    """The full model started from the truth, everything outside ``FREE`` held at it."""
    parameters = {name: {"vary": False} for name in PHYSICS_NAMES}
    parameters.update({name: {"initial": value, "vary": name in FREE} for name, value in truth.items()})
    parameters.update({name: {**parameters[name], "vary": True} for name in FREE})
    return resolve_config({"experimental_data": {"file_path": str(path), "q": Q, "phi": PHI},
                           "parameters": parameters,
                           "optimization": {"nlsq": {"start": "initial", "multistart": 1}}})


def one_replicate(directory: Path, case: str, truth: dict[str, float], seed: int, args) -> tuple[bool, bool]:
    """(the Wald test rejects at 5 %, AIC prefers the full model) on one simulated file."""
    path = directory / f"{case}-{seed}.h5"
    spec = replace(SimulationSpec(), params=truth, n_frames=args.frames, noise="speckle", seed=seed,
                   pixels_per_bin=args.pixels, counts_per_pixel=args.counts)
    simulate_dataset(path, spec)
    config = full_config(path, truth)
    data = load_data(path, q=Q, phi=PHI)
    full = run_nlsq(config, data, progress=False, threads=1)
    test = reduction_test(config, full, BY_NAME[case])
    reduced = run_nlsq(reduced_config(config, BY_NAME[case], full.values), data, progress=False, threads=1)
    return bool(test.p_value < 0.05), information_criteria(reduced.section)[0] > information_criteria(full.section)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=40)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--pixels", type=int, default=2000)
    parser.add_argument("--counts", type=float, default=10.0)
    parser.add_argument("--f1", type=float, default=3.0)
    args = parser.parse_args()
    assert ht.compare_models is not None
    print(f"{args.replicates} speckle replicates per case, {args.frames} frames, {args.pixels} pixels, "
          f"{args.counts:g} counts; full model fits {', '.join(FREE)}")
    print(f"{'case':18} {'truth':12} {'Wald 5% rejects':>18} {'AIC prefers full':>18} {'s/replicate':>12}")
    with tempfile.TemporaryDirectory() as scratch:
        for case, by_truth in truths(args.f1).items():
            for label, truth in by_truth.items():
                started = time.perf_counter()
                outcomes = np.array([one_replicate(Path(scratch), case, truth, 1000 + seed, args)
                                     for seed in range(args.replicates)])
                seconds = (time.perf_counter() - started) / args.replicates
                rate, aic = outcomes.mean(axis=0)
                spread = math.sqrt(max(rate * (1 - rate), 0.05 * 0.95) / args.replicates)
                print(f"{case:18} {label:12} {rate:>11.3f} ± {spread:.3f} {aic:>18.3f} {seconds:>12.1f}", flush=True)


if __name__ == "__main__":
    main()
