"""Fits as a user runs them: from the template's defaults (only the file given), on data whose truth
the defaults know nothing of. Each must reach the cost of a fit started at the truth, or say it
did not (a convergence warning); and a wrong model must never be called converged.
benchmarks/bench_robustness.py runs the same comparison over 40 files."""

from __future__ import annotations

from dataclasses import replace

import pytest

from heterodyne.config import resolve_config
from heterodyne.data import load_file
from heterodyne.nlsq.run import run_nlsq
from heterodyne.simulation import SimulationSpec, simulate_dataset

ONE_Q = dict(q_centres=(0.009,), phi_centres=(-157.5, -67.5, 22.5, 112.5), empty_cells=(), processed_q_rows=(0,))
CASES = {
    "slow reference, fast sample": dict(
        spec=dict(n_frames=100, seed=11, contrast=0.15, contrast_anisotropy=0.2),
        truth=dict(D0_ref=3e3, alpha_ref=-0.3, D0_sample=4e4, v0=2500.0, beta=0.2, f0=0.35, phi0=3.0)),
    "fringes only at some angles": dict(
        spec=dict(n_frames=120, seed=12, contrast=0.3, contrast_anisotropy=0.0),
        truth=dict(D0_ref=8e3, D0_sample=2e4, alpha_sample=0.3, v0=600.0, f0=0.6, phi0=-4.0)),
    "speckle noise": dict(
        spec=dict(n_frames=100, seed=13, noise="speckle", pixels_per_bin=4000),
        truth=dict(D0_ref=1.5e4, D0_sample=5e4, v0=1800.0, f0=0.5)),
}


def fit_file(path, threads=1, **settings):
    config = resolve_config(settings, overrides={"experimental_data.file_path": str(path)})
    data = load_file(path)
    return run_nlsq(config, data, progress=False, threads=threads)


@pytest.mark.parametrize("case", CASES)
def test_a_fit_from_the_defaults_reaches_the_fit_started_at_the_truth(tmp_path, case):
    spec = replace(SimulationSpec(**ONE_Q, **CASES[case]["spec"]), params=CASES[case]["truth"])
    path = tmp_path / "data.h5"
    simulate_dataset(path, spec)
    default = fit_file(path)
    at_truth = fit_file(path, parameters={name: {"initial": value} for name, value in CASES[case]["truth"].items()},
                        optimization={"nlsq": {"start": "initial", "multistart": 1}})
    assert default.section["cost"] <= 1.01 * at_truth.section["cost"], (default.section["cost"],
                                                                        at_truth.section["cost"])
    # a right fit passes the residual check; it may still warn of a parameter the data cannot place
    # (a rate offset trading off with its prefactor runs to a bound), never of structure
    assert default.section["residual_structure"]["passed"], default.warning
    # the same search at two threads: the same numbers, bit for bit
    two_threads = fit_file(path, threads=2)
    assert two_threads.section["cost"] == default.section["cost"]
    assert two_threads.section["multistart"] == default.section["multistart"]


def test_a_wrong_model_is_never_called_converged(tmp_path):
    """The velocity law held 20 % off its truth, the exponents and offsets held: the fit cannot
    absorb the error, and whatever the other parameters do, it is a convergence warning."""
    truth = CASES["slow reference, fast sample"]["truth"]
    spec = replace(SimulationSpec(**ONE_Q, n_frames=100, seed=5), params=truth)
    path = tmp_path / "data.h5"
    simulate_dataset(path, spec)
    held = {name: {"vary": False} for name in ("D_offset_ref", "D_offset_sample", "v_offset", "f1", "f3")}
    wrong = {name: {"initial": value} for name, value in truth.items()} | held | {
        "v0": {"initial": 0.8 * truth["v0"], "vary": False}, "beta": {"initial": truth["beta"], "vary": False}}
    outcome = fit_file(path, parameters=wrong, optimization={"nlsq": {"start": "initial", "multistart": 1}})
    assert outcome.warning is not None and "more than correlated noise explains" in outcome.warning
    assert not outcome.section["converged"]


def test_a_tied_fit_from_the_defaults_reaches_the_tied_fit_started_at_the_truth(tmp_path):
    """D0_ref tied to D0_sample, everything else at the template's defaults, on data whose two
    components share one D0: as a user runs it, at one and two threads."""
    truth = dict(D0_ref=3e4, D0_sample=3e4, alpha_sample=0.3, v0=1500.0, f0=0.4, phi0=2.0)
    spec = replace(SimulationSpec(**ONE_Q, n_frames=100, seed=14), params=truth)
    path = tmp_path / "data.h5"
    simulate_dataset(path, spec)
    tie = {"D0_ref": {"tied_to": "D0_sample"}}
    default = fit_file(path, parameters=tie)
    started = {name: {"initial": value} for name, value in truth.items() if name != "D0_ref"}
    at_truth = fit_file(path, parameters=started | tie, optimization={"nlsq": {"start": "initial", "multistart": 1}})
    assert default.section["cost"] <= 1.01 * at_truth.section["cost"], (default.section["cost"],
                                                                        at_truth.section["cost"])
    assert default.section["residual_structure"]["passed"], default.warning
    assert default.section["parameter_status"]["D0_ref"] == "tied to D0_sample"
    assert default.section["D0_ref"] == default.section["D0_sample"]
    two_threads = fit_file(path, threads=2, parameters=tie)
    assert two_threads.section["cost"] == default.section["cost"]
    assert two_threads.section["D0_sample"] == default.section["D0_sample"]
