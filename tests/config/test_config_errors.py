"""Every configuration error is a one-line HeterodyneError naming the source and the key path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from heterodyne.config import read_config, resolve_config
from heterodyne.errors import HeterodyneError


def _error(raw: object, overrides: dict | None = None) -> str:
    """The message raised for ``raw`` (which must be invalid), checked to be one line."""
    with pytest.raises(HeterodyneError) as caught:
        resolve_config(raw, "run.yaml", overrides)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("run.yaml: ")
    return message


@pytest.mark.parametrize("raw, expected", [
    ({"optimization": {"nlsq": {"max_iteratons": 3}}},
     "run.yaml: optimization.nlsq.max_iteratons: unknown key (did you mean 'max_iterations'?)"),
    ({"outptu": {}}, "run.yaml: outptu: unknown key (did you mean 'output'?)"),
    ({"scaling": {"contrst": {}}}, "run.yaml: scaling.contrst: unknown key (did you mean 'contrast'?)"),
    ({"seed": 3}, "run.yaml: seed: unknown key (valid: experimental_data, analyzer_parameters, "
                  "parameters, scaling, optimization, output, compute)"),
])
def test_unknown_key_names_path_and_closest_key(raw: dict, expected: str):
    assert _error(raw) == expected


def test_unknown_parameter_name_suggests_the_closest():
    assert _error({"parameters": {"D0_rf": {"initial": 1e4}}}) == (
        "run.yaml: parameters.D0_rf: unknown key (did you mean 'D0_ref'?)")


def test_unknown_key_inside_a_parameter():
    assert _error({"parameters": {"f0": {"inital": 0.2}}}) == (
        "run.yaml: parameters.f0.inital: unknown key (did you mean 'initial'?)")


@pytest.mark.parametrize("raw, expected", [
    ({"optimization": {"nlsq": {"max_iterations": "abc"}}},
     "optimization.nlsq.max_iterations: expected an integer, got 'abc'"),
    ({"optimization": {"nlsq": {"max_iterations": True}}},
     "optimization.nlsq.max_iterations: expected an integer, got true"),
    ({"optimization": {"cmc": {"num_chains": 2.0}}},
     "optimization.cmc.num_chains: expected an integer, got 2.0"),
    ({"analyzer_parameters": {"end_frame": False}},
     "analyzer_parameters.end_frame: expected an integer or null, got false"),
    ({"parameters": {"f0": {"initial": True}}}, "parameters.f0.initial: expected a number, got true"),
    ({"output": {"plots": "yes please"}}, "output.plots: expected true or false, got 'yes please'"),
    ({"scaling": 3}, "scaling: expected a mapping or null, got 3"),
    ({"parameters": {"D0_ref": {"bounds": [1, "x"]}}},
     "parameters.D0_ref.bounds[1]: expected a number, got 'x'"),
])
def test_wrong_type_names_path_expected_and_given(raw: dict, expected: str):
    assert _error(raw) == f"run.yaml: {expected}"


@pytest.mark.parametrize("bounds", [[10, 1], [5, 5]])
def test_bounds_must_increase(bounds: list):
    message = _error({"parameters": {"D0_ref": {"bounds": bounds}}})
    assert message.startswith("run.yaml: parameters.D0_ref.bounds: lower bound")


def test_bounds_must_be_a_pair():
    assert _error({"parameters": {"v0": {"bounds": [1, 2, 3]}}}) == (
        "run.yaml: parameters.v0.bounds: expected a list [lower, upper] of two numbers, got [1, 2, 3]")


def test_initial_outside_bounds():
    assert _error({"parameters": {"f0": {"initial": 1.5}}}) == (
        "run.yaml: parameters.f0.initial: 1.5 is outside bounds [0.0, 1.0]")


def test_default_initial_outside_narrowed_bounds_names_the_initial():
    message = _error({"parameters": {"D0_ref": {"bounds": [200, 300]}}})
    assert message.startswith("run.yaml: parameters.D0_ref.initial: 10000.0 is outside")


def test_per_angle_initial_outside_bounds_names_the_angle():
    assert _error({"scaling": {"offset": {"initial": [1.0, 2.0]}}}) == (
        "run.yaml: scaling.offset.initial[1]: 2.0 is outside bounds [0.5, 1.5]")


@pytest.mark.parametrize("prior_type", ["normal", "lognormal"])
def test_informative_prior_needs_sigma(prior_type: str):
    message = _error({"parameters": {"v0": {"prior": {"type": prior_type, "mu": 3}}}})
    assert message == "run.yaml: parameters.v0.prior.sigma: required key is missing"


@pytest.mark.parametrize("sigma", [0, -1.0])
def test_prior_sigma_must_be_positive(sigma: float):
    message = _error({"parameters": {"v0": {"prior": {"type": "normal", "mu": 3, "sigma": sigma}}}})
    assert message == f"run.yaml: parameters.v0.prior.sigma: expected a number > 0, got {sigma}"


def test_uniform_prior_takes_no_extra_keys():
    message = _error({"parameters": {"v0": {"prior": {"type": "uniform", "sigma": 1}}}})
    assert message.startswith("run.yaml: parameters.v0.prior.sigma: unknown key (a uniform prior")


def test_unknown_prior_type_suggests_the_closest():
    message = _error({"parameters": {"v0": {"prior": {"type": "normall", "mu": 1, "sigma": 1}}}})
    assert message.startswith("run.yaml: parameters.v0.prior.type: expected one of uniform, normal")
    assert message.endswith("(did you mean 'normal'?)")


def test_lognormal_prior_needs_a_positive_upper_bound():
    raw = {"parameters": {"beta": {"bounds": [-2, -1], "initial": -1.5,
                                   "prior": {"type": "lognormal", "mu": 0, "sigma": 1}}}}
    assert _error(raw).startswith("run.yaml: parameters.beta.prior: a lognormal prior needs")


def test_start_frame_at_least_one():
    assert _error({"analyzer_parameters": {"start_frame": 0}}) == (
        "run.yaml: analyzer_parameters.start_frame: expected an integer >= 1, got 0")


def test_end_frame_not_before_start_frame():
    assert _error({"analyzer_parameters": {"start_frame": 10, "end_frame": 4}}) == (
        "run.yaml: analyzer_parameters.end_frame: 4 is before start_frame 10")


def test_frame_range_needs_two_frames():
    assert _error({"analyzer_parameters": {"start_frame": 7, "end_frame": 7}}) == (
        "run.yaml: analyzer_parameters.end_frame: frames 7 to 7 select 1 frame; at least 2 are needed")


@pytest.mark.parametrize("dt", [0, -0.5])
def test_dt_must_be_positive(dt: float):
    assert _error({"analyzer_parameters": {"dt": dt}}) == (
        f"run.yaml: analyzer_parameters.dt: expected a number > 0, got {dt}")


@pytest.mark.parametrize("value", [99, "big", 1000.0, True, None])
def test_max_points_per_shard_is_auto_or_an_integer_of_at_least_100(value: object):
    message = _error({"optimization": {"cmc": {"max_points_per_shard": value}}})
    assert message.startswith(
        'run.yaml: optimization.cmc.max_points_per_shard: expected "auto" or an integer >= 100, got ')


def test_enum_typo_suggests_the_closest_value():
    assert _error({"scaling": {"mode": "fouier"}}) == (
        "run.yaml: scaling.mode: expected one of auto, individual, constant, fourier, fixed, "
        "got 'fouier' (did you mean 'fourier'?)")


@pytest.mark.parametrize("phi", ["all", [1, [2, 3]], [[2, 3, 4]], []])
def test_phi_must_be_angles_or_ranges(phi: object):
    assert _error({"experimental_data": {"phi": phi}}).startswith(
        "run.yaml: experimental_data.phi: expected null, a list of angles")


@pytest.mark.parametrize("raw, path", [
    ({"experimental_data": {"q": float("inf")}}, "experimental_data.q"),
    ({"parameters": {"f2": {"bounds": [float("-inf"), 0], "initial": -1}}}, "parameters.f2.bounds[0]"),
    ({"scaling": {"contrast": {"initial": [0.1, float("nan")]}}}, "scaling.contrast.initial[1]"),
])
def test_non_finite_numbers_are_refused(raw: dict, path: str):
    assert _error(raw).startswith(f"run.yaml: {path}: expected a finite number")


@pytest.mark.parametrize("raw", [[1, 2], "text", 3])
def test_top_level_must_be_a_mapping(raw: object):
    assert _error(raw).startswith("run.yaml: expected a mapping of sections at the top level")


def test_unknown_override_path_suggests_the_closest():
    assert _error({}, {"optimization.cmc.sed": 1}) == (
        "run.yaml: override optimization.cmc.sed: unknown key (did you mean 'seed'?)")
    assert _error({}, {"optimization.cmc.seed.x": 1}) == (
        "run.yaml: override optimization.cmc.seed.x: unknown key (optimization.cmc.seed has no sub-keys)")


def test_invalid_override_value_says_it_came_from_an_override():
    assert _error({}, {"optimization.cmc.seed": "x"}) == (
        "run.yaml: optimization.cmc.seed: expected an integer, got 'x' (value from override)")


def test_override_into_a_non_mapping_is_refused():
    assert _error({"scaling": 3}, {"scaling.mode": "auto"}) == (
        "run.yaml: cannot set scaling.mode: scaling is not a mapping")


def test_yaml_syntax_error_names_file_line_and_column(tmp_path: Path):
    path = tmp_path / "run.yaml"
    path.write_text("output:\n  plots: true\n  output_dir: [unclosed\n")
    with pytest.raises(HeterodyneError) as caught:
        read_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:4:1: invalid YAML: ")
    assert "\n" not in message


def test_duplicate_key_is_an_error_with_its_line(tmp_path: Path):
    path = tmp_path / "run.yaml"
    path.write_text("output:\n  plots: true\n  plots: false\n")
    with pytest.raises(HeterodyneError, match=r"run\.yaml:3:3: invalid YAML: duplicate key 'plots'"):
        read_config(path)


def test_missing_file(tmp_path: Path):
    path = tmp_path / "absent.yaml"
    with pytest.raises(HeterodyneError, match=r"absent\.yaml: configuration file not found"):
        read_config(path)


def test_unreadable_file(tmp_path: Path):
    with pytest.raises(HeterodyneError, match="cannot read configuration file"):
        read_config(tmp_path)  # a directory
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(HeterodyneError, match=r"binary\.yaml: cannot read configuration file: not UTF-8"):
        read_config(binary)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_file_without_read_permission(tmp_path: Path):
    path = tmp_path / "secret.yaml"
    path.write_text("{}\n")
    path.chmod(0)
    with pytest.raises(HeterodyneError, match=r"secret\.yaml: cannot read configuration file"):
        read_config(path)


def test_file_errors_name_the_file(tmp_path: Path):
    path = tmp_path / "run.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(HeterodyneError, match=r"run\.yaml: expected a mapping of sections"):
        read_config(path)
    path.write_text("optimization:\n  nlsq:\n    max_iteratons: 3\n")
    with pytest.raises(HeterodyneError, match=r"run\.yaml: optimization\.nlsq\.max_iteratons: unknown key"):
        read_config(path)


def test_noise_sigma_with_lag_noise_weights_is_refused():
    with pytest.raises(HeterodyneError, match=r"optimization\.nlsq\.noise_sigma: is used with weights: uniform only"):
        resolve_config({"optimization": {"nlsq": {"weights": "lag_noise", "noise_sigma": 0.01}}}, "run.yaml")


def test_unknown_cmc_combination_lists_the_valid_ones():
    assert _error({"optimization": {"cmc": {"combination": "wasserstein"}}}) == (
        "run.yaml: optimization.cmc.combination: expected one of barycenter, scott, got 'wasserstein'")
