"""NLSQ of one run: the configured problem, its candidate starts, the fit and its report."""

from __future__ import annotations

from heterodyne.config.tree import AnalysisConfig
from heterodyne.nlsq.result import NlsqResult


def run_nlsq(config: AnalysisConfig, data, *, progress: bool = True, threads: int = 1) -> NlsqResult:
    """The NLSQ fit of ``data`` under the resolved ``config``, its passes in ``threads`` threads
    (``progress``: log the iterations)."""
    from heterodyne.nlsq.progress import Progress
    from heterodyne.nlsq.report import nlsq_result
    from heterodyne.nlsq.setup import build_problem
    from heterodyne.nlsq.solve import fit
    from heterodyne.nlsq.starts import candidate_starts

    settings = config.optimization.nlsq
    problem, noise_info = build_problem(config, c2=data.c2, q=data.q, phi=data.phi, t=data.times, dt=data.dt)
    starts, labels = candidate_starts(problem, data.c2, settings)
    outcome = fit(problem, settings, Progress(enabled=progress), threads, starts)
    start_info = {"mode": settings.start, "labels": labels, "values": starts}
    return nlsq_result(outcome, problem, noise_info, config.scaling.mode, start_info)
