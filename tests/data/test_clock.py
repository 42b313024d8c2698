"""The correlator's clock: stored frame k of a run begun at raw frame b sits at b·frame_time + k·dt."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
from helpers_h5 import SMALL_FRAMES, edited_copy, replace_dataset, simulate_small
from nlsq_helpers import FIT_PHI, FIT_Q, fit_config, simulate

from heterodyne.config import resolve_config
from heterodyne.data import load_file, scan_file
from heterodyne.errors import HeterodyneError
from heterodyne.nlsq.report import nlsq_section
from heterodyne.nlsq.setup import build_problem
from heterodyne.nlsq.solve import fit
from heterodyne.parameters import PHYSICS_PARAMETERS

APS_U_BEGIN = "/xpcs/twotime/config/begin_frame"


@pytest.mark.parametrize(("layout", "source"), [("aps-u", APS_U_BEGIN), ("legacy", "/xpcs/data_begin_todo")])
def test_simulated_begin_frame_sets_the_loaded_times(tmp_path, layout, source):
    path, truth = simulate_small(tmp_path, layout=layout, begin_frame=250)
    data = load_file(path)
    expected = 250 * 1e-3 + np.arange(1, SMALL_FRAMES + 1) * truth["dt"]
    np.testing.assert_allclose(data.times, expected, rtol=1e-14)
    assert data.time_origin == pytest.approx(0.25) == truth["time_origin"]
    assert data.provenance["time_origin_source"] == source
    assert data.provenance["time_base"]["begin_frame"] == 250
    assert data.provenance["time_base"]["begin_frame_path"] == source


def test_speckle_files_carry_the_clock_too(tmp_path):
    path, truth = simulate_small(tmp_path, noise="speckle", n_frames=12, pixels_per_bin=400, begin_frame=40,
                                 processed_q_rows=(2,))
    assert load_file(path).times[0] == pytest.approx(40 * 1e-3 + truth["dt"])


def test_a_file_without_a_begin_frame_starts_at_zero(tmp_path):
    source, _ = simulate_small(tmp_path, begin_frame=100)
    path = edited_copy(source, tmp_path / "no_begin.h5", lambda h5: h5.__delitem__(APS_U_BEGIN))
    data = load_file(path)
    assert data.time_origin == 0.0 and data.provenance["time_origin_source"] is None
    np.testing.assert_allclose(data.times, data.frames * data.dt)


def test_a_configured_time_origin_overrides_the_file(tmp_path):
    path, truth = simulate_small(tmp_path, begin_frame=100)
    data = load_file(path, time_origin=0.025, start_frame=3)
    assert data.provenance["time_origin_source"] == "config"
    np.testing.assert_allclose(data.times, 0.025 + np.arange(3, SMALL_FRAMES + 1) * truth["dt"], rtol=1e-14)
    with pytest.raises(HeterodyneError, match="time_origin must be a number of seconds >= 0, got -1.0"):
        load_file(path, time_origin=-1.0)


def test_start_frame_still_selects_stored_frames(tmp_path):
    path, truth = simulate_small(tmp_path, begin_frame=100)
    data = load_file(path, start_frame=5, end_frame=9)
    np.testing.assert_array_equal(data.frames, [5, 6, 7, 8, 9])
    np.testing.assert_allclose(data.times, 0.1 + np.arange(5, 10) * truth["dt"], rtol=1e-14)


@pytest.mark.parametrize(
    ("layout", "h5path", "value", "message"),
    [
        ("aps-u", APS_U_BEGIN, np.int64(-3), "must be a 0-based frame number, found -3"),
        ("aps-u", APS_U_BEGIN, np.float64(2.5), "must be a 0-based frame number, found 2.5"),
        ("legacy", "/xpcs/data_begin_todo", np.zeros((1, 1), dtype=np.uint64), "must be a 1-based frame number"),
    ],
)
def test_a_bad_begin_frame_is_refused(tmp_path, layout, h5path, value, message):
    source, _ = simulate_small(tmp_path, layout=layout)
    path = edited_copy(source, tmp_path / "bad.h5", lambda h5: replace_dataset(h5, h5path, value))
    with pytest.raises(HeterodyneError, match=message):
        load_file(path)


def test_a_bad_configured_time_origin_is_a_config_error():
    with pytest.raises(HeterodyneError, match=r"analyzer_parameters\.time_origin: expected a number >= 0, got -2"):
        resolve_config({"analyzer_parameters": {"time_origin": -2}}, "run.yaml")


def test_a_fit_on_the_correlator_clock_recovers_the_truth_and_the_old_clock_does_not(tmp_path):
    # ageing and accelerating: t^alpha, t^beta and exp(f1 t) make the absolute time matter
    changed = dict(D0_ref=2e4, alpha_ref=-0.5, D0_sample=6e4, v0=1000.0, beta=0.5, f0=0.3, f1=-1.0)
    start = dict(D0_ref=3e4, alpha_ref=-0.3, v0=900.0, beta=0.3)
    truth = {p.name: p.default for p in PHYSICS_PARAMETERS} | changed
    path, _ = simulate(tmp_path, changed, n_frames=80, noise_sigma=0.002, seed=2, begin_frame=300)
    config = fit_config(start, {name: value for name, value in truth.items() if name not in start},
                        optimization={"nlsq": {"noise_sigma": 0.002}}, scaling={"contrast": {"initial": 0.1}})
    sections = {}
    for clock, origin in (("correlator", None), ("old", 0.0)):
        data = load_file(path, q=FIT_Q, phi=FIT_PHI, time_origin=origin)
        problem, noise = build_problem(config, c2=data.c2, q=data.q, phi=data.phi, t=data.times, dt=data.dt)
        result = fit(problem, config.optimization.nlsq)
        sections[clock] = nlsq_section(result, problem, noise, "auto")
        assert result.converged, result.convergence_warning
    # errors in units of the error bars of the right clock's fit (the wrong clock's own error bars
    # grow with its misfit, which the frame-clustered sandwich sees as correlated residuals)
    stderr = sections["correlator"]["stderr"]
    worst = {clock: max(abs(section[name] - truth[name]) / stderr[name] for name in start)
             for clock, section in sections.items()}
    assert worst["correlator"] <= 3.0
    assert worst["old"] > 20.0


def test_the_apsu_correlator_file_loads_with_its_geometry_and_clock(correlator_file):
    truth = json.loads(correlator_file.with_name("hetflow_a0001_truth.json").read_text())
    summary = scan_file(correlator_file)
    assert summary.layout == "aps-u" and summary.n_frames == truth["n_stored_frames"] == 300
    q_centres, phi_centres = truth["q_centres"], truth["phi_centres"]
    cells = {(q_centres.index(b.q), phi_centres.index(b.phi)) for b in summary.bins}
    all_cells = {(i, j) for i in range(3) for j in range(3)}
    assert len(summary.bins) == 8 and all_cells - cells == {(0, 2)}, "one empty cell: smallest q, 70 deg"
    data = load_file(correlator_file)
    assert data.dt == pytest.approx(truth["dt"], rel=1e-12) and data.c2.shape == (8, 300, 300)
    assert summary.time_step.begin_frame == truth["begin_frame"] == 0
    assert data.time_origin == 0.0 and data.provenance["time_origin_source"] == APS_U_BEGIN
    np.testing.assert_allclose(data.times, np.arange(1, 301) * 0.01, rtol=1e-12)
    with h5py.File(correlator_file, "r") as h5:
        assert h5[APS_U_BEGIN][()] == 0
