"""The legacy layout (Matlab / xpcs-eigen): its HDF5 paths.

``/xpcs/output_data`` names the result group (normally ``/exchange``) whose ``C2T_all`` holds the
matrices ``g2_NNNNN``; settings and bin lists are datasets directly under ``/xpcs``, stored (1, 1)
or (1, N); frame numbers are 1-based.
"""

from __future__ import annotations

from heterodyne.layouts import XPCS

NAME = "legacy"

SETTINGS_GROUP = XPCS
RESULT_POINTER = f"{SETTINGS_GROUP}/output_data"
RESULT_GROUP = "/exchange"
"""The group ``RESULT_POINTER`` names in every known file."""
MATRIX_SUBGROUP = "C2T_all"
MATRIX_GROUP = f"{RESULT_GROUP}/{MATRIX_SUBGROUP}"

BINS_TO_PROCESS = f"{SETTINGS_GROUP}/qphi_bin_to_process"
Q_LIST = f"{SETTINGS_GROUP}/dqlist"
PHI_LIST = f"{SETTINGS_GROUP}/dphilist"
N_Q = f"{SETTINGS_GROUP}/dnoq"
N_PHI = f"{SETTINGS_GROUP}/dnophi"
AVERAGE = f"{SETTINGS_GROUP}/avg_frames"
STRIDE = f"{SETTINGS_GROUP}/stride_frames"
DATA_BEGIN = f"{SETTINGS_GROUP}/data_begin"
DATA_END = f"{SETTINGS_GROUP}/data_end"
DATA_BEGIN_TODO = f"{SETTINGS_GROUP}/data_begin_todo"
DATA_END_TODO = f"{SETTINGS_GROUP}/data_end_todo"
ANALYSIS_TYPE = f"{SETTINGS_GROUP}/analysis_type"

MEASUREMENT = "/measurement/instrument"
FRAME_TIME = f"{MEASUREMENT}/detector/exposure_period"
INCIDENT_ENERGY = f"{MEASUREMENT}/source_begin/energy"


def matrix_key(counter: int) -> str:
    """The name of the ``counter``-th matrix (1-based): ``g2_00001``, ``g2_00002``, …"""
    return f"g2_{counter:05d}"
