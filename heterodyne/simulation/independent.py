"""The noise-free model c2 of a spec's processed bins and its independent-noise stored matrices."""

from __future__ import annotations

import numpy as np

from heterodyne.simulation.spec import SimulationSpec


def model_matrices(spec: SimulationSpec) -> np.ndarray:
    """Noise-free model c2, (K, N, N) float64, of the processed bins at the stored frame times
    t_k = begin_frame · frame_time + k · dt, k = 1…N (:func:`heterodyne.fitted.model_matrices`,
    one bin at a time)."""
    from heterodyne.fitted import model_matrices as matrices_at

    bins = spec.processed_bins()
    return matrices_at(spec.truth_vector(), [info.contrast for info in bins], [info.offset for info in bins],
                       t=spec.frame_times(), q=[info.q for info in bins], phi=[info.phi for info in bins])


def stored_matrices(spec: SimulationSpec, model: np.ndarray) -> np.ndarray:
    """Independent noise: upper triangles (diagonal included) of model + diagonal excess + noise,
    as float32 with a zero lower triangle, (K, N, N)."""
    rng = np.random.Generator(np.random.PCG64(spec.seed))
    n = spec.n_frames
    stored = np.empty(model.shape, dtype=np.float32)
    for index, matrix in enumerate(model):
        noisy = matrix + spec.diagonal_excess * np.eye(n) + rng.normal(0.0, spec.noise_sigma, size=(n, n))
        stored[index] = np.triu(noisy).astype(np.float32)
    return stored

