"""Planning runs (sweep expansion, names) and `heterodyne resolve-config`, without snakemake."""

from __future__ import annotations

import pytest

from heterodyne.batch import expand_sweep
from heterodyne.cli import main
from heterodyne.config import read_config
from heterodyne.errors import HeterodyneError


def test_sweep_is_a_cartesian_product_with_readable_safe_names():
    points = expand_sweep({"analyzer_parameters.start_frame": [1, 500],
                           "optimization.nlsq.seed": [0], "optimization.cmc.seed": [3, 4],
                           "experimental_data.phi": [[-157.5, 22.5]]})
    assert len(points) == 4
    assert points[1].name == ("start_frame=1__optimization.nlsq.seed=0__optimization.cmc.seed=4"
                              "__phi=-157.5_22.5")
    assert dict(points[3].values) == {"analyzer_parameters.start_frame": 500, "optimization.nlsq.seed": 0,
                                      "optimization.cmc.seed": 4, "experimental_data.phi": [-157.5, 22.5]}


def test_no_sweep_is_one_point_named_base():
    [point] = expand_sweep({})
    assert (point.name, dict(point.values)) == ("base", {})


def test_sweep_values_that_would_share_a_directory_are_refused():
    with pytest.raises(HeterodyneError, match="would share the directory name 'mode=a_b'"):
        expand_sweep({"scaling.mode": ["a b", "a/b"]})


def test_resolve_config_writes_a_config_the_run_command_reads_back(tmp_path):
    base = tmp_path / "base.yaml"
    base.write_text("experimental_data: {q: 0.009}\nparameters: {f1: {vary: false}}\n")
    output = tmp_path / "run" / "run.yaml"
    code = main(["resolve-config", str(base), "--set", "analyzer_parameters.start_frame=11",
                 "--set", "experimental_data.phi=[-157.5, 22.5]", "--set", "optimization.nlsq.ftol=1e-6",
                 "--data", "data/x.h5", "--seed", "7", "--output", str(output)])
    assert code == 0
    resolved = read_config(output).as_dict()
    assert resolved["analyzer_parameters"]["start_frame"] == 11
    assert resolved["experimental_data"]["phi"] == [-157.5, 22.5]
    assert resolved["experimental_data"]["file_path"] == str((tmp_path.cwd() / "data/x.h5").resolve())
    assert resolved["optimization"]["nlsq"]["seed"] == resolved["optimization"]["cmc"]["seed"] == 7
    assert resolved["optimization"]["nlsq"]["ftol"] == 1e-6
    assert resolved["parameters"]["f1"]["vary"] is False
    assert output.read_text().startswith("# Resolved by: heterodyne resolve-config")


@pytest.mark.parametrize("assignment, message", [
    ("analyzer_parameters.start_frme=5",
     "override analyzer_parameters.start_frme: unknown key (did you mean 'start_frame'?)"),
    ("analyzer_parameters.start_frame=0", "analyzer_parameters.start_frame: expected an integer >= 1, got 0"),
    ("start_frame", "--set 'start_frame': expected KEY=VALUE"),
])
def test_resolve_config_bad_overrides_are_one_line_errors_and_write_nothing(tmp_path, capsys, assignment, message):
    base = tmp_path / "base.yaml"
    base.write_text("{}\n")
    output = tmp_path / "run.yaml"
    assert main(["resolve-config", str(base), "--set", assignment, "--output", str(output)]) == 1
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1
    assert not output.exists() and list(tmp_path.iterdir()) == [base]
