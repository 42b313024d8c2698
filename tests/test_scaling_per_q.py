"""Scaling with several q: auto is per bin; a Fourier series is per q, never across q."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_h5 import edited_copy
from nlsq_helpers import fit_config, simulate

from heterodyne.config import resolve_config
from heterodyne.data import load_file
from heterodyne.errors import HeterodyneError
from heterodyne.nlsq.report import nlsq_section
from heterodyne.nlsq.setup import build_problem
from heterodyne.nlsq.solve import fit
from heterodyne.parameters import PHYSICS_PARAMETERS
from heterodyne.scaling import build_scaling

PHI = np.array([-150.0, -90.0, -30.0, 30.0, 90.0, 150.0])


def scaling(mode: str = "auto", order: int = 1, **settings):
    return resolve_config({"scaling": {"mode": mode, "fourier_order": order, **settings}}).scaling


def names(model) -> list[str]:
    return [c.name for c in model.contrast]


@pytest.mark.parametrize("per_q", [3, 6])
def test_auto_is_individual_per_bin_at_any_number_of_angles(per_q):
    q = np.repeat([0.01, 0.02], per_q)
    phi = np.tile(PHI[:per_q], 2)
    model = build_scaling(scaling(), phi, q)
    assert model.mode == "individual" and names(model) == [f"contrast[{a}]" for a in range(2 * per_q)]
    np.testing.assert_array_equal(model.basis, np.eye(2 * per_q))
    assert [g.as_dict() for g in model.groups] == [
        {"q": 0.01, "angles": list(range(per_q)), "mode": "individual"},
        {"q": 0.02, "angles": list(range(per_q, 2 * per_q)), "mode": "individual"}]


def test_fourier_is_one_series_per_q():
    q = np.tile([0.02, 0.01], 6)  # interleaved, q groups in increasing q
    phi = np.repeat(PHI, 2)
    model = build_scaling(scaling("fourier"), phi, q)
    assert model.mode == "fourier"
    assert names(model) == ["contrast[q0]_mean", "contrast[q0]_cos1", "contrast[q0]_sin1",
                            "contrast[q1]_mean", "contrast[q1]_cos1", "contrast[q1]_sin1"]
    contrast, offset = model.values(np.array([0.2, 0.05, -0.02, 0.1, 0.0, 0.03]), np.array([1, 0, 0, 1.1, 0, 0.0]))
    radians = np.deg2rad(phi)
    low_q, high_q = q == 0.01, q == 0.02
    np.testing.assert_allclose(contrast[low_q], (0.2 + 0.05 * np.cos(radians) - 0.02 * np.sin(radians))[low_q])
    np.testing.assert_allclose(contrast[high_q], (0.1 + 0.03 * np.sin(radians))[high_q])
    np.testing.assert_allclose(offset, np.where(low_q, 1.0, 1.1))


def test_fourier_needs_enough_angles_at_each_q():
    q = np.concatenate([np.full(3, 0.01), np.full(6, 0.02)])
    phi = np.concatenate([PHI[:3], PHI])
    with pytest.raises(HeterodyneError, match="fourier of order 2 needs at least 5 angles at q = 0.01, 3 selected"):
        build_scaling(scaling("fourier", order=2), phi, q)
    assert build_scaling(scaling("constant"), phi, q).basis.shape == (9, 1)


def scale_contrast_of_q(factor: float, q: float, truth: dict):
    """Edit: contrast × factor for every bin at ``q`` (c2 − offset scaled; the lower triangle stays 0)."""
    keys = [b["key"] for b in truth["bins"] if b["q"] == q]

    def edit(h5) -> None:
        for key in keys:
            matrix = h5[f"/xpcs/twotime/correlation_map/{key}"]
            upper = np.triu(np.ones(matrix.shape, dtype=bool))
            values = matrix[()].astype(np.float64)
            values[upper] = 1.0 + factor * (values[upper] - 1.0)
            matrix[...] = values.astype(np.float32)
    return edit


def test_a_fourier_fit_over_two_q_recovers_each_q_contrast(tmp_path):
    changed = dict(D0_ref=2e4, D0_sample=6e4, v0=1000.0, f0=0.3)
    start = dict(D0_ref=3e4, D0_sample=5e4, v0=900.0, f0=0.4)
    truth = {p.name: p.default for p in PHYSICS_PARAMETERS} | changed
    source, document = simulate(tmp_path, changed, n_frames=40, noise_sigma=0.002, seed=4, diagonal_excess=0.0,
                                contrast_anisotropy=0.0)
    path = edited_copy(source, tmp_path / "two_q.h5", scale_contrast_of_q(0.5, 0.012, document))
    config = fit_config(start, {name: value for name, value in truth.items() if name not in start},
                        optimization={"nlsq": {"noise_sigma": 0.002}},
                        scaling={"mode": "fourier", "contrast": {"initial": 0.15}})
    config = resolve_config(config.as_dict(), overrides={"experimental_data.q": None, "experimental_data.phi": None})
    data = load_file(path)
    problem, noise = build_problem(config, c2=data.c2, q=data.q, phi=data.phi, t=data.times, dt=data.dt)
    result = fit(problem, config.optimization.nlsq)
    section = nlsq_section(result, problem, noise, "fourier")
    assert result.converged and section["scaling"]["mode"] == "fourier"
    assert [group["q"] for group in section["scaling"]["q_groups"]] == [0.009, 0.012]
    expected = np.where(data.q == 0.012, 0.5 * 0.2, 0.2)
    np.testing.assert_allclose(section["contrast"], expected, rtol=0.02)
    for name in start:
        assert abs(section[name] - truth[name]) <= 3 * section["stderr"][name], name
