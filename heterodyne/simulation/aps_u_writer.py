"""The APS-U writer: a simulated file with every path the APS correlator (boost_corr) writes."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import h5py
import numpy as np

from heterodyne import __version__
from heterodyne.layouts import aps_u
from heterodyne.simulation.detector_maps import DetectorMaps
from heterodyne.simulation.g2 import diagonal_average_g2, segment_g2
from heterodyne.simulation.spec import SimulationSpec

DETECTOR_DISTANCE_M = 5.0
PIXEL_SIZE_M = 75e-6
START_TIME = "2000-01-01T00:00:00"
"""The fictitious start of every simulated run (a fixed value, so the same spec gives the same file)."""


def _text(h5: h5py.File, h5path: str, text: str) -> None:
    """A variable-length string dataset, as the correlator writes its text."""
    h5.create_dataset(h5path, data=text, dtype=h5py.string_dtype())


def _write_entry(h5: h5py.File, spec: SimulationSpec) -> None:
    """``/entry``: run metadata as the beamline writes it (fictitious start time, detector geometry)."""
    start = datetime.fromisoformat(START_TIME)
    raw_frames = spec.end_frame + 1
    _text(h5, f"{aps_u.ENTRY}/start_time", START_TIME)
    _text(h5, f"{aps_u.ENTRY}/end_time", (start + timedelta(seconds=raw_frames * spec.frame_time)).isoformat())
    _text(h5, f"{aps_u.ENTRY}/schema_version", "1.0")
    _text(h5, f"{aps_u.ENTRY}/sample/name", "heterodyne simulation")
    h5[f"{aps_u.ENTRY}/instrument/bluesky/metadata/num_images"] = np.int64(raw_frames)
    _text(h5, f"{aps_u.ENTRY}/instrument/bluesky/metadata/plan_name", "heterodyne_simulate")
    detector = aps_u.DETECTOR
    for name in ("beam_center_position_x", "beam_center_position_y", "beam_center_x", "beam_center_y",
                 "position_x", "position_y"):
        h5[f"{detector}/{name}"] = np.float64(0.0)
    h5[f"{detector}/count_time"] = np.float64(spec.frame_time)
    h5[aps_u.FRAME_TIME] = np.float64(spec.frame_time)
    h5[f"{detector}/distance"] = np.float64(DETECTOR_DISTANCE_M)
    h5[f"{detector}/x_pixel_size"] = np.float64(PIXEL_SIZE_M)
    h5[f"{detector}/y_pixel_size"] = np.float64(PIXEL_SIZE_M)
    h5[aps_u.INCIDENT_ENERGY] = np.float64(spec.incident_energy_kev)


def _lzf(h5: h5py.File, h5path: str, data: np.ndarray) -> None:
    h5.create_dataset(h5path, data=data, compression="lzf", chunks=data.shape)


def _write_qmap(h5: h5py.File, spec: SimulationSpec, maps: DetectorMaps, name: str) -> None:
    """``/xpcs/qmap``: the natural grids, the labels of the non-empty cells, the region maps."""
    n_q, n_phi = len(spec.q_centres), len(spec.phi_centres)
    qmap = aps_u.QMAP
    h5[aps_u.QMAP_DIM0] = np.asarray(spec.q_centres, dtype=np.float64)
    h5[aps_u.QMAP_DIM1] = np.asarray(spec.phi_centres, dtype=np.float64)
    h5[aps_u.QMAP_NUM_PTS] = np.array([n_q, n_phi], dtype=np.int64)
    natural_indices = [q_index * n_phi + phi_index for q_index, phi_index in spec.non_empty_cells()]
    h5[aps_u.QMAP_INDEX_MAPPING] = np.array(natural_indices, dtype=np.int64)
    h5[f"{qmap}/static_v_list_dim0"] = maps.static_q
    h5[f"{qmap}/static_v_list_dim1"] = maps.static_phi
    h5[f"{qmap}/static_num_pts"] = np.array([maps.static_q.size, maps.static_phi.size], dtype=np.int64)
    h5[f"{qmap}/static_index_mapping"] = maps.static_index_mapping
    h5[aps_u.QMAP_MAP_NAMES] = np.array([b"q", b"phi"])
    h5[aps_u.QMAP_MAP_UNITS] = np.array([b"1/A", b"deg"])
    for map_name in ("dynamic_roi_map", "static_roi_map", "mask"):
        _lzf(h5, f"{qmap}/{map_name}", getattr(maps, map_name))
    _lzf(h5, f"{qmap}/blemish", np.ones_like(maps.mask))
    h5[f"{qmap}/beam_center_x"] = np.float64(0.0)
    h5[f"{qmap}/beam_center_y"] = np.float64(0.0)
    h5[f"{qmap}/detector_distance"] = np.float64(DETECTOR_DISTANCE_M)
    h5[f"{qmap}/pixel_size"] = np.float64(PIXEL_SIZE_M)
    h5[f"{qmap}/energy"] = np.float64(spec.incident_energy_kev)
    _text(h5, f"{qmap}/source_file", f"{name}_qmap.hdf")
    digest = hashlib.sha256(maps.dynamic_roi_map.tobytes() + maps.static_roi_map.tobytes()).hexdigest()
    h5[qmap].attrs["hash"] = digest
    h5[qmap].attrs["version"] = f"heterodyne {__version__}"


def _write_twotime(h5: h5py.File, spec: SimulationSpec, stored: np.ndarray, name: str) -> None:
    """``/xpcs/twotime``: the matrices, their labels, g2 and the correlator settings (its defaults
    where a simulation has no counterpart)."""
    for index, matrix in enumerate(stored, start=1):
        _lzf(h5, f"{aps_u.MATRIX_GROUP}/{aps_u.matrix_key(index)}", matrix)
    h5[aps_u.PROCESSED_BINS] = np.array([info.label for info in spec.processed_bins()], dtype=np.int64)
    h5[aps_u.NORMALIZED_G2] = diagonal_average_g2(stored)
    h5[aps_u.NORMALIZED_G2_SEGMENTS] = segment_g2(stored)
    config = aps_u.CONFIG_GROUP
    for setting in ("avg_frame", "stride_frame", "begin_frame"):
        h5[f"{config}/{setting}"] = np.int64(getattr(spec, setting))
    settings = {"end_frame": np.int64(-1), "gpu_id": np.int64(-1), "num_loaders": np.int64(1),
                "num_partial_g2": np.int64(0), "bin_time_s": np.float64(1e-6), "crop_ratio_threshold": np.float64(1.0),
                "max_memory": np.float64(36.0), "normalize_frame": np.True_, "overwrite": np.True_,
                "save_G2": np.False_, "verbose": np.False_}
    for setting, value in settings.items():
        h5[f"{config}/{setting}"] = value
    texts = {"analysis_type": "twotime", "output": "results", "qmap": f"{name}_qmap.hdf", "raw": f"{name}.h5",
             "smooth": "sqmap"}
    for setting, text in texts.items():
        _text(h5, f"{config}/{setting}", text)


def write_aps_u(h5: h5py.File, spec: SimulationSpec, stored: np.ndarray, maps: DetectorMaps, name: str) -> None:
    """APS-U layout with every path the APS correlator (boost_corr) writes; ``name``: the run's name."""
    _write_entry(h5, spec)
    _write_qmap(h5, spec, maps, name)
    _write_twotime(h5, spec, stored, name)
    _text(h5, aps_u.RAWDATA_PATH, f"{name}.h5")
    h5[f"{aps_u.TEMPORAL_MEAN}/scattering_1d"] = maps.scattering_1d()
    h5[f"{aps_u.TEMPORAL_MEAN}/scattering_1d_segments"] = maps.scattering_1d_segments()
    _lzf(h5, f"{aps_u.TEMPORAL_MEAN}/scattering_2d", maps.image[None].astype(np.float32))
    h5[f"{aps_u.SPATIAL_MEAN}/intensity_vs_time"] = maps.intensity_vs_time()

