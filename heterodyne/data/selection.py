"""Choosing what to read: bins by (q, φ) and a block of frames.

Bins. ``q`` picks the stored q nearest to the requested value, accepted when
``|q_stored − q| ≤ q_tolerance · q``; None keeps every q. ``phi`` is None (every φ at the chosen q)
or a list whose items are angles (each must match a stored φ within ``phi_tolerance`` degrees,
compared modulo 360°; a single number is a one-item list) or ``[lo, hi]`` ranges in degrees
(inclusive, also matched modulo 360°).
Bins keep the file's key order.

Frames. ``start_frame`` and ``end_frame`` are 1-based and inclusive (model.md §2); ``end_frame``
None means the last stored frame. The block holds N = end − start + 1 ≥ 2 frames and frame k has
time t_k = k · dt, k absolute.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from heterodyne.data.bins import BinInfo
from heterodyne.errors import HeterodyneError

PhiItem = float | Sequence[float]
MAX_LISTED_Q = 10
MAX_LISTED_PHI = 16


@dataclass(frozen=True)
class FrameRange:
    """Frames ``start`` … ``end`` (1-based, inclusive) of the stored matrices."""

    start: int
    end: int

    @property
    def count(self) -> int:
        """N = end − start + 1."""
        return self.end - self.start + 1

    @property
    def numbers(self) -> np.ndarray:
        """The absolute 1-based frame numbers, int64."""
        return np.arange(self.start, self.end + 1, dtype=np.int64)

    @property
    def rows(self) -> slice:
        """The 0-based row (and column) slice of the stored matrix."""
        return slice(self.start - 1, self.end)


def describe_bins(bins: Sequence[BinInfo]) -> str:
    """One compact line of what a file holds: each q with its φ list."""
    by_q: dict[float, list[float]] = {}
    for info in bins:
        by_q.setdefault(info.q, []).append(info.phi)
    parts = []
    for q, phis in sorted(by_q.items())[:MAX_LISTED_Q]:
        listed = ", ".join(f"{phi:g}" for phi in sorted(phis)[:MAX_LISTED_PHI])
        more = f", … (+{len(phis) - MAX_LISTED_PHI})" if len(phis) > MAX_LISTED_PHI else ""
        parts.append(f"q={q:.5g} φ=[{listed}{more}]")
    if len(by_q) > MAX_LISTED_Q:
        parts.append(f"… (+{len(by_q) - MAX_LISTED_Q} more q)")
    return "; ".join(parts)


def angular_distance(a: np.ndarray | float, b: float) -> np.ndarray:
    """|a − b| in degrees, folded into [0, 180]."""
    return np.abs((np.asarray(a, dtype=np.float64) - b + 180.0) % 360.0 - 180.0)


def _in_range(phi: np.ndarray, low: float, high: float) -> np.ndarray:
    """φ ∈ [low, high] for φ or any of its 360° images."""
    return np.any([(low <= phi + shift) & (phi + shift <= high) for shift in (-360.0, 0.0, 360.0)], axis=0)


def _number(value: object, what: str, file: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
        raise HeterodyneError(f"{what} must be a finite number, got {value!r} (selection for {file})")
    return float(value)


def _select_q(bins: Sequence[BinInfo], q: float, q_tolerance: float, file: str) -> list[BinInfo]:
    target = _number(q, "q", file)
    tolerance = _number(q_tolerance, "q_tolerance", file)
    if target <= 0 or tolerance < 0:
        raise HeterodyneError(f"need q > 0 and q_tolerance >= 0, got q={q}, q_tolerance={q_tolerance} ({file})")
    stored = np.array(sorted({info.q for info in bins}))
    nearest = float(stored[np.argmin(np.abs(stored - target))])
    if abs(nearest - target) > tolerance * target:
        raise HeterodyneError(
            f"no bin with q within {tolerance:.0%} of {target:g} (nearest {nearest:.5g}) in {file}; "
            f"it holds {describe_bins(bins)}"
        )
    return [info for info in bins if info.q == nearest]


def _select_phi(
    bins: list[BinInfo], phi: float | Sequence[PhiItem], phi_tolerance: float, file: str
) -> list[BinInfo]:
    tolerance = _number(phi_tolerance, "phi_tolerance", file)
    if tolerance < 0:
        raise HeterodyneError(f"phi_tolerance must be >= 0, got {phi_tolerance} ({file})")
    if isinstance(phi, numbers.Real):
        phi = [float(phi)]
    if isinstance(phi, str) or not isinstance(phi, Sequence):
        raise HeterodyneError(f"phi must be a list of angles or [lo, hi] ranges, got {phi!r} ({file})")
    angles = np.array([info.phi for info in bins])
    chosen = np.zeros(len(bins), dtype=bool)
    for item in phi:
        if isinstance(item, Sequence) and not isinstance(item, str):
            if len(item) != 2:
                raise HeterodyneError(f"a phi range must be [lo, hi], got {item!r} ({file})")
            low, high = (_number(edge, "phi range edge", file) for edge in item)
            if low > high:
                raise HeterodyneError(f"phi range [{low:g}, {high:g}] has lo > hi ({file})")
            chosen |= _in_range(angles, low, high)
            continue
        angle = _number(item, "phi", file)
        matches = angular_distance(angles, angle) <= tolerance
        if not matches.any():
            raise HeterodyneError(
                f"no bin with phi within {tolerance:g}° of {angle:g}° in {file}; "
                f"the selection holds {describe_bins(bins)}"
            )
        chosen |= matches
    return [info for info, keep in zip(bins, chosen, strict=True) if keep]


def select_bins(
    bins: Sequence[BinInfo],
    *,
    q: float | None,
    q_tolerance: float,
    phi: float | Sequence[PhiItem] | None,
    phi_tolerance: float,
    file: str,
) -> tuple[BinInfo, ...]:
    """The bins matching the q and φ selection, in key order; an empty result is an error."""
    candidates = list(bins) if q is None else _select_q(bins, q, q_tolerance, file)
    selected = candidates if phi is None else _select_phi(candidates, phi, phi_tolerance, file)
    if not selected:
        raise HeterodyneError(
            f"no bin matches q={q}, phi={phi} in {file}; it holds {describe_bins(bins)}"
        )
    return tuple(selected)


def _frame_number(value: object, what: str, file: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise HeterodyneError(f"{what} must be an integer frame number, got {value!r} ({file})")
    return int(value)


def select_frames(start_frame: int, end_frame: int | None, n_stored: int, file: str) -> FrameRange:
    """Validate the 1-based inclusive frame block against the T stored frames."""
    start = _frame_number(start_frame, "start_frame", file)
    end = n_stored if end_frame is None else _frame_number(end_frame, "end_frame", file)
    if start < 1:
        raise HeterodyneError(f"start_frame = {start} must be >= 1 (frames are numbered from 1) ({file})")
    if start > n_stored:
        raise HeterodyneError(f"start_frame = {start} is beyond the data: {file} has {n_stored} frames")
    if end > n_stored:
        raise HeterodyneError(f"end_frame = {end} is beyond the data: {file} has {n_stored} frames")
    if start > end:
        raise HeterodyneError(f"start_frame = {start} is after end_frame = {end} ({file})")
    if end - start + 1 < 2:
        raise HeterodyneError(
            f"frames {start}..{end} hold {end - start + 1} frame; at least 2 are needed ({file})"
        )
    return FrameRange(start, end)
