"""The frame-clustered sandwich: its per-frame-sum algebra against the pairwise definition, and its
standard errors on frame-correlated noise against the closed-form covariance and the scatter over
replicates (where the independent-noise standard errors are far too small)."""

import numpy as np
import pytest
from nlsq_helpers import FIT_PHI, FIT_Q, fit_config, simulate, truth_scaling

from heterodyne.data import load_file
from heterodyne.jaxconfig import jax, jnp
from heterodyne.nlsq import sandwich
from heterodyne.nlsq.problem import padded_point_arrays, problem_constants, weighted_residuals
from heterodyne.nlsq.projection import ProjectedEvaluator
from heterodyne.nlsq.sandwich import (
    block_memberships,
    block_size,
    coarsen,
    grid_shifts,
    grid_variance,
    off_diagonal_pairs,
    positive_part,
    whitening,
)
from heterodyne.nlsq.setup import build_problem
from heterodyne.nlsq.solve import fit
from heterodyne.nlsq.uncertainty import parameter_uncertainties
from heterodyne.parameters import PHYSICS_PARAMETERS

TRUTH = dict(D0_sample=8e4, v0=1200.0, f0=0.3)
START = dict(D0_sample=5e4, v0=1100.0, f0=0.4)
FRAME_SD = 0.001   # sd of the frame effects a_f
POINT_SD = 0.0002  # sd of the independent part ε_ij


def frame_noise(rng, n_angles: int, n_frames: int) -> np.ndarray:
    """e_aij = a_ai + a_aj + ε_aij: independent frame effects (per angle) plus independent noise."""
    a = FRAME_SD * rng.standard_normal((n_angles, n_frames))
    return a[:, :, None] + a[:, None, :] + POINT_SD * rng.standard_normal((n_angles, n_frames, n_frames))


def block_dyadic_meat(block_scores: np.ndarray) -> np.ndarray:
    """M = Σ_{a,B} S_aB S_aBᵀ − Σ_{a,I<J} Z_aIJ Z_aIJᵀ from the block-pair sums Z (A, B, B, n): the
    dyadic meat before the leverage correction, from the library's block sums."""
    per_block = block_memberships(block_scores).reshape(-1, block_scores.shape[-1])
    pairs = off_diagonal_pairs(block_scores).reshape(-1, block_scores.shape[-1])
    return per_block.T @ per_block - pairs.T @ pairs


def block_scores(sums) -> np.ndarray:
    """Z_aIJ = E_a[:, :n]ᵀ G_aIJ E_a[:, n] (A, B, B, n): the score sums of the block pairs."""
    return np.einsum("akn,abckl,al->abcn", sums.expand[:, :, :-1], sums.block_grams, sums.expand[:, :, -1])


def full_jacobian(problem, x) -> np.ndarray:
    arrays = [jnp.asarray(a) for a in padded_point_arrays(problem, problem.points.size)]
    return np.asarray(jax.jacfwd(lambda v: weighted_residuals(
        v, problem_constants(problem), *arrays, n_contrast=len(problem.scaling.contrast)))(jnp.asarray(x)))


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """A noise-free simulated file with 3 angles and the config that fits 3 physics parameters
    (contrast and offset held at their true values, so the frame effects are not absorbed)."""
    fixed = {p.name: TRUTH.get(p.name, p.default) for p in PHYSICS_PARAMETERS if p.name not in START}
    path, truth = simulate(tmp_path_factory.mktemp("clean"), TRUTH, n_frames=40, noise_sigma=0.0, seed=1)
    contrast, offset = truth_scaling(truth)
    scaling = {"mode": "fixed", "contrast": {"initial": contrast.tolist()}, "offset": {"initial": offset.tolist()}}
    return load_file(path, q=FIT_Q, phi=FIT_PHI), fit_config(START, fixed, scaling=scaling)


def problem_of(data, config, c2):
    n_frames = c2.shape[1]
    problem, _ = build_problem(config, c2=c2, q=data.q, phi=data.phi, t=data.times[:n_frames], dt=data.dt)
    return problem


@pytest.mark.parametrize("block", [1, 3])
def test_block_sums_equal_the_pairwise_definition(clean, block, monkeypatch):
    """M from the block-pair sums equals Σ over pairs of points (p, p′ included) of one angle that
    share a block of ``block`` frames, computed point pair by point pair."""
    data, config = clean
    n_frames = 13
    c2 = data.c2[:, :n_frames, :n_frames] + frame_noise(np.random.default_rng(0), 3, n_frames)
    problem = problem_of(data, config, c2)
    x = problem.initial[problem.vary] * 1.01
    sums = ProjectedEvaluator(problem).score_sums(x, problem.initial[len(PHYSICS_PARAMETERS):])
    assert sums.block == 1
    jacobian = full_jacobian(problem, x)
    residual = np.asarray(weighted_residuals(
        jnp.asarray(x), problem_constants(problem),
        *[jnp.asarray(a) for a in padded_point_arrays(problem, problem.points.size)],
        n_contrast=len(problem.scaling.contrast)))
    scores = jacobian * residual[:, None]
    points = problem.points
    blocks = np.stack([points.i // block, points.j // block], axis=1)
    share = (points.angle_index[:, None] == points.angle_index[None, :]) & (
        (blocks[:, None, :, None] == blocks[None, :, None, :]).any(axis=(2, 3)))
    brute_force = scores.T @ share.astype(float) @ scores
    meat = block_dyadic_meat(coarsen(block_scores(sums), block))
    np.testing.assert_allclose(meat, brute_force, rtol=1e-9, atol=1e-12 * np.abs(brute_force).max())
    augmented = np.column_stack([jacobian, residual])
    np.testing.assert_allclose(sums.gram, augmented.T @ augmented, rtol=1e-10)
    per_frame = np.zeros(3 * n_frames)
    np.add.at(per_frame, points.angle_index * n_frames + points.i, residual)
    np.add.at(per_frame, points.angle_index * n_frames + points.j, residual)
    np.testing.assert_allclose(sums.residuals.ravel(), per_frame, rtol=1e-10, atol=1e-12)

    # leverage-corrected (CR2): each cluster's whitened score sum Wᵀs_g becomes (I − A_g)^(-1/2) Wᵀs_g,
    # A_g = WᵀH_gW, cluster by cluster from the full Jacobian (the library works from the local rows and E_a)
    jtj = jacobian.T @ jacobian
    whiten = whitening(jtj)
    n_blocks = blocks.max() + 1
    in_block = [(points.angle_index == a) & (blocks == b).any(axis=1) for a in range(3) for b in range(n_blocks)]
    in_pair = [(points.angle_index == a) & (blocks[:, 0] == b) & (blocks[:, 1] == c)
               for a in range(3) for b in range(n_blocks) for c in range(b + 1, n_blocks)]

    def corrected(members):
        rows = jacobian[members] @ whiten
        values, vectors = np.linalg.eigh(rows.T @ rows)
        return (vectors / np.sqrt(1.0 - values)) @ vectors.T @ (rows.T @ residual[members])

    reference = (sum(np.outer(corrected(m), corrected(m)) for m in in_block)
                 - sum(np.outer(corrected(m), corrected(m)) for m in in_pair))
    corrected_variance, _, largest = grid_variance(coarsen(sums.block_grams, block), sums.expand, whiten)
    monkeypatch.setattr(sandwich, "CLUSTER_BATCH", 2)  # the block pairs a few at a time: the same numbers
    batched, _, _ = grid_variance(coarsen(sums.block_grams, block), sums.expand, whiten)
    np.testing.assert_allclose(batched, corrected_variance, rtol=1e-12, atol=1e-12 * np.abs(batched).max())
    np.testing.assert_allclose(corrected_variance, reference, rtol=1e-8, atol=1e-10 * np.abs(reference).max())
    leverages = [np.linalg.eigvals(np.linalg.solve(jtj, jacobian[m].T @ jacobian[m])).real.max() for m in in_block]
    assert largest == pytest.approx(max(leverages), rel=1e-8)


def test_block_size_follows_the_frame_autocorrelation():
    # correlated over lags 1..4 (ρ ≥ 0.1), decorrelated from lag 5: m = 4 × 4 frames
    autocorrelation = np.concatenate([[1.0, 0.7, 0.5, 0.3, 0.15], np.full(195, 0.02)])
    assert block_size(autocorrelation, base=1) == 16
    assert block_size(autocorrelation, base=3) == 18         # rounded up to whole base blocks
    assert block_size(np.concatenate([[1.0], np.zeros(199)]), base=1) == 1   # independent frames
    assert block_size(np.ones(200), base=1) == 66            # never fewer than 3 blocks per angle
    assert block_size(np.ones(200), base=4) == 64
    # the second grid is shifted by half a block, in whole base blocks
    assert grid_shifts(12, base=4) == (0, 2)
    assert grid_shifts(4, base=4) == (0,)


def test_grids_shifted_by_a_part_of_a_block_group_the_base_blocks_from_the_shift():
    """coarsen(·, factor 3, shift 1): blocks {0}, {1, 2, 3}, {4} of 5 base blocks (sums of 1s count them)."""
    ones = np.ones((1, 5, 5))
    np.testing.assert_array_equal(coarsen(ones, 3, shift=1)[0], np.outer([1, 3, 1], [1, 3, 1]))
    np.testing.assert_array_equal(coarsen(ones, 3)[0], np.outer([3, 2], [3, 2]))


def test_sandwich_is_h_inverse_m_h_inverse():
    rng = np.random.default_rng(4)
    jacobian = rng.normal(size=(300, 3)) @ np.array([[1.0, 0.5, 0.0], [0.0, 2.0, 0.3], [0.0, 0.0, 0.7]])
    root = rng.normal(size=(3, 3))
    # a meat above χ² JᵀJ in every direction, so the floor at the independent-noise covariance
    # (test_nlsq_uncertainty.py) leaves the sandwich as it is
    meat = 1.3 * jacobian.T @ jacobian + root @ root.T
    lower, upper = np.full(3, -10.0), np.full(3, 10.0)
    result = parameter_uncertainties(jacobian.T @ jacobian, 1.3, np.zeros(3), lower, upper, ("a", "b", "c"), meat)
    inverse = np.linalg.inv(jacobian.T @ jacobian)
    np.testing.assert_allclose(result.covariance, inverse @ meat @ inverse, rtol=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_honest_stderr_matches_frame_correlated_scatter(clean, seed):
    """8 replicates per seed. Reference: the closed-form covariance H⁻¹ JᵀΣJ H⁻¹ of this noise
    (Σ = frame effects + independent part, JᵀΣJ = FRAME_SD² Σ_f B_f B_fᵀ + POINT_SD² JᵀJ with
    B_f = Σ_{p ∋ f} J_p), and the scatter of the estimates."""
    data, config = clean
    reference_problem = problem_of(data, config, data.c2 + 1e-5 * np.random.default_rng(99).standard_normal(
        data.c2.shape))
    x0 = fit(reference_problem, config.optimization.nlsq).full[reference_problem.vary]
    jacobian = full_jacobian(reference_problem, x0) * reference_problem.sigma[0]  # unweighted ∂c2/∂x
    points = reference_problem.points
    n_frames = data.c2.shape[1]
    per_frame = np.zeros((3 * n_frames, jacobian.shape[1]))
    np.add.at(per_frame, points.angle_index * n_frames + points.i, jacobian)
    np.add.at(per_frame, points.angle_index * n_frames + points.j, jacobian)
    inverse = np.linalg.inv(jacobian.T @ jacobian)
    exact = inverse @ (FRAME_SD**2 * per_frame.T @ per_frame + POINT_SD**2 * jacobian.T @ jacobian) @ inverse
    exact_sd = np.sqrt(np.diag(exact))[:3]

    rng = np.random.default_rng(1000 + seed)
    estimates, honest, independent = [], [], []
    for _ in range(8):
        problem = problem_of(data, config, data.c2 + frame_noise(rng, 3, n_frames))
        result = fit(problem, config.optimization.nlsq)
        estimates.append(result.full[problem.vary][:3])
        honest.append(result.uncertainties.stderr[:3])
        independent.append(result.independent.stderr[:3])
    honest_sd = np.sqrt(np.mean(np.square(honest), axis=0))
    independent_sd = np.sqrt(np.mean(np.square(independent), axis=0))
    # the honest stderr reproduces the closed form; the independent one is several times too small
    assert np.all((honest_sd / exact_sd > 0.75) & (honest_sd / exact_sd < 1.25)), honest_sd / exact_sd
    assert np.all(independent_sd / exact_sd < 0.45), independent_sd / exact_sd
    # standardised errors against the noise-free optimum, pooled over 8 replicates x 3 parameters:
    # rms z ≈ 1 (± 15 %) for honest error bars
    errors = np.array(estimates) - x0[:3]
    rms_honest = np.sqrt(np.mean(np.square(errors / np.array(honest))))
    rms_independent = np.sqrt(np.mean(np.square(errors / np.array(independent))))
    assert 0.65 < rms_honest < 1.5, rms_honest
    assert rms_independent > 2.5, rms_independent


def test_the_positive_part_sets_negative_eigenvalues_to_zero():
    matrix = np.array([[1.0, 1.5], [1.5, 1.0]])   # eigenvalues 2.5 (along (1, 1)) and −0.5
    np.testing.assert_allclose(positive_part(matrix), 1.25 * np.ones((2, 2)), rtol=1e-12)
    psd = np.array([[2.0, 1.0], [1.0, 3.0]])
    np.testing.assert_allclose(positive_part(psd), psd, rtol=1e-12)
