"""A CMC posterior as the package returns, writes and reads it back: :class:`CmcResult`.

The record is exactly what a run directory holds of the posterior (:mod:`heterodyne.run_directory`):
``section`` is result.json's ``cmc`` section, ``arrays`` the arrays of cmc_samples.npz, and
``warning`` the CMC part of the run's convergence warning.

Every summary of the record covers the same parameters as its draws: each sampled one, physics
and scaling coefficients alike (:attr:`CmcResult.names`). With the combined draws x_{c,d,p}
(chain c, draw d) pooled into S = chains × draws samples per parameter p, the mean is
Σ x / S, the sd the sample standard deviation (divisor S − 1) and the quantiles numpy's
linearly interpolated ones (:func:`draw_summary`), which are the numbers result.json reports
(:func:`heterodyne.cmc.report.summarise`). Physics parameters held fixed are not sampled; their
values are in ``section`` and in the NLSQ result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

QUANTILES = {"q05": 0.05, "q50": 0.5, "q95": 0.95}
"""result.json's quantile keys and their levels."""


def draw_summary(draws: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """(mean, sd, {quantile key: quantile}) per parameter of ``draws`` (..., P), every leading
    axis pooled: Σx/S, √(Σ(x − mean)²/(S − 1)) and the ``QUANTILES`` levels."""
    flat = draws.reshape(-1, draws.shape[-1])
    quantiles = {key: np.quantile(flat, level, axis=0) for key, level in QUANTILES.items()}
    return flat.mean(axis=0), flat.std(axis=0, ddof=1), quantiles


@dataclass(frozen=True)
class CmcResult:
    """A CMC posterior: the ``cmc`` section of result.json, the arrays of cmc_samples.npz and the
    convergence warning (None when every shard passed its checks)."""

    section: dict
    arrays: dict
    warning: str | None

    @property
    def names(self) -> tuple[str, ...]:
        """The sampled parameters (physics, then scaling coefficients), in the order of the draws'
        last axis; the keys of :attr:`draws`, :attr:`mean`, :attr:`sd` and :attr:`quantiles`."""
        return tuple(str(name) for name in self.arrays["names"])

    @property
    def draws(self) -> dict[str, np.ndarray]:
        """Combined draws of every sampled parameter, (chains, draws) each."""
        return {name: self.arrays["consensus"][..., k] for k, name in enumerate(self.names)}

    def _summary(self) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        return draw_summary(self.arrays["consensus"])

    @property
    def mean(self) -> dict[str, float]:
        """Posterior mean of every sampled parameter."""
        return dict(zip(self.names, map(float, self._summary()[0]), strict=True))

    @property
    def sd(self) -> dict[str, float]:
        """Posterior standard deviation of every sampled parameter."""
        return dict(zip(self.names, map(float, self._summary()[1]), strict=True))

    @property
    def quantiles(self) -> dict[float, dict[str, float]]:
        """{level: {sampled parameter: quantile}} at the levels result.json records."""
        quantiles = self._summary()[2]
        return {level: dict(zip(self.names, map(float, quantiles[key]), strict=True))
                for key, level in QUANTILES.items()}

    @property
    def shards(self) -> list[dict]:
        """Per shard: points, seed, R-hat, ESS, divergences, E-BFMI, ``flagged`` and its reasons."""
        return self.section["shards"]

    @property
    def shard_seconds(self) -> float:
        """Seconds the shards spent sampling, all together."""
        return sum(shard["wall_seconds"] for shard in self.shards)

    def to_arviz(self):
        """ArviZ InferenceData: ``posterior`` (the combined draws), ``sample_stats`` (``diverging``:
        whether any shard's draw behind a combined draw diverged) and ``shard_posterior`` (each
        shard's own draws, dims shard × chain × draw)."""
        import arviz

        consensus, shard_draws = self.arrays["consensus"], self.arrays["shard_draws"]
        data = arviz.from_dict(
            posterior={name: consensus[..., k] for k, name in enumerate(self.names)},
            sample_stats={"diverging": self.arrays["divergent"].any(axis=0)},
        )
        shard_posterior = arviz.from_dict(
            posterior={name: np.moveaxis(shard_draws[..., k], 0, -1) for k, name in enumerate(self.names)},
            dims={name: ["shard"] for name in self.names},
        ).posterior
        data.add_groups(shard_posterior=shard_posterior)
        return data
