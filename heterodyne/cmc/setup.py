"""From config, data and the NLSQ result to the CMC problem: all points, the plan, priors, geometry.

Both ways of running CMC (all shards in one process, or one workflow job per shard) build the
same :class:`CmcSetup` from the same inputs, so they sample identical shard posteriors.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import numpy as np

from heterodyne.cmc.calibration import Adjustment, Target, adjustment, target_from_nlsq
from heterodyne.cmc.geometry import Geometry, unit_geometry, whitening
from heterodyne.cmc.plan import ShardPlan, shard_plan
from heterodyne.cmc.posterior import Priors, model_arguments, powers, priors_of
from heterodyne.cmc.sampler import ShardDraws, sample_shard
from heterodyne.cmc.tiles import use_tiles
from heterodyne.config import AnalysisConfig, parameter_table
from heterodyne.config.tree import CmcSettings
from heterodyne.errors import HeterodyneError
from heterodyne.nlsq.problem import FitProblem
from heterodyne.nlsq.setup import build_problem

log = logging.getLogger("heterodyne")


@dataclass(frozen=True)
class CmcSetup:
    """The whole-data problem (fixed parameters at their NLSQ values), the plan, the calibration
    target and the geometry."""

    problem: FitProblem
    noise: dict
    plan: ShardPlan
    priors: Priors
    target: Target            # NLSQ estimate, likelihood curvature⁻¹ and honest covariance of the sampled parameters
    configured_values: np.ndarray  # (P,) the config's initial values of the sampled parameters
    settings: CmcSettings     # the resolved optimization.cmc section

    @property
    def names(self) -> tuple[str, ...]:
        return self.problem.free_names

    @property
    def nlsq_values(self) -> np.ndarray:
        """(P,) the NLSQ estimate of the sampled parameters."""
        return self.target.center

    @property
    def variance_factor(self) -> float:
        """How much wider a shard's posterior is than the full-data one: 1 if its likelihood is
        raised to n / n_k (``barycenter``), else K."""
        return 1.0 if self.settings.combination == "barycenter" else float(self.plan.n_shards)

    def geometry(self) -> Geometry:
        """Whitened by the NLSQ honest covariance (warm start), else unit scale around the initial values."""
        vary = self.problem.vary
        lower, upper = self.problem.lower[vary], self.problem.upper[vary]
        if self.settings.warmstart:
            return whitening(self.nlsq_values, self.target.honest, lower, upper, self.variance_factor)
        return unit_geometry(self.configured_values, lower, upper)

    def adjustment(self) -> Adjustment:
        """The likelihood's curvature adjustment (:mod:`heterodyne.cmc.calibration`)."""
        return adjustment(self.target, self.geometry())

    def shard_problem(self, shard: int) -> FitProblem:
        """The problem restricted to the points of ``shard``."""
        index = self.plan.point_indices(shard)
        return dataclasses.replace(self.problem, points=self.problem.points.subset(index),
                                   sigma=self.problem.sigma[index])


def prepare(config: AnalysisConfig, data, nlsq_arrays: dict[str, np.ndarray]) -> CmcSetup:
    """The CMC setup of ``config`` on ``data``, warm-started from the arrays of nlsq.npz.

    CMC always uses every point (``optimization.nlsq.max_points`` applies to the fit only) and
    the noise σ estimated exactly as for the fit; σ is held fixed in the likelihood.
    """
    every_point = dataclasses.replace(config.optimization.nlsq, max_points=None)
    whole = dataclasses.replace(config, optimization=dataclasses.replace(config.optimization, nlsq=every_point))
    problem, noise = build_problem(whole, c2=data.c2, q=data.q, phi=data.phi, t=data.times, dt=data.dt)
    names = [str(n) for n in nlsq_arrays["names"]]
    free = [str(n) for n in nlsq_arrays["free_names"]]
    if names != list(problem.names) or free != list(problem.free_names):
        raise HeterodyneError("the NLSQ result does not match this configuration's parameters "
                              f"(it fitted {', '.join(free)}); rerun NLSQ with this config")
    settings = config.optimization.cmc
    if not settings.warmstart:
        log.warning("cmc without NLSQ warm start: chains start at the configured initial values "
                    "with unit scales and are expected to mix far worse")
    configured_values = problem.initial[problem.vary]
    problem = dataclasses.replace(problem, initial=np.asarray(nlsq_arrays["values"], float))
    noise.update(treatment="estimated once from the data (as for NLSQ) and held fixed in the likelihood")
    return CmcSetup(
        problem=problem,
        noise=noise,
        plan=shard_plan(problem.points.size, settings),
        priors=priors_of(problem, parameter_table(config)),
        target=target_from_nlsq(nlsq_arrays, problem.points.size),
        configured_values=configured_values,
        settings=settings,
    )


def sample_one(setup: CmcSetup, shard: int, side_by_side: int = 1) -> ShardDraws:
    """Draws of ``shard``: its points, the run's geometry and tempered priors, NUTS with
    ``side_by_side`` chains at once (the draws do not depend on it)."""
    problem = setup.shard_problem(shard)
    geometry = setup.geometry()
    shard_powers = powers(setup.settings.combination, setup.plan.n_points, problem.points.size, setup.plan.n_shards)
    on_tiles = use_tiles(min(setup.plan.sizes), problem.q.size, problem.t.size)
    constants, data = model_arguments(problem, geometry, setup.adjustment(), setup.priors, shard_powers,
                                      max(setup.plan.sizes), on_tiles=on_tiles)
    return sample_shard((constants, data), geometry, setup.settings, n_contrast=len(problem.scaling.contrast),
                        shard=shard, n_shards=setup.plan.n_shards, n_points=problem.points.size,
                        side_by_side=side_by_side)
