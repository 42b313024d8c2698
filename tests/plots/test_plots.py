"""Per-run figures: which files a run gets, what each figure shows, and that the run's files stay as they were."""

import json

import numpy as np
import pytest
from plot_helpers import VARIED, add_cmc_samples, hand_made_run

from heterodyne.data.configured import load_run_data
from heterodyne.errors import HeterodyneError
from heterodyne.jaxconfig import jnp
from heterodyne.model import c2_grid, c2_points
from heterodyne.parameters import PHYSICS_NAMES, PHYSICS_PARAMETERS
from heterodyne.plots import cuts, fit_maps, parameter_draws, rates
from heterodyne.plots.corner import corner_figure
from heterodyne.plots.model_values import c2_at
from heterodyne.plots.run_plots import write_run_plots
from heterodyne.plots.traces import trace_figure
from heterodyne.run_directory import read_run

NLSQ_FIGURES = ["c2_fit_00.png", "c2_fit_01.png", "c2_fit_02.png", "c2_cuts.png", "rates.png"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def model_setup(n_frames=40):
    theta = jnp.array([p.default for p in PHYSICS_PARAMETERS]).at[1].set(0.4)
    times = np.arange(1, n_frames + 1) * 5e-3
    q, phi = np.array([0.01, 0.012]), np.array([10.0, 100.0])
    contrast, offset = jnp.array([0.2, 0.1]), jnp.array([1.0, 1.02])
    return theta, contrast, offset, times, q, phi


@pytest.fixture(scope="module")
def nlsq_run(tmp_path_factory):
    return hand_made_run(tmp_path_factory.mktemp("nlsq"))


@pytest.fixture(scope="module")
def cmc_run(tmp_path_factory):
    run_dir = hand_made_run(tmp_path_factory.mktemp("cmc"))
    add_cmc_samples(run_dir)
    return run_dir


def snapshot(run_dir):
    """Bytes of every file the run wrote (not its plots)."""
    return {path.name: path.read_bytes() for path in run_dir.iterdir() if path.is_file()}


def test_sparse_model_is_the_full_model_at_those_frames():
    theta, contrast, offset, times, q, phi = model_setup()
    full = np.asarray(c2_grid(theta, contrast, offset, t=times, q=q, phi=phi))
    every_third = np.arange(0, times.size, 3)
    sparse = fit_maps.model_on_frames(theta, contrast, offset, times=times, q=q, phi=phi, frame_index=every_third)
    np.testing.assert_allclose(sparse, full[:, every_third][:, :, every_third], rtol=1e-13)


def test_padded_compiled_model_equals_the_model():
    theta, contrast, offset, times, q, phi = model_setup()
    rng = np.random.default_rng(0)
    i, j = rng.integers(0, times.size, 777), rng.integers(0, times.size, 777)
    angle = rng.integers(0, 2, 777)
    exact = c2_points(theta, contrast, offset, t=times, q=q, phi=phi, angle_index=angle, i=i, j=j)
    padded = c2_at(theta, contrast, offset, times=times, q=q, phi=phi, angle_index=angle, i=i, j=j)
    assert padded.shape == (777,)
    np.testing.assert_allclose(padded, exact, rtol=1e-14)


def test_large_matrices_are_shown_on_at_most_max_plot_frames():
    assert fit_maps.shown_frames(100).size == 100
    shown = fit_maps.shown_frames(2000)
    assert shown.size <= fit_maps.MAX_PLOT_FRAMES and shown[0] == 0 and np.all(np.diff(shown) == np.diff(shown)[0])


def test_fit_map_panels_titles_colour_bars_masked_diagonal_and_centred_residuals():
    rng = np.random.default_rng(1)
    data = 1.0 + 0.1 * rng.random((30, 30))
    residual = rng.normal(size=(30, 30)) + 0.5  # off-centre on purpose: the scale must still be symmetric
    figure = fit_maps.fit_map_figure(data, data, residual, np.arange(1, 31) * 0.01, "angle 0")
    panels = [axis for axis in figure.axes if axis.images]
    assert len(figure.axes) == 5  # data, model, residual + two colour bars
    titles = [axis.get_title() for axis in panels]
    assert titles[:2] == ["data", "model (NLSQ)"] and titles[2].startswith("(data − model) / σ")
    assert all(axis.get_xlabel() == "t₂ (s)" for axis in panels)
    assert [axis.get_ylabel() for axis in figure.axes[3:]] == ["c₂ (dimensionless)", "residual (units of σ)"]
    for axis in panels:
        assert np.all(axis.images[0].get_array().mask.diagonal())
        assert not axis.images[0].get_array().mask[0, 1]
    low, high = panels[2].images[0].get_clim()
    assert low == -high and high >= fit_maps.MIN_RESIDUAL_LIMIT
    assert panels[2].images[0].get_cmap().name.startswith("RdBu_r")


def test_lag_weighted_fit_gets_per_lag_sigma():
    rng = np.random.default_rng(2)
    noisy = 1.0 + rng.normal(size=(1, 50, 50)) * (1 + np.abs(np.subtract.outer(range(50), range(50))))[None] * 1e-3
    frames = np.arange(50)
    per_lag = fit_maps.sigma_on_frames({"weights": "lag_noise", "sigma": 1.0}, noisy, frames)
    assert per_lag[0, 40] > 5 * per_lag[0, 1]
    uniform = fit_maps.sigma_on_frames({"weights": "uniform", "sigma": 0.3}, noisy, frames)
    assert np.all(uniform == 0.3)


def test_cut_model_follows_the_data_frames():
    theta, contrast, offset, times, q, phi = model_setup()
    full = np.asarray(c2_grid(theta, contrast, offset, t=times, q=q, phi=phi))
    chosen = cuts.cut_frames(times.size)
    assert [start for start, _ in chosen] == [0, 10, 20, 30]
    model = cuts.model_along_cuts(theta, contrast, offset, times=times, q=q, phi=phi, cuts=chosen)
    for angle in range(2):
        for (start, js), values in zip(chosen, model[angle], strict=True):
            np.testing.assert_allclose(values, full[angle, start, js], rtol=1e-13)
    figure = cuts.cuts_figure(full, model, chosen, times, q, phi)
    assert len(figure.axes) == 2
    assert figure.axes[0].get_xlabel() == "τ = t₂ − t₁ (s)"
    assert len(figure.axes[0].lines) == 2 * len(chosen)


def test_nlsq_draws_vary_only_parameters_with_an_error(nlsq_run):
    nlsq = read_run(nlsq_run).nlsq.arrays
    draws = parameter_draws.nlsq_draws(nlsq)
    assert draws.shape == (parameter_draws.MAX_DRAWS, 14)
    moving = [name for k, name in enumerate(PHYSICS_NAMES) if np.ptp(draws[:, k]) > 0]
    assert moving == list(VARIED)
    np.testing.assert_allclose(draws.mean(axis=0), nlsq["values"][:14], rtol=0.01)


def test_cmc_draws_are_subsampled_consensus_draws(cmc_run):
    run = read_run(cmc_run)
    cmc, nlsq = run.cmc.arrays, run.nlsq.arrays
    draws = parameter_draws.cmc_draws(cmc, nlsq["values"])
    assert draws.shape == (parameter_draws.MAX_DRAWS, 14)
    column = list(cmc["names"]).index("v0")
    assert set(draws[:, PHYSICS_NAMES.index("v0")]) <= set(cmc["consensus"][..., column].ravel())
    assert np.all(draws[:, PHYSICS_NAMES.index("f1")] == nlsq["values"][PHYSICS_NAMES.index("f1")])
    assert parameter_draws.sampled_physics(cmc) == list(VARIED)


def test_rates_figure_has_four_panels_with_both_bands():
    times = np.linspace(0.01, 1.0, 50)
    curve = {name: np.ones(50) for name, _, _ in rates.PANELS}
    band = {name: (np.full(50, 0.9), np.full(50, 1.1)) for name in curve}
    cmc_band = {name: (np.full(50, 0.8), np.ones(50), np.full(50, 1.2)) for name in curve}
    figure = rates.rates_figure(times, curve, band, cmc_band)
    assert [axis.get_title() for axis in figure.axes] == [title for _, title, _ in rates.PANELS]
    assert [axis.get_ylabel() for axis in figure.axes] == ["J_ref (Å²/s)", "J_sample (Å²/s)", "v (Å/s)",
                                                           "f_s (dimensionless)"]
    labels = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert labels == ["NLSQ 90 % band (widest ±10 %)", "NLSQ estimate", "CMC 90 % band (widest ±20 %)",
                      "CMC median"]


def test_trace_and_corner_panels():
    rng = np.random.default_rng(3)
    draws = rng.normal(size=(2, 60, 4))
    divergent = np.zeros((2, 60), dtype=bool)
    divergent[1, 5] = True
    names = ["D0_ref", "v0", "f0"]
    figure = trace_figure(draws, divergent, names, [0, 2, 3], "shard 0")
    assert len(figure.axes) == 6
    assert [axis.get_title() for axis in figure.axes[::2]] == ["D0_ref: trace", "v0: trace", "f0: trace"]
    assert figure.axes[0].get_ylabel() == "D0_ref (Å²/s^(α+1))"
    corner = corner_figure(draws.reshape(-1, 4)[:, :3], names, np.zeros(3))
    assert len(corner.axes) == 6  # lower triangle of 3 × 3
    assert [axis.get_title(loc="center") for axis in corner.axes if axis.get_title()] == names


def test_nlsq_run_gets_every_nlsq_figure_and_its_files_stay_unchanged(nlsq_run):
    before = snapshot(nlsq_run)
    paths = write_run_plots(nlsq_run)
    assert [path.name for path in paths] == NLSQ_FIGURES
    assert sorted(p.name for p in (nlsq_run / "plots").iterdir()) == sorted(NLSQ_FIGURES)
    for path in paths:
        assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert snapshot(nlsq_run) == before


def test_cmc_run_adds_traces_per_shard_and_a_corner_plot(cmc_run):
    before = snapshot(cmc_run)
    data = load_run_data(read_run(cmc_run).document)
    names = [path.name for path in write_run_plots(cmc_run, data=data)]
    assert names == NLSQ_FIGURES + ["cmc_trace_shard_00.png", "cmc_trace_shard_01.png", "cmc_corner.png"]
    assert snapshot(cmc_run) == before


@pytest.mark.parametrize(("image_format", "signature"), [("svg", b"<?xml"), ("pdf", b"%PDF")])
def test_vector_formats(tmp_path, image_format, signature):
    run_dir = hand_made_run(tmp_path, n_frames=20)
    paths = write_run_plots(run_dir, image_format=image_format)
    assert len(paths) == len(NLSQ_FIGURES)
    assert all(path.suffix == f".{image_format}" and path.read_bytes().startswith(signature) for path in paths)


def test_unknown_format_is_refused_before_anything_is_written(nlsq_run, tmp_path):
    with pytest.raises(HeterodyneError, match=r"image format 'bmp': expected one of png, svg, pdf"):
        write_run_plots(nlsq_run, image_format="bmp")


def test_changed_data_file_is_refused(tmp_path):
    run_dir = hand_made_run(tmp_path, n_frames=20)
    result = json.loads((run_dir / "result.json").read_text())
    result["data_sha256"] = "f" * 64
    (run_dir / "result.json").write_text(json.dumps(result))
    with pytest.raises(HeterodyneError, match=r"sim\.h5: not the run's data \(its SHA-256 differs"):
        write_run_plots(run_dir)
    assert not (run_dir / "plots").exists()


def test_data_of_another_selection_is_refused(nlsq_run, tmp_path):
    other = load_run_data(read_run(hand_made_run(tmp_path, n_frames=20)).document)
    with pytest.raises(HeterodyneError, match=r"the data given are not the run's selection \(3 angles × 20 frames"):
        write_run_plots(nlsq_run, data=other)
