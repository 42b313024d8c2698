"""Each named reduction against the full model on the same data: the cluster-robust Wald test
(:mod:`heterodyne.comparison.wald`) at the full fit, and the reduced model's own fit with its
χ²_red and the χ²-based AIC and BIC beside it.

AIC and BIC here are χ² + 2k and χ² + k ln n (χ² = Σ r², k fitted parameters including the
scaling coefficients, n points): they assume independent noise at every point. Under the
frame-correlated noise of c2, χ² differences are inflated by about the variance ratio of the
honest and independent-noise errors, so ΔAIC and ΔBIC prefer the bigger model far too often;
they are reported labelled as such, the decision is the Wald test's.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from heterodyne.comparison.minority_share import minority_share_test, sample_dominant
from heterodyne.comparison.reductions import REDUCTIONS, Reduction, nesting, reduced_config
from heterodyne.comparison.wald import WaldTest, wald_test
from heterodyne.config.tree import AnalysisConfig
from heterodyne.nlsq.result import NlsqResult
from heterodyne.parameters import PHYSICS_NAMES

log = logging.getLogger("heterodyne")

LEVEL = 0.05
"""The test's level for the ``decision`` column."""
COLUMNS = ("reduction", "constraints", "test", "statistic", "df", "p_value", "decision", "chi2_red_full",
           "chi2_red_reduced", "delta_aic_independent", "delta_bic_independent", "status", "calibration")
"""The columns of model_comparison.csv, in order."""


def decision(p_value: float) -> str | None:
    """"reject reduction" below ``LEVEL``, "keep reduction" at or above it, None without a p-value."""
    if not np.isfinite(p_value):
        return None
    return "reject reduction" if p_value < LEVEL else "keep reduction"


def information_criteria(section: dict) -> tuple[float, float]:
    """(AIC, BIC) of a fit's ``nlsq`` section from χ² = 2 · cost, assuming independent noise."""
    chi2, k, n = 2.0 * section["cost"], section["n_free"], section["n_points"]
    return chi2 + 2.0 * k, chi2 + k * math.log(n)


def _followed(config: AnalysisConfig) -> dict[str, str]:
    """Each physics parameter the fit moves, mapped to the fitted parameter whose value it takes."""
    return {name: entry.tied_to or name for name, entry in config.parameters.items() if entry.vary or entry.tied_to}


def reduction_test(config: AnalysisConfig, nlsq_result: NlsqResult, reduction: Reduction,
                   times: np.ndarray) -> WaldTest | str:
    """The test of ``reduction`` at the full fit ``nlsq_result`` of ``config`` on data at frame
    times ``times``, or why there is none (not nested; nothing left to test): for
    ``one_component`` the minority-share test (:mod:`heterodyne.comparison.minority_share`),
    else the Wald test of its constraints."""
    nested = nesting(config, reduction)
    if nested.not_nested is not None:
        return f"not nested: {nested.not_nested}"
    if not nested.tested:
        return "not tested: the full config already meets every constraint"
    arrays = nlsq_result.arrays
    if reduction.name == "one_component":
        theta = np.array([nlsq_result.values[name] for name in PHYSICS_NAMES])
        return minority_share_test(theta, times, nlsq_result.free_names,
                                   _followed(config), np.asarray(arrays["covariance"], float),
                                   np.asarray(arrays["degrees_of_freedom"], float))
    return wald_test(nested.tested, nlsq_result.free_names, np.asarray(arrays["free_values"], float),
                     np.asarray(arrays["covariance"], float), np.asarray(arrays["degrees_of_freedom"], float),
                     {name: entry.bounds for name, entry in config.parameters.items()})


def reduced_start(reduction: Reduction, values: dict[str, float], times: np.ndarray) -> dict[str, float]:
    """Where the reduced fit starts: the full fit's ``values``, for ``one_component`` labelled with
    the dominant component as the sample (its fit keeps the sample's field alone)."""
    return sample_dominant(values, times) if reduction.name == "one_component" else values


def compare(config: AnalysisConfig, data, nlsq_result: NlsqResult, reductions: tuple[Reduction, ...] = REDUCTIONS,
            threads: int = 1) -> list[dict]:
    """One row of model_comparison.csv (``COLUMNS``) per reduction: ``nlsq_result`` is the fit of
    ``data`` under ``config`` (the full model); each nested reduction is tested at it and fitted
    from its values (:func:`heterodyne.comparison.reductions.reduced_config`)."""
    from heterodyne.nlsq.run import run_nlsq

    section = nlsq_result.section
    full_aic, full_bic = information_criteria(section)
    rows = []
    for reduction in reductions:
        row = dict.fromkeys(COLUMNS)
        row.update(reduction=reduction.name, constraints=reduction.describe(), chi2_red_full=section["chi2_reduced"],
                   calibration=reduction.calibration)
        test = reduction_test(config, nlsq_result, reduction, data.times)
        if isinstance(test, str):
            rows.append({**row, "status": test})
            continue
        log.info("comparison: fitting the %s reduction", reduction.name)
        start = reduced_start(reduction, nlsq_result.values, data.times)
        reduced = run_nlsq(reduced_config(config, reduction, start), data, progress=False, threads=threads).section
        aic, bic = information_criteria(reduced)
        status = "ok" if test.problem is None else f"not tested: {test.problem}"
        if not reduced["converged"]:
            status += f"; reduced fit: {reduced['convergence_warning']}"
        row.update(
            test=test.reference,
            statistic=test.statistic, df=f"{test.q}, {test.nu:.3g}", p_value=test.p_value,
            decision=decision(test.p_value),
            chi2_red_reduced=reduced["chi2_reduced"], delta_aic_independent=aic - full_aic,
            delta_bic_independent=bic - full_bic, status=status,
        )
        rows.append(row)
    return rows
