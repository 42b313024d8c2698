"""Run directories made by hand, without fitting: result.json and nlsq.npz at the simulation's
truth, and cmc_samples.npz in the format README.md gives with a ``cmc`` section in result.json (CMC)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from nlsq_helpers import fit_config, simulate, truth_scaling

from heterodyne.config import resolve_config
from heterodyne.data import file_sha256
from heterodyne.data.configured import load_selected_data
from heterodyne.parameters import PHYSICS_NAMES
from heterodyne.results import write_json, write_npz

TRUTH = dict(D0_ref=2e4, alpha_ref=-0.3, D0_sample=8e4, v0=1200.0, beta=0.3, f0=0.3)
VARIED = tuple(TRUTH)
NOISE = 0.002


def hand_made_run(directory: Path, n_frames: int = 40) -> Path:
    """``directory/run`` holding the result.json and nlsq.npz of a 3-angle NLSQ run at the truth."""
    path, truth = simulate(directory, TRUTH, n_frames=n_frames, noise_sigma=NOISE, processed_q_rows=(1,), seed=3)
    values = np.array([truth["params"][name] for name in PHYSICS_NAMES])
    config = fit_config({name: truth["params"][name] for name in VARIED},
                        {name: truth["params"][name] for name in PHYSICS_NAMES if name not in VARIED})
    config = resolve_config(config.as_dict(), overrides={"experimental_data.file_path": str(path)})
    data = load_selected_data(config)
    contrast, offset = truth_scaling(truth)
    scaling_names = [f"{kind}_{k}" for k in range(contrast.size) for kind in ("contrast", "offset")]
    scaling_values = np.ravel(np.column_stack([contrast, offset]))
    free_values = np.concatenate([values[[PHYSICS_NAMES.index(n) for n in VARIED]], scaling_values])
    stderr = 0.01 * np.abs(free_values)
    stderr[-1] = np.nan  # one parameter without an error bar (e.g. at a bound)
    covariance = np.diag(stderr**2)
    covariance[-1, :] = covariance[:, -1] = np.nan
    run_dir = directory / "run"
    write_npz(run_dir / "nlsq.npz", {
        "names": np.array(list(PHYSICS_NAMES) + scaling_names), "values": np.concatenate([values, scaling_values]),
        "vary": np.array([n in VARIED for n in PHYSICS_NAMES] + [True] * len(scaling_names)),
        "free_names": np.array(list(VARIED) + scaling_names), "free_values": free_values, "stderr": stderr,
        "covariance": covariance, "contrast": contrast, "offset": offset, "q": data.q, "phi": data.phi,
        "t": data.times, "chi2_reduced": np.float64(1.0), "covariance_independent": covariance,
        "degrees_of_freedom": np.full(free_values.size, np.inf), "n_points": np.int64(data.c2.size),
    })
    nlsq = {name: float(value) for name, value in zip(PHYSICS_NAMES, values, strict=True)}
    nlsq.update(stderr={n: (0.01 * abs(nlsq[n]) if n in VARIED else None) for n in PHYSICS_NAMES},
                varied=list(VARIED), contrast=contrast, offset=offset, chi2_reduced=1.0, converged=True,
                convergence_warning=None, noise={"weights": "uniform", "source": "config", "sigma": NOISE})
    write_json(run_dir / "result.json", {
        "run_id": "0" * 8, "config": config.as_dict(), "method": "nlsq", "status": "converged",
        "convergence_warning": None,
        "data_file": str(path.resolve()), "data_sha256": file_sha256(path), "nlsq": nlsq, "cmc": None,
    })
    return run_dir


def add_cmc_samples(run_dir: Path, *, n_shards: int = 2, n_chains: int = 2, n_draws: int = 150) -> list[str]:
    """Write a plausible run_dir/cmc_samples.npz around the NLSQ estimate; returns the sampled names."""
    with np.load(run_dir / "nlsq.npz") as npz:
        free, values, stderr = list(npz["free_names"]), npz["free_values"], npz["stderr"]
    sampled = [k for k, name in enumerate(free) if np.isfinite(stderr[k])]
    names = [free[k] for k in sampled]
    mean, spread = values[sampled], stderr[sampled]
    rng = np.random.default_rng(5)
    shards = mean + spread * rng.normal(size=(n_shards, n_chains, n_draws, len(names))) * 1.5
    consensus = mean + spread * rng.normal(size=(n_chains, n_draws, len(names)))
    divergent = np.zeros((n_shards, n_chains, n_draws), dtype=bool)
    divergent[0, 0, :3] = True
    write_npz(run_dir / "cmc_samples.npz", {
        "names": np.array(names), "consensus": consensus, "shard_draws": shards, "divergent": divergent,
        "nlsq_values": mean, "gaussian_mean": mean, "gaussian_cov": np.diag(spread**2),
    })
    document = json.loads((run_dir / "result.json").read_text())
    write_json(run_dir / "result.json", {**document, "method": "cmc", "cmc": {"shards": []}})
    return names
