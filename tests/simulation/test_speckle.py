"""The speckle-level simulator: its c2 against the model, photon-sparse data, determinism, errors."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from heterodyne.errors import HeterodyneError
from heterodyne.jaxconfig import jnp
from heterodyne.model import c2_grid
from heterodyne.parameters import PHYSICS_NAMES, PHYSICS_PARAMETERS
from heterodyne.simulation import SimulationSpec, model_matrices, simulate_dataset
from heterodyne.simulation.speckle import correlator_c2, raw_frame_times, simulate_counts

C2_GROUP = "/xpcs/twotime/correlation_map"
N_FRAMES = 30
FRAME_TIME, STRIDE, BEGIN = 1e-2, 3, 7
Q = np.array([0.012, 0.012])
PHI = np.array([22.5, 100.0])
REPLICATES = 16


def truth() -> np.ndarray:
    """Registry defaults with a decaying sample fraction and a time-dependent sample diffusion."""
    theta = np.array([p.default for p in PHYSICS_PARAMETERS])
    theta[PHYSICS_NAMES.index("f1")] = -2.0
    theta[PHYSICS_NAMES.index("alpha_sample")] = 0.5
    theta[PHYSICS_NAMES.index("phi0")] = 10.0
    return theta


def model(contrast: float, times: np.ndarray) -> np.ndarray:
    values = c2_grid(jnp.asarray(truth()), jnp.full(Q.size, contrast), jnp.ones(Q.size),
                     t=jnp.asarray(times), q=jnp.asarray(Q), phi=jnp.asarray(PHI))
    return np.asarray(values)


def lag_means(c2: np.ndarray) -> np.ndarray:
    """(..., N, N) upper triangles → (..., N − 1) means along the lags 1 … N − 1."""
    return np.stack([np.diagonal(c2, lag, axis1=-2, axis2=-1).mean(-1) for lag in range(1, c2.shape[-1])], -1)


def worst_t(replicates: np.ndarray, expected: np.ndarray) -> float:
    """max over bins × lags of |mean deviation| / (its standard error from the replicate scatter)."""
    deviations = (lag_means(replicates) - lag_means(expected)[None]).reshape(len(replicates), -1)
    standard_error = deviations.std(axis=0, ddof=1) / np.sqrt(len(replicates))
    return float(np.max(np.abs(deviations.mean(axis=0)) / standard_error))


@pytest.mark.parametrize(("first_seed", "modes", "shared"), [(0, 1, 0), (1000, 3, 0), (2000, 2, 1000)])
def test_pixel_averaged_c2_matches_the_model_with_contrast_one_over_modes(first_seed, modes, shared):
    """Also when the two bins (one q) share the speckle fields of half their pixels."""
    replicates = np.stack([
        correlator_c2(simulate_counts(truth(), Q, PHI, n_frames=N_FRAMES, frame_time=FRAME_TIME, stride=STRIDE,
                                      average=1, begin=BEGIN, pixels=2000, modes=modes, counts_per_pixel=10.0,
                                      seed=first_seed + r, shared_pixels=shared))
        for r in range(REPLICATES)
    ]).astype(np.float64)
    dt = FRAME_TIME * STRIDE
    times = BEGIN * FRAME_TIME + np.arange(1, N_FRAMES + 1) * dt
    # 58 lag means, t with 15 degrees of freedom: |t| > 5 has probability ~2e-4 each.
    assert worst_t(replicates, model(1.0 / modes, times)) < 5.0
    # The comparison has the power to see a 10 % contrast error and the clock without its origin.
    assert worst_t(replicates, model(1.1 / modes, times)) > 5.0
    assert worst_t(replicates, model(1.0 / modes, np.arange(1, N_FRAMES + 1) * dt)) > 5.0


def test_bins_at_one_q_share_the_fields_of_their_shared_pixels_only():
    """Two bins at one (q, φ), 1000 photons per pixel (Poisson scatter 3 %): the counts of the
    shared pixels follow one speckle pattern in both bins, those of the others are independent;
    a bin at another q shares nothing."""
    q, phi = np.array([0.012, 0.012, 0.02]), np.array([40.0, 40.0, 40.0])
    counts = simulate_counts(truth(), q, phi, n_frames=10, frame_time=FRAME_TIME, stride=STRIDE, average=1, begin=0,
                             pixels=400, modes=1, counts_per_pixel=1000.0, seed=5, shared_pixels=100).counts

    def correlation(first, second):
        return np.corrcoef(first.ravel(), second.ravel())[0, 1]

    assert correlation(counts[0, :, :100], counts[1, :, :100]) > 0.99
    assert abs(correlation(counts[0, :, 100:], counts[1, :, 100:])) < 0.1
    assert abs(correlation(counts[0, :, :100], counts[2, :, :100])) < 0.1


def test_raw_frames_follow_the_correlator_clock():
    times = raw_frame_times(3, 0.5, stride=2, average=2, begin=10)
    # stored frame k averages raw frames 10 + ((k − 1)·2 + a)·2, each at (n + 4) · 0.5 s
    np.testing.assert_allclose(times, (np.array([10, 12, 14, 16, 18, 20]) + 4) * 0.5)
    dt = 0.5 * 2 * 2
    np.testing.assert_allclose(times[::2], 10 * 0.5 + np.arange(1, 4) * dt)


def speckle_spec(**fields) -> SimulationSpec:
    settings = {"noise": "speckle", "n_frames": 40, "q_centres": (0.01,), "phi_centres": (0.0, 45.0, 90.0),
                "empty_cells": (), "processed_q_rows": (0,), "pixels_per_bin": 2000, **fields}
    return SimulationSpec(**settings)


def stored(path) -> np.ndarray:
    with h5py.File(path, "r") as h5:
        return np.stack([h5[f"{C2_GROUP}/{key}"][()] for key in sorted(h5[C2_GROUP])])


def test_photon_sparse_data_give_finite_c2_with_the_shot_noise_diagonal(tmp_path):
    spec = speckle_spec(counts_per_pixel=0.05, seed=3)
    simulate_dataset(tmp_path / "sparse.h5", spec)
    c2 = stored(tmp_path / "sparse.h5").astype(np.float64)
    assert c2.shape == (3, 40, 40) and np.all(np.isfinite(c2))
    # diagonal: <n²>/<n>² = 1 + contrast + 1/(photons per stored frame) for Poisson counts
    expected_diagonal = 1.0 + 1.0 / spec.speckle_modes + 1.0 / (spec.avg_frame * spec.counts_per_pixel)
    assert np.diagonal(c2, axis1=1, axis2=2).mean() == pytest.approx(expected_diagonal, rel=0.05)
    # off the diagonal the model holds on average (scatter of this mean over seeds 0-4: 0.01)
    upper = np.triu_indices(40, 1)
    assert (c2 - model_matrices(spec))[:, upper[0], upper[1]].mean() == pytest.approx(0.0, abs=0.05)


def test_same_seed_gives_identical_matrices_and_another_seed_differs(tmp_path):
    for name, seed in (("a.h5", 4), ("b.h5", 4), ("c.h5", 5)):
        simulate_dataset(tmp_path / name, speckle_spec(n_frames=12, pixels_per_bin=400, seed=seed))
    first, second, other = (stored(tmp_path / name) for name in ("a.h5", "b.h5", "c.h5"))
    assert first.dtype == np.float32 and first.tobytes() == second.tobytes()
    assert not np.array_equal(first, other)
    assert not np.tril(first, -1).any()


def test_truth_records_the_speckle_settings(tmp_path):
    import json

    truth = json.loads(simulate_dataset(tmp_path / "t.h5", speckle_spec(n_frames=12, speckle_modes=5,
                                                                        begin_frame=30)).read_text())
    assert truth["noise"] == "speckle" and truth["spec"]["speckle_modes"] == 5
    assert {b["contrast"] for b in truth["bins"]} == {0.2} and {b["offset"] for b in truth["bins"]} == {1.0}
    assert truth["begin_frame"] == 30 and truth["time_origin"] == pytest.approx(30 * 1e-3)


def test_a_static_bin_without_photons_is_refused():
    with pytest.raises(HeterodyneError, match="no photon in stored frame"):
        correlator_c2(simulate_counts(truth(), Q, PHI, n_frames=5, frame_time=1e-3, stride=1, average=1, begin=0,
                                      pixels=4, modes=1, counts_per_pixel=1e-3, seed=0))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"noise": "poisson"}, "noise must be one of"),
        ({"noise": "speckle", "pixels_per_bin": 10}, "multiple of 4"),
        ({"noise": "speckle", "speckle_modes": 0}, "speckle_modes must be >= 1"),
        ({"noise": "speckle", "counts_per_pixel": 0.0}, "counts_per_pixel must be positive"),
        ({"noise": "speckle", "contrast": 0.1, "noise_sigma": 0.1}, "contrast, noise_sigma: not used with noise"),
        ({"begin_frame": -1}, "begin_frame >= 0"),
        ({"noise": "speckle", "shared_speckle": 1.0}, r"shared_speckle must be in \[0, 1\)"),
        ({"noise": "speckle", "shared_speckle": -0.1}, r"shared_speckle must be in \[0, 1\)"),
        ({"noise": "speckle", "shared_speckle": True}, r"shared_speckle must be in \[0, 1\)"),
        ({"shared_speckle": 0.5}, "shared_speckle: only used with noise 'speckle'"),
    ],
)
def test_bad_speckle_specs_are_refused(fields, message):
    with pytest.raises(HeterodyneError, match=message):
        SimulationSpec(**fields)


def test_cli_writes_speckle_data(tmp_path, capsys):
    from heterodyne.cli import main

    out = tmp_path / "cli.h5"
    assert main(["simulate", str(out), "--noise", "speckle", "--frames", "12", "--pixels", "400", "--modes", "2",
                 "--counts", "0.5", "--begin-frame", "100", "--shared-speckle", "0.25"]) == 0
    assert "speckle noise" in capsys.readouterr().out
    truth_text = (tmp_path / "cli.h5.truth.json").read_text()
    assert '"speckle_modes": 2' in truth_text and '"begin_frame": 100' in truth_text
    assert '"shared_speckle": 0.25' in truth_text
    with pytest.raises(SystemExit):
        main(["simulate", str(out), "--noise", "gauss"])
