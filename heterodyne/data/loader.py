"""Load the selected two-time matrices of a result file: :func:`load_file` → :class:`XpcsData`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from heterodyne.data.file_scan import summarize_open_file
from heterodyne.data.h5access import open_readonly
from heterodyne.data.hashing import file_sha256
from heterodyne.data.matrices import read_symmetric_block
from heterodyne.data.memory import check_memory
from heterodyne.data.selection import PhiItem, select_bins, select_frames
from heterodyne.data.timebase import resolve_dt, resolve_time_origin


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class XpcsData:
    """Selected two-time data with its provenance. Arrays are read-only.

    c2: (A, N, N) float64, full symmetric matrices of the A selected bins over N frames.
    q: (A,) Å⁻¹; phi: (A,) degrees; frames: (N,) int64 absolute 1-based stored-frame numbers;
    dt: seconds between stored frames; time_origin: t_0, so frame k is at t_k = t_0 + k · dt
    (:mod:`heterodyne.data.timebase`).
    provenance: file, sha256, layout, matrix_group, correlator_config, incident_energy (keV or
    None), selected_bins [{key, label, q, phi}], dt, dt_source ("file" | "config"), dt_file,
    time_origin, time_origin_source ("config", the begin frame's HDF5 path, or None: none
    recorded), time_base (factors, begin frame and their HDF5 paths), start_frame, end_frame,
    n_frames_stored.
    """

    c2: np.ndarray
    q: np.ndarray
    phi: np.ndarray
    frames: np.ndarray
    dt: float
    provenance: dict[str, Any]
    time_origin: float = 0.0

    @property
    def times(self) -> np.ndarray:
        """t_k = t_0 + k · dt for the absolute stored-frame numbers k."""
        return self.time_origin + self.frames * self.dt

    @property
    def n_angles(self) -> int:
        """A, the number of selected bins."""
        return int(self.c2.shape[0])

    @property
    def n_frames(self) -> int:
        """N, the number of selected frames."""
        return int(self.c2.shape[1])


def load_file(
    path: str | Path,
    *,
    q: float | None = None,
    q_tolerance: float = 0.05,
    phi: float | Sequence[PhiItem] | None = None,
    phi_tolerance: float = 1.0,
    start_frame: int = 1,
    end_frame: int | None = None,
    dt: float | None = None,
    time_origin: float | None = None,
    memory_limit_bytes: int | None = None,
) -> XpcsData:
    """Read the bins and frames selected from a two-time result file (any supported layout).

    Selection (see :mod:`heterodyne.data.selection`): ``q`` nearest stored q within the relative
    ``q_tolerance`` (None: all); ``phi`` None (all φ at that q) or a list of angles (matched within
    ``phi_tolerance`` degrees) and/or ``[lo, hi]`` ranges. Frames ``start_frame``..``end_frame``
    (1-based, inclusive; None: last). ``dt`` overrides the file's time step and ``time_origin``
    the time t_0 the file's begin frame gives (t_k = t_0 + k · dt). The memory the selection
    needs (bins × N² × 8 bytes for the N selected frames) is checked against
    ``memory_limit_bytes`` (default: the available memory) before any matrix is read. Every bad
    input raises HeterodyneError.
    """
    resolved = Path(path).expanduser().resolve()
    file = str(resolved)
    with open_readonly(resolved) as h5:
        summary = summarize_open_file(h5, resolved)
        dt_value, dt_source = resolve_dt(summary.time_step, dt, file)
        origin, origin_source = resolve_time_origin(summary.time_step, dt_value, time_origin, file)
        selected = select_bins(
            summary.bins, q=q, q_tolerance=q_tolerance, phi=phi, phi_tolerance=phi_tolerance, file=file
        )
        frames = select_frames(start_frame, end_frame, summary.n_frames, file)
        check_memory(len(selected), frames.count, memory_limit_bytes, file)
        c2 = np.empty((len(selected), frames.count, frames.count), dtype=np.float64)
        for index, info in enumerate(selected):
            c2[index] = read_symmetric_block(h5[summary.matrix_path(info.key)], frames)
    provenance: dict[str, Any] = {
        "file": file,
        "sha256": file_sha256(resolved),
        "layout": summary.layout,
        "matrix_group": summary.matrix_group,
        "correlator_config": dict(summary.config),
        "incident_energy": summary.incident_energy,
        "selected_bins": [info.as_dict() for info in selected],
        "dt": dt_value,
        "dt_source": dt_source,
        "dt_file": summary.dt_file,
        "time_origin": origin,
        "time_origin_source": origin_source,
        "time_base": summary.time_step.as_dict(),
        "start_frame": frames.start,
        "end_frame": frames.end,
        "n_frames_stored": summary.n_frames,
    }
    return XpcsData(
        c2=_read_only(c2),
        q=_read_only(np.array([info.q for info in selected], dtype=np.float64)),
        phi=_read_only(np.array([info.phi for info in selected], dtype=np.float64)),
        frames=_read_only(frames.numbers),
        dt=dt_value,
        provenance=provenance,
        time_origin=origin,
    )
