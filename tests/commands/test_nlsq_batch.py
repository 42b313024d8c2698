"""``heterodyne nlsq-batch``: several run configs fitted by one command, each into nlsq/ beside its
config, with the numbers of the plain run command and its exit-code contract."""

import json

import yaml
from nlsq_helpers import FIT_PHI, FIT_Q, simulate

from heterodyne.cli import main
from heterodyne.parameters import PHYSICS_NAMES

PER_RUN_KEYS = ("created", "timing")  # wall-clock facts; everything else must match


def write_run_config(directory, data, *, start_frame: int, max_iterations: int = 100):
    parameters = {name: {"vary": False} for name in PHYSICS_NAMES}
    parameters.update(D0_ref={"initial": 3e4}, v0={"initial": 1100.0})
    config = {
        "experimental_data": {"file_path": str(data), "q": FIT_Q, "phi": FIT_PHI},
        "analyzer_parameters": {"start_frame": start_frame},
        "parameters": parameters,
        "optimization": {"nlsq": {"noise_sigma": 0.002, "max_iterations": max_iterations}},
        "compute": {"jax_cache_dir": str(directory.parent / "jax-cache")},
    }
    directory.mkdir()
    (directory / "run.yaml").write_text(yaml.safe_dump(config))
    return directory / "run.yaml"


def comparable(run_dir):
    document = json.loads((run_dir / "result.json").read_text())
    return {key: value for key, value in document.items() if key not in PER_RUN_KEYS}


def test_batch_of_two_workers_gives_the_single_run_results(tmp_path, capfd):
    data, _ = simulate(tmp_path, dict(D0_ref=2e4, v0=1200.0), n_frames=30, processed_q_rows=(1,), seed=2)
    configs = [write_run_config(tmp_path / f"point{start}", data, start_frame=start) for start in (1, 6)]
    assert main(["nlsq-batch", *map(str, configs), "--threads", "2", "--no-plots"]) == 0
    printed = capfd.readouterr().out.split()  # by the worker processes, in the order they finish
    assert sorted(printed) == [str(c.parent / "nlsq" / "result.json") for c in configs]
    for config in configs:
        alone = config.parent / "alone"
        assert main(["--config", str(config), "--run-dir", str(alone), "--threads", "1", "--no-plots"]) == 0
        assert comparable(config.parent / "nlsq") == comparable(alone)
        assert not (config.parent / "nlsq" / "plots").exists()


def test_a_convergence_warning_in_one_run_is_exit_2_with_every_output(tmp_path):
    data, _ = simulate(tmp_path, dict(D0_ref=2e4, v0=1200.0), n_frames=30, processed_q_rows=(1,), seed=2)
    configs = [write_run_config(tmp_path / "ok", data, start_frame=1),
               write_run_config(tmp_path / "short", data, start_frame=1, max_iterations=1)]
    assert main(["nlsq-batch", *map(str, configs), "--threads", "1", "--no-plots"]) == 2
    statuses = [json.loads((c.parent / "nlsq" / "result.json").read_text())["status"] for c in configs]
    assert statuses == ["converged", "convergence_warning"]


def test_missing_config_or_shared_directory_is_one_line_and_nothing_written(tmp_path, capsys):
    data, _ = simulate(tmp_path, dict(D0_ref=2e4), n_frames=20, processed_q_rows=(1,), seed=2)
    config = write_run_config(tmp_path / "a", data, start_frame=1)
    assert main(["nlsq-batch", str(config), str(tmp_path / "b" / "run.yaml")]) == 1
    assert capsys.readouterr().err == f"heterodyne: error: {tmp_path}/b/run.yaml: no such file\n"
    twin = config.parent / "twin.yaml"
    twin.write_text(config.read_text())
    assert main(["nlsq-batch", str(config), str(twin)]) == 1
    assert capsys.readouterr().err == (f"heterodyne: error: {config}: another config is in the same directory "
                                       "(one run per directory)\n")
    assert not (config.parent / "nlsq").exists()
