"""The fit as a two-time file the APS viewer opens: ``RUN_DIR/fit_viewer.h5`` (docs/data-formats.md).

The sidecar is an APS-U result file (the layout of :mod:`heterodyne.layouts.aps_u`) whose
``/xpcs/twotime/correlation_map/c2_NNNNN`` hold the fitted model instead of the data:

- everything of the input file but its matrices and ``/xpcs/twotime`` is copied (``/entry``,
  ``/xpcs/qmap``, the temporal and spatial means), so the bins keep their labels and (q, φ);
  a file without an APS-U q-map (legacy layout) gets one built from its ``dqlist``/``dphilist``:
  the natural grid is every distinct q × every distinct φ, and label L maps to the cell of (q_L, φ_L);
- one matrix per fitted bin, in the run's order, over the run's frames only: the upper triangle
  of c2_model = offset + contrast · (R + S + X)/f² at the NLSQ estimate (heterodyne.model.c2_grid),
  float32, lower triangle 0; ``/xpcs/twotime/residual_map/c2_NNNNN`` the standardised residual
  (data − model)/σ with the σ the fit used (NaN on the diagonal, which is never fitted);
  ``processed_bins`` the bins' labels; ``normalized_g2`` and ``normalized_g2_segments`` the
  diagonal averages of the fitted matrices, as the correlator computes them from its own;
- the clock of the run: frame_time = dt / (stride × avg) and begin_frame such that stored frame
  k' = 1 … N is the run's k-th frame at t = t_0 + (first frame − 1 + k')·dt;
- ``/heterodyne``: the run's identity and provenance (attributes), the parameter vector and the
  rate curves J_ref(t), J_sample(t), v(t), f_s(t) with their 90 % bands
  (:func:`heterodyne.plots.rates.rate_bands`).

For a CMC run the matrices are those of the NLSQ estimate, as in the run's figures, and the rate
bands include the posterior's. A run writes the file when its config's ``output.viewer_file`` is
on; ``heterodyne plot`` always does. The file is written atomically.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

from heterodyne.config.tree import AnalysisConfig
from heterodyne.data.bins import legacy_coordinates
from heterodyne.data.h5access import open_readonly, read_vector
from heterodyne.data.layouts import detect_layout
from heterodyne.errors import HeterodyneError
from heterodyne.layouts import aps_u, legacy
from heterodyne.parameters import N_PHYSICS
from heterodyne.parameters import RATE_UNITS as UNICODE_RATE_UNITS
from heterodyne.run_directory import Run, read_run

SIDECAR = "fit_viewer.h5"
RESIDUAL_GROUP = f"{aps_u.TWOTIME}/residual_map"
OWN_GROUP = "/heterodyne"
PROVENANCE_KEYS = ("run_id", "heterodyne_version", "git_commit", "created", "data_file", "data_sha256",
                   "method", "status", "convergence_warning")
RATE_UNITS = {name: unit.replace("Å²", "A^2").replace("Å", "A") for name, unit in UNICODE_RATE_UNITS.items()}
"""The rates' units in ASCII, as the viewer's file attributes hold them."""


def fitted_c2(run: Run) -> np.ndarray:
    """(A, N, N) model c2 at the run's NLSQ estimate on the run's frames."""
    from heterodyne.fitted import model_matrices

    nlsq = run.nlsq.arrays
    return model_matrices(nlsq["values"][:N_PHYSICS], nlsq["contrast"], nlsq["offset"],
                          t=nlsq["t"], q=nlsq["q"], phi=nlsq["phi"])


def standardised_residuals(c2: np.ndarray, fitted: np.ndarray, noise: dict) -> np.ndarray:
    """(data − model)/σ with the fit's σ (uniform or per lag), NaN on the diagonal."""
    from heterodyne.plots.fit_maps import sigma_on_frames

    n_frames = c2.shape[1]
    residual = np.stack([(c2[a] - fitted[a]) / sigma_on_frames(noise, c2, np.arange(n_frames))
                         for a in range(c2.shape[0])])
    residual[:, np.arange(n_frames), np.arange(n_frames)] = np.nan
    return residual


def _copy_except(source: h5py.Group, target: h5py.Group, skipped: set[str]) -> None:
    """Copy every member of ``source`` into ``target`` except the paths in ``skipped`` (and
    what lies under them), with the attributes of every group on the way."""
    target.attrs.update(source.attrs)
    for name, node in source.items():
        if node.name in skipped:
            continue
        if isinstance(node, h5py.Group) and any(path.startswith(node.name + "/") for path in skipped):
            _copy_except(node, target.require_group(name), skipped)
        else:
            source.copy(node, target, name=name)


def _replace(h5: h5py.File, h5path: str, value) -> None:
    if h5path in h5:
        del h5[h5path]
    h5[h5path] = value


def _number(value: float):
    """int64 when integral (as the correlator writes frame counts), float64 otherwise."""
    return np.int64(round(value)) if float(value) == round(value) else np.float64(value)


def _qmap_from_partitions(h5: h5py.File, source: h5py.File) -> None:
    """An APS-U q-map for a file that has none: the natural grid of every distinct q and φ of its
    dynamic partitions, partition L (1-based) at the cell of its (q_L, φ_L)."""
    q_list = read_vector(source, legacy.Q_LIST)
    if q_list is None:
        raise HeterodyneError(f"{source.filename}: no {legacy.Q_LIST} to build a q-map from")
    labels = np.arange(1, q_list.size + 1)
    q, phi = legacy_coordinates(source, labels)
    q_centres, q_index = np.unique(q, return_inverse=True)
    phi_centres, phi_index = np.unique(phi, return_inverse=True)
    h5[aps_u.QMAP_DIM0] = q_centres
    h5[aps_u.QMAP_DIM1] = phi_centres
    h5[aps_u.QMAP_NUM_PTS] = np.array([q_centres.size, phi_centres.size], dtype=np.int64)
    h5[aps_u.QMAP_INDEX_MAPPING] = (q_index * phi_centres.size + phi_index).astype(np.int64)
    h5[aps_u.QMAP_MAP_NAMES] = np.array([b"q", b"phi"])
    h5[aps_u.QMAP_MAP_UNITS] = np.array([b"1/A", b"deg"])


def _upper(matrix: np.ndarray) -> np.ndarray:
    return np.triu(matrix).astype(np.float32)


def _write_twotime(h5: h5py.File, source: h5py.File, fitted: np.ndarray, residual: np.ndarray, data) -> None:
    """The fitted and residual matrices, their labels, g2 and the correlator settings on the run's clock."""
    from heterodyne.simulation.g2 import diagonal_average_g2, segment_g2

    stored = np.stack([_upper(matrix) for matrix in fitted])
    for key, (matrix, standardised) in enumerate(zip(stored, residual, strict=True), start=1):
        for group, values in ((aps_u.MATRIX_GROUP, matrix), (RESIDUAL_GROUP, _upper(standardised))):
            h5.create_dataset(f"{group}/{aps_u.matrix_key(key)}", data=values, compression="lzf", chunks=values.shape)
    h5[aps_u.PROCESSED_BINS] = np.array([info["label"] for info in data.provenance["selected_bins"]],
                                               dtype=np.int64)
    h5[aps_u.NORMALIZED_G2] = diagonal_average_g2(stored)
    h5[aps_u.NORMALIZED_G2_SEGMENTS] = segment_g2(stored)
    if aps_u.CONFIG_GROUP in source:
        source.copy(source[aps_u.CONFIG_GROUP], h5[aps_u.TWOTIME], name="config")
    base = data.provenance["time_base"]
    frames_per_stored = base["stride"] * base["average"]
    frame_time = data.dt / frames_per_stored
    origin = data.time_origin + (int(data.frames[0]) - 1) * data.dt
    begin = round(origin / frame_time)
    settings = {"stride_frame": base["stride"], "avg_frame": base["average"], "begin_frame": begin,
                "end_frame": begin + data.n_frames * frames_per_stored - 1}
    for name, value in settings.items():
        _replace(h5, f"{aps_u.CONFIG_GROUP}/{name}", _number(value))
    _replace(h5, aps_u.FRAME_TIME, np.float64(frame_time))


def _write_own(h5: h5py.File, run: Run) -> None:
    """``/heterodyne``: provenance attributes, the parameters, and the rate curves with their bands."""
    from heterodyne.plots import parameter_draws
    from heterodyne.plots.rates import rate_bands

    result, nlsq = run.document, run.nlsq.arrays
    group = h5.create_group(OWN_GROUP)
    for key in PROVENANCE_KEYS:
        if result.get(key) is not None:
            group.attrs[key] = result[key]
    group.attrs["config"] = json.dumps(result["config"], sort_keys=True)
    group["parameter_names"] = np.array(nlsq["names"], dtype=h5py.string_dtype())
    group["parameter_values"] = np.asarray(nlsq["values"], dtype=float)
    times = np.asarray(nlsq["t"], dtype=float)
    estimate = np.asarray(nlsq["values"][:N_PHYSICS], dtype=float)
    cmc_draws = parameter_draws.cmc_draws(run.cmc.arrays, estimate) if run.cmc is not None else None
    central, nlsq_band, cmc_band = rate_bands(times, estimate, parameter_draws.nlsq_draws(nlsq), cmc_draws)
    rates = group.create_group("rates")
    rates["t"] = times
    rates["t"].attrs["units"] = "s"
    for name, units in RATE_UNITS.items():
        rates[name] = central[name]
        rates[f"{name}_nlsq_band"] = np.stack(nlsq_band[name])
        rates[f"{name}_nlsq_band"].attrs["percentiles"] = [5.0, 95.0]
        if cmc_band is not None:
            rates[f"{name}_cmc_band"] = np.stack(cmc_band[name])
            rates[f"{name}_cmc_band"].attrs["percentiles"] = [5.0, 50.0, 95.0]
        rates[name].attrs["units"] = units


def write_sidecar(run_dir: Path, data=None) -> Path:
    """Write ``run_dir/fit_viewer.h5`` from the run's outputs and its data (read again from the
    run's data file when ``data`` is None); returns its path."""
    from heterodyne.data.configured import load_run_data
    from heterodyne.plots.run_plots import check_data_matches
    from heterodyne.results import atomic_destination

    run = read_run(Path(run_dir))
    if data is None:
        data = load_run_data(run.document)
    check_data_matches(run.nlsq, data, run.run_dir)
    fitted = fitted_c2(run)
    residual = standardised_residuals(np.asarray(data.c2), fitted, run.nlsq.section["noise"])
    path = run.run_dir / SIDECAR
    with open_readonly(Path(data.provenance["file"])) as source, atomic_destination(path) as temporary, \
            h5py.File(temporary, "w") as h5:
        layout = detect_layout(source)
        _copy_except(source, h5, {layout.matrix_group, aps_u.TWOTIME})
        if aps_u.QMAP_DIM0 not in source:
            _qmap_from_partitions(h5, source)
        _write_twotime(h5, source, fitted, residual, data)
        _write_own(h5, run)
    return path


def write_configured_sidecar(run_dir: Path, config: AnalysisConfig, data=None) -> Path | None:
    """:func:`write_sidecar` when the run's ``output.viewer_file`` is on; returns the path, or None."""
    return write_sidecar(run_dir, data) if config.output.viewer_file else None
