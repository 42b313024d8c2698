"""The truth JSON written beside a simulated file."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from heterodyne import __version__
from heterodyne.layouts import aps_u, legacy
from heterodyne.simulation.spec import SimulationSpec

TRUTH_SUFFIX = ".truth.json"
TRUTH_FORMAT = "heterodyne-simulation-truth/1"


def truth_document(spec: SimulationSpec, data_path: Path) -> dict[str, Any]:
    """The truth JSON: parameters, per-bin key/label/(q, φ)/scaling, time base, noise, seed, spec;
    ``velocity_jump`` is null, or the jump's time (s, the frames' clock) and factor (v after = factor ×
    v before, :mod:`heterodyne.simulation.velocity_jump`)."""
    is_aps_u = spec.layout == aps_u.NAME
    matrix_key = aps_u.matrix_key if is_aps_u else legacy.matrix_key
    n_phi = len(spec.phi_centres)
    bins = []
    for index, info in enumerate(spec.processed_bins(), start=1):
        file_label = info.label if is_aps_u else info.q_index * n_phi + info.phi_index + 1
        bins.append(
            {
                "key": matrix_key(index),
                "label": file_label,
                "q_index": info.q_index,
                "phi_index": info.phi_index,
                "q": info.q,
                "phi": info.phi,
                "contrast": info.contrast,
                "offset": info.offset,
            }
        )
    return {
        "format": TRUTH_FORMAT,
        "heterodyne_version": __version__,
        "data_file": data_path.name,
        "layout": spec.layout,
        "params": spec.truth_params(),
        "bins": bins,
        "dt": spec.dt,
        "frame_time": spec.frame_time,
        "stride_frame": spec.stride_frame,
        "avg_frame": spec.avg_frame,
        "n_frames": spec.n_frames,
        "frames": [1, spec.n_frames],
        "begin_frame": spec.begin_frame,
        "time_origin": spec.time_origin,
        "time_convention": "stored frame k (1-based) at t = begin_frame * frame_time + k * dt",
        "noise": spec.noise,
        "noise_sigma": spec.noise_sigma,
        "diagonal_excess": spec.diagonal_excess,
        "seed": spec.seed,
        "velocity_jump": None if spec.velocity_jump is None else asdict(spec.velocity_jump),
        "spec": spec.as_dict(),
    }


def default_truth_path(data_path: Path) -> Path:
    """``<file>.truth.json`` beside the data file."""
    return data_path.with_name(data_path.name + TRUTH_SUFFIX)
