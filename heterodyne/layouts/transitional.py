"""The transitional layout: legacy ``C2T_all`` matrices under ``/xpcs`` beside APS-U metadata.

Its labels, q-map and settings are read from whichever of the APS-U or legacy paths the file
carries (APS-U first).
"""

from __future__ import annotations

from heterodyne.layouts import XPCS, legacy

NAME = "transitional"

MATRIX_GROUP = f"{XPCS}/{legacy.MATRIX_SUBGROUP}"
