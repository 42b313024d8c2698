"""Memory check before reading: a selection of n bins over N frames needs n · N² · 8 bytes.

N is the selected frame window (start_frame..end_frame), which is all that is read, not the
stored size of the file.

The budget is the caller's limit when given, otherwise the memory the kernel reports available
(``MemAvailable`` in /proc/meminfo, else ``os.sysconf`` physical pages). When neither can be read
the check is skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

from heterodyne.errors import HeterodyneError

MEMINFO = Path("/proc/meminfo")
BYTES_PER_VALUE = 8


def available_memory_bytes() -> int | None:
    """Memory available to a new allocation, in bytes, or None when the system does not say."""
    try:
        for line in MEMINFO.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def required_bytes(n_bins: int, n_frames: int) -> int:
    """n_bins · N² · 8: the float64 footprint of the selected bins over the N selected frames."""
    return n_bins * n_frames * n_frames * BYTES_PER_VALUE


def check_memory(n_bins: int, n_frames: int, limit_bytes: int | None, file: str) -> None:
    """Refuse a selection whose footprint exceeds the limit (or the available memory)."""
    budget = available_memory_bytes() if limit_bytes is None else int(limit_bytes)
    needed = required_bytes(n_bins, n_frames)
    if budget is not None and needed > budget:
        source = "the memory limit" if limit_bytes is not None else "the available memory"
        raise HeterodyneError(
            f"selection of {n_bins} bins x {n_frames}² frames needs {needed / 2**20:.1f} MiB, more than "
            f"{source} ({budget / 2**20:.1f} MiB), in {file}; select fewer bins or frames"
        )
