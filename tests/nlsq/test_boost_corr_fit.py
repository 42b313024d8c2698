"""The shared file of the APS correlator (boost_corr 0.1.7, pixel-level speckle, see its README):
the fit through the command line recovers its truth within 3 honest (frame-clustered) standard
errors, records the independent-noise ones beside them and warns that the noise is correlated.

Kept fast: the 3 bins of q = 0.015 Å⁻¹ (φ = 10°, 40°, 70°), stored frames 1–150, individual
scaling; 9 physics parameters vary. f2 and the three rate offsets are fixed at their true 0 (as
the truth fixes them) and f3 at its true value (over 1.5 s it trades off with f0 exactly)."""

import json

import numpy as np
import yaml

from heterodyne.cli import main
from heterodyne.parameters import PHYSICS_NAMES

VARYING = ("D0_ref", "alpha_ref", "D0_sample", "alpha_sample", "v0", "beta", "f0", "f1", "phi0")


def test_shared_correlator_file_fits_within_three_honest_stderr(tmp_path, correlator_file):
    truth = json.loads(correlator_file.with_name("hetflow_a0001_truth.json").read_text())["params"]
    parameters = {name: {"initial": truth[name], "vary": False} for name in PHYSICS_NAMES}
    parameters.update({name: {"initial": truth[name] * 1.1 if truth[name] else 3.0} for name in VARYING})
    config = {
        "experimental_data": {"q": 0.015, "phi": [10.0, 40.0, 70.0]},
        "analyzer_parameters": {"end_frame": 150},
        "parameters": parameters,
        "scaling": {"mode": "individual"},
        "compute": {"jax_cache_dir": str(tmp_path / "jax-cache")},
    }
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(config))
    run_dir = tmp_path / "run"
    assert main(["--config", str(path), "--data", str(correlator_file), "--run-dir", str(run_dir), "--no-plots"]) == 0
    nlsq = json.loads((run_dir / "result.json").read_text())["nlsq"]
    assert nlsq["varied"] == list(VARYING)
    for name in VARYING:
        assert abs(nlsq[name] - truth[name]) < 3 * nlsq["stderr"][name], (name, nlsq[name], nlsq["stderr"][name])
        # frame-correlated noise: the independent-noise error bars are several times too small
        assert nlsq["stderr_ratio"][name] > 3, (name, nlsq["stderr_ratio"][name])
        np.testing.assert_allclose(nlsq["stderr_ratio"][name], nlsq["stderr"][name] / nlsq["stderr_independent"][name])
    assert any("not independent" in warning for warning in nlsq["warnings"])
    assert nlsq["uncertainty"]["block_frames"] > 1
    with np.load(run_dir / "nlsq.npz", allow_pickle=False) as npz:
        free = list(npz["free_names"])
        k = free.index("v0")
        assert np.sqrt(npz["covariance"][k, k]) == np.float64(nlsq["stderr"]["v0"])
        assert np.sqrt(npz["covariance_independent"][k, k]) == np.float64(nlsq["stderr_independent"]["v0"])
