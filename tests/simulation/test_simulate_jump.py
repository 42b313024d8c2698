"""The simulator's velocity jump: the cross term's phase against the closed-form displacement
(independent noise exactly, speckle within its statistics), the truth JSON, and refused settings."""

from __future__ import annotations

import json
from dataclasses import replace

import h5py
import numpy as np
import pytest

from heterodyne.errors import HeterodyneError
from heterodyne.jaxconfig import jnp
from heterodyne.model import angle_frame_table
from heterodyne.simulation import SimulationSpec, model_matrices, simulate_dataset, speckle_frames
from heterodyne.simulation.independent import jumped_model_matrices
from heterodyne.simulation.speckle import correlator_c2
from heterodyne.simulation.velocity_jump import VelocityJump

V_BEFORE, FACTOR = 1500.0, 2.0
ONE_Q = {"q_centres": (0.01,), "phi_centres": (0.0, 40.0), "empty_cells": (), "processed_q_rows": (0,)}


def steady_spec(**fields) -> SimulationSpec:
    """β = 0, no offsets, a clock that starts late (begin_frame 20) and a jump halfway through the
    frames, between two frame times."""
    spec = SimulationSpec(**{"n_frames": 40, "frame_time": 5e-3, "stride_frame": 1, "avg_frame": 1,
                             "begin_frame": 20, "params": {"v0": V_BEFORE}, **ONE_Q, **fields})
    times = spec.frame_times()
    jump_time = times[0] + 0.5 * (times[-1] - times[0]) + 0.3 * spec.dt
    return replace(spec, velocity_jump_time=float(jump_time), velocity_jump_factor=FACTOR)


def closed_form_displacement(times: np.ndarray, jump_time: float, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """∫_{t_i}^{t_j} v: v_before (t_j − t_i) before T, v_after (t_j − t_i) after, and
    v_before (T − t_i) + v_after (t_j − T) across (t_i < t_j)."""
    t_i, t_j = times[i], times[j]
    v_after = FACTOR * V_BEFORE
    across = V_BEFORE * (jump_time - t_i) + v_after * (t_j - jump_time)
    return np.where(t_j <= jump_time, V_BEFORE * (t_j - t_i), np.where(t_i >= jump_time, v_after * (t_j - t_i), across))


def cross_cosines(spec: SimulationSpec, c2: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """(K, P) cos(ψ_j − ψ_i) of each bin's pairs, solved from c2 = offset + contrast (u² + w² + 2uwκ)
    with u, w of the truth (the model's table; the jump moves only the phase)."""
    theta, times = jnp.asarray(spec.truth_vector()), jnp.asarray(spec.frame_times())
    cosines = []
    for index, info in enumerate(spec.processed_bins()):
        table = np.asarray(angle_frame_table(theta, times, jnp.asarray([info.q]), jnp.asarray([info.phi])))[:, 0]
        u = table[4, i] * table[4, j] * np.exp(-np.abs(table[0, j] - table[0, i]))
        w = table[5, i] * table[5, j] * np.exp(-np.abs(table[1, j] - table[1, i]))
        correlation = (c2[index][i, j] - info.offset) / info.contrast
        cosines.append((correlation - u * u - w * w) / (2.0 * u * w))
    return np.asarray(cosines)


def wave_numbers(spec: SimulationSpec) -> np.ndarray:
    """(K, 1) q cos(φ + φ0) of each bin."""
    phi0 = spec.truth_params()["phi0"]
    return np.array([[info.q * np.cos(np.deg2rad(info.phi + phi0))] for info in spec.processed_bins()])


def test_independent_noise_free_matrices_carry_the_closed_form_phase(tmp_path):
    """On the model matrices (float64) and on the written file with no noise (float32)."""
    spec = steady_spec(noise_sigma=0.0, diagonal_excess=0.0)
    times, jump_time = spec.frame_times(), spec.velocity_jump_time
    i, j = np.triu_indices(spec.n_frames, 1)
    expected = np.cos(wave_numbers(spec) * closed_form_displacement(times, jump_time, i, j))
    without_jump = np.cos(wave_numbers(spec) * V_BEFORE * (times[j] - times[i]))
    across = (times[i] < jump_time) & (times[j] > jump_time)

    model = model_matrices(spec)
    np.testing.assert_allclose(cross_cosines(spec, model, i, j), expected, rtol=0, atol=1e-9)
    assert np.max(np.abs(expected - without_jump)[:, across]) > 0.5

    simulate_dataset(tmp_path / "jump.h5", spec)
    with h5py.File(tmp_path / "jump.h5") as h5:
        group = h5["/xpcs/twotime/correlation_map"]
        stored = np.stack([group[key][()] for key in sorted(group)]).astype(np.float64)
    # float32 storage: c2 ≈ 1.2 to 7e-8, divided by contrast · 2uw ≥ 0.18 · 0.4 here: ≤ 1e-6
    np.testing.assert_allclose(cross_cosines(spec, stored, i, j), expected, rtol=0, atol=1e-5)


def test_a_jump_by_factor_one_leaves_the_model_matrices_unchanged():
    """The jumped path rebuilds the model's matrices when the velocity does not change, with every
    term of the model switched on (power laws, offsets, a varying fraction, φ0)."""
    params = {"alpha_ref": 0.4, "D_offset_ref": 50.0, "alpha_sample": -0.3, "beta": 0.5, "v_offset": 20.0,
              "f1": -3.0, "f2": 0.1, "f3": 0.1, "phi0": 5.0}
    spec = SimulationSpec(n_frames=50, begin_frame=30, params=params)
    jump = VelocityJump(float(spec.frame_times()[20]) + 1e-4, 1.0)
    np.testing.assert_allclose(jumped_model_matrices(spec, jump), model_matrices(spec), rtol=0, atol=1e-12)


def test_speckle_frames_carry_the_closed_form_displacement_on_average():
    """Speckle c2 (one mode, 20 000 pixels per bin) of 4 seeds × 2 bins, pairs whose expected phase
    lies in [π/4, 3π/4] (arccos well conditioned there), across and on either side of the jump.

    Expected scatter: per pair, c2 averages P = 20 000 pixels whose products I_i I_j have a variance
    ≤ 3 + 14γ + 3γ² ≤ 20 for one-mode Gaussian fields (γ ≤ 1), plus Poisson noise ≈ 0.6 at 10
    counts, so sd(c2) ≤ √21/√P ≈ 0.033; κ = cos Δψ is that over contrast · 2uw ≥ 0.4 (f_s = ½,
    decay ≥ 0.9 over the frames), and Δψ that over sin Δψ ≥ 0.7: sd ≤ 0.12 rad per pair. The mean
    over a bin's pairs has at most that sd (pairs fully correlated), and the 8 (seed, bin) means are
    independent: the grand mean's sd is ≤ 0.12/√8 = 0.042 rad, and 4 sd is the tolerance
    (0.17 rad, about 10 % of π/2).
    """
    spec = steady_spec(noise="speckle", pixels_per_bin=20000, speckle_modes=1, counts_per_pixel=10.0)
    times, jump_time = spec.frame_times(), spec.velocity_jump_time
    i, j = np.triu_indices(spec.n_frames, 1)
    wave = wave_numbers(spec)
    expected = wave * closed_form_displacement(times, jump_time, i, j)
    in_band = (expected > np.pi / 4) & (expected < 3 * np.pi / 4)
    sides = {"across": (times[i] < jump_time) & (times[j] > jump_time), "before": times[j] <= jump_time,
             "after": times[i] >= jump_time}
    errors: dict[str, list[float]] = {side: [] for side in sides}
    no_jump_errors = []
    for seed in range(4):
        seeded = replace(spec, seed=seed)
        c2 = correlator_c2(speckle_frames(seeded)).astype(np.float64)
        phase = np.arccos(np.clip(cross_cosines(seeded, c2, i, j), -1.0, 1.0))
        for index in range(len(wave)):
            for side, pairs in sides.items():
                chosen = in_band[index] & pairs
                assert chosen.sum() >= 10
                errors[side].append(float(np.mean(phase[index, chosen] - expected[index, chosen])))
            chosen = in_band[index] & sides["across"]
            no_jump = wave[index, 0] * V_BEFORE * (times[j] - times[i])
            no_jump_errors.append(float(np.mean(phase[index, chosen] - no_jump[chosen])))
    tolerance = 4 * 0.12 / np.sqrt(8)
    for side, values in errors.items():
        assert abs(np.mean(values)) < tolerance, (side, values)
    # the same pairs against a flow without the jump: off by about 11 of the grand mean's sd
    assert abs(np.mean(no_jump_errors)) > 2 * tolerance


@pytest.mark.parametrize(("fields", "message"), [
    ({"velocity_jump_time": 0.0}, "velocity_jump_time must lie strictly between"),
    ({"velocity_jump_time": 10.0}, "velocity_jump_time must lie strictly between"),
    ({"velocity_jump_time": float("nan")}, "velocity_jump_time must lie strictly between"),
    ({"velocity_jump_time": 0.1, "velocity_jump_factor": 0.0}, "velocity_jump_factor must be a positive number"),
    ({"velocity_jump_time": 0.1, "velocity_jump_factor": -2.0}, "velocity_jump_factor must be a positive number"),
    ({"velocity_jump_factor": 2.0}, "velocity_jump_factor needs a velocity_jump_time"),
])
def test_bad_jump_settings_are_refused_in_one_line(fields, message):
    """The default frames run from 6 ms to 1.2 s."""
    with pytest.raises(HeterodyneError, match=message) as caught:
        SimulationSpec(**fields)
    assert "\n" not in str(caught.value)


def test_jump_time_is_checked_on_the_absolute_clock():
    """begin_frame 1000 moves the frames to 1.006 … 2.2 s: 0.5 s is before them."""
    with pytest.raises(HeterodyneError, match=r"\(1\.006 s, 2\.2 s\), got 0\.5"):
        SimulationSpec(begin_frame=1000, velocity_jump_time=0.5, velocity_jump_factor=2.0)
    assert SimulationSpec(begin_frame=1000, velocity_jump_time=1.5).velocity_jump == VelocityJump(1.5, 1.0)


def test_truth_json_records_the_jump(tmp_path):
    spec = steady_spec(seed=3)
    truth = json.loads(simulate_dataset(tmp_path / "jump.h5", spec).read_text())
    assert truth["velocity_jump"] == {"time": spec.velocity_jump_time, "factor": FACTOR}
    assert truth["spec"]["velocity_jump_time"] == spec.velocity_jump_time
    plain = json.loads(simulate_dataset(tmp_path / "plain.h5", replace(spec, velocity_jump_time=None,
                                                                       velocity_jump_factor=1.0)).read_text())
    assert plain["velocity_jump"] is None
