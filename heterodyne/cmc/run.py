"""CMC of one run: plan, sample every shard, combine, report (docs/cmc.md)."""

from __future__ import annotations

import numpy as np

from heterodyne.cmc.report import summarise
from heterodyne.cmc.result import CmcResult
from heterodyne.cmc.sampler import ShardDraws
from heterodyne.cmc.setup import CmcSetup, prepare
from heterodyne.config.tree import AnalysisConfig
from heterodyne.parameters import PHYSICS_NAMES


def fixed_physics(nlsq_arrays: dict) -> dict[str, float]:
    """Values of the physics parameters that are not sampled (held at their configured values)."""
    names = [str(n) for n in nlsq_arrays["names"]]
    vary = np.asarray(nlsq_arrays["vary"], bool)
    values = np.asarray(nlsq_arrays["values"], float)
    return {name: float(values[k]) for k, name in enumerate(names) if name in PHYSICS_NAMES and not vary[k]}


def report(setup: CmcSetup, shards: list[ShardDraws], nlsq_arrays: dict) -> CmcResult:
    """The posterior (``cmc`` section, cmc_samples.npz arrays, convergence warning) of sampled shards."""
    return summarise(setup.names, shards, nlsq_values=setup.nlsq_values, fixed_values=fixed_physics(nlsq_arrays),
                     settings=setup.settings, plan=setup.plan.describe(), noise=setup.noise,
                     geometry=setup.geometry(), calibration=setup.adjustment().record(setup.names, setup.target),
                     chi2_reduced=float(nlsq_arrays["chi2_reduced"]), ties=setup.problem.ties)


def run_cmc(config: AnalysisConfig, data, *, nlsq_result, threads: int) -> CmcResult:
    """CMC of ``data`` under the resolved ``config``, warm-started from ``nlsq_result`` (the arrays
    of the run's nlsq.npz: a dict, or ``numpy.load`` of the file): every shard in this process's
    worker pool, then the consensus."""
    from heterodyne.cmc.workers import sample_all

    setup = prepare(config, data, nlsq_result)
    return report(setup, sample_all(setup, threads), nlsq_result)
