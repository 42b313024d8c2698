"""Every figure of one run, from its saved outputs, under ``RUN_DIR/plots/``.

The figure kinds, in order: ``c2_fit_NN`` (one per angle), ``c2_cuts``, ``rates`` and, when the
run has cmc_samples.npz, ``cmc_trace_shard_KK`` (one per shard) and ``cmc_corner``. The run's
files are only read: result.json, nlsq.npz and cmc_samples.npz never change.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from heterodyne.cmc.result import CmcResult
from heterodyne.data.configured import load_run_data
from heterodyne.errors import HeterodyneError
from heterodyne.nlsq.result import NlsqResult
from heterodyne.parameters import N_PHYSICS
from heterodyne.plots import parameter_draws
from heterodyne.plots.canvas import check_image_format
from heterodyne.plots.corner import write_corner
from heterodyne.plots.cuts import write_cuts
from heterodyne.plots.fit_maps import write_fit_maps
from heterodyne.plots.rates import write_rates
from heterodyne.plots.traces import write_traces
from heterodyne.run_directory import read_run

PLOTS_DIRECTORY = "plots"
FigureWriter = Callable[[Path, str], list[Path]]


def check_data_matches(fit: NlsqResult, data, source: Path) -> None:
    """Refuse data whose angles or times are not those ``fit`` (of the run at ``source``) fitted."""
    nlsq = fit.arrays
    times = np.asarray(nlsq["t"])
    if data.c2.shape[0] != nlsq["q"].size or data.times.shape != times.shape \
            or not np.allclose(data.times, times, rtol=1e-12, atol=0.0):
        raise HeterodyneError(f"{source}: the data given are not the run's selection "
                              f"({data.c2.shape[0]} angles × {data.times.size} frames, the run fitted "
                              f"{nlsq['q'].size} × {times.size})")


def figure_writers(fit: NlsqResult, posterior: CmcResult | None, data) -> list[tuple[str, FigureWriter]]:
    """(figure kind, writer(directory, image_format)) for every figure of a run's results."""
    nlsq = fit.arrays
    estimate = np.asarray(nlsq["values"][:N_PHYSICS], dtype=float)
    model: dict[str, Any] = {key: np.asarray(nlsq[key]) for key in ("contrast", "offset", "q", "phi")}
    model["theta"] = estimate
    times = np.asarray(nlsq["t"], dtype=float)
    cmc_draws = parameter_draws.cmc_draws(posterior.arrays, estimate) if posterior is not None else None
    writers: list[tuple[str, FigureWriter]] = [
        ("fit maps", partial(write_fit_maps, c2=data.c2, times=times, noise=fit.section["noise"], **model)),
        ("cuts", partial(write_cuts, c2=data.c2, times=times, **model)),
        ("rates", partial(write_rates, times=times, estimate=estimate,
                          nlsq_draws=parameter_draws.nlsq_draws(nlsq), cmc_draws=cmc_draws)),
    ]
    if posterior is not None:
        cmc = posterior.arrays
        sampled = parameter_draws.sampled_physics(cmc)
        writers += [
            ("cmc traces", partial(write_traces, cmc=cmc, sampled=sampled, shards_info=posterior.shards)),
            ("cmc corner", partial(write_corner, cmc=cmc, sampled=sampled)),
        ]
    return writers


def write_run_plots(run_dir: Path, *, data=None, image_format: str = "png") -> list[Path]:
    """Write every applicable figure of ``run_dir`` under ``run_dir/plots/``; returns their paths.

    ``data`` is the run's loaded data (:class:`heterodyne.data.XpcsData`); when None it is read
    again from the run's data file, which must still have the run's SHA-256.
    """
    check_image_format(image_format)
    run = read_run(Path(run_dir))
    if data is None:
        data = load_run_data(run.document)
    return write_plots(run.nlsq, run.cmc, data, run.run_dir / PLOTS_DIRECTORY, image_format, source=run.run_dir)


def write_plots(fit: NlsqResult, posterior: CmcResult | None, data, directory: Path, image_format: str = "png", *,
                source: Path | None = None) -> list[Path]:
    """Every applicable figure of a run's results (read from a run directory, ``source``, or held
    in memory) and its data, written under ``directory``; returns their paths."""
    check_image_format(image_format)
    check_data_matches(fit, data, source or directory)
    paths: list[Path] = []
    for _, writer in figure_writers(fit, posterior, data):
        paths += writer(Path(directory), image_format)
    return paths
