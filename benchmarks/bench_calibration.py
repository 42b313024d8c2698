"""Are the error bars honest? Replicates with known truth: NLSQ sd of the estimates / median
stderr per varied parameter (honest and independent-noise; with ν degrees of freedom an honest
stderr has sd / median ≈ 1.1 at ν ≈ 4 and sd / rms ≈ 1), 90 % coverage of NLSQ (the Student-t
intervals with the sandwich's degrees of freedom, and ± 1.645 stderr) and of CMC (5–95 % interval
of the draws), pooled over replicates × parameters and per parameter. Each fit is compared with
the truth's image in the fit's labelling (benchmarks/truth_labelling.py): where the two
components' mean rates are close, the noise decides which one the fit calls the reference.

Data: bench_nlsq's truth (9 varying physics parameters: bench_cmc's set, individual scaling),
N frames × 3 angles, replicates differing only in the noise seed. Noise:
``independent`` — the simulator's independent noise per element (σ = 0.002);
``frame`` — frame effects e_aij = a_ai + a_aj + ε_aij (sd 0.001 and 0.0005) added to a noise-free file;
``speckle`` — the speckle-level simulator (``--pixels`` per bin, 4 modes, ``--counts`` photons per
pixel and frame), c2 as the APS correlator computes it; ``--shared-speckle F``: the bins share the
speckle fields of a fraction F of their pixels (noise shared between the angles).

    .venv/bin/python benchmarks/bench_calibration.py [--noise independent|frame|speckle] [--frames 80]
        [--replicates 30] [--cmc-replicates 10] [--warmup 300] [--samples 300] [--counts 10] [--pixels 8000]
        [--shared-speckle 0] [--vary D0_sample,v0,f0] [--chains 4]
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_cmc import VARYING  # noqa: E402
from bench_nlsq import START, TRUTH  # noqa: E402
from truth_labelling import truth_image  # noqa: E402

Z90 = 1.6449
FRAME_SD, POINT_SD, INDEPENDENT_SD = 0.001, 0.0005, 0.002
PHI = [-157.5, -67.5, 22.5]


def config_for(varying: list[str], cmc: dict) -> dict:
    from heterodyne.config import resolve_config
    from heterodyne.parameters import PHYSICS_NAMES

    truth = {**TRUTH, "phi0": 0.0}
    parameters = {name: {"vary": False} for name in PHYSICS_NAMES}
    parameters.update({name: {"initial": truth[name], "vary": False} for name in truth})
    parameters.update({name: {"initial": START.get(name, 0.5)} for name in varying})
    return resolve_config({"experimental_data": {"q": 0.009, "phi": PHI}, "parameters": parameters,
                           "scaling": {"mode": "individual", "contrast": {"initial": 0.1}},
                           "optimization": {"cmc": cmc}})


def replicate_data(directory: Path, args, seed: int):
    from heterodyne.data import load_file
    from heterodyne.simulation import SimulationSpec, simulate_dataset

    noise, n_frames = args.noise, args.frames
    if noise == "speckle":
        spec = SimulationSpec(noise="speckle", n_frames=n_frames, q_centres=(0.009,), phi_centres=tuple(PHI),
                              empty_cells=(), processed_q_rows=(0,), pixels_per_bin=args.pixels,
                              counts_per_pixel=args.counts, shared_speckle=args.shared_speckle, seed=seed,
                              params=TRUTH)
    else:
        sigma = INDEPENDENT_SD if noise == "independent" else 0.0
        spec = replace(SimulationSpec(), n_frames=n_frames, noise_sigma=sigma, params=TRUTH, processed_q_rows=(1,),
                       seed=seed)
    path = directory / f"sim_{seed}.h5"
    simulate_dataset(path, spec)
    data = load_file(path, q=0.009, phi=PHI)
    if noise == "frame":
        rng = np.random.default_rng(seed)
        a = FRAME_SD * rng.standard_normal(data.c2.shape[:2])
        c2 = data.c2 + a[:, :, None] + a[:, None, :] + POINT_SD * rng.standard_normal(data.c2.shape)
        data = dataclasses.replace(data, c2=c2)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--noise", choices=("independent", "frame", "speckle"), default="independent")
    parser.add_argument("--counts", type=float, default=10.0)
    parser.add_argument("--pixels", type=int, default=8000)
    parser.add_argument("--shared-speckle", type=float, default=0.0)
    parser.add_argument("--vary", help="comma-separated physics parameters to fit (default: bench_cmc's 9)")
    parser.add_argument("--frames", type=int, default=80)
    parser.add_argument("--replicates", type=int, default=30)
    parser.add_argument("--cmc-replicates", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--chains", type=int, default=4)
    args = parser.parse_args()

    from heterodyne.cmc.run import run_cmc
    from heterodyne.nlsq.report import nlsq_arrays
    from heterodyne.nlsq.setup import build_problem
    from heterodyne.nlsq.solve import fit
    from heterodyne.parameters import PHYSICS_NAMES, PHYSICS_PARAMETERS

    cmc_settings = {"num_warmup": args.warmup, "num_samples": args.samples, "num_chains": args.chains}
    varying = VARYING if args.vary is None else args.vary.split(",")
    config = config_for(varying, cmc_settings)
    full_truth = {**{p.name: p.default for p in PHYSICS_PARAMETERS}, **TRUTH, "phi0": 0.0}
    written_truth = np.array([full_truth[name] for name in PHYSICS_NAMES])
    estimates, honest, independent, cmc_inside, blocks, truths, mirrored = [], [], [], [], [], [], 0
    freedom, lower, upper, shared, leverages, converged = [], [], [], [], [], []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        for seed in range(args.replicates):
            data = replicate_data(Path(scratch), args, 1000 + seed)
            problem, _ = build_problem(copy.deepcopy(config), c2=data.c2, q=data.q, phi=data.phi, t=data.times,
                                       dt=data.dt)
            result = fit(problem, config.optimization.nlsq)
            index = [result.free_names.index(name) for name in varying]
            physics_stderr = np.full(len(PHYSICS_NAMES), np.nan)
            physics_stderr[problem.vary[:len(PHYSICS_NAMES)]] = result.uncertainties.stderr[
                :int(problem.vary[:len(PHYSICS_NAMES)].sum())]
            image, is_mirror = truth_image(written_truth, result.full[:len(PHYSICS_NAMES)], physics_stderr,
                                           problem.vary[:len(PHYSICS_NAMES)], problem.lower[:len(PHYSICS_NAMES)],
                                           problem.upper[:len(PHYSICS_NAMES)], problem.t)
            mirrored += is_mirror
            truth = np.array([image[PHYSICS_NAMES.index(name)] for name in varying])
            truths.append(truth)
            estimates.append(result.full[problem.vary][index])
            honest.append(result.uncertainties.stderr[index])
            independent.append(result.independent.stderr[index])
            freedom.append(result.uncertainties.degrees_of_freedom[index])
            bounds = result.uncertainties.interval(result.full[problem.vary])
            lower.append(bounds[0][index])
            upper.append(bounds[1][index])
            blocks.append(result.sandwich["block_frames"])
            shared.append(result.sandwich["shared_across_angles"])
            leverages.append(result.sandwich["largest_leverage"])
            converged.append(result.converged)
            inside = (lower[-1] <= truth) & (truth <= upper[-1])
            print(f"replicate {seed}: chi2_red {result.chi2_reduced:.3g}, converged {result.converged}, block "
                  f"{blocks[-1]}, shared {shared[-1]}, cross-angle correlation "
                  f"{result.sandwich['cross_angle_correlation']:.3f}, leverage {leverages[-1]:.2f}, "
                  f"median dof {np.nanmedian(freedom[-1]):.1f}, t-intervals cover {int(inside.sum())}/{inside.size}"
                  f"{' (of the mirrored truth)' if is_mirror else ''}",
                  flush=True)
            if seed < args.cmc_replicates:
                section = run_cmc(copy.deepcopy(config), data, nlsq_result=nlsq_arrays(result, problem),
                                  threads=1).section
                cmc_inside.append([section["q05"][n] <= value <= section["q95"][n]
                                   for n, value in zip(varying, truth, strict=True)])
                print(f"CMC replicate {seed}: 90 % coverage so far {100 * np.mean(cmc_inside):.0f} % of "
                      f"{np.size(cmc_inside)}", flush=True)
    estimates, honest, independent, freedom, lower, upper, truth = map(
        np.array, (estimates, honest, independent, freedom, lower, upper, truths))
    scatter = (estimates - truth).std(axis=0, ddof=1)
    speckle = (f" ({args.pixels} pixels, {args.counts:g} counts, shared {args.shared_speckle:g})"
               if args.noise == "speckle" else "")
    print(f"noise {args.noise}{speckle}, N = {args.frames} x 3, {args.replicates} NLSQ replicates, "
          f"{args.cmc_replicates} CMC replicates ({args.chains} chains x {args.warmup} + {args.samples}), "
          f"{mirrored} fits compared with the truth's mirror image, "
          f"block sizes {sorted(set(blocks))}, clustered jointly in {sum(shared)}, largest leverage "
          f"{np.median(leverages):.2f} (median), {time.perf_counter() - started:.0f} s")
    print(f"{'parameter':14s} {'sd/median honest':>17s} {'sd/rms honest':>14s} {'sd/median indep':>16s} "
          f"{'median dof':>11s} {'t coverage':>11s}")
    covered = (lower <= truth) & (truth <= upper)
    for k, name in enumerate(varying):
        print(f"{name:14s} {scatter[k] / np.nanmedian(honest[:, k]):17.2f} "
              f"{scatter[k] / np.sqrt(np.nanmean(honest[:, k] ** 2)):14.2f} "
              f"{scatter[k] / np.nanmedian(independent[:, k]):16.2f} {np.nanmedian(freedom[:, k]):11.1f} "
              f"{100 * np.mean(covered[np.isfinite(honest[:, k]), k]):10.0f}%")
    reported = np.isfinite(honest)
    print(f"NLSQ 90 % coverage (honest, t intervals): {100 * np.mean(covered[reported]):.0f} % of {reported.sum()}")
    good = reported & np.array(converged)[:, None]
    print(f"NLSQ 90 % coverage (honest, t intervals, {sum(converged)} converged fits): "
          f"{100 * np.mean(covered[good]):.0f} % of {good.sum()}")
    for label, errors in (("honest, normal", honest), ("independent", independent)):
        inside = np.abs(estimates - truth) <= Z90 * errors
        print(f"NLSQ 90 % coverage ({label}): {100 * np.mean(inside[np.isfinite(errors)]):.0f} % "
              f"of {np.isfinite(errors).sum()}")
    if cmc_inside:
        cmc_inside = np.array(cmc_inside)
        print(f"CMC 90 % coverage: {100 * np.mean(cmc_inside):.0f} % of {cmc_inside.size}; per parameter: "
              + ", ".join(f"{name} {100 * np.mean(cmc_inside[:, k]):.0f} %" for k, name in enumerate(varying)))


if __name__ == "__main__":
    main()
