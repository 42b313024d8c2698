"""CMC through the command line: recovery of known truth, the two ways to run (identical draws),
flagged shards (exit 2, everything written), and consensus against one un-sharded run."""

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from nlsq_helpers import FIT_PHI, FIT_Q, TRUTH, simulate, truth_scaling

from heterodyne.cli import main
from heterodyne.parameters import PHYSICS_NAMES

START = dict(D0_ref=2.5e4, v0=1150.0, f0=0.35)
NOISE = 0.002
SMALL_CMC = {"num_warmup": 200, "num_samples": 200, "num_chains": 2, "max_points_per_shard": 1800}


@pytest.fixture(autouse=True)
def one_worker(monkeypatch):
    monkeypatch.setenv("HETERODYNE_NUM_WORKERS", "1")


@pytest.fixture(scope="module")
def simulated(tmp_path_factory) -> tuple[Path, dict]:
    return simulate(tmp_path_factory.mktemp("data"), TRUTH, n_frames=60, noise_sigma=NOISE, seed=11)


@pytest.fixture(scope="module")
def data_file(simulated) -> Path:
    return simulated[0]


def write_config(directory: Path, cmc: dict, *, start=START, scaling="individual", name="run.yaml") -> Path:
    parameters = {name: {"vary": False} for name in PHYSICS_NAMES}
    parameters.update({name: {"initial": value, "vary": False} for name, value in TRUTH.items()})
    parameters.update({name: {"initial": value} for name, value in start.items()})
    config = {
        "experimental_data": {"q": FIT_Q, "phi": FIT_PHI},
        "parameters": parameters,
        "scaling": {"mode": scaling},
        "optimization": {"nlsq": {"noise_sigma": NOISE}, "cmc": cmc},
        "compute": {"jax_cache_dir": str(directory / "jax-cache")},
    }
    path = directory / name
    path.write_text(yaml.safe_dump(config))
    return path


def load(run_dir: Path) -> tuple[dict, dict]:
    document = json.loads((run_dir / "result.json").read_text())
    with np.load(run_dir / "cmc_samples.npz", allow_pickle=False) as npz:
        return document, {key: npz[key] for key in npz.files}


def without_run_details(cmc: dict) -> dict:
    """The cmc section without wall-clock times."""
    shards = [{k: v for k, v in shard.items() if k != "wall_seconds"} for shard in cmc["shards"]]
    return {**cmc, "shards": shards}


def test_cmc_recovers_truth_and_both_ways_of_running_give_identical_draws(tmp_path, data_file):
    """2 chains × (200 + 200) draws on shards of 1 770 points is a small setting: whether a shard's
    R-hat passes 1.05 depends on the last bits of XLA's arithmetic, which differ between CPUs. So
    the exit code may be 0 or 2; what must hold on any CPU is that it agrees with the flags, that
    the draws cover the truth, and that both ways of running give the same outputs."""
    config = write_config(tmp_path, SMALL_CMC)
    in_process = tmp_path / "in-process"
    code = main(["--config", str(config), "--data", str(data_file), "--run-dir", str(in_process), "--method", "all"])
    document, samples = load(in_process)
    cmc, nlsq = document["cmc"], document["nlsq"]
    flagged = [shard["index"] for shard in cmc["shards"] if shard["flagged"]]
    assert code == (2 if document["convergence_warning"] else 0)
    assert bool(flagged) <= (code == 2), flagged
    assert document["method"] == "all"
    assert cmc["n_shards"] == 3 and len(cmc["shards"]) == 3
    assert cmc["varied"] == ["D0_ref", "v0", "f0"]
    assert all(isinstance(cmc[name], float) for name in PHYSICS_NAMES)
    assert cmc["D0_sample"] == TRUTH["D0_sample"] and cmc["sd"]["D0_sample"] is None
    assert samples["consensus"].shape == (2, 200, 9)
    assert samples["shard_draws"].shape == (3, 2, 200, 9)
    names = list(samples["names"])
    for name in cmc["varied"]:
        draws = samples["consensus"][..., names.index(name)].ravel()
        low, high = np.quantile(draws, [0.005, 0.995])
        assert low < TRUTH[name] < high, name
        assert abs(nlsq[name] - cmc[name]) < 2 * cmc["sd"][name], name
        assert cmc["q05"][name] < cmc[name] < cmc["q95"][name]
    # the likelihood's curvature was adjusted to the NLSQ sandwich, widened to its t intervals
    assert cmc["calibration"]["method"].startswith("curvature-adjusted likelihood")
    assert cmc["calibration"]["adjusted"] == names and cmc["calibration"]["inflated"] == []
    ratio = np.array([(nlsq["q95"][name] - nlsq[name]) / 1.6448536 / nlsq["stderr_independent"][name]
                      for name in cmc["varied"]])
    np.testing.assert_allclose([cmc["calibration"]["sd_ratio"][name] for name in cmc["varied"]],
                               ratio * np.sqrt(document["nlsq"]["chi2_reduced"]), rtol=1e-6)

    shard_files = []
    for shard in range(3):
        shard_files.append(tmp_path / f"shard_{shard}.npz")
        assert main(["cmc-shard", "--config", str(config), "--data", str(data_file), "--nlsq", str(in_process),
                     "--shard", str(shard), "--output", str(shard_files[-1])]) == 0
    jobs = tmp_path / "jobs"
    assert main(["cmc-combine", "--config", str(config), "--data", str(data_file), "--nlsq", str(in_process),
                 "--shards", *map(str, reversed(shard_files)), "--run-dir", str(jobs)]) == code
    jobs_document, jobs_samples = load(jobs)
    for key in samples:
        np.testing.assert_array_equal(samples[key], jobs_samples[key], err_msg=key)
    assert without_run_details(jobs_document["cmc"]) == without_run_details(cmc)
    assert jobs_document["method"] == "cmc" and jobs_document["nlsq"] == nlsq

    # the Python API with nlsq_result, with a different seed: different draws
    from heterodyne.cmc.run import run_cmc
    from heterodyne.config import resolve_config
    from heterodyne.data.configured import load_selected_data

    seed = jobs_document["config"]["optimization"]["cmc"]["seed"]
    resolved = resolve_config(jobs_document["config"], overrides={"optimization.cmc.seed": seed + 1})
    with np.load(in_process / "nlsq.npz", allow_pickle=False) as nlsq_result:
        other = run_cmc(resolved, load_selected_data(resolved), nlsq_result=nlsq_result, threads=2)
    assert other.section["n_shards"] == 3 and other.arrays["consensus"].shape == samples["consensus"].shape
    assert not np.allclose(other.arrays["consensus"], samples["consensus"])


def test_a_shard_that_fails_r_hat_is_flagged_and_the_run_exits_2_with_every_output(tmp_path, data_file):
    config = write_config(tmp_path, {**SMALL_CMC, "num_warmup": 3, "num_samples": 30, "max_r_hat": 1.001})
    run_dir = tmp_path / "run"
    code = main(["--config", str(config), "--data", str(data_file), "--run-dir", str(run_dir), "--method", "cmc"])
    assert code == 2
    document, samples = load(run_dir)
    assert document["status"] == "convergence_warning"
    assert "flagged" in document["convergence_warning"]
    flagged = [shard for shard in document["cmc"]["shards"] if shard["flagged"]]
    assert flagged and all("R-hat" in " ".join(shard["reasons"]) for shard in flagged)
    assert document["cmc"]["kept_flagged_shards"] == [shard["index"] for shard in flagged]
    assert sorted(p.name for p in run_dir.iterdir()) == ["cmc_samples.npz", "nlsq.npz", "result.json"]
    assert samples["shard_draws"].shape == (3, 2, 30, 9)


def test_consensus_matches_one_unsharded_run_within_monte_carlo_error(tmp_path, simulated):
    """Two parameters, scaling fixed at the truth, 5310 points: sub-posteriors are near Gaussian."""
    data_file, truth = simulated
    cmc = {"num_warmup": 300, "num_samples": 1000, "num_chains": 2}
    start = {"D0_ref": 2.2e4, "v0": 1180.0}
    contrast, offset = truth_scaling(truth)
    scaling = {"mode": "fixed", "contrast": {"initial": contrast.tolist()}, "offset": {"initial": offset.tolist()}}
    runs = {}
    for label, shard_size in (("whole", "auto"), ("sharded", 900)):
        directory = tmp_path / label
        directory.mkdir()
        config = write_config(directory, {**cmc, "max_points_per_shard": shard_size}, start=start, scaling="fixed")
        raw = yaml.safe_load(config.read_text())
        raw["scaling"] = scaling
        config.write_text(yaml.safe_dump(raw))
        assert main(["--config", str(config), "--data", str(data_file), "--run-dir", str(directory / "out"),
                     "--method", "cmc"]) == 0
        runs[label] = load(directory / "out")[0]["cmc"]
    whole, sharded = runs["whole"], runs["sharded"]
    assert whole["n_shards"] == 1 and sharded["n_shards"] == 6
    for name in start:
        mean_error = np.hypot(whole["sd"][name] / np.sqrt(whole["ess_bulk"][name]),
                              sharded["sd"][name] / np.sqrt(sharded["ess_bulk"][name]))
        assert abs(whole[name] - sharded[name]) < 4 * mean_error, name
        sd_error = np.sqrt(1 / (2 * whole["ess_bulk"][name]) + 1 / (2 * sharded["ess_bulk"][name]))
        assert abs(sharded["sd"][name] / whole["sd"][name] - 1) < 4 * sd_error, name


def test_the_draws_do_not_depend_on_the_layout_of_shards_and_chains(tmp_path, data_file):
    """--threads 1 (chains one after another), --threads 2 with HETERODYNE_NUM_WORKERS=2 (two shard
    processes of one thread), --threads 2 with one worker (two chains side by side) and --threads 3
    (chains side by side, one thread spare): bit-identical draws. Every run reuses one NLSQ result."""
    import os
    import shutil
    import subprocess
    import sys

    config = write_config(tmp_path, {"num_warmup": 50, "num_samples": 50, "num_chains": 2,
                                     "max_points_per_shard": 2700})
    heterodyne = str(Path(sys.executable).with_name("heterodyne"))
    common = ["--config", str(config), "--data", str(data_file)]
    nlsq_dir = tmp_path / "nlsq"
    assert main([*common, "--run-dir", str(nlsq_dir), "--method", "nlsq"]) == 0
    draws = {}
    for workers, threads in (("1", "1"), ("2", "2"), ("1", "2"), ("1", "3")):
        run_dir = tmp_path / f"workers{workers}_threads{threads}"
        shutil.copytree(nlsq_dir, run_dir)
        completed = subprocess.run([heterodyne, *common, "--run-dir", str(run_dir), "--method", "cmc",
                                    "--threads", threads], capture_output=True, text=True,
                                   env={**os.environ, "HETERODYNE_NUM_WORKERS": workers})
        assert completed.returncode in (0, 2), completed.stderr[-2000:]
        assert "warm start from the NLSQ result" in completed.stderr
        document, samples = load(run_dir)
        assert document["cmc"]["n_shards"] == 2
        draws[workers, threads] = samples["shard_draws"]
    for layout, values in draws.items():
        np.testing.assert_array_equal(values, draws["1", "1"], err_msg=str(layout))


def test_a_singular_shard_covariance_is_regularised_exit_2_with_every_output_and_foreign_shards_are_refused(
        tmp_path, data_file, capsys):
    """The issue's short run (5 warm-up steps, 20 draws) combines without a crash. A shard in which
    a parameter never moved (pinned at a bound) has a singular covariance: cmc-combine regularises
    it, names it in convergence_warning, exits 2 and writes everything. A shard whose v0 sits 20 of
    its sds away from the other's: the trust test rejects the consensus, which exits 2 naming v0.
    Shard files of another run, another plan or twice the same shard are refused with one line
    naming the file."""
    config = write_config(tmp_path, {"num_warmup": 5, "num_samples": 20, "num_chains": 2,
                                     "max_points_per_shard": 2700})
    common = ["--config", str(config), "--data", str(data_file)]
    nlsq_dir = tmp_path / "nlsq"
    assert main([*common, "--run-dir", str(nlsq_dir), "--method", "nlsq"]) == 0
    files = [tmp_path / f"shard_{k}.npz" for k in range(2)]
    for k, path in enumerate(files):
        assert main(["cmc-shard", *common, "--nlsq", str(nlsq_dir), "--shard", str(k), "--output", str(path)]) == 0

    def combine(shard_files, run_dir):
        return main(["cmc-combine", *common, "--nlsq", str(nlsq_dir), "--shards", *map(str, shard_files),
                     "--run-dir", str(run_dir)])

    assert combine(files, tmp_path / "short") in (0, 2)
    assert sorted(p.name for p in (tmp_path / "short").iterdir()) == ["cmc_samples.npz", "nlsq.npz", "result.json"]

    with np.load(files[1], allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    pinned = dict(arrays, draws=arrays["draws"].copy())
    pinned["draws"][..., list(arrays["names"]).index("f0")] = 1e-6  # f0 stuck at its bound in every draw
    pinned_file = tmp_path / "pinned.npz"
    np.savez(pinned_file, **pinned)
    run_dir = tmp_path / "pinned-run"
    capsys.readouterr()
    assert combine([files[0], pinned_file], run_dir) == 2
    document, samples = load(run_dir)
    assert sorted(p.name for p in run_dir.iterdir()) == ["cmc_samples.npz", "nlsq.npz", "result.json"]
    assert document["status"] == "convergence_warning" and "regularised" in document["convergence_warning"]
    assert document["cmc"]["combination"]["regularised_shards"] == [1]
    assert np.all(np.isfinite(samples["consensus"]))

    v0 = list(arrays["names"]).index("v0")
    moved = dict(arrays, draws=arrays["draws"].copy())
    moved["draws"][..., v0] += 20 * arrays["draws"][..., v0].std()  # a shard that sees another posterior
    moved_file = tmp_path / "moved.npz"
    np.savez(moved_file, **moved)
    assert combine([files[0], moved_file], tmp_path / "moved-run") == 2
    document = load(tmp_path / "moved-run")[0]
    assert document["cmc"]["trust"]["p_value"]["v0"] < document["cmc"]["trust"]["p_threshold"]
    assert "consensus not trusted" in document["convergence_warning"] and "v0" in document["convergence_warning"]

    for label, changes in (("foreign", {"run_id": np.array("0badc0de")}), ("plan", {"n_shards": np.int64(3)})):
        path = tmp_path / f"{label}.npz"
        np.savez(path, **{**arrays, **changes})
        assert combine([files[0], path], tmp_path / label) == 1
        errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("heterodyne: error")]
        assert len(errors) == 1 and str(path) in errors[0], errors
        assert not (tmp_path / label).exists()
    assert combine([files[0], files[0]], tmp_path / "twice") == 1
    assert str(files[0]) in capsys.readouterr().err
