"""The figures of several runs from one command: in this process, or in W worker processes.

A plot job pays interpreter start-up and the numpy, h5py, jax and matplotlib imports (about 2 s)
before its first figure; drawing one run costs about as much again. So the workflow draws all
runs of a dataset in one job, with up to W = threads runs at once in spawned worker processes
(one thread each: the model evaluations for figures are small). Runs are independent; every
file is written atomically, and the paths come back in the order of the run directories.
"""

from __future__ import annotations

from pathlib import Path

from heterodyne.process_pool import map_in_processes


def plot_run(run_dir: Path, image_format: str = "png", data_file: Path | None = None) -> list[Path]:
    """Every figure of one finished run, from its saved outputs and its data, and its viewer file
    fit_viewer.h5 (heterodyne/sidecar.py); returns the figures' paths."""
    from heterodyne.config.tree import AnalysisConfig
    from heterodyne.data.configured import load_run_data
    from heterodyne.plots.run_plots import write_run_plots
    from heterodyne.run_directory import read_run
    from heterodyne.runtime import enable_compile_cache
    from heterodyne.sidecar import write_sidecar

    document = read_run(run_dir).document
    enable_compile_cache(AnalysisConfig.from_resolved(document["config"]).compute.jax_cache_dir)
    data = load_run_data(document, data_file)
    write_sidecar(run_dir, data)
    return write_run_plots(run_dir, data=data, image_format=image_format)


def plot_runs(run_dirs: list[Path], *, image_format: str = "png", workers: int = 1) -> list[list[Path]]:
    """:func:`plot_run` of every directory, at most ``workers`` at once, one thread each; the paths
    per run, in order. The first failure (a HeterodyneError naming the run) is raised."""
    return map_in_processes(plot_run, [(run_dir, image_format) for run_dir in run_dirs],
                            workers=max(1, min(workers, len(run_dirs))), threads=1)
