"""Does the CMC combination match the full-data posterior at any shard count? (issue: consensus).

Three simulated files (independent noise) whose truths nobody tuned the combination to, each
chosen to make the shard posteriors non-Gaussian: a short window with ageing transport (a
D0–alpha banana), two angles with nonzero rate and velocity offsets, and a weak, fading sample
fraction seen from a late absolute start; and the banana's window at 400 frames, where
``max_points_per_shard: auto`` first split a run (into five shards) before it kept one shard up to
14 000 000 points. Per file:
one NLSQ fit (started at the truth) as warm start, then every shard sampled in this process at
K = 1 (the full-data posterior, twice: the second with another seed gives the Monte Carlo error,
and the two together are the reference every K is compared with) and at each requested K. Per
K, the shards' own sds (averaged over shards) tell whether the shards are too narrow before any combination.
Both combinations are applied to the same shard draws: ``previous`` (the one before this issue:
the average of the shard means and the Wasserstein barycenter of the covariances taken in z) and
``barycenter`` (the package's, heterodyne/cmc/barycenter.py). Per file, K, method and
parameter: the combined sd ÷ the full-data sd and |Δ mean| in full-data sds (target 0.9–1.1 and
≤ 0.2), and the sampling wall time. ``--save DIR`` writes each run's shard draws and geometry to
``DIR/<file>_K<K>_s<seed>.npz``; ``--load DIR`` combines saved draws again without sampling.
Cost: a shard costs about as much as the whole K = 1 run whatever its size (the per-step overhead
dominates at these N): on a 2-core machine ``banana`` took 80 s at K = 1, 261 s at K = 2, 328 s
at K = 5 and 1151 s at K = 10, ``fading`` 462 s at K = 1 (docs/cmc.md, section 4); ``banana_400``
251–413 s at K = 1 (the second seed flagged: one chain in a second region, phi0 at its bound), and
its five shards of 47 880 points, sampled point by point at 96–258 leapfrog steps a draw, need
about 1–2 hours (docs/decisions/2026-12-05-cmc-likelihood-on-tiles.md).

    .venv/bin/python benchmarks/bench_consensus.py [--files banana offsets fading] [--shards 2 5 10 30]
        [--chains 4] [--warmup 500] [--samples 500] [--threads N] [--save DIR | --load DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from heterodyne.config import AnalysisConfig


@dataclass(frozen=True)
class BenchFile:
    """One simulated file: its truth (physics overrides), which of them vary, angles and time base."""

    truth: dict
    varying: tuple[str, ...]
    phi: tuple[float, ...]
    n_frames: int = 100
    frame_time: float = 1e-3
    begin_frame: int = 0
    noise_sigma: float = 0.003
    seed: int = 11


FILES = {
    # window 0.3 s: the reference and sample decays are seen only in part, D0 and alpha trade off
    "banana": BenchFile(
        truth=dict(D0_ref=3e4, alpha_ref=-0.5, D0_sample=1.2e5, alpha_sample=0.6, v0=800.0, beta=0.5,
                   f0=0.3, f1=1.5, f3=0.1, phi0=2.0),
        varying=("D0_ref", "alpha_ref", "D0_sample", "alpha_sample", "v0", "beta", "f0", "f1", "phi0"),
        phi=(-157.5, -67.5, 22.5), frame_time=5e-4, seed=11),
    # the banana's truth and window at 400 frames (239 400 points): where auto once split first
    "banana_400": BenchFile(
        truth=dict(D0_ref=3e4, alpha_ref=-0.5, D0_sample=1.2e5, alpha_sample=0.6, v0=800.0, beta=0.5,
                   f0=0.3, f1=1.5, f3=0.1, phi0=2.0),
        varying=("D0_ref", "alpha_ref", "D0_sample", "alpha_sample", "v0", "beta", "f0", "f1", "phi0"),
        phi=(-157.5, -67.5, 22.5), n_frames=400, frame_time=1.25e-4, seed=14),
    # two angles, transport and velocity offsets free
    "offsets": BenchFile(
        truth=dict(D0_ref=1.5e4, alpha_ref=0.5, D_offset_ref=3e3, D0_sample=5e4, alpha_sample=-0.3,
                   v0=1500.0, beta=-0.4, v_offset=40.0, f0=0.4, f1=-0.5, f3=0.05),
        varying=("D0_ref", "alpha_ref", "D_offset_ref", "D0_sample", "alpha_sample", "v0", "beta", "v_offset",
                 "f0", "f1"),
        phi=(-67.5, 22.5), n_frames=120, seed=12),
    # a weak sample fraction fading with time, seen from a late absolute start
    "fading": BenchFile(
        truth=dict(D0_ref=8e3, alpha_ref=0.3, D0_sample=2e5, alpha_sample=-0.8, v0=2000.0, beta=0.2,
                   f0=0.25, f1=-1.2, f3=0.02, phi0=-3.0),
        varying=("D0_ref", "alpha_ref", "D0_sample", "alpha_sample", "v0", "beta", "f0", "f1", "phi0"),
        phi=(-157.5, -112.5, 22.5), begin_frame=400, noise_sigma=0.004, seed=13),
}


def simulate(directory: Path, name: str, spec: BenchFile) -> Path:
    """The file of ``spec`` (bins at q = 0.009, the spec's time base and noise)."""
    from heterodyne.simulation import SimulationSpec, simulate_dataset

    path = directory / f"{name}.h5"
    simulate_dataset(path, SimulationSpec(n_frames=spec.n_frames, frame_time=spec.frame_time,
                                          begin_frame=spec.begin_frame, noise_sigma=spec.noise_sigma,
                                          params=spec.truth, processed_q_rows=(1,), seed=spec.seed))
    return path


def configured(directory: Path, name: str, spec: BenchFile, cmc: dict) -> AnalysisConfig:
    """The resolved config of ``spec``: its varying parameters start at the truth, the rest are held
    at the truth; individual scaling; the noise σ given; ``cmc`` as optimization.cmc."""
    from heterodyne.config import resolve_config
    from heterodyne.parameters import PHYSICS_NAMES

    parameters = {n: {"initial": spec.truth[n], "vary": n in spec.varying} if n in spec.truth else {"vary": False}
                  for n in PHYSICS_NAMES}
    raw = {
        "experimental_data": {"file_path": str(simulate(directory, name, spec)), "q": 0.009, "phi": list(spec.phi)},
        "parameters": parameters,
        "scaling": {"mode": "individual", "contrast": {"initial": 0.2}},
        "optimization": {"nlsq": {"noise_sigma": spec.noise_sigma}, "cmc": cmc},
        "compute": {"jax_cache_dir": str(directory / "cache")},
    }
    return resolve_config(raw)


def sampled(config: AnalysisConfig, data, arrays: dict, threads: int, n_shards: int, seed: int):
    """(setup, shard draws (K, C, D, P), seconds) of one CMC run with K = ``n_shards``."""
    from heterodyne.cmc.setup import prepare
    from heterodyne.cmc.workers import sample_all

    n_points = data.c2.shape[0] * data.c2.shape[1] * (data.c2.shape[1] - 1) // 2
    cmc = dataclasses.replace(config.optimization.cmc, max_points_per_shard=math.ceil(n_points / n_shards), seed=seed)
    config = dataclasses.replace(config, optimization=dataclasses.replace(config.optimization, cmc=cmc))
    started = time.perf_counter()
    setup = prepare(config, data, arrays)
    draws = np.stack([s.draws for s in sample_all(setup, threads)])
    return setup, draws, time.perf_counter() - started


def previous(shard_draws: list[np.ndarray], covariances: list[np.ndarray]) -> np.ndarray:
    """The combination before the issue: the average of the shard means, and the Wasserstein
    barycenter of the shard covariances taken in the sampler's whitened z, each shard carried
    onto it by its optimal linear map in z (same draw-to-shard assignment as the package's)."""
    from heterodyne.cmc.barycenter import gaussian_barycenter, transport_matrix
    from heterodyne.cmc.shard_covariance import flat

    means = [flat(d).mean(axis=0) for d in shard_draws]
    mean, target = gaussian_barycenter(means, covariances)
    n_chains, n_draws, _ = shard_draws[0].shape
    source = (np.arange(n_chains)[:, None] + np.arange(n_draws)[None, :]) % len(shard_draws)
    combined = np.empty_like(shard_draws[0])
    for k, (draws, m, c) in enumerate(zip(shard_draws, means, covariances, strict=True)):
        combined[source == k] = mean + (draws[source == k] - m) @ transport_matrix(c, target).T
    return combined


def methods():
    """{label: (shard draws in z, covariances) ↦ combined draws in z} of the combinations measured."""
    from heterodyne.cmc import barycenter

    return {"previous": previous, "barycenter": lambda z, c: barycenter.barycenter_draws(z, c)[0]}


def max_r_hat(shard_draws: np.ndarray) -> float:
    """The largest split R-hat over the shards and parameters of (K, C, D, P) draws."""
    from heterodyne.cmc.diagnostics import chain_diagnostics

    return max(float(np.nanmax(chain_diagnostics(d)["r_hat"])) for d in shard_draws)


def compare(label: str, names: list[str], draws: np.ndarray, reference: np.ndarray, seconds: float,
            extra: str = "") -> None:
    """One line: sd ratio / |Δ mean| in full-data sds per parameter (physics first), and the worst."""
    flat, full = draws.reshape(-1, len(names)), reference.reshape(-1, len(names))
    ratio = flat.std(axis=0, ddof=1) / full.std(axis=0, ddof=1)
    shift = np.abs(flat.mean(axis=0) - full.mean(axis=0)) / full.std(axis=0, ddof=1)
    cells = " ".join(f"{n} {r:.2f}/{s:.2f}" for n, r, s in zip(names, ratio, shift, strict=True))
    print(f"{label:<28s} {seconds:6.0f} s | sd ratio {ratio.min():.2f}-{ratio.max():.2f}, max shift {shift.max():.2f}"
          f"{extra} | {cells}", flush=True)


def sampled_runs(directory: Path, name: str, args):
    """Per run (K = 1, K = 1 with another seed, each requested K): (K, seed, (K, C, D, P) shard draws,
    names, geometry, sampling seconds), sampled here (and saved under ``args.save``) or, with
    ``args.load``, read back from a directory written by ``--save``."""
    from heterodyne.cmc.geometry import Geometry

    runs = [(1, 42), (1, 43)] + [(k, 42) for k in args.shards]
    if args.load:
        for n_shards, seed in runs:
            path = Path(args.load) / f"{name}_K{n_shards}_s{seed}.npz"
            if not path.exists():
                print(f"K = {n_shards}: no saved draws ({path.name})", flush=True)
                continue
            with np.load(path) as saved:
                geometry = Geometry(saved["center"], saved["factor"], saved["lower"], saved["upper"])
                yield n_shards, seed, saved["draws"], [str(n) for n in saved["names"]], geometry, float("nan")
        return
    from heterodyne.data.configured import load_selected_data
    from heterodyne.nlsq.run import run_nlsq

    spec = FILES[name]
    cmc = {"num_warmup": args.warmup, "num_samples": args.samples, "num_chains": args.chains, "seed": 42}
    config = configured(directory, name, spec, cmc)
    data = load_selected_data(config)
    nlsq = run_nlsq(config, data, progress=False)
    print(f"NLSQ chi2_red {nlsq.section['chi2_reduced']:.3f}", flush=True)
    for n_shards, seed in runs:
        setup, shard_draws, seconds = sampled(config, data, nlsq.arrays, args.threads, n_shards, seed)
        geometry, names = setup.geometry(), list(setup.names)
        if args.save:
            np.savez(Path(args.save) / f"{name}_K{n_shards}_s{seed}.npz", draws=shard_draws, names=names,
                     center=geometry.center, factor=geometry.factor, lower=geometry.lower, upper=geometry.upper)
        yield n_shards, seed, shard_draws, names, geometry, seconds


def bench_file(directory: Path, name: str, args) -> None:
    """Every K of one file: sample (or load), combine with every method, compare with K = 1."""
    from heterodyne.cmc.geometry import parameters_from, whitened_of
    from heterodyne.cmc.shard_covariance import regularised_covariance

    spec = FILES[name]
    n_points = len(spec.phi) * spec.n_frames * (spec.n_frames - 1) // 2
    print(f"\n== {name}: N = {spec.n_frames} x {len(spec.phi)} angles ({n_points} points), varying "
          f"{', '.join(spec.varying)}", flush=True)
    reference = None
    for n_shards, _, shard_draws, names, geometry, seconds in sampled_runs(directory, name, args):
        if reference is None:
            reference = shard_draws[0]
            print(f"{'K = 1 (reference)':<28s} {seconds:6.0f} s | max R-hat {max_r_hat(shard_draws):.3f}", flush=True)
            continue
        if n_shards == 1:
            compare("K = 1, another seed", names, shard_draws[0], reference, seconds,
                    f" | max R-hat {max_r_hat(shard_draws):.3f}")
            reference = np.concatenate([reference, shard_draws[0]])  # both K = 1 runs: the reference from here on
            continue
        full_sd = reference.reshape(-1, len(names)).std(axis=0, ddof=1)
        shard_sd = np.mean([d.reshape(-1, len(names)).std(axis=0, ddof=1) for d in shard_draws], axis=0) / full_sd
        print(f"K = {n_shards} shards alone: their sds / full-data sd, averaged over shards: "
              f"{shard_sd.min():.2f}-{shard_sd.max():.2f}; max R-hat {max_r_hat(shard_draws):.3f}", flush=True)
        whitened = [whitened_of(d, geometry) for d in shard_draws]
        covariances = [regularised_covariance(d)[0] for d in whitened]
        for label, combination in methods().items():
            combined = parameters_from(combination(whitened, covariances), geometry)
            compare(f"K = {n_shards} {label}", names, combined, reference, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", nargs="+", choices=sorted(FILES), default=list(FILES))
    parser.add_argument("--shards", type=int, nargs="+", default=[2, 5, 10, 30])
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--save", default=None, help="directory for each run's shard draws and geometry")
    parser.add_argument("--load", default=None, help="combine the shard draws saved in this directory "
                                                     "by --save instead of sampling")
    args = parser.parse_args()
    os.environ["HETERODYNE_NUM_WORKERS"] = "1"
    from heterodyne.runtime import apply_thread_budget

    apply_thread_budget(args.threads)
    logging.basicConfig(level=logging.WARNING)
    print(f"{args.chains} chains x ({args.warmup} + {args.samples}), {args.threads} threads; cells: sd ratio / "
          "|delta mean| in full-data sds", flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        for name in args.files:
            bench_file(Path(scratch), name, args)


if __name__ == "__main__":
    main()
