"""Windows along the age: are the windowed error bars honest, per window width, and what does a
windowed survey cost?

Coverage: ``--replicates`` speckle-level files (the APS correlator's c2 from pixel fields and
photon counts: ``--pixels`` per bin, 4 modes, ``--counts`` photons per pixel and frame) of a flow
with constant rates (truth D0_ref 2e4, D0_sample 8e4 Å²/s, v0 1200 Å/s, f0 0.3; every exponent,
offset and f1 zero, so the windows' reduced model is exact), max(widths) frames, three angles at
q = 0.009 Å⁻¹. Each replicate is fitted in the window [1, W] for each width W with the windows'
default reduction (heterodyne/age/windows.py: D0_ref, D0_sample, v0, f0 free, phi0 held at its
true 0 as if inherited from a perfect global fit, contrast and offset per angle). Per width and
rate, over the replicates: the 90 % coverage of ± 1.645 stderr and of the fit's Student-t
interval [q05, q95], and sd of (estimate − truth)/stderr (1 when the stderr is honest). Each fit
is compared with the truth's image in its labelling (benchmarks/truth_labelling.py).

Survey cost: the workflow (``snakemake --cores 2``) on one simulated ``--survey-frames`` file
with ``windows: {width: --survey-width}``: the global fit and every window, NLSQ only, no
figures but the windows figure; wall time with a cold JAX compile cache, per rule.

    .venv/bin/python benchmarks/bench_windows.py [--replicates 40] [--widths 50,100,200]
        [--pixels 2000] [--counts 10] [--survey-frames 1000] [--survey-width 100] [--skip-survey]
    small: --replicates 6 --widths 50,100 --survey-frames 300 --survey-width 50
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from truth_labelling import truth_image  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
TRUTH = {"D0_ref": 2.0e4, "D0_sample": 8.0e4, "v0": 1200.0, "f0": 0.3}
PHI = [-157.5, -67.5, 22.5]
Z90 = 1.6449
BASE = {"experimental_data": {"q": 0.009, "phi": PHI},
        "parameters": {"D0_ref": {"initial": 3.0e4}, "D0_sample": {"initial": 5.0e4}, "v0": {"initial": 1000.0},
                       "f0": {"initial": 0.4}},
        "scaling": {"mode": "individual"}}


def replicate_file(directory: Path, frames: int, seed: int, args) -> Path:
    from heterodyne.simulation import SimulationSpec, simulate_dataset

    spec = SimulationSpec(noise="speckle", n_frames=frames, q_centres=(0.009,), phi_centres=tuple(PHI),
                          empty_cells=(), processed_q_rows=(0,), pixels_per_bin=args.pixels,
                          counts_per_pixel=args.counts, seed=seed, params=TRUTH)
    path = directory / f"replicate_{seed}.h5"
    simulate_dataset(path, spec)
    return path


def window_fit(path: Path, width: int):
    """The windows' default reduction fitted over frames 1..width of ``path``."""
    import heterodyne as ht
    from heterodyne.age.windows import window_bounds, window_overrides

    [window] = window_bounds(1, width, width)
    config = ht.load_config({**BASE, "experimental_data": {**BASE["experimental_data"], "file_path": str(path)}},
                            window_overrides(window))
    return ht.fit_nlsq(config, ht.load_data(config))


def coverage(args) -> None:
    from heterodyne.parameters import PHYSICS_NAMES, PHYSICS_PARAMETERS

    widths = [int(width) for width in args.widths.split(",")]
    written = np.array([TRUTH.get(p.name, p.default) for p in PHYSICS_PARAMETERS])
    lower = np.array([p.lower for p in PHYSICS_PARAMETERS])
    upper = np.array([p.upper for p in PHYSICS_PARAMETERS])
    names = list(TRUTH)
    columns = [PHYSICS_NAMES.index(name) for name in names]
    records: dict[int, list] = {width: [] for width in widths}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        for replicate in range(args.replicates):
            path = replicate_file(Path(scratch), max(widths), 2000 + replicate, args)
            for width in widths:
                fit = window_fit(path, width)
                section = fit.section
                estimate = np.asarray(fit.arrays["values"][:len(PHYSICS_NAMES)], dtype=float)
                stderr = np.array([np.nan if section["stderr"][name] is None else section["stderr"][name]
                                   for name in PHYSICS_NAMES], dtype=float)
                vary = np.asarray(fit.arrays["vary"][:len(PHYSICS_NAMES)], dtype=bool)
                image, mirrored = truth_image(written, estimate, stderr, vary, lower, upper,
                                              np.asarray(fit.arrays["t"], dtype=float))
                interval = np.array([[section[key][name] if section[key][name] is not None else np.nan
                                      for name in names] for key in ("q05", "q95")])
                records[width].append((estimate[columns], stderr[columns], image[columns], interval, mirrored,
                                       section["converged"]))
            print(f"replicate {replicate + 1}/{args.replicates} done ({time.perf_counter() - started:.0f} s)",
                  flush=True)
    print(f"\ncoverage of the windowed error bars: {args.replicates} speckle replicates, {args.pixels} pixels/bin, "
          f"{args.counts:g} photons/pixel/frame, 3 angles; nominal 0.90")
    print(f"{'width':>6} {'rate':>10} {'±1.645 se':>10} {'[q05,q95]':>10} {'sd(z)':>7} {'median rel se':>14} "
          f"{'mirrored':>9} {'converged':>10}")
    for width in widths:
        estimate, stderr, truth, interval, mirrored, converged = (np.array(part) for part in zip(*records[width],
                                                                                               strict=True))
        z = (estimate - truth) / stderr
        inside = np.abs(z) <= Z90
        t_inside = (interval[:, 0] <= truth) & (truth <= interval[:, 1])
        for k, name in enumerate(names):
            print(f"{width:>6} {name:>10} {np.nanmean(inside[:, k]):>10.2f} {np.nanmean(t_inside[:, k]):>10.2f} "
                  f"{np.nanstd(z[:, k], ddof=1):>7.2f} {np.nanmedian(stderr[:, k] / np.abs(truth[:, k])):>14.3g} "
                  f"{int(mirrored.sum()):>9} {int(converged.sum()):>10}")
        print(f"{width:>6} {'pooled':>10} {np.nanmean(inside):>10.2f} {np.nanmean(t_inside):>10.2f} "
              f"{np.nanstd(z, ddof=1):>7.2f}")
        if converged.any() and not converged.all():
            print(f"{width:>6} {'converged':>10} {np.nanmean(inside[converged]):>10.2f} "
                  f"{np.nanmean(t_inside[converged]):>10.2f} {np.nanstd(z[converged], ddof=1):>7.2f}"
                  f"   (pooled over the {int(converged.sum())} converged fits)")


def survey(args) -> None:
    bin_directory = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        (work / "analysis.yaml").write_text(yaml.safe_dump({**BASE, "parameters": {
            **BASE["parameters"], **{name: {"vary": False} for name in
                                     ("D_offset_ref", "alpha_sample", "D_offset_sample", "v_offset", "f1", "f2",
                                      "f3", "phi0")}}}))
        config = {"analysis": "analysis.yaml", "results": "results", "methods": ["nlsq"], "plots": True,
                  "windows": {"width": args.survey_width},
                  "datasets": {"simulate": {"survey": {"frames": args.survey_frames, "seed": 1,
                                                       "truth": {**TRUTH, "beta": 0.3, "alpha_ref": -0.3}}}}}
        (work / "config.yaml").write_text(yaml.safe_dump(config))
        command = [str(bin_directory / "snakemake"), "--snakefile", str(REPO / "Snakefile"), "--directory", str(work),
                   "--configfile", str(work / "config.yaml"), "--cores", "2"]
        environment = dict(os.environ, PATH=f"{bin_directory}{os.pathsep}{os.environ.get('PATH', '')}",
                           HETERODYNE_JAX_CACHE_DIR=str(work / "jax-cache"))
        started = time.perf_counter()
        completed = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
        wall = time.perf_counter() - started
        if completed.returncode != 0:
            raise SystemExit(completed.stderr[-3000:])
        windows = args.survey_frames // args.survey_width
        print(f"\nwindowed survey of a {args.survey_frames}-frame file, {windows} windows of {args.survey_width} "
              f"frames and the global fit, NLSQ, snakemake --cores 2, cold JAX cache: {wall:.0f} s")
        for benchmark in sorted((work / "results").rglob("*.benchmark.tsv")):
            seconds = float(benchmark.read_text().splitlines()[1].split("\t")[0])
            print(f"  {benchmark.relative_to(work / 'results')}: {seconds:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=40)
    parser.add_argument("--widths", default="50,100,200")
    parser.add_argument("--pixels", type=int, default=2000)
    parser.add_argument("--counts", type=float, default=10.0)
    parser.add_argument("--survey-frames", type=int, default=1000)
    parser.add_argument("--survey-width", type=int, default=100)
    parser.add_argument("--skip-survey", action="store_true")
    parser.add_argument("--skip-coverage", action="store_true")
    args = parser.parse_args()
    if not args.skip_coverage:
        coverage(args)
    if not args.skip_survey:
        survey(args)


if __name__ == "__main__":
    main()
