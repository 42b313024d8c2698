"""Writing a simulated file and its truth: :func:`simulate_dataset` (see :mod:`heterodyne.simulation`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from heterodyne.layouts import aps_u
from heterodyne.results import atomic_destination
from heterodyne.simulation.aps_u_writer import write_aps_u
from heterodyne.simulation.detector_maps import DetectorMaps, build_maps
from heterodyne.simulation.independent import model_matrices, stored_matrices
from heterodyne.simulation.legacy_writer import write_legacy
from heterodyne.simulation.spec import SimulationSpec
from heterodyne.simulation.speckle import SpeckleFrames, correlator_c2, expected_counts, simulate_counts
from heterodyne.simulation.truth import default_truth_path, truth_document


def _raw_frames(spec: SimulationSpec) -> dict[str, Any]:
    return {"n_frames": spec.n_frames, "frame_time": spec.frame_time, "stride": spec.stride_frame,
            "average": spec.avg_frame, "begin": spec.begin_frame}


def speckle_frames(spec: SimulationSpec) -> SpeckleFrames:
    """Photon counts of the processed bins' pixels (:func:`heterodyne.simulation.speckle.simulate_counts`)."""
    bins = spec.processed_bins()
    return simulate_counts(
        spec.truth_vector(),
        np.asarray([info.q for info in bins]),
        np.asarray([info.phi for info in bins]),
        **_raw_frames(spec),
        pixels=spec.pixels_per_bin,
        modes=spec.speckle_modes,
        counts_per_pixel=spec.counts_per_pixel,
        seed=spec.seed,
        shared_pixels=spec.shared_pixel_count,
        velocity_jump=spec.velocity_jump,
    )


def detector_maps(spec: SimulationSpec, frames: SpeckleFrames | None) -> DetectorMaps:
    """The q-map and mean intensities of the file (:mod:`heterodyne.simulation.detector_maps`); pixels not
    simulated carry the expected count at ``counts_per_pixel`` photons per pixel and raw frame."""
    expected = expected_counts(spec.truth_vector(), **_raw_frames(spec), counts_per_pixel=spec.counts_per_pixel)
    return build_maps(spec.q_centres, spec.phi_centres, spec.non_empty_cells(), spec.processed_cells(),
                      spec.pixels_per_bin, None if frames is None else frames.counts, expected)



def simulate_dataset(
    path: str | Path, spec: SimulationSpec | None = None, *, truth_path: str | Path | None = None
) -> Path:
    """Write a simulated result file at ``path`` and its truth JSON; return the truth JSON path."""
    spec = SimulationSpec() if spec is None else spec
    data_path = Path(path).expanduser().resolve()
    truth_file = default_truth_path(data_path) if truth_path is None else Path(truth_path).expanduser().resolve()
    frames = speckle_frames(spec) if spec.noise == "speckle" else None
    stored = stored_matrices(spec, model_matrices(spec)) if frames is None else correlator_c2(frames)
    with atomic_destination(data_path) as temporary, h5py.File(temporary, "w") as h5:
        if spec.layout == aps_u.NAME:
            write_aps_u(h5, spec, stored, detector_maps(spec, frames), data_path.stem)
        else:
            write_legacy(h5, spec, stored)
    with atomic_destination(truth_file) as temporary:
        temporary.write_text(json.dumps(truth_document(spec, data_path), indent=2) + "\n")
    return truth_file
