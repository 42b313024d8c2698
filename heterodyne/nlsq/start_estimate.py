"""A data-driven start for the physics parameters, read off the c2 matrices before any fit.

Notation of ``docs/model.md``: bins a = 1 … A at (q_a, φ_a), frames k = 0 … N−1 at t_k, dt the
frame step, t_ref = (t_0 + t_{N−1})/2, T = t_{N−1} − t_0, P_a(phi0) = q_a |cos(φ_a + phi0)|.
Contrast c and offset o are unknown and differ between bins: wherever a model shape g is
compared with data y, they are solved by weighted linear least squares of y on [1, g] (variable
projection), never assumed; c is kept within the registry's contrast bounds (a quadratic in c once
o is eliminated, so clipping c is the constrained optimum). The diagonal (lag 0) carries a
shot-noise excess and is never used.

**1. Segment profiles.** At each level the frames are cut into S = 1, 2, 4 consecutive segments
of W = N/S frames (levels with W < ``MIN_SEGMENT_FRAMES`` dropped), with mean times t_s;
m_as(k) = mean c2[a, i, i+k] over the W − k pairs inside segment s, k = 1 … W − 1 (the
correlator's ``normalized_g2_segments``). Long segments resolve slow fringes and decays, short
ones the ageing.

**2. Fringe scan.** Along the lag the cross term is a damped cosine cos(ωk), ω = P_a |v(t_s)| dt
radians per frame; the rest is smooth. For every ω on the grid ω_j = 2πj/M (M ≥ 4W, a power of
two) m_as is fitted by weighted (weights W − k) linear least squares on {E_e(k)} ∪ {E_e(k) cos ωk},
E_e = 1 and e^{−k/L_e}, L_e = (W − 1)/4^e ≥ 2 (pseudo-inverse of the Gram matrix, eigenvalues
below 10⁻¹² of the largest dropped: the decays are nearly collinear and the cosines equal them at
ω = 0). Every Gram entry is a cosine sum Σ_k h_k cos(ω_j k),
so one real FFT gives all ω at once (cos² = (1 + cos 2ωk)/2). The residual sums R_as(ω) give the
noise s²_as = min_ω R_as/(W − 1 − #basis) and Δχ²_as(ω) = (R_as(ω) − min R_as)/s²_as. With
G_s(u) = min over phi0 of Σ_a Δχ²_as(P_a u dt) (phases folded into [0, π]: faster fringes alias;
phi0 on a ``PHI0_STEP`` grid over its bounds, or held), the joint misfit
H(V, β) = Σ_s G_s(V (t_s/t_ref)^β) over the segments of every level is scanned over the speed V
(at t_ref) up to the Nyquist speed π/(max P dt) and β over its bounds (within ±``EXPONENT_LIMIT``,
or held), each G_s tabulated finely enough that the fastest bin moves by half an ω step. Its
lowest ``VELOCITY_CANDIDATES`` local minima in V below the Nyquist speed, β at its best for that
V and then phi0 at its best for both, are the velocity candidates.

**3. Decay grid.** With α = f1 = 0 the lag profile of a segment has the closed form of
``docs/model.md``, x = f²/(f² + (1 − f)²), Γ = q_a² D τ, τ = k dt:

    m_as(τ) = o + c [ (1−x)² e^{−Γ_1} + x² e^{−Γ_2} + 2x(1−x) e^{−(Γ_1+Γ_2)/2} cos(q_a cos(φ_a+phi0) v(t_s) τ) ].

For every candidate the misfit ((o, c) per bin, shared by the segments of the coarsest and the
finest level) is evaluated on a grid of D_1 < D_2 (``DECAY_GRID`` log-spaced decays from 0.02 per
window to 0.5 per frame at the rms q) and f (``FRACTION_GRID``), each segment at ``DENSE_LAGS``
lags at a stride of at most an eighth of its fastest fringe period, then ``SPARSE_LAGS``
log-spaced up to W − 1. Each candidate's lowest point is a start for step 4 (α = f1 = 0, held
values as held).

**4. Ageing fits.** The model itself (numpy twin of :mod:`heterodyne.model`: cumulative
trapezoids on the frame grid) is fitted to the age–lag map M_a(c, k) = mean c2[a, i, i+k] over
the pairs whose midpoint i + k/2 lies in age cell c (cells spanning a time ratio of at most
``CELL_RATIO`` and at most N/``CELLS`` frames), at lags chosen as in step 3 up to where the slower
component has decayed by e^{−5}; the model's mean over each cell's pairs i = lo … hi − 1 is the
``POSITIONS``-point Gauss–Legendre rule over [lo − ½, hi − ½] (exact when there are no more pairs
than points), the per-frame quantities interpolated linearly between frames. Weights are
(pair count)/s²_a, s²_a the median over the bin's segments.

Only the varied parameters among D0_ref, alpha_ref, D0_sample, alpha_sample, v0, beta, f0, f1 and
phi0 are fitted; every other parameter keeps its configured value (the held ones exactly; varied
offsets, f2 and f3 too, which the data rarely fix, ``docs/model.md``), so the fitted ones are
consistent with them. The fits run in the decorrelated variables ln(D0 t_ref^α), α,
ln(|v0| t_ref^β), β, f0 e^{f1 (t_ref − f2)}, f1 T and phi0, each within bounds that follow from
the configured ones (exponents also within ±``EXPONENT_LIMIT``, |f1| T within
``FRACTION_RATE_LIMIT``), by Levenberg–Marquardt in logistic transforms of them, with the exact
Jacobian of the projected residuals. From every candidate's start a first fit holds
``FROZEN_FIRST`` at 0; the candidate whose first fit has the lowest misfit goes on, and all
fitted parameters are fitted from its start and from its first fit's result, each in both
labellings of the components (J_ref(t_ref) ↔ J_sample(t_ref), f_s ↔ 1 − f_s, a symmetry of c2
when f1 = 0): a weak component can sink into a collapsed minimum on any one path. The map's lags
serve every candidate (the fastest fringes and slowest decay among their starts).

Of these four fits the lowest misfit wins, unless the misfits agree within ``LABEL_TOLERANCE``
(relative): then the one closest to the configured start (distance |Δ ln J_ref(t_ref)| +
|Δ ln J_sample(t_ref)| + |Δ logit f_s(t_ref)|). The speed keeps the sign its bounds allow (positive
unless the upper bound of v0 is ≤ 0; v ↔ −v is a symmetry). Every varied value is finally placed
strictly inside its bounds (``BOUND_MARGIN`` of the bound width inside); held values come back
unchanged. Deterministic: no random numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.optimize import least_squares

from heterodyne.numerics import LINEAR_RANK_RATIO, NEGLIGIBLE_RATIO, RATE_FLOOR
from heterodyne.parameters import BY_NAME, PHYSICS_NAMES

INDEX = {name: position for position, name in enumerate(PHYSICS_NAMES)}
CONTRAST = BY_NAME["contrast"]
TINY = np.finfo(float).tiny
FITTED = ("D0_ref", "alpha_ref", "D0_sample", "alpha_sample", "v0", "beta", "f0", "f1", "phi0")
"""The parameters the estimate reads off the data (when varied); all others keep their configured value."""
FROZEN_FIRST = ("alpha_ref", "alpha_sample", "f1")
"""Held at their start (0) in the first ageing fit (step 4)."""
EXPONENT_LIMIT = 1.5
FRACTION_RATE_LIMIT = 5.0
"""Largest |f1| times the window length."""
FRACTION_EDGE = 1e-3
BOUND_MARGIN = 1e-6
LABEL_TOLERANCE = 1e-3
LEVELS = (1, 2, 4)
"""Segments per level of step 1."""
MIN_SEGMENT_FRAMES = 16
MIN_FRAMES = 8
DENSE_LAGS = 32
SPARSE_LAGS = 12
CELLS = 8
CELL_RATIO = 1.5
POSITIONS = 2
PHI0_STEP = 2.0
"""Degrees between the phi0 values of the fringe scan."""
BETA_STEP = 0.05
VELOCITY_CANDIDATES = 3
DECAY_GRID = 12
FRACTION_GRID = (0.2, 0.5, 0.8)
TOLERANCE = 1e-6
"""Relative tolerances (ftol, xtol) of the fits: a start needs no more."""


def estimate_start(c2: np.ndarray, q: np.ndarray, phi: np.ndarray, t: np.ndarray,
                   initial: np.ndarray, vary: np.ndarray, lower: np.ndarray, upper: np.ndarray
                   ) -> np.ndarray:
    """(14,) physics start in the canonical order of heterodyne.parameters.PHYSICS_NAMES.

    ``c2`` (A, N, N) full symmetric matrices, ``q`` (A,) 1/Å, ``phi`` (A,) degrees, ``t`` (N,)
    absolute, equally spaced frame times (s); ``initial``, ``vary``, ``lower``, ``upper`` (14,) the
    configured parameters. Held parameters come back unchanged; varied ones strictly inside their
    bounds (module docstring). With fewer than ``MIN_FRAMES`` frames, or none of ``FITTED`` varied,
    the configured start is returned, placed inside the bounds.
    """
    q, phi, t = (np.asarray(x, dtype=float) for x in (q, phi, t))
    vary = np.asarray(vary, dtype=bool)
    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    base = inside_bounds(np.asarray(initial, dtype=float), vary, lower, upper)
    if c2.shape[1] < MIN_FRAMES or not vary[[INDEX[name] for name in FITTED]].any():
        return base
    variables = Variables.build(base, vary, lower, upper, t)
    frozen = Variables.build(resting(base, vary, lower, upper), vary & ~np.isin(PHYSICS_NAMES, FROZEN_FIRST),
                             lower, upper, t)
    levels = [scan_level(profiles, variables.t_ref) for profiles in segment_profiles(c2, t)]
    candidates = velocity_candidates(levels, q, phi, float(t[1] - t[0]), variables.phi0_values(),
                                     variables.beta_values())
    grids = [decay_grid(levels, q, phi, candidate, variables.t_ref) for candidate in candidates]
    grid_starts = [frozen.theta(frozen.start(grid.rate_first, grid.rate_second, grid.fraction, grid.candidate))
                   for grid in grids]
    noise = np.median(np.concatenate([level.noise for level in levels], axis=1), axis=1)
    data = AgeLagMap.build(c2, t, q, grid_starts)
    fit_frozen = AgeingFit(data, noise, t, q, phi, frozen)
    fit_all = AgeingFit(data, noise, t, q, phi, variables)
    firsts = [fit_frozen.fit(frozen.z(start)) for start in grid_starts]
    chosen = int(np.argmin([fit.misfit for fit in firsts]))
    starts = labellings(grid_starts[chosen], frozen) + labellings(firsts[chosen].theta, frozen)
    best = choose_labelling([fit_all.fit(variables.z(theta)) for theta in starts], variables.components(base))
    return inside_bounds(best.theta, vary, lower, upper)


def inside_bounds(theta: np.ndarray, vary: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Varied values clipped to [lower + m, upper − m], m = BOUND_MARGIN (upper − lower); held ones as given."""
    margin = BOUND_MARGIN * (upper - lower)
    return np.where(vary, np.clip(theta, lower + margin, upper - margin), theta)


def resting(base: np.ndarray, vary: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """``base`` with the varied parameters of FROZEN_FIRST at 0, moved inside their bounds."""
    return inside_bounds(np.where(vary & np.isin(PHYSICS_NAMES, FROZEN_FIRST), 0.0, base), vary, lower, upper)


# The model's ingredients, in numpy ---------------------------------------------------------------


def rates_at(theta: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, ...]:
    """J_ref, J_sample, v and f_s at ``times`` (``docs/model.md``), each shaped as ``times``."""
    d0_r, a_r, doff_r, d0_s, a_s, doff_s, v0, beta, v_off, f0, f1, f2, f3, _ = theta
    log_t = np.log(np.maximum(times, TINY))
    rate_ref = np.maximum(d0_r * np.exp(a_r * log_t) + doff_r, 0.0)
    rate_sample = np.maximum(d0_s * np.exp(a_s * log_t) + doff_s, 0.0)
    speed = v0 * np.exp(beta * log_t) + v_off
    fraction = np.clip(f0 * np.exp(np.clip(f1 * (times - f2), -100.0, 100.0)) + f3, 0.0, 1.0)
    return rate_ref, rate_sample, speed, fraction


def mixing(fraction):
    """x = f²/(f² + (1 − f)²): the weight of the sample term in the normalised correlation."""
    return fraction**2 / (fraction**2 + (1.0 - fraction) ** 2)


def stationary_shape(decay_ref, decay_sample, fraction, cosine):
    """(1−x)² e_r + x² e_s + 2x(1−x) √(e_r e_s) cos: the closed form's bracket (step 3)."""
    x = mixing(fraction)
    return (1 - x) ** 2 * decay_ref + x**2 * decay_sample + 2 * x * (1 - x) * np.sqrt(decay_ref * decay_sample) * cosine


def projection(q: np.ndarray, phi: np.ndarray, phi0) -> np.ndarray:
    """q cos(φ + phi0), the signed factor between the velocity integral and the phase."""
    return q * np.cos(np.deg2rad(phi + phi0))


@dataclass(frozen=True)
class Projected:
    """Weighted least squares of ``data`` y on [1, g] over the last axis, for every leading index,
    the contrast c clipped to its registry bounds; ``residuals`` √w (y − o − c g). Without the
    upper bound a nearly static dominant component, absorbed by the offset, would let an enormous
    contrast fit the data with a trace of the other component."""

    weights: np.ndarray
    centred_data: np.ndarray
    centred_shape: np.ndarray
    spread: np.ndarray
    slope: np.ndarray

    @classmethod
    def of(cls, shape: np.ndarray, data: np.ndarray, weights: np.ndarray) -> Projected:
        total = weights.sum(axis=-1, keepdims=True)
        g = shape - (weights * shape).sum(axis=-1, keepdims=True) / total
        y = data - (weights * data).sum(axis=-1, keepdims=True) / total
        spread = (weights * g * g).sum(axis=-1, keepdims=True)
        slope = (weights * g * y).sum(axis=-1, keepdims=True) / np.where(spread > 0, spread, 1.0)
        return cls(weights, y, g, spread, slope)

    @property
    def contrast(self) -> np.ndarray:
        return np.clip(self.slope, CONTRAST.lower, CONTRAST.upper)

    @property
    def residuals(self) -> np.ndarray:
        return np.sqrt(self.weights) * (self.centred_data - self.contrast * self.centred_shape)

    def derivative(self, change: np.ndarray) -> np.ndarray:
        """∂ residuals for a change (n, ...) of the shape: −√w (c ∂g̃ + ∂c g̃), with
        ∂c = (Σ w ∂g̃ ỹ − 2 ĉ Σ w g̃ ∂g̃)/Σ w g̃² while c is inside its bounds, else 0 (tilde:
        weighted mean removed)."""
        w = self.weights
        centred = change - (w * change).sum(axis=-1, keepdims=True) / w.sum(axis=-1, keepdims=True)
        free = (self.slope > CONTRAST.lower) & (self.slope < CONTRAST.upper) & (self.spread > 0)
        slope_change = ((w * centred * self.centred_data).sum(axis=-1, keepdims=True)
                        - 2 * self.slope * (w * self.centred_shape * centred).sum(axis=-1, keepdims=True))
        slope_change = np.where(free, slope_change / np.where(self.spread > 0, self.spread, 1.0), 0.0)
        return -np.sqrt(w) * (self.contrast * centred + slope_change * self.centred_shape)


def fit_lags(reach: int, max_omega: float) -> np.ndarray:
    """DENSE_LAGS lags at a stride of at most an eighth of the period 2π/ω (stride 1 when ω ≥ π/4),
    then SPARSE_LAGS log-spaced up to ``reach``."""
    stride = max(1, int(np.ceil(reach / (DENSE_LAGS + SPARSE_LAGS))))
    if max_omega > 0:
        stride = min(stride, max(1, int(np.pi / (4 * max_omega))))
    dense = np.arange(stride, reach + 1, stride)[:DENSE_LAGS]
    sparse = np.geomspace(dense[-1], reach, SPARSE_LAGS + 1)[1:] if reach > dense[-1] else np.zeros(0)
    return np.unique(np.concatenate([dense, np.round(sparse).astype(int)]))


# Parameters and their decorrelated variables -----------------------------------------------------


@dataclass(frozen=True)
class Variables:
    """The fitted names, their decorrelated variables z (module docstring, step 4) and the bounds
    of z; ``base`` holds every parameter that is not fitted."""

    base: np.ndarray
    names: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray
    t_ref: float
    span: float
    v_sign: float
    phi0_bounds: tuple[float, float]
    beta_bounds: tuple[float, float]

    @classmethod
    def build(cls, base, vary, lower, upper, t) -> Variables:
        span, t_ref = float(t[-1] - t[0]), 0.5 * float(t[0] + t[-1])
        names = tuple(name for name in FITTED if vary[INDEX[name]])

        def interval(name: str, limit: float = np.inf) -> tuple[float, float]:
            """The configured bounds within ±limit (the configured ones if that leaves nothing), or
            the held value."""
            k = INDEX[name]
            if not vary[k]:
                return base[k], base[k]
            low, high = max(lower[k], -limit), min(upper[k], limit)
            return (low, high) if low < high else (lower[k], upper[k])

        def logarithmic(low: float, high: float, exponent: tuple[float, float]) -> tuple[float, float]:
            """Bounds of ln(x t_ref^e) for x in [low, high], e in ``exponent`` (low floored: NEGLIGIBLE_RATIO)."""
            shifts = (exponent[0] * np.log(t_ref), exponent[1] * np.log(t_ref))
            return np.log(max(low, NEGLIGIBLE_RATIO * high)) + min(shifts), np.log(high) + max(shifts)

        v_sign = 1.0 if upper[INDEX["v0"]] > 0 else -1.0
        v_low, v_high = sorted(v_sign * np.array([lower[INDEX["v0"]], upper[INDEX["v0"]]]))
        alpha_ref, alpha_sample = interval("alpha_ref", EXPONENT_LIMIT), interval("alpha_sample", EXPONENT_LIMIT)
        beta = interval("beta", EXPONENT_LIMIT)
        f1 = interval("f1", FRACTION_RATE_LIMIT / span)
        bounds = {"D0_ref": logarithmic(lower[INDEX["D0_ref"]], upper[INDEX["D0_ref"]], alpha_ref),
                  "alpha_ref": alpha_ref,
                  "D0_sample": logarithmic(lower[INDEX["D0_sample"]], upper[INDEX["D0_sample"]], alpha_sample),
                  "alpha_sample": alpha_sample,
                  "v0": logarithmic(max(v_low, 0.0), v_high, beta),
                  "beta": beta,
                  "f0": (FRACTION_EDGE, max(1.0 - base[INDEX["f3"]] - FRACTION_EDGE, 2 * FRACTION_EDGE)),
                  "f1": (f1[0] * span, f1[1] * span),
                  "phi0": interval("phi0")}
        low, high = (np.array([bounds[name][side] for name in names]) for side in (0, 1))
        return cls(base, names, low, high, t_ref, span, v_sign, interval("phi0"), beta)

    def phi0_values(self) -> np.ndarray:
        """phi0 grid of the fringe scan: its held value, or steps of at most PHI0_STEP over its bounds."""
        low, high = self.phi0_bounds
        return np.linspace(low, high, int(np.ceil((high - low) / PHI0_STEP)) + 1)

    def beta_values(self) -> np.ndarray:
        """β grid of the fringe scan: its held value, or steps of at most BETA_STEP over its bounds."""
        low, high = self.beta_bounds
        return np.linspace(low, high, int(np.ceil((high - low) / BETA_STEP)) + 1)

    def theta(self, z: np.ndarray) -> np.ndarray:
        """The (14,) parameters of the variables z."""
        theta = self.base.copy()
        values = dict(zip(self.names, z, strict=True))
        for name in ("alpha_ref", "alpha_sample", "beta", "phi0"):
            if name in values:
                theta[INDEX[name]] = values[name]
        if "f1" in values:
            theta[INDEX["f1"]] = values["f1"] / self.span
        log_ref = np.log(self.t_ref)
        for prefactor, exponent in (("D0_ref", "alpha_ref"), ("D0_sample", "alpha_sample")):
            if prefactor in values:
                theta[INDEX[prefactor]] = np.exp(values[prefactor] - theta[INDEX[exponent]] * log_ref)
        if "v0" in values:
            theta[INDEX["v0"]] = self.v_sign * np.exp(values["v0"] - theta[INDEX["beta"]] * log_ref)
        if "f0" in values:
            theta[INDEX["f0"]] = values["f0"] * np.exp(-theta[INDEX["f1"]] * (self.t_ref - theta[INDEX["f2"]]))
        return theta

    def z(self, theta: np.ndarray) -> np.ndarray:
        """The variables of ``theta``: the inverse of :meth:`theta` on the fitted names."""
        log_ref = np.log(self.t_ref)
        value = dict(zip(PHYSICS_NAMES, theta, strict=True))

        def variable(name: str) -> float:
            if name in ("D0_ref", "D0_sample"):
                return np.log(value[name]) + value["alpha_" + name[3:]] * log_ref
            if name == "v0":
                return np.log(self.v_sign * value["v0"]) + value["beta"] * log_ref
            if name == "f0":
                return value["f0"] * np.exp(value["f1"] * (self.t_ref - value["f2"]))
            if name == "f1":
                return value["f1"] * self.span
            return value[name]

        return np.array([variable(name) for name in self.names])

    def start(self, rate_ref: float, rate_sample: float, fraction: float, candidate: Candidate) -> np.ndarray:
        """z with α = f1 = 0 (held values as held), the rates, fraction and speed at t_ref, and the
        candidate's β and phi0."""
        base = self.base
        values = {"alpha_ref": 0.0, "alpha_sample": 0.0, "beta": candidate.beta, "f1": 0.0, "phi0": candidate.phi0,
                  "D0_ref": np.log(max(rate_ref - base[INDEX["D_offset_ref"]], 1e-3 * rate_ref, TINY)),
                  "D0_sample": np.log(max(rate_sample - base[INDEX["D_offset_sample"]], 1e-3 * rate_sample, TINY)),
                  "v0": np.log(max(candidate.speed - self.v_sign * base[INDEX["v_offset"]], 1e-3 * candidate.speed,
                                   TINY)),
                  "f0": fraction - base[INDEX["f3"]]}
        return np.clip([values[name] for name in self.names], self.low, self.high)

    def components(self, theta: np.ndarray) -> tuple[float, float, float]:
        """(J_ref, J_sample, f_s) at t_ref."""
        rate_ref, rate_sample, _, fraction = rates_at(theta, np.asarray(self.t_ref))
        return float(rate_ref), float(rate_sample), float(fraction)

    def bounded(self, u: np.ndarray) -> np.ndarray:
        """z = low + (high − low)/(1 + e^{−u})."""
        return self.low + (self.high - self.low) / (1.0 + np.exp(-np.clip(u, -50.0, 50.0)))

    def unbounded(self, z: np.ndarray) -> np.ndarray:
        """The inverse of :meth:`bounded`, z first clipped to 10⁻⁶ of its bound width inside."""
        width = np.where(self.high > self.low, self.high - self.low, 1.0)
        share = np.clip((z - self.low) / width, 1e-6, 1 - 1e-6)
        return np.log(share / (1.0 - share))

    def fit(self, residuals: Callable[[np.ndarray], np.ndarray], jacobian: Callable[[np.ndarray], np.ndarray],
            start: np.ndarray) -> np.ndarray:
        """z minimising Σ residuals(z)² from ``start`` within the bounds (the start itself when
        nothing varies), by Levenberg–Marquardt (MINPACK: no LAPACK call, whose threads crawl on
        a busy machine) in the variables u of :meth:`unbounded`, dz/du = (z − low)(high − z)/(high − low).
        u is unscaled (x_scale 1): scaling by the Jacobian's columns stalls a variable that starts
        at its bound, where its column vanishes."""
        if not self.names:
            return start

        def jacobian_u(u: np.ndarray) -> np.ndarray:
            z = self.bounded(u)
            return jacobian(z) * ((z - self.low) * (self.high - z) / np.maximum(self.high - self.low, 1e-300))

        result = least_squares(lambda u: residuals(self.bounded(u)), self.unbounded(start), jac=jacobian_u,
                               method="lm", x_scale=1.0, ftol=TOLERANCE, xtol=TOLERANCE)
        return self.bounded(result.x)


# 1. Segment profiles -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Profiles:
    """One level of step 1: m_as(k) ``values`` (A, S, W) indexed by lag (lag 0 unused), pair
    ``counts`` (W,) = W − k (0 at lag 0), segment mean ``times`` (S,), frame step ``dt``."""

    values: np.ndarray
    counts: np.ndarray
    times: np.ndarray
    dt: float


def segment_profiles(c2: np.ndarray, t: np.ndarray) -> list[Profiles]:
    """Step 1: every level, accumulated row by row (row i holds the lags 1 … of first frame i,
    contiguous in memory)."""
    n_bins, n_frames = c2.shape[:2]
    segments = [S for S in LEVELS if n_frames // S >= MIN_SEGMENT_FRAMES] or [1]
    widths = [n_frames // S for S in segments]
    sums = [np.zeros((n_bins, S, W)) for S, W in zip(segments, widths, strict=True)]
    for i in range(n_frames - 1):
        for level_sums, S, W in zip(sums, segments, widths, strict=True):
            s, end = i // W, (i // W + 1) * W
            if s < S and end > i + 1:
                level_sums[:, s, 1:end - i] += c2[:, i, i + 1:end]
    profiles = []
    for level_sums, S, W in zip(sums, segments, widths, strict=True):
        pairs = (W - np.arange(W)).astype(float)
        pairs[0] = 0.0
        times = t[:S * W].reshape(S, W).mean(axis=1)
        profiles.append(Profiles(level_sums / np.maximum(pairs, 1.0), pairs, times, float(t[1] - t[0])))
    return profiles


# 2. Fringe scan ----------------------------------------------------------------------------------


def decay_basis(width: int) -> np.ndarray:
    """E_e(k), (B, W): 1 and e^{−k/L_e} for L_e = (W − 1)/4^e ≥ 2."""
    lags = np.arange(width, dtype=float)
    lengths = (width - 1) / 4.0 ** np.arange(1 + int(np.log(max(width - 1, 2) / 2) / np.log(4)))
    return np.vstack([np.ones(width), np.exp(-lags / lengths[:, None])])


@dataclass(frozen=True)
class Level:
    """A level's profiles with its fringe scan: Δχ²_as(ω_j) ``misfit`` (A, S, J) for ω_j = j·``step``
    (radians per frame, up to π), noise s²_as (A, S), and t_s/t_ref (S,)."""

    profiles: Profiles
    misfit: np.ndarray
    step: float
    noise: np.ndarray
    relative_times: np.ndarray


def scan_level(profiles: Profiles, t_ref: float) -> Level:
    """Step 2's least squares at every ω of the grid, for every bin and segment of one level."""
    counts = profiles.counts
    width = counts.size
    size = 1 << int(np.ceil(np.log2(4 * width)))
    frequency = np.arange(size // 2 + 1)
    doubled = np.minimum(2 * frequency % size, size - 2 * frequency % size)

    def cosine_sums(h: np.ndarray) -> np.ndarray:
        """Σ_k h_k cos(ω_j k) for every ω_j, on the last axis."""
        return np.fft.rfft(h, size).real

    decays = decay_basis(width)
    n_decays = decays.shape[0]
    products = decays[:, None, :] * decays[None, :, :] * counts
    fixed = products.sum(axis=2)
    mixed = np.moveaxis(cosine_sums(products), 2, 0)
    gram = np.empty((frequency.size, 2 * n_decays, 2 * n_decays))
    gram[:, :n_decays, :n_decays] = fixed
    gram[:, :n_decays, n_decays:] = mixed
    gram[:, n_decays:, :n_decays] = mixed
    gram[:, n_decays:, n_decays:] = 0.5 * (fixed + mixed[doubled])
    centred = profiles.values - (profiles.values @ counts / counts.sum())[..., None]
    weighted = centred * counts
    smooth = np.repeat((weighted @ decays.T)[..., None], frequency.size, axis=-1)
    rhs = np.concatenate([smooth, cosine_sums(weighted[..., None, :] * decays)], axis=-2)
    values, vectors = np.linalg.eigh(gram)
    usable = values > LINEAR_RANK_RATIO * values[:, -1:]
    inverse = np.where(usable, 1.0 / np.where(usable, values, 1.0), 0.0)
    leading = rhs.shape[:-2]
    by_frequency = np.moveaxis(rhs.reshape(-1, 2 * n_decays, frequency.size), 2, 0)
    projections = by_frequency @ vectors
    explained = np.moveaxis((projections**2 @ inverse[:, :, None])[..., 0], 0, 1).reshape(leading + (-1,))
    total = (weighted * centred).sum(axis=-1)
    residual = np.maximum(total[..., None] - explained, 0.0)
    best = residual.min(axis=-1)
    floor = np.maximum(NEGLIGIBLE_RATIO * total / width, TINY)
    noise = np.maximum(best / max(width - 1 - 2 * n_decays, 1), floor)
    return Level(profiles, (residual - best[..., None]) / noise[..., None], 2.0 * np.pi / size, noise,
                 profiles.times / t_ref)


def folded(omega: np.ndarray) -> np.ndarray:
    """A phase step per frame as the frame grid sees it, in [0, π] (aliasing)."""
    return np.abs(np.mod(omega + np.pi, 2.0 * np.pi) - np.pi)


@dataclass(frozen=True)
class Candidate:
    """A velocity candidate: |v| at t_ref (Å/s), β and phi0 (degrees)."""

    speed: float
    beta: float
    phi0: float


def nearest(table: np.ndarray, step: float, positions: np.ndarray) -> np.ndarray:
    """The entry of ``table`` (tabulated at 0, step, 2·step, …) nearest to each position (clamped)."""
    return table[np.clip(np.rint(positions / step), 0, table.size - 1).astype(int)]


def velocity_candidates(levels: list[Level], q: np.ndarray, phi: np.ndarray, dt: float, phi0_values: np.ndarray,
                        beta_values: np.ndarray) -> list[Candidate]:
    """Step 2's candidates: the lowest local minima over V of min over β of H(V, β). Each level
    tabulates G_s on a speed grid fine enough that the fastest bin moves by half an ω step."""
    factors = q * np.abs(np.cos(np.deg2rad(phi[None, :] + phi0_values[:, None])))
    nyquist = np.pi / (factors.max() * dt)
    bins = np.arange(q.size)[:, None, None]
    tables: list[np.ndarray] = []
    steps: list[float] = []
    relative_times: list[float] = []
    for level in levels:
        size = 2 * level.misfit.shape[-1] - 1
        speeds = nyquist * np.arange(size) / (size - 1)
        index = np.rint(folded(factors.T[:, :, None] * speeds * dt) / level.step).astype(int)
        per_angle = level.misfit[bins, :, index].sum(axis=0)
        tables.extend(per_angle.min(axis=0).T)
        steps.extend([speeds[1]] * level.relative_times.size)
        relative_times.extend(level.relative_times)
    speeds = steps[0] * np.arange(1, tables[0].size)
    joint = sum((nearest(table, step, speeds[:, None] * time**beta_values)
                 for table, step, time in zip(tables, steps, relative_times, strict=True)), np.zeros(()))
    envelope = joint.min(axis=1)
    padded = np.concatenate([[np.inf], envelope, [-np.inf]])
    minima = np.flatnonzero((envelope <= padded[:-2]) & (envelope < padded[2:]))
    if minima.size == 0:  # H falls all the way to the Nyquist speed: take its lowest point
        minima = np.array([envelope.argmin()])
    candidates = []
    for i in minima[np.argsort(envelope[minima], kind="stable")[:VELOCITY_CANDIDATES]]:
        beta = float(beta_values[joint[i].argmin()])
        angle_misfit = np.zeros(phi0_values.size)
        for level in levels:
            for s, time in enumerate(level.relative_times):
                phases = folded(factors.T * speeds[i] * time**beta * dt)
                angle_misfit += sum(nearest(misfit, level.step, phase) for misfit, phase in
                                    zip(level.misfit[:, s], phases, strict=True))
        candidates.append(Candidate(float(speeds[i]), beta, float(phi0_values[angle_misfit.argmin()])))
    return candidates


# 3. Decay grid -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentData:
    """Every segment of the given levels at its fit lags, padded to a common count K: ``values`` and
    ``weights`` (A, S, K) (weight 0 on padding), ``tau`` (S, K) seconds, ``times`` (S,), the frame
    step ``dt`` and the velocity ``candidate`` the lags were chosen for."""

    values: np.ndarray
    weights: np.ndarray
    tau: np.ndarray
    times: np.ndarray
    dt: float
    candidate: Candidate

    @classmethod
    def build(cls, levels: list[Level], q: np.ndarray, candidate: Candidate, t_ref: float) -> SegmentData:
        values, weights, tau, times = [], [], [], []
        for level in levels:
            profiles = level.profiles
            fastest = q.max() * candidate.speed * (profiles.times / t_ref) ** candidate.beta * profiles.dt
            lags = fit_lags(profiles.counts.size - 1, float(min(fastest.max(), np.pi)))
            values.append(profiles.values[..., lags])
            weights.append(profiles.counts[lags] / level.noise[..., None])
            tau.append(np.broadcast_to(lags * profiles.dt, (profiles.times.size, lags.size)))
            times.append(profiles.times)
        size = max(lags.shape[-1] for lags in tau)

        def padded(arrays: list[np.ndarray], fill: float) -> np.ndarray:
            widths = [[(0, 0)] * (x.ndim - 1) + [(0, size - x.shape[-1])] for x in arrays]
            return np.concatenate([np.pad(x, w, constant_values=fill) for x, w in zip(arrays, widths, strict=True)],
                                  axis=-2)

        return cls(padded(values, 0.0), padded(weights, 0.0), padded(tau, float(tau[0][0, 0])),
                   np.concatenate(times), levels[0].profiles.dt, candidate)

    def speeds(self, t_ref: float) -> np.ndarray:
        """The candidate's |v(t_s)| = V (t_s/t_ref)^β at every segment, (S,)."""
        return self.candidate.speed * (self.times / t_ref) ** self.candidate.beta


@dataclass(frozen=True)
class GridPoint:
    """The decay grid's best point for a candidate: rates D_1 < D_2 (Å²/s), fraction of component 2."""

    rate_first: float
    rate_second: float
    fraction: float
    candidate: Candidate


def decay_grid(levels: list[Level], q: np.ndarray, phi: np.ndarray, candidate: Candidate, t_ref: float
               ) -> GridPoint:
    """Step 3 for one candidate: the grid point of lowest misfit, on the coarsest and finest levels."""
    outer = levels if len(levels) < 3 else [levels[0], levels[-1]]
    data = SegmentData.build(outer, q, candidate, t_ref)
    q_squared = float(np.mean(q**2))
    rates = np.geomspace(0.02 / (data.tau.max() * q_squared), 0.5 / (data.dt * q_squared), DECAY_GRID)
    first, second = np.triu_indices(DECAY_GRID, 1)
    fractions = np.asarray(FRACTION_GRID)
    decays = np.exp(-rates[:, None, None, None] * q[:, None, None] ** 2 * data.tau)
    cosine = np.cos(projection(q, phi, candidate.phi0)[:, None, None] * data.speeds(t_ref)[:, None] * data.tau)
    shapes = stationary_shape(decays[first][:, None], decays[second][:, None], fractions[:, None, None, None],
                              cosine)
    per_bin = (q.size, -1)
    projected = Projected.of(shapes.reshape(shapes.shape[:2] + per_bin), data.values.reshape(per_bin),
                             data.weights.reshape(per_bin))
    misfit = (projected.residuals**2).sum(axis=(2, 3))
    pair, fraction = np.unravel_index(misfit.argmin(), misfit.shape)
    return GridPoint(float(rates[first[pair]]), float(rates[second[pair]]), float(fractions[fraction]), candidate)


# 4. Ageing fits ----------------------------------------------------------------------------------


def cumulative_trapezoid(g: np.ndarray, t: np.ndarray) -> np.ndarray:
    """C[0] = 0, C[k] = C[k−1] + (t_k − t_{k−1})(g_{k−1} + g_k)/2, as :mod:`heterodyne.model`."""
    return np.concatenate([[0.0], np.cumsum(0.5 * np.diff(t) * (g[1:] + g[:-1]))])


def frame_terms(theta: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, ...]:
    """numpy twin of :func:`heterodyne.model.frame_terms`: cumulative trapezoids of J_ref, J_sample
    and v on the frame grid, and f_s, each (N,)."""
    rate_ref, rate_sample, speed, fraction = rates_at(theta, t)
    return (cumulative_trapezoid(rate_ref, t), cumulative_trapezoid(rate_sample, t),
            cumulative_trapezoid(speed, t), fraction)


def frame_derivatives(theta: np.ndarray, t: np.ndarray, variables: Variables) -> list[tuple[str, np.ndarray]]:
    """For every fitted variable z: the per-frame quantity it moves ("ref", "sample", "speed" for
    the three cumulative integrals, "fraction" for f_s, "angle" for phi0) and ∂(quantity)/∂z (N,)
    (unused for "angle"). With the prefactor fitted, an exponent turns about t_ref (the variables
    hold D0 t_ref^α fixed), else about t = 1; likewise f1 about t_ref or f2."""
    value = dict(zip(PHYSICS_NAMES, theta, strict=True))
    log_t = np.log(np.maximum(t, TINY))
    pivot = log_t - np.log(variables.t_ref)
    fitted = set(variables.names)
    derivatives = []
    for name in variables.names:
        if name in ("D0_ref", "alpha_ref", "D0_sample", "alpha_sample"):
            side = name.split("_")[1]
            power = value["D0_" + side] * np.exp(value["alpha_" + side] * log_t)
            power = np.where(power + value["D_offset_" + side] > 0, power, 0.0)
            turn = pivot if "D0_" + side in fitted else log_t
            derivatives.append((side, cumulative_trapezoid(power if name.startswith("D0") else power * turn, t)))
        elif name in ("v0", "beta"):
            power = value["v0"] * np.exp(value["beta"] * log_t)
            turn = pivot if "v0" in fitted else log_t
            derivatives.append(("speed", cumulative_trapezoid(power if name == "v0" else power * turn, t)))
        elif name in ("f0", "f1"):
            exponent = value["f1"] * (t - value["f2"])
            growth = value["f0"] * np.exp(exponent)
            inside = (np.abs(exponent) < 100.0) & (growth + value["f3"] > 0.0) & (growth + value["f3"] < 1.0)
            if name == "f0":
                change = np.exp(value["f1"] * (t - variables.t_ref))
            else:
                change = growth * ((t - variables.t_ref) if "f0" in fitted else (t - value["f2"])) / variables.span
            derivatives.append(("fraction", np.where(inside, change, 0.0)))
        else:
            derivatives.append(("angle", np.zeros_like(t)))
    return derivatives


def cell_edges(t: np.ndarray) -> np.ndarray:
    """Edges of the age cells in frame-index units of the pair midpoint, 0 … N − 1: each cell
    spans at most a time ratio CELL_RATIO and at most N/CELLS frames (and at least one frame)."""
    n_frames = t.size
    dt = float(t[1] - t[0])
    edges = [0.0]
    while edges[-1] < n_frames - 1:
        ratio_edge = (CELL_RATIO * (t[0] + edges[-1] * dt) - t[0]) / dt
        edges.append(min(edges[-1] + n_frames / CELLS, max(edges[-1] + 1.0, ratio_edge), n_frames - 1.0))
    return np.asarray(edges)


@dataclass(frozen=True)
class AgeLagMap:
    """M_a(c, k) over the (cell, lag) points that hold pairs: ``values`` (A, P), pair ``counts``
    (P,), and the model's pairs of each point: frame positions ``below`` + ``fraction`` (2, M, P)
    of their first and second frames, averaged with ``weights`` (M, P), M = POSITIONS."""

    values: np.ndarray
    counts: np.ndarray
    below: np.ndarray
    fraction: np.ndarray
    weights: np.ndarray

    @classmethod
    def build(cls, c2: np.ndarray, t: np.ndarray, q: np.ndarray, thetas: list[np.ndarray]) -> AgeLagMap:
        """The map at the lags :func:`fit_lags` picks for the fastest fringes and slowest decay of
        any of ``thetas``; a point's pairs i = lo … hi − 1 are averaged by the Gauss–Legendre rule
        over [lo − ½, hi − ½], or exactly when there are at most POSITIONS of them."""
        n_bins, n_frames = c2.shape[:2]
        edges = cell_edges(t)
        dt = float(t[1] - t[0])
        reach, fastest = 1, 0.0
        for theta in thetas:
            rate_ref, rate_sample, speed, _ = rates_at(theta, t[((edges[1:] + edges[:-1]) / 2).astype(int)])
            slowest = float(q.min() ** 2 * min(np.median(rate_ref), np.median(rate_sample)) * dt)
            reach = max(reach, n_frames - 1 if slowest <= 0 else int(min(n_frames - 1, np.ceil(5.0 / slowest))))
            fastest = max(fastest, float(min(q.max() * np.abs(speed).max() * dt, np.pi)))
        lags = fit_lags(reach, fastest)
        nodes, node_weights = np.polynomial.legendre.leggauss(POSITIONS)
        slots = np.arange(POSITIONS)
        values, counts, first, weights, point_lags = [], [], [], [], []
        for lag in lags:
            sums = np.concatenate([np.zeros((n_bins, 1)), np.cumsum(np.diagonal(c2, lag, 1, 2), axis=1, dtype=float)],
                                  axis=1)
            bounds = np.clip(np.ceil(edges - lag / 2), 0, n_frames - lag).astype(int)
            keep = bounds[1:] > bounds[:-1]
            low, high = bounds[:-1][keep], bounds[1:][keep]
            pairs = (high - low)[:, None]
            few = pairs <= POSITIONS
            quadrature = np.clip(0.5 * (low + high - 1)[:, None] + 0.5 * pairs * nodes, 0, n_frames - 1 - lag)
            values.append((sums[:, high] - sums[:, low]) / (high - low))
            counts.append(high - low)
            first.append(np.where(few, low[:, None] + np.minimum(slots, pairs - 1), quadrature))
            weights.append(np.where(few, (slots < pairs) / pairs, 0.5 * node_weights))
            point_lags.append(np.full((low.size, 1), lag))
        firsts = np.concatenate(first).T
        positions = np.stack([firsts, firsts + np.concatenate(point_lags).T])
        below = np.minimum(positions.astype(int), n_frames - 2)
        return cls(np.concatenate(values, axis=1), np.concatenate(counts).astype(float), below, positions - below,
                   np.concatenate(weights).T)

    def at(self, values: np.ndarray) -> np.ndarray:
        """A per-frame quantity (N,) at both frames of every pair, (2, M, P)."""
        return values[self.below] + self.fraction * (values[self.below + 1] - values[self.below])

    def change(self, values: np.ndarray) -> np.ndarray:
        """Its change from the first to the second frame of every pair, (M, P)."""
        ends = self.at(values)
        return ends[1] - ends[0]

    def mean(self, values: np.ndarray) -> np.ndarray:
        """The average over each point's pairs, (A, M, P) → (A, P)."""
        return np.einsum("amp,mp->ap", values, self.weights)


class Pairs:
    """The model at the map's pairs for one θ, in the notation of :mod:`heterodyne.model`:
    (R + S + X)/f² = u² + w² + 2uwκ, u = ρ_i ρ_j h_ref, w = σ_i σ_j h_s, κ = cos(p ΔV), with
    p = q cos(φ + phi0) and ΔV, ΔC the changes of the cumulative integrals over the pair."""

    def __init__(self, theta: np.ndarray, t: np.ndarray, q: np.ndarray, phi: np.ndarray, data: AgeLagMap):
        c_ref, c_sample, c_speed, fraction = frame_terms(theta, t)
        self.data = data
        self.fraction = fraction
        self.norm = fraction**2 + (1.0 - fraction) ** 2
        self.half_q2 = 0.5 * q[:, None, None] ** 2
        self.projection = projection(q, phi, theta[INDEX["phi0"]])[:, None, None]
        self.turn = -np.deg2rad(q * np.sin(np.deg2rad(phi + theta[INDEX["phi0"]])))[:, None, None]
        self.rho, self.sigma = data.at((1.0 - fraction) / np.sqrt(self.norm)), data.at(fraction / np.sqrt(self.norm))
        self.h_ref = np.exp(-self.half_q2 * np.abs(data.change(c_ref)))
        self.h_sample = np.exp(-self.half_q2 * np.abs(data.change(c_sample)))
        self.u = self.rho[0] * self.rho[1] * self.h_ref
        self.w = self.sigma[0] * self.sigma[1] * self.h_sample
        self.speed_change = data.change(c_speed)
        phase = self.projection * self.speed_change
        self.kappa, self.sine = np.cos(phase), np.sin(phase)

    def correlation(self) -> np.ndarray:
        """The model averaged over each point's pairs, (A, P)."""
        return self.data.mean(self.u**2 + self.w**2 + 2.0 * self.u * self.w * self.kappa)

    @cached_property
    def gains(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """∂g/∂u = 2(u + wκ), ∂g/∂w = 2(w + uκ) and ∂g/∂κ = 2uw, each (A, M, P)."""
        u, w = self.u, self.w
        return 2.0 * (u + w * self.kappa), 2.0 * (w + u * self.kappa), 2.0 * u * w

    @cached_property
    def integral_gains(self) -> dict[str, np.ndarray]:
        """∂g per unit change of the cumulative integral of J_ref, J_sample and v over the pair
        (∂u/∂ΔC_ref = −½q² u, ∂w/∂ΔC_sample = −½q² w, ∂κ/∂ΔV = −p sin(pΔV)), times the weights of
        :meth:`AgeLagMap.mean`."""
        gain_u, gain_w, gain_kappa = self.gains
        weights = self.data.weights
        return {"ref": -gain_u * self.u * self.half_q2 * weights, "sample": -gain_w * self.w * self.half_q2 * weights,
                "speed": -gain_kappa * self.sine * self.projection * weights}

    def derivative(self, quantity: str, change: np.ndarray) -> np.ndarray:
        """∂ :meth:`correlation` for a change (N,) of a per-frame quantity (:func:`frame_derivatives`),
        from ∂g = 2(u + wκ) ∂u + 2(w + uκ) ∂w + 2uw ∂κ."""
        data = self.data
        if quantity in self.integral_gains:
            return np.einsum("amp,mp->ap", self.integral_gains[quantity], data.change(change))
        gain_u, gain_w, gain_kappa = self.gains
        if quantity == "angle":
            return data.mean(-gain_kappa * self.sine * self.turn * self.speed_change)
        scale = self.norm**-1.5 * change
        d_rho, d_sigma = data.at(-self.fraction * scale), data.at((1.0 - self.fraction) * scale)
        du = self.h_ref * (self.rho[1] * d_rho[0] + self.rho[0] * d_rho[1])
        dw = self.h_sample * (self.sigma[1] * d_sigma[0] + self.sigma[0] * d_sigma[1])
        return data.mean(gain_u * du + gain_w * dw)


@dataclass(frozen=True)
class Fit:
    """A fitted start: parameters theta, misfit and (J_ref, J_sample, f_s) at t_ref."""

    theta: np.ndarray
    misfit: float
    components: tuple[float, float, float]


@dataclass(frozen=True)
class AgeingFit:
    """Step 4: the model on the age–lag map, weights (pair count)/s²_a, in ``variables``."""

    data: AgeLagMap
    noise: np.ndarray
    t: np.ndarray
    q: np.ndarray
    phi: np.ndarray
    variables: Variables

    def fit(self, start: np.ndarray) -> Fit:
        weights = self.data.counts / self.noise[:, None]
        latest: dict = {}

        def state(z: np.ndarray) -> tuple[np.ndarray, Pairs, Projected]:
            """θ, the pairs and the projection at z, kept for the Jacobian at the same z."""
            if "z" not in latest or not np.array_equal(latest["z"], z):
                theta = self.variables.theta(z)
                pairs = Pairs(theta, self.t, self.q, self.phi, self.data)
                latest.update(z=z.copy(), state=(theta, pairs, Projected.of(pairs.correlation(), self.data.values,
                                                                             weights)))
            return latest["state"]

        def residuals(z: np.ndarray) -> np.ndarray:
            return state(z)[2].residuals.ravel()

        def jacobian(z: np.ndarray) -> np.ndarray:
            theta, pairs, projected = state(z)
            changes = np.stack([pairs.derivative(quantity, change)
                                for quantity, change in frame_derivatives(theta, self.t, self.variables)])
            return projected.derivative(changes).reshape(len(changes), -1).T

        z = self.variables.fit(residuals, jacobian, start)
        theta = self.variables.theta(z)
        return Fit(theta, float((residuals(z) ** 2).sum()), self.variables.components(theta))


def labellings(theta: np.ndarray, variables: Variables) -> tuple[np.ndarray, np.ndarray]:
    """``theta`` and its components swapped (J_ref(t_ref) ↔ J_sample(t_ref), f_s(t_ref) ↔ 1 − f_s(t_ref))."""
    rate_ref, rate_sample, fraction = variables.components(theta)
    speed = abs(float(rates_at(theta, np.asarray(variables.t_ref))[2]))
    candidate = Candidate(speed, float(theta[INDEX["beta"]]), float(theta[INDEX["phi0"]]))
    return theta, variables.theta(variables.start(rate_sample, rate_ref, 1.0 - fraction, candidate))


def choose_labelling(fits: list[Fit], configured: tuple[float, float, float]) -> Fit:
    """The fit of lowest misfit, unless the misfits agree within LABEL_TOLERANCE: then the one
    whose components are closest to the configured start's."""
    lowest = min(fit.misfit for fit in fits)
    tied = [fit for fit in fits if fit.misfit <= lowest * (1 + LABEL_TOLERANCE)]
    return min(tied, key=lambda fit: component_distance(fit.components, configured))


def component_distance(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """|Δ ln J_ref| + |Δ ln J_sample| + |Δ logit f_s| (rates floored at RATE_FLOOR, fractions kept off 0 and 1)."""
    def log_rate(x: float) -> float:
        return float(np.log(max(x, RATE_FLOOR)))

    def logit(f: float) -> float:
        f = min(max(f, FRACTION_EDGE), 1 - FRACTION_EDGE)
        return float(np.log(f / (1 - f)))

    return (abs(log_rate(a[0]) - log_rate(b[0])) + abs(log_rate(a[1]) - log_rate(b[1]))
            + abs(logit(a[2]) - logit(b[2])))
