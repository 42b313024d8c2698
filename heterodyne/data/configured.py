"""The data a run's config selects, and the data a finished run analysed."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from heterodyne.config.tree import AnalysisConfig
from heterodyne.errors import HeterodyneError


def load_selected_data(config: AnalysisConfig):
    """The data selected by the config's experimental_data and analyzer_parameters sections."""
    from heterodyne.data import load_file

    selection = config.experimental_data
    frames = config.analyzer_parameters
    if selection.file_path is None:
        raise HeterodyneError("no data file: give --data or set experimental_data.file_path")
    return load_file(
        selection.file_path,
        q=selection.q, q_tolerance=selection.q_tolerance,
        phi=selection.phi, phi_tolerance=selection.phi_tolerance,
        start_frame=frames.start_frame, end_frame=frames.end_frame, dt=frames.dt,
        time_origin=frames.time_origin,
    )


def load_run_data(result: dict, data_file: Path | None = None):
    """The data a finished run analysed: its config's selection, read from ``data_file`` or the
    file the run recorded, refused when the file's SHA-256 is not the run's."""
    recorded = AnalysisConfig.from_resolved(result["config"])
    file_path = str(data_file if data_file is not None else result["data_file"])
    config = dataclasses.replace(recorded,
                                 experimental_data=dataclasses.replace(recorded.experimental_data, file_path=file_path))
    data = load_selected_data(config)
    if data.provenance["sha256"] != result["data_sha256"]:
        raise HeterodyneError(f"{data.provenance['file']}: not the run's data (its SHA-256 differs from data_sha256)")
    return data
