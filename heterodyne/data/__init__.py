"""Reading two-time correlation result files (docs/data-formats.md).

Public API:

- :func:`load_file` — select bins and frames and read them as full symmetric float64 matrices
  with provenance (:class:`XpcsData`).
- :func:`scan_file` — the layout, bin table, frame count, time base, correlator config and energy
  of a file, without reading matrix data (:class:`FileSummary`).
- :func:`file_sha256` — streamed SHA-256 of a file.
"""

from heterodyne.data.bins import BinInfo
from heterodyne.data.file_scan import FileSummary, scan_file
from heterodyne.data.hashing import file_sha256
from heterodyne.data.layouts import APS_U, LEGACY, TRANSITIONAL
from heterodyne.data.loader import XpcsData, load_file
from heterodyne.data.timebase import TimeStep

__all__ = [
    "APS_U",
    "LEGACY",
    "TRANSITIONAL",
    "BinInfo",
    "FileSummary",
    "TimeStep",
    "XpcsData",
    "file_sha256",
    "load_file",
    "scan_file",
]
