"""The windows' rates along the age (windows.csv) and the abrupt changes found in them (changepoints.csv).

Each window's run (:mod:`heterodyne.age.windows`) gives the rates J_ref, J_sample, v and f_s at
its mid-age t_m = (t_first + t_last)/2, on the file's clock, from the window's NLSQ estimate θ̂:

    r(t_m) = rate(θ̂, t_m),   stderr r = √(gᵀ C g),   g = ∂rate/∂θ at (θ̂, t_m)

with C the fit's frame-clustered (sandwich) covariance of the free physics parameters, the
honest one when the noise is correlated between frames (:mod:`heterodyne.nlsq.sandwich`). Held
and inherited parameters count as known. With the default reduction (constant rates) the rate is
the parameter itself (J_ref = D0_ref, v = v0, …) and its stderr the parameter's. When the
window ran CMC too, the 5, 50 and 95 % quantiles of the rate over its consensus draws are added.

The labelling: swapping the two components (J_ref ↔ J_sample, f_s ↔ 1 − f_s, v unchanged) leaves
c2 unchanged (:mod:`heterodyne.nlsq.labelling`), and a window's fit picks its labelling by the
mean rates over the window alone, so it can come out mirrored against the global fit's.
:func:`aligned_to_global` reports every window in the global fit's labelling: the one whose
log-rates lie closer to the global curves at the window's mid-age, |ln J_ref/g_ref| +
|ln J_sample/g_sample| against the mirror's (column ``labelling``).

The change points: for each of v, J_sample and J_ref and each seed,
:func:`heterodyne.age.changepoint.find_change_point` on the windows that share no frame
(:func:`heterodyne.age.windows.disjoint`) whose estimate and stderr are finite, with the errors
scaled up when they are too small (``scale_errors``) and the null trend a + b·g(t), g the global
fit's curve of that rate at the mid-ages (a straight line in age when g is constant): a smooth
trend the global model can follow is no change. A quantity with too few usable windows gets a
row that says so and no test.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from heterodyne.age.changepoint import find_change_point
from heterodyne.age.windows import disjoint
from heterodyne.cmc.result import QUANTILES as QUANTILE_LEVELS
from heterodyne.cmc.result import CmcResult
from heterodyne.errors import HeterodyneError
from heterodyne.parameters import N_PHYSICS, PHYSICS_NAMES, RATE_UNITS, RATES
from heterodyne.run_directory import Run

CHANGE_POINT_RATES = ("v", "J_sample", "J_ref")
CONSTANT_CURVE = 1e-9
"""Relative spread below which the global curve counts as constant (the null trend is then a line)."""


def nlsq_rates(run: Run, age: float) -> tuple[np.ndarray, np.ndarray]:
    """(4,) rates at ``age`` from the run's NLSQ estimate and (4,) their delta-method stderrs
    (NaN where a free parameter's covariance is not reportable)."""
    from heterodyne.jaxconfig import jax, jnp
    from heterodyne.model import rates

    theta = jnp.asarray(np.asarray(run.nlsq.arrays["values"][:N_PHYSICS], dtype=float))
    at = jnp.asarray(age, dtype=jnp.float64)
    values = np.asarray(rates(theta, at))
    gradient = np.asarray(jax.jacfwd(rates)(theta, at))
    free = [k for k, name in enumerate(run.nlsq.free_names) if name in PHYSICS_NAMES]
    columns = [PHYSICS_NAMES.index(run.nlsq.free_names[k]) for k in free]
    covariance = np.asarray(run.nlsq.covariance, dtype=float)[np.ix_(free, free)]
    block = gradient[:, columns]
    variances = np.einsum("rp,pq,rq->r", block, covariance, block) if columns else np.zeros(len(RATES))
    return values, np.sqrt(np.where(variances >= 0, variances, np.nan))


def cmc_rate_quantiles(posterior: CmcResult, estimate: np.ndarray, age: float) -> dict[str, np.ndarray]:
    """{q05, q50, q95: (4,) rates at ``age``} over every consensus draw of a posterior (the
    parameters it did not sample at the NLSQ ``estimate``)."""
    from heterodyne.plots.model_values import rate_curves_at
    from heterodyne.plots.parameter_draws import cmc_draws

    consensus = posterior.arrays["consensus"]
    draws = cmc_draws(posterior.arrays, estimate, max_draws=consensus.size // consensus.shape[-1])
    curves = rate_curves_at(draws, np.array([age]))[:, :, 0]
    return {key: np.quantile(curves, level, axis=1) for key, level in QUANTILE_LEVELS.items()}


def run_seed(run: Run) -> int:
    """The run's seed (optimization.nlsq.seed of its resolved config)."""
    return int(run.document["config"]["optimization"]["nlsq"]["seed"])


def frame_ages(run: Run) -> tuple[float, float]:
    """Age (s) of the run's first and last frame, on the file's clock."""
    times = np.asarray(run.nlsq.arrays["t"], dtype=float)
    return float(times[0]), float(times[-1])


def window_row(run: Run) -> dict[str, Any]:
    """One line of windows.csv (module docstring)."""
    data = run.document["data"]
    first, last = frame_ages(run)
    age = 0.5 * (first + last)
    row: dict[str, Any] = {"seed": run_seed(run), "start_frame": data["start_frame"], "end_frame": data["end_frame"],
                           "start_s": first, "end_s": last, "mid_age_s": age}
    values, errors = nlsq_rates(run, age)
    estimate = np.asarray(run.nlsq.arrays["values"], dtype=float)
    quantiles = cmc_rate_quantiles(run.cmc, estimate, age) if run.cmc is not None else None
    for index, name in enumerate(RATES):
        row[name], row[f"{name}_err"] = float(values[index]), float(errors[index])
        if quantiles is not None:
            row.update({f"{name}_{key}": float(quantile[index]) for key, quantile in quantiles.items()})
    row.update({"chi2_red": run.nlsq.chi2_reduced, "status": run.document["status"],
                "method": run.document["method"], "result": str(run.run_dir / "result.json")})
    return row


def window_table(runs: Sequence[Run]) -> pd.DataFrame:
    """windows.csv: one row per window run, by seed and start frame; CMC columns when every run has CMC."""
    if not runs:
        raise HeterodyneError("windows: no window run given")
    with_cmc = {run.cmc is not None for run in runs}
    if len(with_cmc) > 1:
        raise HeterodyneError("windows: some window runs have CMC results and some do not (give one method's)")
    table = pd.DataFrame([window_row(run) for run in runs]).sort_values(["seed", "start_frame"], kind="stable")
    duplicated = table.duplicated(["seed", "start_frame", "end_frame"])
    if duplicated.any():
        row = table[duplicated].iloc[0]
        raise HeterodyneError(f"windows: frames {row.start_frame}..{row.end_frame} of seed {row.seed} given twice")
    return table.reset_index(drop=True)


MIRRORED = "mirrored to the global fit"


def mirrored(row: Mapping[str, Any]) -> dict[str, Any]:
    """A windows.csv row in the other labelling: J_ref ↔ J_sample and f_s → 1 − f_s (its stderr
    unchanged, its quantiles q → 1 − q of the mirrored level)."""
    out = dict(row)
    for suffix in ("", "_err", *(f"_{key}" for key in QUANTILE_LEVELS)):
        if f"J_ref{suffix}" in row:
            out[f"J_ref{suffix}"], out[f"J_sample{suffix}"] = row[f"J_sample{suffix}"], row[f"J_ref{suffix}"]
    out["f_s"] = 1.0 - row["f_s"]
    if "f_s_q05" in row:
        for low, high in (("q05", "q95"), ("q50", "q50"), ("q95", "q05")):
            out[f"f_s_{low}"] = 1.0 - row[f"f_s_{high}"]
    return out


def labelling_distance(row: Mapping[str, Any], reference: float, sample: float) -> float:
    """|ln J_ref/g_ref| + |ln J_sample/g_sample| (inf when a rate is not positive)."""
    rates = np.array([row["J_ref"], row["J_sample"], reference, sample], dtype=float)
    if not np.all(rates > 0):
        return np.inf
    return float(abs(np.log(rates[0] / rates[2])) + abs(np.log(rates[1] / rates[3])))


def aligned_to_global(windows: pd.DataFrame, curves: Mapping[int, GlobalCurves]) -> pd.DataFrame:
    """windows.csv in each seed's global labelling (module docstring), with its ``labelling`` column."""
    rows = []
    for row in windows.to_dict("records"):
        if row["seed"] not in curves:
            raise HeterodyneError(f"windows: no global run of seed {row['seed']}")
        reference, sample = (float(curves[row["seed"]].at(name, np.array([row["mid_age_s"]]))[0])
                             for name in ("J_ref", "J_sample"))
        flip = labelling_distance(mirrored(row), reference, sample) < labelling_distance(row, reference, sample)
        rows.append({**(mirrored(row) if flip else row), "labelling": MIRRORED if flip else "as fitted"})
    return pd.DataFrame(rows, columns=[*windows.columns, "labelling"])


@dataclass(frozen=True)
class GlobalCurves:
    """A global run's rate curves: ``times`` (N,) and each rate's NLSQ estimate (N,) there."""

    times: np.ndarray
    curves: Mapping[str, np.ndarray]

    @classmethod
    def of(cls, run: Run) -> GlobalCurves:
        from heterodyne.plots.model_values import rate_curves_at

        times = np.asarray(run.nlsq.arrays["t"], dtype=float)
        theta = np.asarray(run.nlsq.arrays["values"][:N_PHYSICS], dtype=float)
        curves = rate_curves_at(theta[None, :], times)[:, 0, :]
        return cls(times, {name: curves[k] for k, name in enumerate(RATES)})

    def at(self, name: str, ages: np.ndarray) -> np.ndarray:
        return np.interp(ages, self.times, self.curves[name])


def null_trend(curve: np.ndarray) -> np.ndarray | None:
    """Columns [1, g] of the null trend, or None (the finder's straight line) when g is constant."""
    if curve.size < 2:
        return None
    spread = np.ptp(curve)
    if not np.isfinite(spread) or spread <= CONSTANT_CURVE * max(float(np.max(np.abs(curve))), np.finfo(float).tiny):
        return None
    return np.column_stack([np.ones_like(curve), curve])


def change_point_row(windows: pd.DataFrame, name: str, curves: GlobalCurves, level: float) -> dict[str, Any]:
    """One line of changepoints.csv: the finder on one rate of one seed's windows."""
    usable = windows[np.isfinite(windows[name]) & (windows[f"{name}_err"] > 0)]
    usable = usable.iloc[disjoint(list(zip(usable.start_frame, usable.end_frame, strict=True)))]
    row: dict[str, Any] = {"quantity": name, "unit": RATE_UNITS[name], "level": level,
                           "windows_used": len(usable), "fired": None}
    if usable.empty:
        return {**row, "null_trend": "", "note": "no window with a finite estimate and stderr"}
    ages = usable.mid_age_s.to_numpy()
    baseline = null_trend(curves.at(name, ages))
    row["null_trend"] = "straight line in age" if baseline is None else "a + b x global fit"
    try:
        found = find_change_point(ages, usable[name].to_numpy(), usable[f"{name}_err"].to_numpy(),
                                  window_bounds=usable[["start_s", "end_s"]].to_numpy(), baseline=baseline,
                                  level=level, scale_errors=True)
    except HeterodyneError as error:
        return {**row, "note": str(error).removeprefix("change point: ")}
    return {**row, "fired": found.fired, "p_value": found.p_value, "step_s": found.step_age,
            "step_low_s": found.step_interval[0], "step_high_s": found.step_interval[1],
            "step_size": found.step_size, "step_err": found.step_stderr,
            "windows_before": found.windows_before, "error_scale": found.error_scale, "note": ""}


CHANGE_POINT_COLUMNS = ["seed", "quantity", "unit", "fired", "level", "p_value", "step_s", "step_low_s",
                        "step_high_s", "step_size", "step_err", "windows_used", "windows_before", "error_scale",
                        "null_trend", "note"]


def change_point_table(windows: pd.DataFrame, curves: Mapping[int, GlobalCurves], level: float = 0.01) -> pd.DataFrame:
    """changepoints.csv: per seed, one row per rate of CHANGE_POINT_RATES."""
    rows = []
    for seed, group in windows.groupby("seed", sort=True):
        if seed not in curves:
            raise HeterodyneError(f"windows: no global run of seed {seed}")
        rows += [{"seed": seed, **change_point_row(group, name, curves[seed], level)} for name in CHANGE_POINT_RATES]
    return pd.DataFrame(rows, columns=CHANGE_POINT_COLUMNS)
