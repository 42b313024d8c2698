"""Figures of runs and sweeps, one module per figure kind; matplotlib is imported only when drawing.

Per run (:func:`heterodyne.plots.run_plots.write_run_plots`, under ``RUN_DIR/plots/``):
:mod:`fit_maps` (data, model and residual maps per angle), :mod:`cuts` (c2 along the lag at a few
ages), :mod:`rates` (J_ref, J_sample, v, f_s with uncertainty bands), :mod:`traces` (CMC chains
per shard) and :mod:`corner` (the CMC consensus posterior). Across runs, from a summary.csv:
:mod:`trends` (each varied parameter against each sweep variable) and :mod:`agreement` (NLSQ
versus CMC).

Figures are drawn on :class:`matplotlib.figure.Figure` objects with no pyplot and no GUI backend,
and written atomically (:mod:`canvas`).
"""
