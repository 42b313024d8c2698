"""Detector-sized maps of a simulated file: the q-map's region maps and the mean intensities.

The APS correlator's file carries, beside the two-time matrices, the q-map it used (a dynamic and a
static label per pixel) and mean intensities (per pixel over time, per static bin over time and
over time segments, per frame over the detector). A simulated file has no real detector, so it
uses a fictitious one: one row per natural (q, φ) cell in q-major order, ``pixels`` columns; the
row of an empty cell is masked out. Each dynamic cell (i, j) splits into 2 × 2 static cells
(2i + a, 2j + b), a, b ∈ {0, 1}, whose pixels are the quarters g = 2a + b of the row, the groups
:mod:`heterodyne.simulation.speckle` normalises each frame by. Static centres sit at c ± Δ/4 of the dynamic
centre c, Δ the smallest spacing of the dynamic centres (10 % of q, or 10° of φ, for a single one).

Pixels of the processed bins of a speckle simulation carry their simulated counts; every other
pixel (and every pixel of an independent-noise simulation) carries the expected mean count of its
frame, since nothing was simulated there. Compressed labels (1-based) number the non-empty cells
in natural order; ``*_index_mapping`` gives the natural 0-based index of each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from heterodyne.simulation.speckle import STATIC_BINS_PER_BIN

STATIC_SPLIT = math.isqrt(STATIC_BINS_PER_BIN)
"""Static cells per dynamic cell along q and along φ."""
MEAN_SEGMENTS = 10
"""Time segments of ``scattering_1d_segments``, as the correlator writes."""


@dataclass(frozen=True)
class DetectorMaps:
    """Maps (H, W) of the fictitious detector and the mean intensities derived from its pixels.

    ``static_means`` (N, S): mean count per pixel of each non-empty static cell (compressed order)
    in each stored frame; ``image`` (H, W): mean count of each pixel over the stored frames.
    """

    dynamic_roi_map: np.ndarray
    static_roi_map: np.ndarray
    mask: np.ndarray
    static_q: np.ndarray
    static_phi: np.ndarray
    static_index_mapping: np.ndarray
    static_means: np.ndarray
    image: np.ndarray

    def scattering_1d(self) -> np.ndarray:
        """(1, S) float32: the time mean of each static cell."""
        return self.static_means.mean(axis=0, keepdims=True).astype(np.float32)

    def scattering_1d_segments(self) -> np.ndarray:
        """(G, S) float32: the mean of each static cell over G = min(10, N) consecutive time segments."""
        segments = np.array_split(self.static_means, min(MEAN_SEGMENTS, self.static_means.shape[0]), axis=0)
        return np.stack([segment.mean(axis=0) for segment in segments]).astype(np.float32)

    def intensity_vs_time(self) -> np.ndarray:
        """(2, N) float32: stored-frame index (0-based) and the mean count per unmasked pixel."""
        n_frames = self.static_means.shape[0]
        return np.stack([np.arange(n_frames), self.static_means.mean(axis=1)]).astype(np.float32)


def _split_centres(centres: tuple[float, ...], single_span: float) -> np.ndarray:
    """Static centres c ± Δ/4 of each dynamic centre, in order."""
    values = np.asarray(centres, dtype=np.float64)
    span = float(np.min(np.abs(np.diff(values)))) if values.size > 1 else single_span
    offsets = (np.arange(STATIC_SPLIT) + 0.5) / STATIC_SPLIT - 0.5
    return (values[:, None] + span * offsets[None, :]).ravel()


def _labels(size: int) -> np.dtype:
    return np.min_scalar_type(size)


def build_maps(
    q_centres: tuple[float, ...],
    phi_centres: tuple[float, ...],
    non_empty_cells: list[tuple[int, int]],
    processed_cells: list[tuple[int, int]],
    pixels: int,
    counts: np.ndarray | None,
    expected: np.ndarray,
) -> DetectorMaps:
    """The maps of the fictitious detector.

    ``counts`` (K, N, pixels): the simulated counts of the processed cells, in their order, or None;
    ``expected`` (N,): the mean count per pixel of each stored frame, for every other pixel.
    """
    n_q, n_phi = len(q_centres), len(phi_centres)
    group = pixels // STATIC_BINS_PER_BIN
    dynamic = np.zeros((n_q * n_phi, pixels), dtype=_labels(len(non_empty_cells)))
    static = np.zeros((n_q * n_phi, pixels), dtype=_labels(len(non_empty_cells) * STATIC_BINS_PER_BIN))
    image = np.zeros((n_q * n_phi, pixels))
    simulated = {cell: index for index, cell in enumerate(processed_cells)}
    static_cells = []  # (natural static index, row, pixel slice, mean count per frame)
    for label, (q_index, phi_index) in enumerate(non_empty_cells, start=1):
        row = q_index * n_phi + phi_index
        dynamic[row] = label
        cell = (q_index, phi_index)
        cell_counts = counts[simulated[cell]] if counts is not None and cell in simulated else None
        image[row] = expected.mean() if cell_counts is None else cell_counts.mean(axis=0)
        for g in range(STATIC_BINS_PER_BIN):
            sub_q, sub_phi = divmod(g, STATIC_SPLIT)
            natural = (STATIC_SPLIT * q_index + sub_q) * STATIC_SPLIT * n_phi + STATIC_SPLIT * phi_index + sub_phi
            pixel_slice = slice(g * group, (g + 1) * group)
            means = expected if cell_counts is None else cell_counts[:, pixel_slice].mean(axis=1)
            static_cells.append((natural, row, pixel_slice, means))
    static_cells.sort(key=lambda cell: cell[0])
    for label, (_, row, pixel_slice, _) in enumerate(static_cells, start=1):
        static[row, pixel_slice] = label
    return DetectorMaps(
        dynamic_roi_map=dynamic,
        static_roi_map=static,
        mask=(dynamic > 0).astype(np.uint8),
        static_q=_split_centres(q_centres, 0.1 * abs(q_centres[0])),
        static_phi=_split_centres(phi_centres, 10.0),
        static_index_mapping=np.array([cell[0] for cell in static_cells], dtype=np.int64),
        static_means=np.stack([cell[3] for cell in static_cells], axis=1),
        image=image,
    )
