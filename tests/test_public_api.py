"""The notebook path of the Python API, and that its results are exactly what a run writes."""

import json

import numpy as np
import pytest
import yaml
from nlsq_helpers import TRUTH

import heterodyne as ht
from heterodyne.cli import main
from heterodyne.parameters import PHYSICS_NAMES
from heterodyne.results import plain

Q, PHI = 0.009, [-157.5, -67.5, 22.5]


def raw_config(data_file) -> dict:
    parameters = {name: {"vary": False} for name in PHYSICS_NAMES}
    parameters.update({name: {"initial": value, "vary": False} for name, value in TRUTH.items()})
    parameters.update({"D0_ref": {"initial": 2.5e4}, "v0": {"initial": 1150.0}})
    return {"experimental_data": {"file_path": str(data_file), "q": Q, "phi": PHI},
            "parameters": parameters, "output": {"plots": False},
            "optimization": {"cmc": {"num_warmup": 100, "num_samples": 100, "num_chains": 2}}}


def test_notebook_path_in_four_lines_gives_what_the_command_line_writes(tmp_path):
    truth = ht.simulate(tmp_path / "sim.h5", n_frames=40, seed=4, params=TRUTH)
    raw = raw_config(tmp_path / "sim.h5")

    config = ht.load_config(raw)
    data = ht.load_data(config)
    fit = ht.fit_nlsq(config, data)
    posterior = ht.sample_cmc(config, data, nlsq_result=fit, threads=1)

    assert truth["params"]["v0"] == TRUTH["v0"]
    assert np.array_equal(ht.load_data(tmp_path / "sim.h5", q=Q, phi=PHI).c2, data.c2)
    assert fit.free_names[:2] == ("D0_ref", "v0") and fit.covariance.shape == (len(fit.free_names),) * 2
    assert abs(fit.values["v0"] - TRUTH["v0"]) < 4 * fit.stderr["v0"]
    assert isinstance(fit.converged, bool) and fit.chi2_reduced > 0
    assert posterior.names[:2] == ("D0_ref", "v0") and posterior.draws["v0"].shape == (2, 100)
    assert posterior.quantiles[0.05]["v0"] < posterior.mean["v0"] < posterior.quantiles[0.95]["v0"]
    assert set(posterior.mean) == set(posterior.sd) == set(posterior.draws) == set(posterior.names)
    assert "D0_sample" not in posterior.mean and posterior.section["D0_sample"] == TRUTH["D0_sample"]
    assert bool(posterior.warning) >= any(shard["flagged"] for shard in posterior.shards)

    inference = posterior.to_arviz()
    np.testing.assert_array_equal(inference.posterior["v0"].values, posterior.draws["v0"])
    assert inference.sample_stats["diverging"].shape == (2, 100)
    assert inference.shard_posterior["v0"].dims == ("chain", "draw", "shard")

    # the same config through the command line: the result's sections are the API's results
    config_file = tmp_path / "run.yaml"
    config_file.write_text(yaml.safe_dump(raw))
    run_dir = tmp_path / "run"
    assert main(["--config", str(config_file), "--run-dir", str(run_dir), "--method", "nlsq"]) == 0
    document = json.loads((run_dir / "result.json").read_text())
    assert document["nlsq"] == json.loads(json.dumps(plain(fit.section)))
    with np.load(run_dir / "nlsq.npz", allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted(fit.arrays)
        for key in npz.files:
            np.testing.assert_array_equal(npz[key], fit.arrays[key], err_msg=key)


def test_import_is_lazy_and_unknown_names_fail():
    import subprocess
    import sys

    code = "import sys, heterodyne; print('jax' in sys.modules, 'heterodyne.api' in sys.modules)"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.split() == ["False", "False"]
    with pytest.raises(AttributeError, match="no_such_function"):
        ht.no_such_function  # noqa: B018 - the attribute access is the test
