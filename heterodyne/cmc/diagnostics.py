"""Convergence diagnostics of one shard's chains (docs/cmc.md), computed with ArviZ.

R-hat is the rank-normalised split R-hat and ESS the bulk and tail ESS of Vehtari et al. (2021),
per parameter and within the shard only (shards target different sub-posteriors). E-BFMI per
chain is Σ(E_n − E_{n−1})² / Σ(E_n − Ē)² of the Hamiltonian energy.
"""

from __future__ import annotations

import numpy as np

ESTIMATORS = ("rank-normalised split R-hat; bulk and tail ESS (Vehtari et al. 2021, ArviZ); "
              "E-BFMI per chain")
DIVERGENCE_FLAG_FRACTION = 0.05
"""A shard with more than this fraction of divergent draws is flagged."""
MIN_ESS_PER_CHAIN = 100
MIN_E_BFMI = 0.3
SATURATED_WARN_FRACTION = 0.01
"""A shard with more than this fraction of draws at NUTS's tree-depth limit gets a warning."""


def _per_parameter(function, draws: np.ndarray, **keywords) -> np.ndarray:
    """``function`` (an ArviZ diagnostic of a (chain, draw) array) for every parameter of (C, D, P) draws."""
    return np.array([float(function(draws[..., k], **keywords)) for k in range(draws.shape[-1])])


def chain_diagnostics(draws: np.ndarray) -> dict[str, np.ndarray]:
    """R-hat, bulk ESS and tail ESS per parameter of (C, D, P) draws."""
    import arviz

    return {
        "r_hat": _per_parameter(arviz.rhat, draws, method="rank"),
        "ess_bulk": _per_parameter(arviz.ess, draws, method="bulk"),
        "ess_tail": _per_parameter(arviz.ess, draws, method="tail"),
    }


def e_bfmi(energy: np.ndarray) -> np.ndarray:
    """E-BFMI of every chain of (C, D) energies."""
    import arviz

    return np.atleast_1d(np.asarray(arviz.bfmi(energy), float))


def shard_report(names: tuple[str, ...], draws: np.ndarray, diverging: np.ndarray, energy: np.ndarray,
                 num_steps: np.ndarray, max_r_hat: float) -> dict:
    """Per-shard diagnostics, with ``flagged`` and the ``reasons`` (flags) and ``warnings`` (softer).

    A draw whose trajectory took 2^``MAX_TREE_DEPTH`` − 1 leapfrog steps stopped at NUTS's limit
    before turning back: the posterior bends far from the NLSQ covariance the sampler is whitened
    by, each draw costs a thousand gradients, and the chain explores slowly."""
    from heterodyne.cmc.sampler import MAX_TREE_DEPTH

    stats = chain_diagnostics(draws)
    n_chains, n_draws = diverging.shape
    divergences = int(diverging.sum())
    bfmi = e_bfmi(energy)
    worst = int(np.nanargmax(stats["r_hat"]))
    reasons, warnings = [], []
    if not np.isfinite(stats["r_hat"]).all():
        reasons.append("R-hat is not finite (a chain did not move)")
    elif stats["r_hat"][worst] > max_r_hat:
        reasons.append(f"max R-hat {stats['r_hat'][worst]:.3f} > {max_r_hat} ({names[worst]})")
    if divergences > DIVERGENCE_FLAG_FRACTION * n_chains * n_draws:
        reasons.append(f"{divergences} divergent draws (> {DIVERGENCE_FLAG_FRACTION:.0%} of {n_chains * n_draws})")
    elif divergences:
        warnings.append(f"{divergences} divergent draws")
    low_ess = [n for n, e in zip(names, stats["ess_bulk"], strict=True) if not e >= MIN_ESS_PER_CHAIN * n_chains]
    if low_ess:
        warnings.append(f"bulk ESS below {MIN_ESS_PER_CHAIN} per chain: {', '.join(low_ess)}")
    if (bfmi < MIN_E_BFMI).any():
        warnings.append(f"E-BFMI {bfmi.min():.2f} < {MIN_E_BFMI}")
    saturated = int((num_steps >= 2**MAX_TREE_DEPTH - 1).sum())
    if saturated > SATURATED_WARN_FRACTION * n_chains * n_draws:
        warnings.append(f"{saturated} of {n_chains * n_draws} draws stopped at NUTS's tree-depth limit "
                        f"({2**MAX_TREE_DEPTH - 1} leapfrog steps): the posterior is far from the NLSQ Gaussian; "
                        "sampling is slow and may mix poorly")
    return {
        "max_r_hat": float(np.nanmax(stats["r_hat"])),
        "min_ess_bulk": float(np.nanmin(stats["ess_bulk"])),
        "min_ess_tail": float(np.nanmin(stats["ess_tail"])),
        "r_hat": dict(zip(names, stats["r_hat"], strict=True)),
        "ess_bulk": dict(zip(names, stats["ess_bulk"], strict=True)),
        "ess_tail": dict(zip(names, stats["ess_tail"], strict=True)),
        "divergences": divergences,
        "e_bfmi": bfmi,
        "flagged": bool(reasons),
        "reasons": reasons,
        "warnings": warnings,
    }
