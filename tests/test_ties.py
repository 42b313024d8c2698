"""Tied parameters: validation, the free ↔ full mapping, a tied fit against the reparametrised
model, the sampler's density, and the reports."""

from __future__ import annotations

import numpy as np
import pytest
from nlsq_helpers import FIT_PHI, FIT_Q, run_fit, simulate

from heterodyne.config import parameter_table, resolve_config
from heterodyne.errors import HeterodyneError
from heterodyne.parameters import PHYSICS_NAMES

TRUTH = dict(D0_ref=4e4, D0_sample=4e4, v0=1200.0, f0=0.3)
FITTED = ("D0_sample", "v0", "f0")


def _error(parameters: dict) -> str:
    with pytest.raises(HeterodyneError) as caught:
        resolve_config({"parameters": parameters}, "run.yaml")
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("parameters, expected", [
    ({"D0_ref": {"tied_to": "D0_smaple"}},
     "run.yaml: parameters.D0_ref.tied_to: a parameter is tied to another physics parameter, got 'D0_smaple', "
     "not a physics parameter (did you mean 'D0_sample'?)"),
    ({"D0_ref": {"tied_to": "contrast"}},
     "run.yaml: parameters.D0_ref.tied_to: a parameter is tied to another physics parameter, got 'contrast', "
     "not a physics parameter"),
    ({"v0": {"tied_to": "v0"}},
     "run.yaml: parameters.v0.tied_to: a parameter is tied to another physics parameter, got itself"),
    ({"alpha_ref": {"tied_to": "alpha_sample"}, "alpha_sample": {"tied_to": "beta"}},
     "run.yaml: parameters.alpha_ref.tied_to: alpha_sample is itself tied to beta; tie alpha_ref to beta "
     "directly (no chains of ties)"),
    ({"D0_ref": {"tied_to": "D0_sample"}, "D0_sample": {"vary": False}},
     "run.yaml: parameters.D0_ref.tied_to: D0_sample has vary: false; a parameter can be tied only to a fitted one"),
    ({"D0_ref": {"tied_to": "D0_sample", "vary": False}},
     "run.yaml: parameters.D0_ref.tied_to: D0_ref has vary: false; a tied parameter follows D0_sample and "
     "cannot also be fixed"),
    ({"D_offset_ref": {"tied_to": "v_offset"}},
     "run.yaml: parameters.D_offset_ref.tied_to: D_offset_ref is in Å²/s and v_offset in Å/s: ties need one unit"),
    ({"D0_ref": {"tied_to": 3}}, "run.yaml: parameters.D0_ref.tied_to: expected a string or null, got 3"),
])
def test_invalid_ties_are_one_line_errors_naming_the_key(parameters: dict, expected: str):
    assert _error(parameters) == expected


def test_an_untied_parameter_has_no_tie_in_the_resolved_config_whether_absent_or_null():
    """Untied is the absence of ``tied_to``: result.json and run ids of configs without ties are
    those of configs written before ties existed."""
    for entry in ({}, {"tied_to": None}):
        config = resolve_config({"parameters": {"D0_ref": entry}})
        assert config.parameters["D0_ref"].tied_to is None
        assert "tied_to" not in config.as_dict()["parameters"]["D0_ref"]
    tied = resolve_config({"parameters": {"D0_ref": {"tied_to": "D0_sample"}}})
    assert tied.as_dict()["parameters"]["D0_ref"]["tied_to"] == "D0_sample"


def test_a_tied_row_carries_its_targets_start_bounds_and_prior_and_is_not_fitted_itself():
    config = resolve_config({"parameters": {
        "D0_ref": {"tied_to": "D0_sample", "initial": 300.0, "bounds": [200.0, 400.0]},
        "D0_sample": {"initial": 5e4, "bounds": [1e3, 1e5], "prior": {"type": "lognormal", "mu": 10, "sigma": 1}},
    }})
    rows = {row["name"]: row for row in parameter_table(config)}
    assert rows["D0_ref"] == {**rows["D0_sample"], "name": "D0_ref", "vary": False, "tied_to": "D0_sample"}
    assert rows["D0_sample"]["vary"] is True and rows["D0_sample"]["tied_to"] is None


def _tied_config(**nlsq) -> object:
    parameters = {name: {"vary": False} for name in PHYSICS_NAMES}
    parameters.update({name: {"initial": value, "vary": False} for name, value in TRUTH.items()})
    parameters.update(D0_ref={"tied_to": "D0_sample"}, D0_sample={"initial": 3e4, "vary": True},
                      v0={"initial": 1150.0, "vary": True}, f0={"initial": 0.35, "vary": True})
    return resolve_config({"experimental_data": {"q": FIT_Q, "phi": FIT_PHI}, "parameters": parameters,
                           "scaling": {"mode": "individual"},
                           "optimization": {"nlsq": {"start": "initial", "multistart": 1, **nlsq}}})


@pytest.fixture(scope="module")
def tied_fit(tmp_path_factory):
    path, _ = simulate(tmp_path_factory.mktemp("data"), TRUTH, n_frames=40, noise_sigma=0.002, seed=3)
    config = _tied_config(ftol=1e-12, xtol=1e-12, gtol=1e-12)
    return run_fit(path, config)


def test_the_full_vector_copies_the_target_into_the_tied_slot():
    from heterodyne.nlsq.problem import make_problem
    from heterodyne.points import upper_triangle_points
    from heterodyne.scaling import build_scaling

    config = _tied_config()
    c2 = np.ones((3, 6, 6))
    problem = make_problem(parameter_table(config), build_scaling(config.scaling, np.array(FIT_PHI)),
                           t=np.arange(1, 7) * 1e-3, q=np.full(3, FIT_Q), phi=np.array(FIT_PHI),
                           points=upper_triangle_points(c2), sigma=np.ones(45))
    assert problem.ties == {"D0_ref": "D0_sample"}
    assert problem.free_names[:3] == FITTED
    x = np.arange(1.0, problem.vary.sum() + 1.0)
    full = problem.full_vector(x)
    assert full[PHYSICS_NAMES.index("D0_ref")] == full[PHYSICS_NAMES.index("D0_sample")] == 1.0
    np.testing.assert_array_equal(full[problem.vary], x)


def test_a_tied_fit_equals_a_fit_of_the_reparametrised_model(tied_fit):
    """scipy's least_squares on residuals in which one value feeds both D0 slots (the package's
    model function, the same points, σ and start) ends at the tied fit's optimum."""
    from scipy.optimize import least_squares

    from heterodyne import model
    from heterodyne.jaxconfig import jax, jnp

    section, fit, problem = tied_fit
    points = problem.points
    slots = [PHYSICS_NAMES.index(name) for name in FITTED]
    both = [PHYSICS_NAMES.index("D0_ref"), PHYSICS_NAMES.index("D0_sample")]
    n_angles = len(FIT_PHI)
    base = jnp.asarray(problem.initial[:len(PHYSICS_NAMES)])

    def residuals(x):
        theta = base.at[jnp.array(slots)].set(x[:3]).at[jnp.array(both)].set(x[0])
        c2 = model.c2_points(theta, x[3:3 + n_angles], x[3 + n_angles:], t=problem.t, q=problem.q, phi=problem.phi,
                             angle_index=points.angle_index, i=points.i, j=points.j)
        return (points.value - c2) / problem.sigma

    jacobian = jax.jit(jax.jacfwd(residuals))
    start = np.r_[problem.initial[slots], problem.initial[len(PHYSICS_NAMES):]]
    free = problem.vary
    reference = least_squares(lambda x: np.asarray(residuals(jnp.asarray(x))), start,
                              jac=lambda x: np.asarray(jacobian(jnp.asarray(x))),
                              bounds=(problem.lower[free][:3].tolist() + [0.0] * n_angles + [0.5] * n_angles,
                                      problem.upper[free][:3].tolist() + [1.0] * n_angles + [1.5] * n_angles),
                              method="trf", x_scale="jac", ftol=1e-12, xtol=1e-12, gtol=1e-12)
    assert reference.success
    np.testing.assert_allclose([section[name] for name in FITTED], reference.x[:3], rtol=1e-6)
    np.testing.assert_allclose(fit.full[len(PHYSICS_NAMES):], reference.x[3:], rtol=1e-6)
    assert fit.cost == pytest.approx(reference.cost, rel=1e-9)


def test_the_result_reports_a_tied_parameter_with_its_targets_numbers(tied_fit):
    section, fit, _ = tied_fit
    assert section["parameter_status"]["D0_ref"] == "tied to D0_sample"
    assert section["D0_ref"] == section["D0_sample"]
    for key in ("stderr", "stderr_independent", "degrees_of_freedom", "q05", "q95"):
        assert section[key]["D0_ref"] == section[key]["D0_sample"] is not None, key
    assert section["varied"] == list(FITTED) and "D0_ref" not in fit.free_names


def test_the_samplers_density_feeds_the_sampled_target_into_both_slots(tied_fit):
    """The CMC likelihood reads the full vector through the same mapping: at any sampled point the
    residuals are those of the model with D0_ref = D0_sample, and only the target has a prior."""
    from heterodyne import model
    from heterodyne.cmc.posterior import priors_of
    from heterodyne.jaxconfig import jnp
    from heterodyne.nlsq.problem import padded_point_arrays, problem_constants, weighted_residuals

    _, fit, problem = tied_fit
    x = fit.full[problem.vary] * 1.01
    arrays = padded_point_arrays(problem, problem.points.size)
    residuals = np.asarray(weighted_residuals(jnp.asarray(x), problem_constants(problem), *arrays,
                                              n_contrast=len(problem.scaling.contrast)))
    theta = problem.initial[:len(PHYSICS_NAMES)].copy()
    theta[[PHYSICS_NAMES.index(name) for name in FITTED]] = x[:3]
    theta[PHYSICS_NAMES.index("D0_ref")] = x[0]
    contrast, offset = x[3:6], x[6:]
    points = problem.points
    expected = (points.value - np.asarray(model.c2_points(theta, contrast, offset, t=problem.t, q=problem.q,
                                                          phi=problem.phi, angle_index=points.angle_index,
                                                          i=points.i, j=points.j))) / problem.sigma
    np.testing.assert_allclose(residuals, expected, rtol=1e-12, atol=1e-12)
    assert priors_of(problem, parameter_table(_tied_config())).kind.size == len(problem.free_names)


def test_the_cmc_report_gives_a_tied_parameter_its_targets_posterior():
    from heterodyne.cmc.report import _per_physics

    values = _per_physics(("D0_sample", "v0"), np.array([5e4, 1e3]), {"D0_ref": "D0_sample"}, {"f0": 0.3})
    assert values["D0_ref"] == values["D0_sample"] == 5e4 and values["f0"] == 0.3


def test_summary_lists_a_tied_parameter_with_its_target():
    from heterodyne.plots.summary_table import varied_names
    from heterodyne.run_tables import tied_entries

    config = _tied_config().as_dict()
    assert tied_entries(config) == ["D0_ref=D0_sample"]
    assert varied_names(";".join([*FITTED, *tied_entries(config)])) == [*FITTED, "D0_ref"]
