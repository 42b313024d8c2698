"""The change-point finder end to end on speckle replicates: does it find a velocity jump at the
right time, does its interval hold the jump, and does it stay quiet on a smooth flow?

Each replicate is a speckle-level file (the APS correlator's c2 from pixel fields and photon
counts: ``--pixels`` per bin, 4 modes, ``--counts`` photons per pixel and frame) of ``--frames``
frames, three angles at q = 0.009 Å⁻¹, 6 ms frames on a clock that starts at ``--origin`` s (the
sample's age at the first frame), truth D0_ref 2e4, D0_sample 8e4 Å²/s, v0 1200 Å/s, f0 0.3 and
v = v0 t^β with β = ``--beta`` (a smooth drift: × (t_last/t_first)^β over the file). The cases:
the velocity jumps by a factor F (``--factors``) at the age T of frame ``--jump-frame`` + ½ (the
simulator's velocity jump, :mod:`heterodyne.simulation.velocity_jump`), and the null, the same
smooth flow without a jump.

Per replicate the users' path, in one process through the library (heterodyne/analysis.py,
heterodyne/age/windows.py, heterodyne/age/window_table.py; no workflow, no CLI subprocess): the
global NLSQ fit (D0_ref, alpha_ref, D0_sample, v0, beta, f0, contrast and offset per angle free;
the other physics parameters held at their true 0, as in benchmarks/bench_windows.py's survey);
the disjoint windows of ``--width`` frames over the global fit's frames with the windows'
defaults (constant rates; D0_ref, D0_sample, v0, f0 free; phi0 inherited from the global fit);
windows.csv's rows in the global labelling; changepoints.csv (the finder at its defaults:
scaled errors, null trend a + b·g(t) with g the global fit's curve). Reported per case and rate
(v, J_sample): the rate at which the finder fires at 1 % and at 5 % with binomial standard
errors; for v in the jump cases, among the replicates fired at 1 % (and at 5 %), the coverage of
the interval [step_low_s, step_high_s] on T; among those fired at 1 %, its median width, the
median |t̂ − T|, the median step size and error scale; the seconds per replicate. Seeds 5000 + k,
the same k for every case
(the cases then share their speckle and photon noise draws).

    .venv/bin/python benchmarks/bench_changepoint.py [--replicates 40] [--frames 1000] [--width 100]
        [--factors 1.5,1.2,1] [--beta 0.3] [--origin 3.6] [--jump-frame 520] [--pixels 2000] [--counts 10]
        [--first K] [--csv ROWS.csv]
    .venv/bin/python benchmarks/bench_changepoint.py --summarize ROWS.csv ...   # the table of saved rows
    small: --replicates 3 --factors 1.5,1

A run splits over processes by case (``--factors``) or by replicate (``--first``, ``--replicates``),
each writing its rows with ``--csv``; ``--summarize`` prints the table of all of them (same
settings; a replicate of a case twice counts once). About 13 s per replicate on one free core.

One thread (the BLAS pools and XLA's CPU pool; heterodyne/runtime.py), set before jax starts.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

PHI = [-157.5, -67.5, 22.5]
DT = 0.006
"""Seconds between stored frames: the simulator's default frame_time × stride × average."""
FRAME_TIME = 0.001
TRUTH = {"D0_ref": 2.0e4, "D0_sample": 8.0e4, "v0": 1200.0, "f0": 0.3}
GLOBAL_FREE = ("D0_ref", "alpha_ref", "D0_sample", "v0", "beta", "f0")
RATES = ("v", "J_sample")


def analysis_config(path: Path, beta: float) -> dict:
    """The global run's analysis config (dict form): the free parameters start off the truth."""
    from heterodyne.parameters import PHYSICS_NAMES

    initial = {"D0_ref": 3.0e4, "D0_sample": 5.0e4, "v0": 1000.0, "f0": 0.4, "beta": 0.5 * beta}
    parameters = {name: ({"initial": initial.get(name, 0.0), "vary": True} if name in GLOBAL_FREE
                         else {"initial": 0.0, "vary": False}) for name in PHYSICS_NAMES}
    return {"experimental_data": {"file_path": str(path), "q": 0.009, "phi": PHI},
            "parameters": parameters, "scaling": {"mode": "individual"}}


def simulate(directory: Path, seed: int, factor: float | None, args) -> Path:
    from heterodyne.simulation import SimulationSpec, simulate_dataset

    jump = {} if factor is None else {"velocity_jump_time": jump_age(args), "velocity_jump_factor": factor}
    spec = SimulationSpec(noise="speckle", n_frames=args.frames, begin_frame=round(args.origin / FRAME_TIME),
                          q_centres=(0.009,), phi_centres=tuple(PHI), empty_cells=(), processed_q_rows=(0,),
                          pixels_per_bin=args.pixels, counts_per_pixel=args.counts, seed=seed,
                          params={**TRUTH, "beta": args.beta}, **jump)
    path = directory / f"replicate_{seed}_{factor}.h5"
    simulate_dataset(path, spec)
    return path


def jump_age(args) -> float:
    """T: half-way between stored frames ``jump_frame`` and ``jump_frame`` + 1 on the file's clock."""
    return round(args.origin / FRAME_TIME) * FRAME_TIME + (args.jump_frame + 0.5) * DT


def fitted_run(base: dict, overrides: dict, run_dir: Path):
    """One run as the workflow's nlsq job makes it (heterodyne/analysis.py), kept in memory."""
    import heterodyne as ht
    from heterodyne.analysis import new_document, set_status
    from heterodyne.data.configured import load_selected_data
    from heterodyne.nlsq.run import run_nlsq
    from heterodyne.provenance import run_id
    from heterodyne.run_directory import Run

    config = ht.load_config(base, overrides)
    data = load_selected_data(config)
    nlsq = run_nlsq(config, data, threads=1)
    document = new_document(config, data, run_id(config, data.provenance["sha256"]), "nlsq", nlsq)
    set_status(document, [nlsq.warning])
    return Run(run_dir, document, nlsq, None)


def replicate(path: Path, args):
    """changepoints.csv and windows.csv of one file (module docstring)."""
    from heterodyne.age.window_table import GlobalCurves, aligned_to_global, change_point_table, window_table
    from heterodyne.age.windows import (
        DEFAULT_FREE,
        DEFAULT_INHERIT,
        inherited_overrides,
        window_bounds,
        window_overrides,
    )

    base = analysis_config(path, args.beta)
    global_run = fitted_run(base, {}, path.parent / "base")
    data = global_run.document["data"]
    inherited = inherited_overrides(global_run.document, DEFAULT_INHERIT)
    windows = [fitted_run(base, {**window_overrides(window, DEFAULT_FREE, DEFAULT_INHERIT), **inherited},
                          path.parent / window.name)
               for window in window_bounds(data["start_frame"], data["end_frame"], args.width)]
    curves = {0: GlobalCurves.of(global_run)}
    table = aligned_to_global(window_table(windows), curves)
    return change_point_table(table, curves), table, global_run


def replicate_row(factor: float, k: int, args) -> dict:
    """One replicate of one case: the finder's answer on v and J_sample, the windows' statuses, seconds."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        path = simulate(Path(scratch), 5000 + k, None if factor == 1.0 else factor, args)
        change_points, table, global_run = replicate(path, args)
    row = {"factor": factor, "replicate": k, "seed": 5000 + k, "seconds": time.perf_counter() - started,
           "global_status": global_run.document["status"], "global_beta": global_run.nlsq.section["beta"],
           "windows": len(table), "windows_converged": int((table.status == "converged").sum()),
           "windows_mirrored": int((table.labelling != "as fitted").sum())}
    for found in change_points.to_dict("records"):
        if found["quantity"] in RATES:
            row.update({f"{found['quantity']}_{key}": found.get(key) for key in
                        ("p_value", "step_s", "step_low_s", "step_high_s", "step_size", "step_err",
                         "error_scale", "windows_used", "note")})
    return row


def binomial(hits: int, trials: int) -> str:
    """hits/trials ± its binomial standard error."""
    if trials == 0:
        return "-"
    rate = hits / trials
    return f"{rate:.2f} ± {(rate * (1 - rate) / trials) ** 0.5:.2f}"


def summary(rows, args) -> None:
    import numpy as np
    import pandas as pd

    table = pd.DataFrame(rows)
    jump = jump_age(args)
    print(f"\nchange points on speckle replicates (n per case): {args.frames} frames from "
          f"{args.origin:g} s, beta {args.beta:g}, {args.frames // args.width} windows of {args.width} frames, "
          f"{args.pixels} pixels/bin, {args.counts:g} photons/pixel/frame, 3 angles; jump at T = {jump:.4f} s")
    print(f"{'case':>8} {'n':>3} {'rate':>9} {'fires 1 %':>12} {'fires 5 %':>12} {'covers|1 %':>12} {'covers|5 %':>12} "
          f"{'width s':>8} {'|t-T| s':>8} {'step':>8} {'scale':>6} {'s/rep':>6} {'conv':>6}")
    for factor, case in table.groupby("factor", sort=False):
        label = "smooth" if factor == 1.0 else f"x{factor:g}"
        for rate in RATES:
            p_values = case[f"{rate}_p_value"].to_numpy(dtype=float)
            trials = int(np.isfinite(p_values).sum())
            cells = [binomial(int(np.sum(p_values <= level)), trials) for level in (0.01, 0.05)]
            low, high = (case[f"{rate}_step_{side}_s"].to_numpy(dtype=float) for side in ("low", "high"))
            fired = p_values <= 0.01
            extra = ["-"] * 6
            if factor != 1.0 and rate == "v":
                covers = (low <= jump) & (jump <= high)
                extra = [binomial(int(np.sum(covers & fired)), int(fired.sum())),
                         binomial(int(np.sum(covers & (p_values <= 0.05))), int(np.sum(p_values <= 0.05)))]
                if fired.any():
                    extra += [f"{np.median(high[fired] - low[fired]):.2f}",
                              f"{np.median(np.abs(case.v_step_s.to_numpy(dtype=float)[fired] - jump)):.3f}",
                              f"{np.median(case.v_step_size.to_numpy(dtype=float)[fired]):.0f}",
                              f"{np.median(case.v_error_scale.to_numpy(dtype=float)[fired]):.2f}"]
                else:
                    extra += ["-"] * 4
            elif rate == "v":
                extra[5] = f"{np.median(case.v_error_scale.to_numpy(dtype=float)):.2f}"
            converged = f"{case.windows_converged.sum() / case.windows.sum():.2f}"
            print(f"{label:>8} {len(case):>3} {rate:>9} {cells[0]:>12} {cells[1]:>12} {extra[0]:>12} {extra[1]:>12} "
                  f"{extra[2]:>8} {extra[3]:>8} {extra[4]:>8} {extra[5]:>6} {case.seconds.mean():>6.1f} {converged:>6}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=40)
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--width", type=int, default=100)
    parser.add_argument("--factors", default="1.5,1.2,1", help="jump factors; 1 is the smooth flow")
    parser.add_argument("--beta", type=float, default=0.3)
    parser.add_argument("--origin", type=float, default=3.6)
    parser.add_argument("--jump-frame", type=int, default=520)
    parser.add_argument("--pixels", type=int, default=2000)
    parser.add_argument("--counts", type=float, default=10.0)
    parser.add_argument("--first", type=int, default=0, help="the first replicate k (to split a run over processes)")
    parser.add_argument("--csv", type=Path, default=None, help="write every replicate's row here too")
    parser.add_argument("--summarize", type=Path, nargs="+", default=None, metavar="CSV",
                        help="print the table of the rows in these --csv files (same settings) and stop")
    args = parser.parse_args()
    if args.summarize is not None:
        import pandas as pd

        rows = pd.concat([pd.read_csv(path) for path in args.summarize]).drop_duplicates(["factor", "replicate"])
        summary(rows.to_dict("records"), args)
        return
    from heterodyne.runtime import apply_thread_budget

    apply_thread_budget(1)
    logging.basicConfig(level=logging.ERROR)
    import pandas as pd

    rows = []
    started = time.perf_counter()
    for factor in (float(factor) for factor in args.factors.split(",")):
        for k in range(args.first, args.first + args.replicates):
            rows.append(replicate_row(factor, k, args))
            row = rows[-1]
            print(f"x{factor:g} replicate {k + 1}/{args.first + args.replicates}: v p {row['v_p_value']:.4f} "
                  f"[{row['v_step_low_s']:.2f}, {row['v_step_high_s']:.2f}] s, J_sample p "
                  f"{row['J_sample_p_value']:.4f}; {row['seconds']:.1f} s ({time.perf_counter() - started:.0f} s)",
                  flush=True)
            if args.csv is not None:
                pd.DataFrame(rows).to_csv(args.csv, index=False)
    summary(rows, args)


if __name__ == "__main__":
    main()
