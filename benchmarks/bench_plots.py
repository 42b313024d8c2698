"""Cost of a run's figures (issue 6: under 5 s for N = 400 frames × 3 angles).

Simulates N frames × 3 angles (ageing transport, accelerating flow, time-varying fraction), fits it
with ``heterodyne --method nlsq --no-plots``, then times :func:`write_run_plots`' figure kinds in
this process (seconds per kind and total, including the matplotlib import and the one-off model
compilation), the ``heterodyne plot`` process, and one more run with plots against one without
(both with a warm compile cache): the ratio a sweep with plots pays.

    .venv/bin/python benchmarks/bench_plots.py [--frames 400] [--threads N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import yaml

TRUTH = dict(D0_ref=2e4, alpha_ref=-0.3, D0_sample=6e4, alpha_sample=0.4, v0=1000.0, beta=0.3,
             f0=0.2, f1=0.8, f3=0.1)
START = dict(D0_ref=3e4, alpha_ref=0.0, D0_sample=5e4, alpha_sample=0.0, v0=950.0, beta=0.0,
             f0=0.3, f1=0.0, f3=0.05)
NOISE = 0.002
HETERODYNE = str(Path(sys.executable).with_name("heterodyne"))


def prepare(directory: Path, n_frames: int) -> tuple[Path, Path]:
    """A simulated file and a run config varying the nine parameters of TRUTH."""
    from heterodyne.parameters import PHYSICS_NAMES
    from heterodyne.simulate import SimulationSpec, simulate_dataset

    spec = replace(SimulationSpec(), n_frames=n_frames, frame_time=1e-3 * min(1.0, 200 / n_frames),
                   noise_sigma=NOISE, params=TRUTH, processed_q_rows=(1,), seed=1)
    data = directory / "sim.h5"
    simulate_dataset(data, spec)
    parameters = {name: {"vary": False} for name in PHYSICS_NAMES}
    parameters.update({name: {"initial": value} for name, value in START.items()})
    config = {
        "experimental_data": {"q": 0.009, "phi": [-157.5, -67.5, 22.5]},
        "parameters": parameters,
        "scaling": {"mode": "individual", "contrast": {"initial": 0.1}},
        "optimization": {"nlsq": {"noise_sigma": NOISE}},
        "compute": {"jax_cache_dir": str(directory / "jax-cache")},
    }
    path = directory / "run.yaml"
    path.write_text(yaml.safe_dump(config))
    return data, path


def timed_process(arguments: list[str]) -> float:
    """Wall seconds of one heterodyne process (its output discarded; failure raises)."""
    started = time.perf_counter()
    subprocess.run([HETERODYNE, *arguments], check=True, capture_output=True)
    return time.perf_counter() - started


def time_figure_kinds(run_dir: Path) -> None:
    """Seconds per figure kind of write_run_plots, in this process, and their total."""
    started = time.perf_counter()
    from heterodyne.plots.run_outputs import load_run_data, load_run_outputs
    from heterodyne.plots.run_plots import PLOTS_DIRECTORY, figure_writers

    outputs = load_run_outputs(run_dir)
    data = load_run_data(outputs.result)
    print(f"  {'read outputs and data':24s} {time.perf_counter() - started:6.2f} s")
    for kind, writer in figure_writers(outputs, data):
        begun = time.perf_counter()
        paths = writer(run_dir / PLOTS_DIRECTORY, "png")
        print(f"  {kind:24s} {time.perf_counter() - begun:6.2f} s  ({len(paths)} file(s))")
    print(f"  {'total':24s} {time.perf_counter() - started:6.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=400)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        data, config = prepare(directory, args.frames)
        common = ["--config", str(config), "--data", str(data), "--threads", str(args.threads)]
        cold = timed_process([*common, "--run-dir", str(directory / "run"), "--no-plots"])
        print(f"N = {args.frames} × 3 angles; fit without plots (cold compile cache) {cold:.2f} s")
        print("write_run_plots, in process:")
        time_figure_kinds(directory / "run")
        print(f"heterodyne plot RUN_DIR (whole process): {timed_process(['plot', str(directory / 'run')]):.2f} s")
        without = timed_process([*common, "--run-dir", str(directory / "warm"), "--no-plots"])
        with_plots = timed_process([*common, "--run-dir", str(directory / "plotted")])
        print(f"run without plots {without:.2f} s, with plots {with_plots:.2f} s: ratio {with_plots / without:.2f}")


if __name__ == "__main__":
    main()
