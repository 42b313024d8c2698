"""``heterodyne plot RUN_DIR`` and the run command's plots: written when on, none when off, and the
run's result.json byte for byte the same after replotting."""

from pathlib import Path

import pytest
import yaml
from nlsq_helpers import FIT_PHI, FIT_Q, simulate
from plot_helpers import hand_made_run

from heterodyne.cli import main
from heterodyne.parameters import PHYSICS_NAMES

RUN_FIGURES = ["c2_cuts.png", "c2_fit_00.png", "c2_fit_01.png", "c2_fit_02.png", "rates.png"]


def run_config(directory, *, plots: bool):
    parameters = {name: {"vary": False} for name in PHYSICS_NAMES}
    parameters.update(D0_ref={"initial": 3e4}, v0={"initial": 1100.0})
    config = {
        "experimental_data": {"q": FIT_Q, "phi": FIT_PHI},
        "parameters": parameters,
        "optimization": {"nlsq": {"noise_sigma": 0.002}},
        "output": {"plots": plots},
        "compute": {"jax_cache_dir": str(directory / "jax-cache")},
    }
    path = directory / f"run_{plots}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_run_writes_plots_when_on_none_when_off_and_replotting_keeps_result_json(tmp_path, capsys):
    data, _ = simulate(tmp_path, dict(D0_ref=2e4, v0=1200.0), n_frames=30, processed_q_rows=(1,), seed=2)
    with_plots, without = tmp_path / "with", tmp_path / "without"
    assert main(["--config", str(run_config(tmp_path, plots=True)), "--data", str(data),
                 "--run-dir", str(with_plots)]) == 0
    assert sorted(p.name for p in (with_plots / "plots").iterdir()) == RUN_FIGURES
    assert main(["--config", str(run_config(tmp_path, plots=False)), "--data", str(data),
                 "--run-dir", str(without)]) == 0
    assert not (without / "plots").exists()

    result = (with_plots / "result.json").read_bytes()
    npz = (with_plots / "nlsq.npz").read_bytes()
    capsys.readouterr()
    assert main(["plot", str(with_plots), "--format", "svg"]) == 0
    printed = capsys.readouterr().out.split()
    svg = ["c2_fit_00.svg", "c2_fit_01.svg", "c2_fit_02.svg", "c2_cuts.svg", "rates.svg"]
    assert printed == [str(with_plots / "plots" / name) for name in svg]
    assert (with_plots / "result.json").read_bytes() == result
    assert (with_plots / "nlsq.npz").read_bytes() == npz


def test_plot_command_with_a_moved_data_file(tmp_path, capsys):
    run_dir = hand_made_run(tmp_path, n_frames=20)
    moved = tmp_path / "moved.h5"
    (tmp_path / "sim.h5").rename(moved)
    assert main(["plot", str(run_dir)]) == 1
    assert "sim.h5" in capsys.readouterr().err
    assert main(["plot", str(run_dir), "--data", str(moved)]) == 0
    assert len(capsys.readouterr().out.split()) == 5


@pytest.mark.parametrize(("make", "message"), [
    (lambda d: d / "missing", "run directory {d}/missing: not a directory"),
    (lambda d: d, "run directory {d}: no result.json (not a finished run)"),
])
def test_bad_run_dir_is_one_line_and_exit_1(tmp_path, capsys, make, message):
    assert main(["plot", str(make(tmp_path))]) == 1
    err = capsys.readouterr().err
    assert err == f"heterodyne: error: {message.format(d=tmp_path)}\n"


def test_corrupt_result_json_is_one_line(tmp_path, capsys):
    (tmp_path / "result.json").write_text("{not json")
    (tmp_path / "nlsq.npz").write_bytes(b"")
    assert main(["plot", str(tmp_path)]) == 1
    assert capsys.readouterr().err == (f"heterodyne: error: {tmp_path}/result.json: invalid JSON "
                                       "(Expecting property name enclosed in double quotes at line 1)\n")


def test_several_runs_drawn_by_two_workers_match_one_process(tmp_path, capsys):
    runs = []
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        runs.append(hand_made_run(tmp_path / name, n_frames=20))
    assert main(["plot", *map(str, runs), "--threads", "2"]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(run / "plots" / f"{stem}.png") for run in runs
                       for stem in ("c2_fit_00", "c2_fit_01", "c2_fit_02", "c2_cuts", "rates")]
    drawn_by_workers = {path: Path(path).read_bytes() for path in printed}
    assert main(["plot", *map(str, runs), "--threads", "1"]) == 0
    assert {path: Path(path).read_bytes() for path in printed} == drawn_by_workers


def test_data_option_takes_one_run_only(tmp_path, capsys):
    assert main(["plot", str(tmp_path / "a"), str(tmp_path / "b"), "--data", str(tmp_path / "x.h5")]) == 1
    assert capsys.readouterr().err == (f"heterodyne: error: --data {tmp_path}/x.h5: only with a single RUN_DIR "
                                       "(2 were given)\n")


def test_a_failing_run_among_several_is_one_line_naming_it(tmp_path, capsys):
    good = hand_made_run(tmp_path, n_frames=20)
    assert main(["plot", str(good), str(tmp_path / "missing"), "--threads", "2"]) == 1
    assert capsys.readouterr().err == f"heterodyne: error: run directory {tmp_path}/missing: not a directory\n"
