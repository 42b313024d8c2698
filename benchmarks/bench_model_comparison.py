"""The model comparison on speckle replicates: the cluster-robust Wald test's false-alarm rate on
data from a reduced model, its power on data from the full model, beside χ²-based AIC's
preference for the full model, for every named reduction.

Data: ``--replicates`` speckle-level files per case and truth (the APS correlator's c2 from pixel
fields and photon counts: ``--pixels`` per bin, 4 modes, ``--counts`` photons per pixel and
frame), ``--frames`` frames, three angles at q = 0.009 Å⁻¹; truth D0_ref 2e4, D0_sample 8e4
Å²/s, v0 1200 Å/s, f0 0.3 and, per case,

- ``constant_fraction``: null f1 = 0; alternative f1 = ``--f1`` 1/s;
- ``tied_transport``: null D0_ref = D0_sample = 4e4; alternative D0_ref 2e4, D0_sample 8e4;
- ``steady``: null alpha_ref = alpha_sample = beta = f1 = 0; alternative alpha_sample 0.4,
  beta 0.3;
- ``one_component``: null f0 = 1 (f_s ≡ 1, f1 = f3 = 0); alternative f0 = 0.3.

The full model fits D0_ref, D0_sample, v0, f0 and f1 (and, for ``steady``, alpha_ref,
alpha_sample and beta; everything else held at the truth), per angle contrast and offset, from
the truth. Per case and truth, over the replicates: the rate at which the 5 % Wald test rejects
the reduction (heterodyne/comparison/wald.py), with its binomial standard error (at least that of
a 5 % rate), the rate at which AIC (χ²-based, independent noise) prefers the full model
(ΔAIC = AIC_reduced − AIC_full > 0), the median degrees of freedom ν of the test, and the number
of files where the test could not be formed (counted as not rejecting).

    .venv/bin/python benchmarks/bench_model_comparison.py [--replicates 40] [--frames 60]
        [--pixels 2000] [--counts 10] [--f1 3] [--cases steady one_component ...]
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
import pandas as pd

from heterodyne.comparison.compare import information_criteria, reduced_start, reduction_test
from heterodyne.comparison.reductions import BY_NAME, reduced_config
from heterodyne.config import resolve_config
from heterodyne.data import load_file
from heterodyne.nlsq.run import run_nlsq
from heterodyne.parameters import PHYSICS_NAMES
from heterodyne.simulation import SimulationSpec, simulate_dataset

Q, PHI = 0.009, [-157.5, -67.5, 22.5]
BASE = dict(D0_ref=2e4, D0_sample=8e4, v0=1200.0, f0=0.3)
FREE = ("D0_ref", "D0_sample", "v0", "f0", "f1")
EXPONENTS = ("alpha_ref", "alpha_sample", "beta")


def cases(f1: float) -> dict[str, tuple[tuple[str, ...], dict[str, dict[str, float]]]]:
    """Per case, the parameters the full model fits and its null and alternative truth."""
    steady = {**BASE, "f1": 0.0, **dict.fromkeys(EXPONENTS, 0.0)}
    return {
        "constant_fraction": (FREE, {"null": {**BASE, "f1": 0.0}, "alternative": {**BASE, "f1": f1}}),
        "tied_transport": (FREE, {"null": {**BASE, "D0_ref": 4e4, "D0_sample": 4e4}, "alternative": dict(BASE)}),
        "steady": ((*FREE, *EXPONENTS), {"null": steady, "alternative": {**steady, "alpha_sample": 0.4, "beta": 0.3}}),
        "one_component": (FREE, {"null": {**BASE, "f0": 1.0, "f1": 0.0}, "alternative": {**BASE, "f1": 0.0}}),
    }


def full_config(path: Path, truth: dict[str, float], free: tuple[str, ...]):
    """The full model started from the truth, everything outside ``free`` held at it."""
    parameters = {name: {"vary": False} for name in PHYSICS_NAMES}
    parameters.update({name: {"initial": value, "vary": False} for name, value in truth.items()})
    parameters.update({name: {**parameters[name], "vary": True} for name in free})
    return resolve_config({"experimental_data": {"file_path": str(path), "q": Q, "phi": PHI},
                           "parameters": parameters,
                           "optimization": {"nlsq": {"start": "initial", "multistart": 1}}})


def one_replicate(directory: Path, case: str, free: tuple[str, ...], truth: dict[str, float], seed: int,
                  args) -> dict:
    """The Wald test's p-value (NaN: not formed), its reference and ν, whether AIC prefers the full
    model, on one file."""
    path = directory / f"{case}-{seed}.h5"
    spec = replace(SimulationSpec(), params=truth, n_frames=args.frames, noise="speckle", seed=seed,
                   pixels_per_bin=args.pixels, counts_per_pixel=args.counts)
    simulate_dataset(path, spec)
    config = full_config(path, truth, free)
    data = load_file(path, q=Q, phi=PHI)
    full = run_nlsq(config, data, progress=False, threads=1)
    test = reduction_test(config, full, BY_NAME[case], data.times)
    start = reduced_start(BY_NAME[case], full.values, data.times)
    reduced = run_nlsq(reduced_config(config, BY_NAME[case], start), data, progress=False, threads=1)
    aic = information_criteria(reduced.section)[0] > information_criteria(full.section)[0]
    if isinstance(test, str):
        return {"p_value": math.nan, "nu": math.nan, "q": math.nan, "reference": test, "aic_prefers_full": aic}
    return {"p_value": test.p_value, "nu": test.nu, "q": test.q, "reference": test.reference or test.problem,
            "aic_prefers_full": aic}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=40)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--pixels", type=int, default=2000)
    parser.add_argument("--counts", type=float, default=10.0)
    parser.add_argument("--f1", type=float, default=3.0)
    parser.add_argument("--cases", nargs="+", choices=tuple(cases(0.0)), default=tuple(cases(0.0)))
    parser.add_argument("--records", type=Path, help="also write every replicate's test to this CSV")
    args = parser.parse_args()
    print(f"{args.replicates} speckle replicates per case, {args.frames} frames, {args.pixels} pixels, "
          f"{args.counts:g} counts")
    print(f"{'case':18} {'truth':12} {'Wald 5% rejects':>18} {'AIC prefers full':>17} {'median nu':>10} "
          f"{'not formed':>11} {'s/replicate':>12}")
    records = []
    with tempfile.TemporaryDirectory() as scratch:
        for case in args.cases:
            free, by_truth = cases(args.f1)[case]
            for label, truth in by_truth.items():
                started = time.perf_counter()
                outcomes = pd.DataFrame([{"case": case, "truth": label, "seed": 1000 + seed,
                                          **one_replicate(Path(scratch), case, free, truth, 1000 + seed, args)}
                                         for seed in range(args.replicates)])
                seconds = (time.perf_counter() - started) / args.replicates
                records.append(outcomes)
                p_values, nus, aic = (outcomes[k].to_numpy(float) for k in ("p_value", "nu", "aic_prefers_full"))
                rate = float(np.mean(p_values < 0.05))
                spread = math.sqrt(max(rate * (1 - rate), 0.05 * 0.95) / args.replicates)
                formed = np.isfinite(p_values)
                nu = float(np.nanmedian(nus[formed])) if np.isfinite(nus[formed]).any() else math.nan
                print(f"{case:18} {label:12} {rate:>11.3f} ± {spread:.3f} {aic.mean():>17.3f} {nu:>10.2f} "
                      f"{int((~formed).sum()):>11d} {seconds:>12.1f}", flush=True)
                if args.records is not None:
                    pd.concat(records).to_csv(args.records, index=False)


if __name__ == "__main__":
    main()
