"""Are the NLSQ standard errors honest? Over independent noise realisations, the standardised
errors z = (estimate − truth) / stderr must behave like a standard normal."""

import numpy as np
from nlsq_helpers import TRUTH, fit_config, run_fit, simulate

START = dict(D0_ref=3e4, D0_sample=5e4, v0=1100.0, f0=0.4)
N_REPLICATES = 30


def test_standard_errors_cover_the_truth(tmp_path):
    from heterodyne.parameters import PHYSICS_PARAMETERS

    fixed = {p.name: TRUTH.get(p.name, p.default) for p in PHYSICS_PARAMETERS if p.name not in START}
    config = fit_config(START, fixed)  # noise σ estimated from the data by the package
    z, flagged = [], 0
    for seed in range(N_REPLICATES):
        directory = tmp_path / str(seed)
        directory.mkdir()
        path, _ = simulate(directory, TRUTH, n_frames=120, noise_sigma=0.003, seed=100 + seed)
        section, result, _ = run_fit(path, config)
        assert result.converged, (seed, result.convergence_warning)
        flagged += result.sandwich["noise_correlated"]
        z += [(section[name] - value) / section["stderr"][name] for name, value in TRUTH.items()]
    z = np.abs(np.array(z))
    # 120 values (4 per fit): a normal puts 68.3 % within 1 and 95.4 % within 2
    assert 0.55 <= np.mean(z < 1.0) <= 0.80, np.mean(z < 1.0)
    assert np.mean(z < 2.0) >= 0.88, np.mean(z < 2.0)
    assert 0.6 <= np.mean(z**2) <= 1.5, np.mean(z**2)
    # independent noise is seen as such (blocks of the base size), but for the odd replicate
    assert flagged <= 3, flagged
