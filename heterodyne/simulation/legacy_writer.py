"""The legacy writer (Matlab / xpcs-eigen layout, docs/data-formats.md)."""

from __future__ import annotations

import h5py
import numpy as np

from heterodyne.layouts import legacy
from heterodyne.simulation.spec import SimulationSpec


def write_legacy(h5: h5py.File, spec: SimulationSpec, stored: np.ndarray) -> None:
    """Legacy layout (docs/data-formats.md): every natural cell is a dynamic partition (1-based)."""
    n_q, n_phi = len(spec.q_centres), len(spec.phi_centres)
    h5[legacy.RESULT_POINTER] = np.bytes_(legacy.RESULT_GROUP.encode())
    for index, matrix in enumerate(stored, start=1):
        h5.create_dataset(
            f"{legacy.MATRIX_GROUP}/{legacy.matrix_key(index)}", data=matrix, compression="gzip", chunks=matrix.shape
        )
    partitions = np.array(
        [[q_index * n_phi + phi_index + 1] for q_index, phi_index in spec.processed_cells()], dtype=np.uint64
    )
    h5[legacy.BINS_TO_PROCESS] = partitions
    h5[legacy.Q_LIST] = np.repeat(np.asarray(spec.q_centres, dtype=np.float64), n_phi)[None, :]
    h5[legacy.PHI_LIST] = np.tile(np.asarray(spec.phi_centres, dtype=np.float64), n_q)[None, :]
    h5[legacy.N_Q] = np.full((1, 1), n_q, dtype=np.float64)
    h5[legacy.N_PHI] = np.full((1, 1), n_phi, dtype=np.float64)
    h5[legacy.AVERAGE] = np.full((1, 1), spec.avg_frame, dtype=np.uint64)
    h5[legacy.STRIDE] = np.full((1, 1), spec.stride_frame, dtype=np.uint64)
    # Legacy frame numbers are 1-based: data_begin/data_end span the raw file, *_todo the processed run.
    h5[legacy.DATA_BEGIN] = np.full((1, 1), 1, dtype=np.uint64)
    h5[legacy.DATA_END] = np.full((1, 1), spec.end_frame + 1, dtype=np.uint64)
    h5[legacy.DATA_BEGIN_TODO] = np.full((1, 1), spec.begin_frame + 1, dtype=np.uint64)
    h5[legacy.DATA_END_TODO] = np.full((1, 1), spec.end_frame + 1, dtype=np.uint64)
    h5[legacy.ANALYSIS_TYPE] = np.bytes_(b"Twotime")
    h5[legacy.FRAME_TIME] = np.full((1, 1), spec.frame_time)
    h5[legacy.INCIDENT_ENERGY] = np.full((1, 1), spec.incident_energy_kev)

