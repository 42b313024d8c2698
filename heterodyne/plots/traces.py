"""CMC trace plots, one figure per shard: for each sampled physics parameter, the draws of every
chain against draw index (divergent draws marked) and each chain's histogram.

Chains that disagree, drift or stick show here before they show in R-hat.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from heterodyne.plots.canvas import panel_grid, save_figure
from heterodyne.plots.labels import parameter_label

HISTOGRAM_BINS = 30


def trace_figure(draws: np.ndarray, divergent: np.ndarray, names: list[str], columns: list[int], title: str):
    """Rows of (trace, histogram) for the parameters at ``columns`` of ``draws`` (C, D, P)."""
    n_chains, n_draws, _ = draws.shape
    figure, axes = panel_grid(10.0, 1.8 * len(columns) + 0.7, len(columns), 2,
                              margins=(0.9, 0.2, 0.5, 0.75), gaps=(0.3, 0.6), width_ratios=(3, 1))
    index = np.arange(n_draws)
    for (trace, histogram), name, column in zip(axes, names, columns, strict=True):
        for chain in range(n_chains):
            values = draws[chain, :, column]
            trace.plot(index, values, color=f"C{chain}", linewidth=0.6, alpha=0.8, label=f"chain {chain}")
            histogram.hist(values, bins=HISTOGRAM_BINS, color=f"C{chain}", histtype="step")
            bad = divergent[chain]
            if bad.any():
                trace.plot(index[bad], values[bad], "|", color="red", markersize=8)
        trace.set(title=f"{name}: trace", ylabel=parameter_label(name))
        trace.margins(x=0)
        histogram.set(title=f"{name}: per chain")  # the units are the trace's y label
        histogram.set_yticks([])
    axes[-1, 0].set_xlabel("draw")
    axes[0, 0].legend(fontsize="x-small", ncols=min(n_chains, 4), loc="upper right")
    figure.suptitle(title)
    return figure


def shard_title(shard: int, n_divergent: int, shard_info: dict | None) -> str:
    """'CMC shard k' with its diagnostics from result.json when present (red ticks: divergences)."""
    title = f"CMC shard {shard}: {n_divergent} divergent draws (red ticks)"
    if shard_info is not None:
        r_hat = shard_info.get("max_r_hat")
        ess = shard_info.get("min_ess_bulk")
        title += f", max R-hat {r_hat:.3f}" if r_hat is not None else ""
        title += f", min ESS {ess:.0f}" if ess is not None else ""
        title += " — FLAGGED" if shard_info.get("flagged") else ""
    return title


def write_traces(directory: Path, image_format: str, *, cmc: dict[str, np.ndarray], sampled: list[str],
                 shards_info: list[dict]) -> list[Path]:
    """``cmc_trace_shard_KK`` per shard under ``directory``; returns the paths."""
    names = list(cmc["names"])
    columns = [names.index(name) for name in sampled]
    info_by_index = {info.get("index"): info for info in shards_info}
    paths = []
    for shard, (draws, divergent) in enumerate(zip(cmc["shard_draws"], cmc["divergent"], strict=True)):
        title = shard_title(shard, int(divergent.sum()), info_by_index.get(shard))
        figure = trace_figure(draws, divergent, sampled, columns, title)
        paths.append(save_figure(figure, directory, f"cmc_trace_shard_{shard:02d}", image_format))
    return paths
