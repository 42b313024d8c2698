"""The APS-U layout ("nexus", the APS correlator boost_corr since 2025): its HDF5 paths.

Matrices ``c2_NNNNN`` (zero-padded counters) under ``/xpcs/twotime/correlation_map``, their
compressed q-map labels in ``processed_bins``, the q-map in ``/xpcs/qmap``, the correlator settings
as scalar datasets in ``/xpcs/twotime/config`` and the beamline metadata under ``/entry``.
"""

from __future__ import annotations

from heterodyne.layouts import XPCS

NAME = "aps-u"

ENTRY = "/entry"
DETECTOR = f"{ENTRY}/instrument/detector_1"
FRAME_TIME = f"{DETECTOR}/frame_time"
INCIDENT_ENERGY = f"{ENTRY}/instrument/incident_beam/incident_energy"

RAWDATA_PATH = f"{XPCS}/rawdata_path"
TEMPORAL_MEAN = f"{XPCS}/temporal_mean"
SPATIAL_MEAN = f"{XPCS}/spatial_mean"

QMAP = f"{XPCS}/qmap"
QMAP_DIM0 = f"{QMAP}/dynamic_v_list_dim0"
QMAP_DIM1 = f"{QMAP}/dynamic_v_list_dim1"
QMAP_NUM_PTS = f"{QMAP}/dynamic_num_pts"
QMAP_INDEX_MAPPING = f"{QMAP}/dynamic_index_mapping"
QMAP_MAP_NAMES = f"{QMAP}/map_names"
QMAP_MAP_UNITS = f"{QMAP}/map_units"

TWOTIME = f"{XPCS}/twotime"
MATRIX_GROUP = f"{TWOTIME}/correlation_map"
PROCESSED_BINS = f"{TWOTIME}/processed_bins"
NORMALIZED_G2 = f"{TWOTIME}/normalized_g2"
NORMALIZED_G2_SEGMENTS = f"{TWOTIME}/normalized_g2_segments"
CONFIG_GROUP = f"{TWOTIME}/config"
STRIDE = f"{CONFIG_GROUP}/stride_frame"
AVERAGE = f"{CONFIG_GROUP}/avg_frame"
BEGIN = f"{CONFIG_GROUP}/begin_frame"


def matrix_key(counter: int) -> str:
    """The name of the ``counter``-th matrix (1-based): ``c2_00001``, ``c2_00002``, …"""
    return f"c2_{counter:05d}"
