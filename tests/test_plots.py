"""Fit figures: the model shown is the fitted model at the shown frames; one PNG per angle."""

import numpy as np

from heterodyne import plots
from heterodyne.jaxconfig import jnp
from heterodyne.model import c2_grid
from heterodyne.parameters import PHYSICS_PARAMETERS


def setup(n_frames=40):
    theta = jnp.array([p.default for p in PHYSICS_PARAMETERS]).at[1].set(0.4)
    times = np.arange(1, n_frames + 1) * 5e-3
    q, phi = np.array([0.01, 0.012]), np.array([10.0, 100.0])
    contrast, offset = jnp.array([0.2, 0.1]), jnp.array([1.0, 1.02])
    return theta, contrast, offset, times, q, phi


def test_sparse_model_is_the_full_model_at_those_frames():
    theta, contrast, offset, times, q, phi = setup()
    full = np.asarray(c2_grid(theta, contrast, offset, t=times, q=q, phi=phi))
    every_third = np.arange(0, times.size, 3)
    sparse = plots.model_on_frames(theta, contrast, offset, times=times, q=q, phi=phi, frame_index=every_third)
    np.testing.assert_allclose(sparse, full[:, every_third][:, :, every_third], rtol=1e-13)


def test_one_png_per_angle_on_a_subsampled_grid(tmp_path, monkeypatch):
    theta, contrast, offset, times, q, phi = setup()
    monkeypatch.setattr(plots, "MAX_PLOT_FRAMES", 15)
    c2 = np.asarray(c2_grid(theta, contrast, offset, t=times, q=q, phi=phi))
    paths = plots.write_fit_plots(tmp_path / "plots", c2, theta, contrast, offset, sigma=0.01,
                                  times=times, q=q, phi=phi)
    assert [p.name for p in paths] == ["c2_fit_00.png", "c2_fit_01.png"]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["c2_fit_00.png", "c2_fit_01.png"]
