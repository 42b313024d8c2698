"""Cost of a run's figures (issue 6: under 5 s for N = 400 frames × 3 angles).

Simulates N frames × 3 angles as benchmarks/bench_nlsq.py does (ageing transport, accelerating
flow, time-varying fraction) and fits it with ``heterodyne --no-plots``. Then times each figure
kind of :func:`write_run_plots` in this process (including the matplotlib import and the one-off
model compilation) and their total, the whole ``heterodyne plot`` process, and a run with plots
against one without (both with a warm compile cache): the ratio a sweep with plots pays.

    .venv/bin/python benchmarks/bench_plots.py [--frames 400] [--threads N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_nlsq import simulate, write_config  # the same data and fit as the NLSQ benchmark

HETERODYNE = str(Path(sys.executable).with_name("heterodyne"))


def timed_process(arguments: list[str]) -> float:
    """Wall seconds of one heterodyne process (its output discarded; failure raises)."""
    started = time.perf_counter()
    subprocess.run([HETERODYNE, *arguments], check=True, capture_output=True)
    return time.perf_counter() - started


def time_figure_kinds(run_dir: Path) -> None:
    """Seconds per figure kind of write_run_plots, in this process, and their total."""
    started = time.perf_counter()
    from heterodyne.data.configured import load_run_data
    from heterodyne.plots.run_plots import PLOTS_DIRECTORY, figure_writers
    from heterodyne.run_directory import read_run

    run = read_run(run_dir)
    data = load_run_data(run.document)
    print(f"  {'read outputs and data':24s} {time.perf_counter() - started:6.2f} s")
    for kind, writer in figure_writers(run.nlsq, run.cmc, data):
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
        data, config = simulate(directory, args.frames), write_config(directory, directory / "jax-cache")
        plotted_config = directory / "plotted.yaml"  # the same run with output.plots: true
        plotted_config.write_text(config.read_text() + "output: {plots: true}\n")
        common = ["--data", str(data), "--threads", str(args.threads)]
        cold = timed_process([*common, "--config", str(config), "--run-dir", str(directory / "run")])
        print(f"N = {args.frames} × 3 angles; fit without plots (cold compile cache) {cold:.2f} s")
        print("write_run_plots, in process:")
        time_figure_kinds(directory / "run")
        print(f"heterodyne plot RUN_DIR (whole process): {timed_process(['plot', str(directory / 'run')]):.2f} s")
        without = timed_process([*common, "--config", str(config), "--run-dir", str(directory / "warm")])
        with_plots = timed_process([*common, "--config", str(plotted_config), "--run-dir", str(directory / "plotted")])
        assert not (directory / "warm" / "plots").exists() and (directory / "plotted" / "plots" / "rates.png").is_file()
        print(f"run without plots {without:.2f} s, with plots {with_plots:.2f} s: ratio {with_plots / without:.2f}")


if __name__ == "__main__":
    main()
