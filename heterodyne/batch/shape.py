"""The shape of a run's data, known before any job runs: selected bins, frames and point count.

For a file on disk the bin table and frame count come from its metadata (no matrix is read);
for a dataset the workflow will simulate, from the simulation settings. The same selection
rules as the loader apply, so an impossible selection fails here, before any job starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from heterodyne.config.tree import AnalysisConfig
from heterodyne.data import BinInfo, scan_file
from heterodyne.data.selection import FrameRange, select_bins, select_frames
from heterodyne.simulation import SimulationSpec


@dataclass(frozen=True)
class DataShape:
    """The bin table and stored frame count T of a file."""

    source: str
    bins: tuple[BinInfo, ...]
    n_frames: int


def simulation_spec(settings: Mapping[str, Any]) -> SimulationSpec:
    """The :class:`SimulationSpec` of a ``datasets.simulate`` entry (defaults filled by the schema)."""
    jump = settings.get("velocity_jump", {"time": None, "factor": 1.0})
    return SimulationSpec(n_frames=settings["frames"], seed=settings["seed"], noise_sigma=settings["noise"],
                          layout=settings["layout"], params=dict(settings["truth"]),
                          velocity_jump_time=jump["time"], velocity_jump_factor=jump["factor"])


def simulated_shape(name: str, settings: Mapping[str, Any]) -> DataShape:
    """The shape the simulate rule's file will have."""
    spec = simulation_spec(settings)
    bins = tuple(BinInfo(key=f"c2_{index:05d}", label=info.label, q=info.q, phi=info.phi)
                 for index, info in enumerate(spec.processed_bins(), start=1))
    return DataShape(f"simulated dataset {name}", bins, spec.n_frames)


def file_shape(path: str) -> DataShape:
    """The shape of a file on disk, from its metadata."""
    summary = scan_file(path)
    return DataShape(summary.path, summary.bins, summary.n_frames)


@dataclass(frozen=True)
class Selection:
    """How much of a file a run reads: A selected bins of N frames each."""

    n_angles: int
    n_frames: int

    @property
    def n_points(self) -> int:
        """A · N (N − 1) / 2: the strict-upper-triangle points of every selected bin."""
        return self.n_angles * self.n_frames * (self.n_frames - 1) // 2

    @property
    def data_bytes(self) -> int:
        """A · N² · 8: the selected matrices as float64."""
        return self.n_angles * self.n_frames * self.n_frames * 8


def selection(shape: DataShape, config: AnalysisConfig) -> Selection:
    """The bins and frames ``config`` selects from data of this shape (errors name the source)."""
    chosen = config.experimental_data
    bins = select_bins(shape.bins, q=chosen.q, q_tolerance=chosen.q_tolerance,
                       phi=chosen.phi, phi_tolerance=chosen.phi_tolerance, file=shape.source)
    return Selection(len(bins), frame_block(shape, config).count)


def frame_block(shape: DataShape, config: AnalysisConfig) -> FrameRange:
    """The frames ``config`` selects from data of this shape (errors name the source)."""
    frames = config.analyzer_parameters
    return select_frames(frames.start_frame, frames.end_frame, shape.n_frames, shape.source)
