"""What a result file holds, read from metadata only (no matrix data): :func:`scan_file`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import h5py

from heterodyne.data.bins import BinInfo, read_bin_table
from heterodyne.data.h5access import Scalar, open_readonly
from heterodyne.data.layouts import Layout, detect_layout, matrix_keys
from heterodyne.data.metadata import read_correlator_config, read_incident_energy
from heterodyne.data.timebase import TimeStep, read_time_step
from heterodyne.errors import HeterodyneError


@dataclass(frozen=True)
class FileSummary:
    """Layout, bin table, stored frame count T, time base, correlator config and energy of a file."""

    path: str
    layout: str
    matrix_group: str
    bins: tuple[BinInfo, ...]
    n_frames: int
    time_step: TimeStep
    config: dict[str, Scalar] = field(default_factory=dict)
    incident_energy: float | None = None

    @property
    def dt_file(self) -> float | None:
        """frame_time × stride × avg from the file, or None when it records no frame time."""
        return self.time_step.dt

    def matrix_path(self, key: str) -> str:
        """The HDF5 path of the matrix stored under ``key``."""
        return f"{self.matrix_group}/{key}"


def _stored_size(h5: h5py.File, layout: Layout, keys: list[str]) -> int:
    """T of the stored (T, T) matrices; every matrix must be square and of the same size."""
    sizes = set()
    for key in keys:
        shape = h5[f"{layout.matrix_group}/{key}"].shape
        if len(shape) != 2 or shape[0] != shape[1]:
            raise HeterodyneError(
                f"matrix is not square, shape {shape} in {h5.filename} at {layout.matrix_group}/{key}"
            )
        sizes.add(shape[0])
        if len(sizes) > 1:
            raise HeterodyneError(
                f"matrices differ in size ({sorted(sizes)}) in {h5.filename} at {layout.matrix_group}/{key}"
            )
    return sizes.pop()


def summarize_open_file(h5: h5py.File, path: Path) -> FileSummary:
    """Summary of an already opened file (the loader reuses the open handle)."""
    layout = detect_layout(h5)
    keys = matrix_keys(h5, layout)
    return FileSummary(
        path=str(path),
        layout=layout.name,
        matrix_group=layout.matrix_group,
        bins=read_bin_table(h5, layout, keys),
        n_frames=_stored_size(h5, layout, keys),
        time_step=read_time_step(h5, layout),
        config=read_correlator_config(h5, layout),
        incident_energy=read_incident_energy(h5, layout),
    )


def scan_file(path: str | Path) -> FileSummary:
    """Describe a two-time result file without reading any matrix data."""
    resolved = Path(path).expanduser().resolve()
    with open_readonly(resolved) as h5:
        return summarize_open_file(h5, resolved)
