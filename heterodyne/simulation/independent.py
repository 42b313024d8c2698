"""The noise-free model c2 of a spec's processed bins and its independent-noise stored matrices."""

from __future__ import annotations

import numpy as np

from heterodyne.simulation.spec import SimulationSpec
from heterodyne.simulation.velocity_jump import VelocityJump


def model_matrices(spec: SimulationSpec) -> np.ndarray:
    """Noise-free model c2, (K, N, N) float64, of the processed bins at the stored frame times
    t_k = begin_frame · frame_time + k · dt, k = 1…N (:func:`heterodyne.fitted.model_matrices`,
    one bin at a time); with a velocity jump, :func:`jumped_model_matrices`."""
    from heterodyne.fitted import model_matrices as matrices_at

    if spec.velocity_jump is not None:
        return jumped_model_matrices(spec, spec.velocity_jump)
    bins = spec.processed_bins()
    return matrices_at(spec.truth_vector(), [info.contrast for info in bins], [info.offset for info in bins],
                       t=spec.frame_times(), q=[info.q for info in bins], phi=[info.phi for info in bins])


def jumped_model_matrices(spec: SimulationSpec, jump: VelocityJump) -> np.ndarray:
    """The model c2 of :func:`model_matrices` with the cross term's phase q cos(φ + φ0) · D, D the
    displacement of a velocity that jumps (:mod:`heterodyne.simulation.velocity_jump`): the
    model's per-frame table (:func:`heterodyne.model.angle_frame_table`) with its cos ψ, sin ψ
    rows replaced, then the model's pair correlation, one bin at a time."""
    from heterodyne.jaxconfig import jnp
    from heterodyne.model import angle_frame_table, frame_terms, pair_correlation

    theta, times = jnp.asarray(spec.truth_vector()), spec.frame_times()
    displacement = jump.displacement(times, np.asarray(frame_terms(theta, jnp.asarray(times))[2]))
    matrices = []
    for info in spec.processed_bins():
        table = np.array(angle_frame_table(theta, jnp.asarray(times), jnp.asarray([info.q]), jnp.asarray([info.phi])))
        phase = info.q * np.cos(np.deg2rad(info.phi + float(theta[13]))) * displacement
        table[2, 0], table[3, 0] = np.cos(phase), np.sin(phase)
        correlation = np.asarray(pair_correlation(table[:, 0, :, None], table[:, 0, None, :])[0])
        matrices.append(info.offset + info.contrast * correlation)
    return np.stack(matrices)


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

