"""The run command's contract: result.json/NPZ, exit codes 0/2/130, determinism, atomic outputs."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from nlsq_helpers import FIT_PHI, FIT_Q, TRUTH, simulate

from heterodyne.cli import main
from heterodyne.parameters import PHYSICS_NAMES

NOISE = 0.002


def write_config(directory: Path, *, max_iterations=200, start=None, extra=None, search=True) -> Path:
    """A run config varying D0_ref, D0_sample, v0 and f0 from ``start``; the rest held at the truth.
    ``search`` False: one fit from ``start`` alone (no global search), to provoke a given failure."""
    start = start or dict(D0_ref=3e4, D0_sample=5e4, v0=1100.0, f0=0.4)
    parameters = {name: {"vary": False} for name in PHYSICS_NAMES}
    for name, value in start.items():
        parameters[name] = {"initial": value, "vary": True}
    starts = {} if search else {"start": "initial", "multistart": 1}
    config = {
        "experimental_data": {"q": FIT_Q, "phi": FIT_PHI},
        "parameters": parameters,
        "optimization": {"nlsq": {"max_iterations": max_iterations, "noise_sigma": NOISE, **starts}},
        "compute": {"jax_cache_dir": str(directory / "jax-cache")},
    }
    config.update(extra or {})
    path = directory / "run.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def data_file(tmp_path_factory) -> Path:
    path, _ = simulate(tmp_path_factory.mktemp("data"), TRUTH, n_frames=80, noise_sigma=NOISE, seed=4)
    return path


def result_files(output: Path) -> list[Path]:
    return sorted(output.glob("het_*/result.json"))


def test_run_writes_result_json_and_npz(tmp_path, data_file, capsys):
    config = write_config(tmp_path)
    output = tmp_path / "out"
    code = main(["--config", str(config), "--data", str(data_file), "--output-dir", str(output)])
    assert code == 0
    [result_path] = result_files(output)
    assert capsys.readouterr().out.strip() == str(result_path)
    assert len(result_path.parent.name) == len("het_") + 8
    document = json.loads(result_path.read_text())
    for key in ("run_id", "heterodyne_version", "git_commit", "created", "data_file", "data_sha256",
                "config", "method", "status", "convergence_warning", "data", "nlsq", "cmc", "timing"):
        assert key in document, key
    assert document["convergence_warning"] is None
    assert document["data_sha256"] == __import__("hashlib").sha256(data_file.read_bytes()).hexdigest()
    clock = {key: document["data"][key] for key in ("time_origin", "time_origin_source")}
    assert clock == {"time_origin": 0.0, "time_origin_source": "/xpcs/twotime/config/begin_frame"}
    assert document["data"]["time_base"]["begin_frame"] == 0
    for name in PHYSICS_NAMES:
        assert isinstance(document["nlsq"][name], float), name
    assert document["nlsq"]["varied"] == ["D0_ref", "D0_sample", "v0", "f0"]
    assert document["nlsq"]["scaling"]["mode"] == "individual"
    assert document["nlsq"]["scaling"]["requested_mode"] == "auto"
    assert len(document["nlsq"]["contrast"]) == 3
    for name, value in TRUTH.items():
        assert abs(document["nlsq"][name] - value) <= 3 * document["nlsq"]["stderr"][name], name
    with np.load(result_path.parent / "nlsq.npz", allow_pickle=False) as npz:
        assert list(npz["free_names"][:4]) == ["D0_ref", "D0_sample", "v0", "f0"]
        assert npz["covariance"].shape == (10, 10)
        np.testing.assert_allclose(npz["values"][:14], [document["nlsq"][n] for n in PHYSICS_NAMES])
    leftovers = [p for p in result_path.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def without_timing(document: dict) -> dict:
    return {key: value for key, value in document.items() if key not in ("created", "timing")}


def test_same_inputs_same_directory_and_numbers(tmp_path, data_file):
    config = write_config(tmp_path)
    outputs = [tmp_path / "a", tmp_path / "b"]
    for output in outputs:
        assert main(["--config", str(config), "--data", str(data_file), "--output-dir", str(output)]) == 0
    first, second = (result_files(output) for output in outputs)
    assert [p.parent.name for p in first] == [p.parent.name for p in second]
    documents = [json.loads(paths[0].read_text()) for paths in (first, second)]
    documents[1]["config"]["output"]["output_dir"] = documents[0]["config"]["output"]["output_dir"]
    assert without_timing(documents[0]) == without_timing(documents[1])


def test_iteration_limit_exits_2_with_warning(tmp_path, data_file):
    far = dict(D0_ref=5e5, D0_sample=300.0, v0=50.0, f0=0.9)
    config = write_config(tmp_path, max_iterations=3, start=far, search=False)
    output = tmp_path / "out"
    code = main(["--config", str(config), "--data", str(data_file), "--output-dir", str(output)])
    assert code == 2
    [result_path] = result_files(output)
    document = json.loads(result_path.read_text())
    assert "iteration limit" in document["convergence_warning"]
    assert document["status"] == "convergence_warning"
    assert document["nlsq"]["converged"] is False
    assert isinstance(document["nlsq"]["D0_ref"], float)
    with np.load(result_path.parent / "nlsq.npz", allow_pickle=False) as npz:
        assert np.isfinite(npz["values"]).all()


def test_parameter_pinned_at_bound_exits_2(tmp_path, data_file):
    """With f0 held above its truth, the fit wants f3 < 0: it must stop on the bound and say so."""
    config = write_config(tmp_path, start=dict(D0_ref=3e4, D0_sample=5e4, v0=1100.0, f3=0.05), search=False)
    text = yaml.safe_load(config.read_text())
    text["parameters"]["f0"] = {"initial": 0.45, "vary": False}
    config.write_text(yaml.safe_dump(text))
    output = tmp_path / "out"
    code = main(["--config", str(config), "--data", str(data_file), "--output-dir", str(output)])
    document = json.loads(result_files(output)[0].read_text())
    assert code == 2
    assert document["nlsq"]["parameter_status"]["f3"] == "at_lower_bound"
    assert "parameters pinned at bounds: f3 (lower)" in document["convergence_warning"]
    assert document["nlsq"]["stderr"]["f3"] is None


def test_sigint_exits_130_without_partial_result(tmp_path, data_file):
    config = write_config(tmp_path, extra={"optimization": {"nlsq": {"multistart": 50, "noise_sigma": NOISE}}})
    output = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "heterodyne.cli", "--verbose", "--config", str(config),
         "--data", str(data_file), "--output-dir", str(output)],
        stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 120
    seen = ""
    while "fitting" not in seen and time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        seen += line
    assert "fitting" in seen, seen
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert not list(output.rglob("result.json"))
    assert not [p for p in output.rglob("*") if p.name.startswith(".")]


def test_console_script_in_a_fresh_process(tmp_path, data_file):
    """The installed ``heterodyne`` command, in a process whose environment forces nothing on JAX
    (64-bit mode must come from the package itself), fits and exits 0."""
    config = write_config(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_", "XLA_"))}
    command = Path(sys.executable).with_name("heterodyne")
    completed = subprocess.run(
        [str(command), "--config", str(config), "--data", str(data_file), "--output-dir", str(tmp_path / "out")],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    document = json.loads(Path(completed.stdout.strip()).read_text())
    assert document["nlsq"]["converged"] is True


def test_missing_config_key_is_one_line_error(tmp_path, data_file, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text("optimization:\n  nlsq:\n    max_iteratons: 5\n")
    code = main(["--config", str(config), "--data", str(data_file), "--output-dir", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(err) == 1 and "max_iteratons" in err[0] and "max_iterations" in err[0]
    assert not (tmp_path / "out").exists()


def test_unwritable_output_directory(tmp_path, data_file, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    code = main(["--config", str(write_config(tmp_path)), "--data", str(data_file),
                 "--output-dir", str(blocker / "out")])
    assert code == 1
    assert "not a writable directory" in capsys.readouterr().err


def test_threads_one_holds_the_process_to_one_core():
    """A fresh process with a budget of one thread: BLAS told so, and a parallelisable JAX
    computation uses one core (CPU time ≈ wall time), while its threads may still run anywhere."""
    code = (
        "import os, time; from heterodyne.runtime import apply_thread_budget; apply_thread_budget(1);"
        "from heterodyne.jaxconfig import jax, jnp;"
        "f = jax.jit(lambda x: jnp.sum(jnp.exp(jnp.sin(x)) * jnp.cos(x)));"
        "x = jnp.linspace(0, 1, 10_000_000); f(x).block_until_ready();"
        "w, c = time.perf_counter(), time.process_time();"
        "[f(x).block_until_ready() for _ in range(10)];"
        "print(os.environ['OMP_NUM_THREADS'], (time.process_time() - c) / (time.perf_counter() - w),"
        " len(os.sched_getaffinity(0)))"
    )
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    blas_threads, cpu_per_wall, allowed = out.stdout.split()
    assert blas_threads == "1"
    assert float(cpu_per_wall) <= 1.2
    assert int(allowed) == len(os.sched_getaffinity(0))


def test_nlsq_processes_at_one_and_two_threads_give_the_same_numbers(tmp_path):
    """Separate processes with --threads 1 and 2: XLA's pool is one worker for an NLSQ run (its
    passes thread over their own chunks), so the search and its optimum are the same bit for bit.
    (200 frames: blocks of about 10 000 points, whose contraction a pool of two splits.)"""
    data_file, _ = simulate(tmp_path, TRUTH, n_frames=200, noise_sigma=NOISE, seed=6)
    config = write_config(tmp_path)
    documents = []
    for threads in ("1", "2"):
        run_dir = tmp_path / f"threads{threads}"
        subprocess.run([sys.executable, "-m", "heterodyne.cli", "--config", str(config), "--data", str(data_file),
                        "--run-dir", str(run_dir), "--method", "nlsq", "--threads", threads],
                       capture_output=True, text=True, check=True)
        documents.append(json.loads((run_dir / "result.json").read_text())["nlsq"])
    for key in ("cost", "multistart", "D0_ref", "v0", "stderr"):
        assert documents[0][key] == documents[1][key], key


def test_run_dir_is_used_exactly_and_no_plots_overrides_config(tmp_path, data_file):
    config = write_config(tmp_path, extra={"output": {"plots": True}})
    run_dir = tmp_path / "runs" / "fixed-name"
    code = main(["--config", str(config), "--data", str(data_file), "--run-dir", str(run_dir), "--no-plots"])
    assert code == 0
    assert sorted(p.name for p in run_dir.iterdir()) == ["nlsq.npz", "result.json"]
    assert json.loads((run_dir / "result.json").read_text())["config"]["output"]["plots"] is False
