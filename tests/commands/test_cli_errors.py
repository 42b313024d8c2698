"""The command line's bad-input contract: exit code 1, ONE line "heterodyne: error: ..." on stderr
saying what and where, no traceback (unless --verbose), nothing written, inputs left unchanged.

Every refusal must happen before any fitting: the fitting entry points are replaced by a guard
that raises a BaseException (which ``main`` does not catch), so reaching them fails the test.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml
from helpers_h5 import SMALL_FRAMES, edited_copy, replace_dataset, simulate_small

from heterodyne.cli import main
from heterodyne.data import scan_file

C2_GROUP = "/xpcs/twotime/correlation_map"
VALID = {"experimental_data": {"q": 0.009, "phi": [-157.5, -67.5, 22.5]}}
PREFIX = "heterodyne: error: "


class ReachedFitting(BaseException):
    """Raised by the guard when a bad input got past loading (BaseException: main cannot swallow it)."""


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulate_small(tmp_path_factory.mktemp("cli-errors"))[0]


@pytest.fixture(autouse=True)
def isolated_process_state(monkeypatch: pytest.MonkeyPatch):
    """Guard the fitting entry points; restore os.environ and the ``heterodyne`` logger afterwards
    (``main`` sets the BLAS thread variables and replaces the logger's handlers in-process)."""

    def reached(*args, **kwargs):
        raise ReachedFitting("a bad input reached the fitting stage")

    for target in ("heterodyne.runtime.enable_compile_cache", "heterodyne.nlsq.setup.build_problem",
                   "heterodyne.nlsq.solve.fit"):
        monkeypatch.setattr(target, reached)
    environment = dict(os.environ)
    logger = logging.getLogger("heterodyne")
    handlers, level, propagate = list(logger.handlers), logger.level, logger.propagate
    yield
    os.environ.clear()
    os.environ.update(environment)
    logger.handlers[:] = handlers
    logger.setLevel(level)
    logger.propagate = propagate


def write_config(path: Path, content: dict | str = VALID) -> Path:
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    return path


def sha256(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def tree(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))


def refused(capsys: pytest.CaptureFixture, argv: list[str], inputs: list[Path], output: Path | None) -> str:
    """Run ``main(argv)``, check the whole bad-input contract and return the one stderr line."""
    watched = {path.parent for path in inputs if path.parent.is_dir()}
    if output is not None:
        watched.add(output.parent if output.parent.is_dir() else output.parent.parent)
    trees_before = {directory: tree(directory) for directory in watched}
    hashes_before = {path: sha256(path) for path in inputs}

    code = main(argv)

    out, err = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and err == lines[0] + "\n", err
    assert lines[0].startswith(PREFIX)
    assert out == ""
    if output is not None:
        assert not output.exists()
    assert {directory: tree(directory) for directory in watched} == trees_before
    assert {path: sha256(path) for path in inputs} == hashes_before
    return lines[0]


def run_refused(capsys, tmp_path: Path, data: Path | None, config: dict | str = VALID) -> tuple[str, Path]:
    """``heterodyne --config RUN.yaml [--data data] --output-dir out`` must be refused; returns
    the error line and the config path."""
    config_path = write_config(tmp_path / "run.yaml", config)
    output = tmp_path / "out"
    argv = ["--config", str(config_path), "--output-dir", str(output)]
    inputs = [config_path]
    if data is not None:
        argv += ["--data", str(data)]
        inputs.append(data)
    return refused(capsys, argv, inputs, output), config_path


# --- bad data files (the valid config) ---------------------------------------------------------

def text_file(source: Path, directory: Path) -> Path:
    path = directory / "notes.h5"
    path.write_text("this is not HDF5\n")
    return path


def foreign_hdf5(source: Path, directory: Path) -> Path:
    path = directory / "other.h5"
    with h5py.File(path, "w") as h5:
        h5["/entry/data"] = np.zeros(3)
    return path


def bins_mismatch(source: Path, directory: Path) -> Path:
    return edited_copy(source, directory / "bins.h5",
                       lambda h5: replace_dataset(h5, "/xpcs/twotime/processed_bins", np.arange(1, 5)))


def non_square(source: Path, directory: Path) -> Path:
    rectangle = np.zeros((SMALL_FRAMES, SMALL_FRAMES - 1), np.float32)
    return edited_copy(source, directory / "rectangle.h5",
                       lambda h5: replace_dataset(h5, f"{C2_GROUP}/c2_00003", rectangle))


def selected_key(source: Path, q: float = 0.009, phi: float = -157.5) -> str:
    """The HDF5 path of the stored matrix of bin (q, phi) — one the valid config selects."""
    [info] = [b for b in scan_file(source).bins if abs(b.q - q) < 1e-4 and abs(b.phi - phi) < 0.5]
    return f"{C2_GROUP}/{info.key}"


def nan_in_selection(source: Path, directory: Path) -> Path:
    def put_nan(h5: h5py.File) -> None:
        dataset = h5[selected_key(source)]
        values = dataset[()]
        values[10, 20] = np.nan
        dataset[...] = values

    return edited_copy(source, directory / "nan.h5", put_nan)


DATA_CASES: dict[str, tuple[Callable[[Path, Path], Path], Callable[[Path, Path], list[str]]]] = {
    # id: (build the bad file from the source into a directory, expected fragments given (source, path))
    "missing-data-file": (lambda source, directory: directory / "nowhere.h5",
                          lambda source, path: [f"data file not found: {path}"]),
    "not-hdf5": (text_file, lambda source, path: [f"not a readable HDF5 file: {path}"]),
    "no-known-layout": (foreign_hdf5, lambda source, path: [
        f"no two-time correlation data in {path}", "/xpcs/twotime/correlation_map", "/xpcs/output_data",
        "/exchange/C2T_all", "/xpcs/C2T_all"]),
    "bins-and-keys-differ": (bins_mismatch, lambda source, path: [
        "/xpcs/twotime/processed_bins lists 4 bins", f"{C2_GROUP} holds 15 matrices", str(path)]),
    "non-square-matrix": (non_square, lambda source, path: [
        "not square", f"({SMALL_FRAMES}, {SMALL_FRAMES - 1})", f"in {path} at {C2_GROUP}/c2_00003"]),
    "nan-in-selection": (nan_in_selection, lambda source, path: [
        "non-finite value", f"in {path} at {selected_key(source)}"]),
}


@pytest.mark.parametrize("case", list(DATA_CASES), ids=list(DATA_CASES))
def test_bad_data_file(case, source, tmp_path, capsys):
    build, expected = DATA_CASES[case]
    data = build(source, tmp_path)
    line, _ = run_refused(capsys, tmp_path, data)
    for fragment in expected(source, data):
        assert fragment in line, (fragment, line)


# --- bad configs (the valid simulated file) -----------------------------------------------------

def with_section(section: str, **values) -> dict:
    return {**VALID, section: values}


CONFIG_CASES: dict[str, tuple[dict | str, Callable[[Path, Path], list[str]]]] = {
    # id: (config content, expected fragments given (config path, data path))
    "start-after-end": (with_section("analyzer_parameters", start_frame=20, end_frame=10),
                        lambda cfg, data: [f"{cfg}: analyzer_parameters.end_frame: 10 is before start_frame 20"]),
    "end-beyond-data": (with_section("analyzer_parameters", end_frame=SMALL_FRAMES + 1),
                        lambda cfg, data: [f"end_frame = {SMALL_FRAMES + 1} is beyond the data",
                                           f"{data} has {SMALL_FRAMES} frames"]),
    "q-far-away": ({"experimental_data": {"q": 0.05}},
                   lambda cfg, data: ["no bin with q within 5% of 0.05", f"in {data}",
                                      "q=0.009 φ=[", "q=0.012 φ=["]),
    "angle-not-present": ({"experimental_data": {"q": 0.009, "phi": [67.5]}},
                          lambda cfg, data: ["no bin with phi within 1° of 67.5°", f"in {data}",
                                             "q=0.009 φ=[-157.5, -112.5, -67.5, -22.5, 22.5, 112.5, 157.5]"]),
    "yaml-syntax-error": ("experimental_data:\n  q: [0.009\n  phi: 1\n",
                          lambda cfg, data: [f"{PREFIX}{cfg}:3:", ": invalid YAML: "]),
    "unknown-key": (with_section("optimization", nlsq={"max_iteratons": 3}),
                    lambda cfg, data: [f"{cfg}: optimization.nlsq.max_iteratons: unknown key "
                                       "(did you mean 'max_iterations'?)"]),
    "wrong-type": (with_section("optimization", nlsq={"max_iterations": "abc"}),
                   lambda cfg, data: [f"{cfg}: optimization.nlsq.max_iterations: expected an integer, got 'abc'"]),
    "dt-zero": (with_section("analyzer_parameters", dt=0),
                lambda cfg, data: [f"{cfg}: analyzer_parameters.dt: expected a number > 0, got 0"]),
    "dt-negative": (with_section("analyzer_parameters", dt=-1),
                    lambda cfg, data: [f"{cfg}: analyzer_parameters.dt: expected a number > 0, got -1"]),
}


@pytest.mark.parametrize("case", list(CONFIG_CASES), ids=list(CONFIG_CASES))
def test_bad_config(case, source, tmp_path, capsys):
    content, expected = CONFIG_CASES[case]
    line, config = run_refused(capsys, tmp_path, source, content)
    for fragment in expected(config, source):
        assert fragment in line, (fragment, line)


def test_missing_config_file(source, tmp_path, capsys):
    config, output = tmp_path / "absent.yaml", tmp_path / "out"
    argv = ["--config", str(config), "--data", str(source), "--output-dir", str(output)]
    line = refused(capsys, argv, [config, source], output)
    assert line == f"{PREFIX}{config}: configuration file not found"


def test_no_data_file_given(tmp_path, capsys):
    line, _ = run_refused(capsys, tmp_path, None)
    assert line == f"{PREFIX}no data file: give --data or set experimental_data.file_path"


def test_output_directory_under_a_regular_file(source, tmp_path, capsys):
    regular = tmp_path / "a-file"
    regular.write_text("not a directory\n")
    config, output = write_config(tmp_path / "run.yaml"), regular / "out"
    argv = ["--config", str(config), "--data", str(source), "--output-dir", str(output)]
    line = refused(capsys, argv, [config, source, regular], output)
    assert line == f"{PREFIX}output directory {output}: {regular} is not a writable directory"


# --- inspect ------------------------------------------------------------------------------------

def test_inspect_missing_file(tmp_path, capsys):
    missing = tmp_path / "nowhere.h5"
    assert refused(capsys, ["inspect", str(missing)], [missing], None) == f"{PREFIX}data file not found: {missing}"


def test_inspect_not_hdf5(tmp_path, capsys):
    path = text_file(tmp_path, tmp_path)
    line = refused(capsys, ["inspect", str(path)], [path], None)
    assert line.startswith(f"{PREFIX}not a readable HDF5 file: {path}")


# --- a real process -----------------------------------------------------------------------------

def test_real_process_one_line_and_traceback_only_with_verbose(tmp_path):
    data = text_file(tmp_path, tmp_path)
    config, output = write_config(tmp_path / "run.yaml"), tmp_path / "out"
    command = [sys.executable, "-m", "heterodyne.cli", "--config", str(config), "--data", str(data),
               "--output-dir", str(output)]
    environment = {**os.environ, "JAX_PLATFORMS": "cpu"}
    hashes = {path: sha256(path) for path in (data, config)}
    before = tree(tmp_path)

    quiet = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=environment, timeout=60)
    assert quiet.returncode == 1
    assert quiet.stdout == ""
    [line] = quiet.stderr.splitlines()
    assert line.startswith(f"{PREFIX}not a readable HDF5 file: {data}")

    verbose = subprocess.run(command + ["--verbose"], capture_output=True, text=True, cwd=tmp_path,
                             env=environment, timeout=60)
    assert verbose.returncode == 1
    assert "Traceback (most recent call last)" in verbose.stderr
    assert "HeterodyneError" in verbose.stderr
    assert verbose.stderr.splitlines()[-1] == line

    assert tree(tmp_path) == before and not output.exists()
    assert {path: sha256(path) for path in (data, config)} == hashes
