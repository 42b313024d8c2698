"""The workflow's run from Python: sharded CMC through the API gives the shard files and the draws of
the commands the workflow runs (cmc-shard, cmc-combine), bit for bit; a run directory reads back
into the API's results and is written again from them unchanged; figures are drawn from results in
memory; an nlsq.npz that lacks an array something reads is refused at once."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml
from nlsq_helpers import FIT_PHI, FIT_Q, TRUTH, simulate

import heterodyne as ht
from heterodyne.cli import main
from heterodyne.cmc.result import QUANTILES
from heterodyne.errors import HeterodyneError
from heterodyne.parameters import PHYSICS_NAMES
from heterodyne.results import write_npz
from heterodyne.run_directory import CMC_NPZ, NLSQ_NPZ, RESULT, read_run, write_run

START = dict(D0_ref=2.5e4, v0=1150.0)
TINY_CMC = {"num_warmup": 20, "num_samples": 20, "num_chains": 2, "max_points_per_shard": 800}
PER_CALL = ("wall_seconds",)  # a shard file's only field that differs between two samplings


@pytest.fixture(autouse=True)
def one_worker(monkeypatch):
    monkeypatch.setenv("HETERODYNE_NUM_WORKERS", "1")


@pytest.fixture(scope="module")
def workflow(tmp_path_factory) -> dict:
    """The workflow's steps by the command line: NLSQ run, every shard file, the combined run."""
    directory = tmp_path_factory.mktemp("workflow")
    data_file, _ = simulate(directory, TRUTH, n_frames=40, noise_sigma=0.002, seed=5)
    parameters = {name: {"vary": False} for name in PHYSICS_NAMES}
    parameters.update({name: {"initial": value, "vary": False} for name, value in TRUTH.items()})
    parameters.update({name: {"initial": value} for name, value in START.items()})
    config = directory / "run.yaml"
    config.write_text(yaml.safe_dump({
        "experimental_data": {"q": FIT_Q, "phi": FIT_PHI}, "parameters": parameters,
        "optimization": {"nlsq": {"noise_sigma": 0.002}, "cmc": TINY_CMC}, "output": {"plots": False},
        "compute": {"jax_cache_dir": str(directory / "jax-cache")}}))
    common = ["--config", str(config), "--data", str(data_file)]
    nlsq_dir = directory / "nlsq"
    assert main([*common, "--run-dir", str(nlsq_dir), "--method", "nlsq"]) == 0
    plan = json.loads(json.dumps(ht.cmc_plan(ht.load_config(config, {"experimental_data.file_path": str(data_file)}))))
    assert plan["n_shards"] == 3, plan
    shard_files = [directory / f"shard_{k}.npz" for k in range(plan["n_shards"])]
    for k, path in enumerate(shard_files):
        assert main(["cmc-shard", *common, "--nlsq", str(nlsq_dir), "--shard", str(k), "--output", str(path)]) == 0
    cmc_dir = directory / "cmc"
    code = main(["cmc-combine", *common, "--nlsq", str(nlsq_dir), "--shards", *map(str, shard_files),
                 "--run-dir", str(cmc_dir), "--no-plots"])
    assert code in (0, 2)
    return dict(directory=directory, config=config, data_file=data_file, nlsq_dir=nlsq_dir,
                shard_files=shard_files, cmc_dir=cmc_dir, code=code)


def npz(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as arrays:
        return {key: arrays[key] for key in arrays.files}


def assert_same_arrays(ours: dict, theirs: dict, skip=()) -> None:
    assert sorted(ours) == sorted(theirs)
    for key in theirs:
        if key not in skip:  # NaN marks matrix entries without a point (c2_residual's diagonal)
            floating = np.asarray(theirs[key]).dtype.kind == "f"
            assert np.array_equal(ours[key], theirs[key], equal_nan=floating), key


def test_api_shards_and_combination_equal_the_workflow_commands_bit_for_bit(workflow, tmp_path):
    config = ht.load_config(workflow["config"], {"experimental_data.file_path": str(workflow["data_file"])})
    data = ht.load_data(config)
    fit = ht.load_run(workflow["nlsq_dir"]).nlsq

    # chains one after another here, two side by side in the command (its default thread budget)
    ours = [ht.sample_cmc_shard(config, data, nlsq_result=fit, shard=k, path=tmp_path / f"api_{k}.npz", threads=1)
            for k in range(len(workflow["shard_files"]))]
    for mine, theirs in zip(ours, workflow["shard_files"], strict=True):
        assert_same_arrays(npz(mine), npz(theirs), skip=PER_CALL)

    run_dir = tmp_path / "api-run"
    posterior = ht.combine_cmc(config, data, nlsq_result=fit, shard_files=list(reversed(ours)), run_dir=run_dir)
    workflow_samples = npz(workflow["cmc_dir"] / "cmc_samples.npz")
    assert_same_arrays(posterior.arrays, workflow_samples)
    assert_same_arrays(npz(run_dir / "cmc_samples.npz"), workflow_samples)
    assert_same_arrays(npz(run_dir / "nlsq.npz"), npz(workflow["cmc_dir"] / "nlsq.npz"))
    assert bool(posterior.warning) == (workflow["code"] == 2)

    document = json.loads((run_dir / "result.json").read_text())
    theirs = json.loads((workflow["cmc_dir"] / "result.json").read_text())
    for key in ("run_id", "method", "status", "convergence_warning", "config", "data", "nlsq"):
        assert document[key] == theirs[key], key
    assert without_wall_seconds(document["cmc"]) == without_wall_seconds(theirs["cmc"])
    with pytest.raises(HeterodyneError, match="the plan has shards 0..2"):
        ht.sample_cmc_shard(config, data, nlsq_result=fit, shard=3, path=tmp_path / "none.npz")
    assert not (tmp_path / "none.npz").exists()


def without_wall_seconds(cmc: dict) -> dict:
    return {**cmc, "shards": [{k: v for k, v in shard.items() if k != "wall_seconds"} for shard in cmc["shards"]]}


def test_a_run_directory_reads_back_into_the_api_results(workflow):
    run = ht.load_run(workflow["cmc_dir"])
    document = json.loads((workflow["cmc_dir"] / "result.json").read_text())
    assert run.run_dir == workflow["cmc_dir"] and run.document == document
    assert run.nlsq.section == document["nlsq"] and run.cmc.section == document["cmc"]
    assert_same_arrays(run.nlsq.arrays, npz(workflow["cmc_dir"] / "nlsq.npz"))
    assert_same_arrays(run.cmc.arrays, npz(workflow["cmc_dir"] / "cmc_samples.npz"))
    assert run.cmc.warning == document["convergence_warning"]  # the NLSQ fit converged
    assert run.cmc.draws["v0"].shape == (2, 20) and run.nlsq.free_names[:2] == ("D0_ref", "v0")
    assert ht.load_run(workflow["nlsq_dir"]).cmc is None


@pytest.mark.parametrize("method", ["nlsq", "cmc"])
def test_a_run_directory_read_back_and_written_again_is_the_same(workflow, tmp_path, method):
    original = workflow[f"{method}_dir"]
    run = read_run(original)
    copy = tmp_path / "copy"
    copy.mkdir()
    write_run(replace(run, run_dir=copy))
    files = [RESULT, NLSQ_NPZ, *([CMC_NPZ] if method == "cmc" else [])]
    assert sorted(p.name for p in copy.iterdir()) == sorted(files)
    assert (copy / RESULT).read_bytes() == (original / RESULT).read_bytes()
    for name in files[1:]:
        ours, theirs = npz(copy / name), npz(original / name)
        assert_same_arrays(ours, theirs)
        assert {key: value.dtype for key, value in ours.items()} == {key: value.dtype for key, value in theirs.items()}
    again = read_run(copy)
    assert again.document == run.document and again.nlsq.section == run.nlsq.section
    assert (again.cmc is None) == (method == "nlsq") and again.nlsq.seconds == 0.0


def test_the_posterior_summaries_are_those_of_the_draws_and_of_result_json(workflow):
    """mean, sd and quantiles cover every sampled parameter, physics and scaling alike, as the draws
    do, and equal the numbers result.json reports for them."""
    posterior = ht.load_run(workflow["cmc_dir"]).cmc
    section = posterior.section
    scaling = [name for name in posterior.names if name not in PHYSICS_NAMES]
    assert posterior.names[:2] == ("D0_ref", "v0") and scaling
    assert set(posterior.mean) == set(posterior.sd) == set(posterior.draws) == set(posterior.names)
    for name, draws in posterior.draws.items():
        assert posterior.mean[name] == pytest.approx(draws.mean(), rel=1e-12)
        assert posterior.sd[name] == pytest.approx(draws.std(ddof=1), rel=1e-12)
        assert posterior.quantiles[0.5][name] == pytest.approx(np.median(draws), rel=1e-12)
    for name in posterior.names:
        reported = (section[name], section["sd"][name]) if name in PHYSICS_NAMES else (
            section["scaling"][name]["mean"], section["scaling"][name]["sd"])
        assert (posterior.mean[name], posterior.sd[name]) == reported, name
    for key, level in QUANTILES.items():
        assert {name: posterior.quantiles[level][name] for name in section["varied"]} == \
            {name: section[key][name] for name in section["varied"]}
    assert posterior.shard_seconds == sum(shard["wall_seconds"] for shard in section["shards"]) > 0


def test_the_cmc_warning_read_back_is_the_one_combine_returned(workflow, tmp_path):
    """result.json joins the NLSQ and CMC warnings; reading a run back separates them again."""
    config = ht.load_config(workflow["config"], {"experimental_data.file_path": str(workflow["data_file"])})
    data = ht.load_data(config)
    fit = ht.load_run(workflow["nlsq_dir"]).nlsq
    warned = ht.NlsqResult({**fit.section, "convergence_warning": "nlsq: iteration limit reached"}, fit.arrays)
    posterior = ht.combine_cmc(config, data, nlsq_result=warned, shard_files=workflow["shard_files"],
                               run_dir=tmp_path / "run")
    run = ht.load_run(tmp_path / "run")
    assert run.document["status"] == "convergence_warning"
    assert run.document["convergence_warning"].startswith("nlsq: iteration limit reached")
    assert run.cmc.warning == posterior.warning
    assert run.nlsq.warning == "nlsq: iteration limit reached"


def test_figures_from_results_in_memory_are_those_of_the_plot_command(workflow, tmp_path, capsys):
    run = ht.load_run(workflow["cmc_dir"])
    data = ht.load_data(run.document["config"])
    paths = ht.plot_results(tmp_path / "figures", data, run.nlsq, run.cmc)
    capsys.readouterr()
    assert main(["plot", str(workflow["cmc_dir"]), "--threads", "1"]) == 0
    printed = [Path(line) for line in capsys.readouterr().out.split()]
    assert [p.name for p in paths] == [p.name for p in printed] and "cmc_corner.png" in {p.name for p in paths}
    assert all(p.parent == tmp_path / "figures" and p.stat().st_size > 0 for p in paths)


def test_an_nlsq_npz_without_an_array_cmc_reads_fails_at_once_with_one_line(workflow, tmp_path, capsys):
    old = tmp_path / "old-nlsq"
    old.mkdir()
    (old / "result.json").write_bytes((workflow["nlsq_dir"] / "result.json").read_bytes())
    arrays = npz(workflow["nlsq_dir"] / "nlsq.npz")
    write_npz(old / "nlsq.npz", {k: v for k, v in arrays.items() if k not in ("chi2_reduced", "n_points")})
    before = (old / "nlsq.npz").read_bytes()
    capsys.readouterr()
    output = tmp_path / "shard.npz"
    assert main(["cmc-shard", "--config", str(workflow["config"]), "--data", str(workflow["data_file"]),
                 "--nlsq", str(old), "--shard", "0", "--output", str(output)]) == 1
    err = capsys.readouterr().err
    assert err == f"heterodyne: error: {old / 'nlsq.npz'}: missing array(s) chi2_reduced, n_points " \
                  "(not written by this version of heterodyne; rerun the step that writes it)\n"
    assert not output.exists() and (old / "nlsq.npz").read_bytes() == before
    with pytest.raises(HeterodyneError) as refused:
        ht.load_run(old)
    assert f"{refused.value}\n" == err.removeprefix("heterodyne: error: ")
    config = ht.load_config(workflow["config"], {"experimental_data.file_path": str(workflow["data_file"])})
    with pytest.raises(HeterodyneError, match="nlsq_result: missing array"):
        ht.sample_cmc(config, ht.load_data(config), nlsq_result=npz(old / "nlsq.npz"))


def test_the_api_leaves_jax_in_float64_as_the_readme_says(workflow):
    """README.md ("Python API") and heterodyne/api.py say that the first call computing with JAX
    switches a notebook's JAX to float64 for good, and that importing the package, loading a config
    and loading data do not."""
    import subprocess
    import sys

    code = f"""
import json
import jax, jax.numpy as jnp
state = lambda: [bool(jax.config.jax_enable_x64), str(jnp.zeros(1).dtype)]
states = [state()]
import heterodyne as ht
config = ht.load_config({str(workflow["config"])!r}, {{"experimental_data.file_path": {str(workflow["data_file"])!r}}})
data = ht.load_data(config)
states.append(state())
fit = ht.fit_nlsq(config, data, threads=1)
states.append(state())
print(json.dumps([states, fit.arrays["values"].dtype.name]))
"""
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    states, dtype = json.loads(completed.stdout)
    assert states == [[False, "float32"], [False, "float32"], [True, "float64"]]
    assert dtype == "float64"
