"""The windowed rates against the sample age, drawn over the global fit's rate curves.

The global run's panels are those of its ``rates`` figure (:mod:`heterodyne.plots.rates`): the
NLSQ curve with its 90 % band and, when the global run has CMC, the posterior's. Over them, each
window's NLSQ rate at its mid-age with a 90 % error bar (± 1.645 stderr, the stderr of
windows.csv) and a horizontal bar over the window's frames; with CMC windows, their 5–95 %
quantiles beside. Several seeds: the global curves of the first, the windows of each with a
marker of their own. A window without a finite stderr is drawn as its point alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from heterodyne.parameters import N_PHYSICS, RATES
from heterodyne.plots import parameter_draws
from heterodyne.plots.rates import rate_bands, rates_figure
from heterodyne.run_directory import Run

Z90 = float(norm.ppf(0.95))
MARKERS = ("o", "s", "^", "D", "v")


def windows_figure(global_run: Run, windows: pd.DataFrame):
    """The 2×2 rate panels of ``global_run`` with the rows of windows.csv drawn over them."""
    nlsq = global_run.nlsq.arrays
    times = np.asarray(nlsq["t"], dtype=float)
    estimate = np.asarray(nlsq["values"][:N_PHYSICS], dtype=float)
    cmc_draws = parameter_draws.cmc_draws(global_run.cmc.arrays, estimate) if global_run.cmc is not None else None
    figure = rates_figure(times, *rate_bands(times, estimate, parameter_draws.nlsq_draws(nlsq), cmc_draws))
    seeds = sorted(windows.seed.unique())
    for axis, name in zip(figure.axes, RATES, strict=True):
        for index, (seed, group) in enumerate(windows.groupby("seed", sort=True)):
            marker = MARKERS[index % len(MARKERS)]
            label = "window NLSQ, 90 %" + (f" (seed {seed})" if len(seeds) > 1 else "")
            errors = np.where(np.isfinite(group[f"{name}_err"]), Z90 * group[f"{name}_err"], 0.0)
            half_width = 0.5 * (group.end_s - group.start_s)
            axis.errorbar(group.mid_age_s, group[name], yerr=errors, xerr=half_width, fmt=marker,
                          color="C2", markersize=4, capsize=2, linewidth=1, label=label)
            if f"{name}_q50" in group:
                low, high = group[f"{name}_q50"] - group[f"{name}_q05"], group[f"{name}_q95"] - group[f"{name}_q50"]
                axis.errorbar(group.mid_age_s, group[f"{name}_q50"], yerr=[low, high], fmt=marker,
                              color="C3", markersize=3, capsize=2, linewidth=1, mfc="none",
                              label="window CMC 5–95 %" + (f" (seed {seed})" if len(seeds) > 1 else ""))
        axis.legend(fontsize="x-small")
    seed_note = f", global fit of seed {seeds[0]}" if len(seeds) > 1 else ""
    width = int(windows.end_frame.iloc[0] - windows.start_frame.iloc[0] + 1)
    figure.suptitle(f"{len(windows) // len(seeds)} windows of {width} frames over the global fit's rates, "
                    f"{times[0]:.3g}–{times[-1]:.3g} s{seed_note}")
    return figure

