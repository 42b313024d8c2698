"""The legacy writer (Matlab / xpcs-eigen layout, docs/data-formats.md)."""

from __future__ import annotations

import h5py
import numpy as np

from heterodyne.simulation.spec import SimulationSpec


def write_legacy(h5: h5py.File, spec: SimulationSpec, stored: np.ndarray) -> None:
    """Legacy layout (docs/data-formats.md): every natural cell is a dynamic partition (1-based)."""
    n_q, n_phi = len(spec.q_centres), len(spec.phi_centres)
    h5["/xpcs/output_data"] = np.bytes_(b"/exchange")
    for index, matrix in enumerate(stored, start=1):
        h5.create_dataset(
            f"/exchange/C2T_all/g2_{index:05d}", data=matrix, compression="gzip", chunks=matrix.shape
        )
    partitions = np.array(
        [[q_index * n_phi + phi_index + 1] for q_index, phi_index in spec.processed_cells()], dtype=np.uint64
    )
    h5["/xpcs/qphi_bin_to_process"] = partitions
    h5["/xpcs/dqlist"] = np.repeat(np.asarray(spec.q_centres, dtype=np.float64), n_phi)[None, :]
    h5["/xpcs/dphilist"] = np.tile(np.asarray(spec.phi_centres, dtype=np.float64), n_q)[None, :]
    h5["/xpcs/dnoq"] = np.full((1, 1), n_q, dtype=np.float64)
    h5["/xpcs/dnophi"] = np.full((1, 1), n_phi, dtype=np.float64)
    h5["/xpcs/avg_frames"] = np.full((1, 1), spec.avg_frame, dtype=np.uint64)
    h5["/xpcs/stride_frames"] = np.full((1, 1), spec.stride_frame, dtype=np.uint64)
    # Legacy frame numbers are 1-based: data_begin/data_end span the raw file, *_todo the processed run.
    h5["/xpcs/data_begin"] = np.full((1, 1), 1, dtype=np.uint64)
    h5["/xpcs/data_end"] = np.full((1, 1), spec.end_frame + 1, dtype=np.uint64)
    h5["/xpcs/data_begin_todo"] = np.full((1, 1), spec.begin_frame + 1, dtype=np.uint64)
    h5["/xpcs/data_end_todo"] = np.full((1, 1), spec.end_frame + 1, dtype=np.uint64)
    h5["/xpcs/analysis_type"] = np.bytes_(b"Twotime")
    h5["/measurement/instrument/detector/exposure_period"] = np.full((1, 1), spec.frame_time)
    h5["/measurement/instrument/source_begin/energy"] = np.full((1, 1), spec.incident_energy_kev)

