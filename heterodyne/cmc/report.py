"""The ``cmc`` section of result.json, cmc_samples.npz, and the shard files of workflow jobs.

A shard file (``heterodyne cmc-shard``) holds one shard's draws and sampler statistics as plain
arrays plus what identifies the run it belongs to, so the combining job can refuse shards of a
different run or plan.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from heterodyne.cmc import diagnostics
from heterodyne.cmc.combination import COMBINATIONS, GAUSSIAN_CHECK, combination_of, gaussian_warnings
from heterodyne.cmc.geometry import Geometry
from heterodyne.cmc.posterior import powers
from heterodyne.cmc.result import CmcResult, draw_summary
from heterodyne.cmc.sampler import ShardDraws
from heterodyne.cmc.trust import shard_spread
from heterodyne.config.tree import CmcSettings
from heterodyne.errors import HeterodyneError
from heterodyne.parameters import PHYSICS_NAMES


def shard_file_arrays(shard: ShardDraws, names: tuple[str, ...], run_id: str, n_shards: int) -> dict:
    """The arrays of one shard file."""
    return {
        "names": np.array(names, dtype=str),
        "draws": shard.draws,
        "diverging": shard.diverging,
        "energy": shard.energy,
        "num_steps": shard.num_steps,
        "step_size": shard.step_size,
        "index": np.int64(shard.index),
        "seed": np.int64(shard.seed),
        "n_points": np.int64(shard.n_points),
        "wall_seconds": np.float64(shard.wall_seconds),
        "run_id": np.array(run_id),
        "n_shards": np.int64(n_shards),
    }


def read_shard_files(paths: list[Path], run_id: str, names: tuple[str, ...]) -> list[ShardDraws]:
    """Shards 0..K−1 of run ``run_id`` from their files, in order; a missing, foreign or duplicate
    shard is a HeterodyneError naming the file."""
    shards: dict[int, ShardDraws] = {}
    expected = None
    for path in paths:
        try:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {key: npz[key] for key in npz.files}
        except (OSError, ValueError, KeyError) as error:
            raise HeterodyneError(f"{path}: not a readable shard file ({error})") from error
        if str(arrays["run_id"]) != run_id or tuple(str(n) for n in arrays["names"]) != names:
            raise HeterodyneError(f"{path}: belongs to run {arrays['run_id']}, not to run {run_id} of this config")
        index, count = int(arrays["index"]), int(arrays["n_shards"])
        if expected not in (None, count) or index in shards:
            raise HeterodyneError(f"{path}: shard {index} of {count} does not fit the other shard files")
        expected = count
        shards[index] = ShardDraws(index=index, seed=int(arrays["seed"]), n_points=int(arrays["n_points"]),
                                   draws=arrays["draws"], diverging=arrays["diverging"], energy=arrays["energy"],
                                   num_steps=arrays["num_steps"], step_size=arrays["step_size"],
                                   wall_seconds=float(arrays["wall_seconds"]))
    n_shards = expected or 0
    missing = sorted(set(range(n_shards)) - set(shards))
    if missing or not shards:
        raise HeterodyneError(f"shard files missing for shards {missing or 'all'}")
    return [shards[k] for k in range(n_shards)]


def _per_physics(names, values, ties: dict[str, str], fixed: dict[str, float] | None = None) -> dict:
    """{physics name: value} for every physics parameter; sampled ones from ``values``, a tied one
    its target's (its draws are the target's), the rest from ``fixed`` (or None)."""
    sampled = dict(zip(names, values, strict=True))
    sampled.update({name: sampled[target] for name, target in ties.items() if target in sampled})
    return {name: float(sampled[name]) if name in sampled else (fixed or {}).get(name) for name in PHYSICS_NAMES}


def summarise(names: tuple[str, ...], shards: list[ShardDraws], *, nlsq_values: np.ndarray,
              fixed_values: dict[str, float], settings: CmcSettings, plan: dict, noise: dict,
              geometry: Geometry, calibration: dict, chi2_reduced: float,
              ties: dict[str, str] | None = None) -> CmcResult:
    """The posterior of a finished CMC run: ``cmc`` section, cmc_samples.npz arrays, convergence
    warning or None (flagged shards, a regularised shard covariance, the combined R-hat, or a
    consensus the trust test of :mod:`heterodyne.cmc.trust` rejects).

    The reported posterior is the combination (``settings.combination``) of the shards' draws,
    sampled with the curvature-adjusted likelihood described by ``calibration``
    (:mod:`heterodyne.cmc.calibration`); χ²_red of the NLSQ fit sets the trust test's expected spread.
    ``ties`` ({tied parameter: target}): a tied parameter is reported with its target's posterior."""
    ties = ties or {}
    max_r_hat = settings.max_r_hat
    reports = [diagnostics.shard_report(names, s.draws, s.diverging, s.energy, s.num_steps, max_r_hat)
               for s in shards]
    flagged = [k for k, r in enumerate(reports) if r["flagged"]]
    used = [k for k in range(len(shards)) if not (settings.drop_flagged_shards and k in flagged)]
    warnings = [f"shard {k}: {w}" for k, r in enumerate(reports) for w in r["warnings"]]
    if not used:
        raise HeterodyneError("every shard is flagged and drop_flagged_shards is true: nothing to combine")
    used_draws = [shards[k].draws for k in used]
    method = settings.combination
    combined, gaussian_mean, gaussian_covariance, regularised = combination_of(method, used_draws, geometry)
    regularised = [used[k] for k in regularised]
    stats = diagnostics.chain_diagnostics(combined)
    label = GAUSSIAN_CHECK[method]
    warnings += gaussian_warnings(names, combined, gaussian_mean, stats["ess_bulk"], label)
    likelihood_powers = [powers(method, plan["n_points"], plan["shard_sizes"][k], plan["n_shards"])[0] for k in used]
    trust, trust_warnings = shard_spread(names, used, used_draws, likelihood_powers,
                                         [np.array(list(reports[k]["ess_bulk"].values())) for k in used], chi2_reduced)
    warnings += trust_warnings
    mean, sd, quantiles = draw_summary(combined)

    reasons = [f"shard {k} flagged: {'; '.join(reports[k]['reasons'])}" for k in flagged]
    if regularised:
        reasons.append(f"shard(s) {', '.join(map(str, regularised))}: draws' covariance singular or ill-conditioned "
                       "(too few draws, a parameter that did not move); the combination used a regularised one")
    combined_r_hat = float(np.nanmax(stats["r_hat"]))
    if not combined_r_hat <= max_r_hat:
        reasons.append(f"combined max R-hat {combined_r_hat:.3f} > {max_r_hat}")
    if trust is not None and not trust["trusted"]:
        apart = [name for name, p in trust["p_value"].items() if p < trust["p_threshold"]]
        reasons.append(f"consensus not trusted: the shards disagree unlike exchangeable shards in {', '.join(apart)}")
    section = _per_physics(names, mean, ties, fixed_values)
    section.update(
        sd=_per_physics(names, sd, ties),
        **{key: _per_physics(names, values, ties) for key, values in quantiles.items()},
        r_hat=_per_physics(names, stats["r_hat"], ties),
        ess_bulk=_per_physics(names, stats["ess_bulk"], ties),
        ess_tail=_per_physics(names, stats["ess_tail"], ties),
        varied=[name for name in names if name in PHYSICS_NAMES],
        scaling={name: {"mean": float(m), "sd": float(s)}
                 for name, m, s in zip(names, mean, sd, strict=True)
                 if name not in PHYSICS_NAMES},
        max_r_hat=max(r["max_r_hat"] for r in reports),
        min_ess_bulk=min(r["min_ess_bulk"] for r in reports),
        combined_max_r_hat=combined_r_hat,
        n_shards=len(shards),
        shards=[{"index": s.index, "n_points": s.n_points, "seed": s.seed, "wall_seconds": s.wall_seconds,
                 "step_size": s.step_size, "mean_leapfrog_steps": float(s.num_steps.mean()), **r}
                for s, r in zip(shards, reports, strict=True)],
        combination={"method": method, "description": COMBINATIONS[method],
                     "regularised_shards": regularised},
        calibration=calibration,
        gaussian_check={"kind": label, "mean": dict(zip(names, gaussian_mean, strict=True)),
                        "sd": dict(zip(names, np.sqrt(np.diag(gaussian_covariance)), strict=True))},
        trust=trust,
        dropped_shards={"count": len(shards) - len(used),
                        "why": "drop_flagged_shards: true" if len(used) < len(shards) else None},
        kept_flagged_shards=[k for k in flagged if k in used],
        warnings=warnings,
        estimators=diagnostics.ESTIMATORS,
        noise=noise,
        plan=plan,
        settings={key: getattr(settings, key) for key in ("seed", "num_warmup", "num_samples", "num_chains",
                                                          "max_r_hat", "max_points_per_shard", "warmstart",
                                                          "drop_flagged_shards", "combination")},
    )
    arrays = {
        "names": np.array(names, dtype=str),
        "consensus": combined,
        "shard_draws": np.stack([s.draws for s in shards]),
        "divergent": np.stack([s.diverging for s in shards]),
        "nlsq_values": np.asarray(nlsq_values, float),
        "gaussian_mean": gaussian_mean,
        "gaussian_cov": gaussian_covariance,
    }
    return CmcResult(section, arrays, "; ".join(reasons) or None)
