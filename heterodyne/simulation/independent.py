"""The noise-free model c2 of a spec's processed bins and its independent-noise stored matrices."""

from __future__ import annotations

import numpy as np

from heterodyne.simulation.spec import SimulationSpec


def model_matrices(spec: SimulationSpec) -> np.ndarray:
    """Noise-free model c2, (K, N, N) float64, of the processed bins at the stored frame times
    t_k = begin_frame · frame_time + k · dt, k = 1…N.

    One bin at a time (memory stays N² per bin), through one jit-compiled evaluation.
    """
    from heterodyne.jaxconfig import jax, jnp
    from heterodyne.model import c2_grid

    evaluate = jax.jit(c2_grid)
    theta = jnp.asarray(spec.truth_vector())
    times = jnp.asarray(spec.frame_times())
    matrices = np.empty((len(spec.processed_bins()), spec.n_frames, spec.n_frames))
    for index, info in enumerate(spec.processed_bins()):
        matrices[index] = np.asarray(
            evaluate(
                theta,
                jnp.asarray([info.contrast]),
                jnp.asarray([info.offset]),
                t=times,
                q=jnp.asarray([info.q]),
                phi=jnp.asarray([info.phi]),
            )[0]
        )
    return matrices


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

