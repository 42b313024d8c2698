"""The curvature-adjusted likelihood of CMC (Chandler & Bate 2007; Ribatet, Cooley & Davison 2012).

The CMC likelihood treats every point's noise as independent, so its curvature at the NLSQ
optimum θ̂ is H = Σ_model⁻¹, while the estimate really scatters with the frame-clustered sandwich
covariance Σ_honest (:mod:`heterodyne.nlsq.sandwich`), 10–35 times wider in sd on
frame-correlated data. Every shard's log-likelihood ℓ is therefore evaluated at an adjusted point,

    ℓ_adj(θ) = ℓ(θ̂ + C (θ − θ̂)),      Cᵀ H C = Σ_honest⁻¹,

so that the likelihood has the honest curvature at θ̂, while the prior, the bounds and the
logistic geometry act on θ itself at the honest scale. (The likelihood is still probed over the
region its own curvature allows, so the model's nonlinearity enters as it is over that region,
stretched by C⁻¹.) C carries N(0, Σ_honest) onto
N(0, Σ_model); on the correlation scale of Σ_model it shrinks each direction of the honest
covariance whitened by the model one:

    C = D S_m^½ (S_m^-½ S_h S_m^-½)^-½ S_m^-½ D⁻¹,   S = D⁻¹ Σ D⁻¹,   D = √diag Σ_model.

Then C Σ_honest Cᵀ = Σ_model, hence Cᵀ Σ_model⁻¹ C = Σ_honest⁻¹. S_m^-½ S_h S_m^-½ has the
eigenvalues of Σ_model⁻¹ Σ_honest (the squared sd ratios, 1–1000), so no step squares the
condition number of S_m (5·10⁴ in a speckle fit measured), as the symmetric optimal-transport
formula would.
Matrix functions of symmetric matrices commute with permutations, so C, unlike a Cholesky
factor, does not depend on the order of the parameters.

C acts in the sampler's logistic coordinates u (:mod:`heterodyne.cmc.geometry`):
u_adj = û + C_u (u − û) with C_u = J⁻¹ C J, J = diag(dx/du) at û. The adjusted point is then
inside the bounds for every u, and C_uᵀ H_u C_u = Σ_honest,u⁻¹ holds in u as it does in θ.

Parameters without an honest covariance (at a bound, or degenerate) are adjusted in θ by a
scalar, θ_adj = θ̂ + c (θ − θ̂) with c = min(1, κ^-½) and κ the largest eigenvalue of
Σ_model⁻¹ Σ_honest over the other parameters (the largest variance inflation of any identified
direction). θ_adj lies between θ̂ and θ, so inside the bounds; such parameters are listed as
``inflated`` in the record. Without any honest covariance nothing is adjusted, and the record
says so.

Σ_model comes from the NLSQ result: χ²_red⁻¹ times its independent-noise covariance, scaled by
n_NLSQ / n_CMC when the fit used a subset of the points (H grows with the number of points).
Σ_honest is the NLSQ sandwich covariance widened so that its 90 % intervals are the sandwich's
Student-t ones (:func:`target_from_nlsq`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heterodyne.cmc.barycenter import symmetric_power
from heterodyne.cmc.geometry import Geometry, to_unbounded
from heterodyne.numerics import RANK_RATIO

METHOD = ("curvature-adjusted likelihood (Chandler & Bate 2007): each shard's log-likelihood at "
          "theta_hat + C (theta - theta_hat), C^T H C = Sigma_honest^-1 (H: the likelihood's curvature, "
          "Sigma_honest: the NLSQ sandwich covariance), applied in the sampler's logistic coordinates; "
          "prior and bounds act on theta")


@dataclass(frozen=True)
class Target:
    """Σ_model and Σ_honest (P, P) of the sampled parameters at the NLSQ optimum ``center`` (P,);
    NaN rows where not available."""

    model: np.ndarray
    honest: np.ndarray
    center: np.ndarray


@dataclass(frozen=True)
class Adjustment:
    """θ_adj(u): u_adj = ``anchor_u`` + ``matrix`` (u − ``anchor_u``) where ``in_u``; elsewhere
    θ_adj = ``anchor`` + ``contraction`` (θ − ``anchor``)."""

    anchor: np.ndarray       # (P,) θ̂
    anchor_u: np.ndarray     # (P,) û = u(θ̂)
    matrix: np.ndarray       # (P, P) C_u, identity outside the u block
    contraction: np.ndarray  # (P,) c, 1 inside the u block
    in_u: np.ndarray         # (P,) bool

    def record(self, names: tuple[str, ...], target: Target) -> dict:
        """The ``calibration`` record of result.json: method, honest / model sd ratio per parameter,
        which parameters were adjusted in u and which inflated by the scalar."""
        ratio = np.sqrt(np.diag(target.honest) / np.diag(target.model))
        inflated = ~self.in_u & (self.contraction < 1.0)
        return {
            "method": METHOD,
            "sd_ratio": {name: float(r) if np.isfinite(r) else None for name, r in zip(names, ratio, strict=True)},
            "adjusted": [name for name, done in zip(names, self.in_u, strict=True) if done],
            "inflated": [name for name, done in zip(names, inflated, strict=True) if done],
            "inflation_sd_ratio": float(1.0 / self.contraction[inflated][0]) if inflated.any() else None,
        }


def t_widening(degrees_of_freedom: np.ndarray) -> np.ndarray:
    """r_i = t_ν(0.95) / z(0.95) per parameter (1 where ν is not finite): how much wider the
    sandwich's 90 % Student-t interval is than the normal one."""
    from scipy import stats

    freedom = np.asarray(degrees_of_freedom, float)
    ratio = np.ones(freedom.shape)
    finite = np.isfinite(freedom) & (freedom > 0)
    ratio[finite] = stats.t.ppf(0.95, freedom[finite]) / stats.norm.ppf(0.95)
    return ratio


def target_from_nlsq(nlsq_arrays, n_points: int) -> Target:
    """The target of a CMC run over ``n_points`` points, from the arrays of its nlsq.npz: Σ_honest
    is the sandwich covariance widened to its Student-t intervals, R Σ R with R = diag(r_i) of
    :func:`t_widening` (the sandwich rests on few frame blocks, ν ≈ 2–6 on speckle data; a
    Gaussian posterior of the sandwich's width covered 79 % where its t intervals covered 86 %)."""
    chi2_reduced = float(nlsq_arrays["chi2_reduced"])
    scale = float(nlsq_arrays["n_points"]) / n_points
    model = np.asarray(nlsq_arrays["covariance_independent"], float) * scale / chi2_reduced
    widening = t_widening(nlsq_arrays["degrees_of_freedom"])
    honest = np.asarray(nlsq_arrays["covariance"], float) * np.outer(widening, widening)
    return Target(model=model, honest=honest, center=np.asarray(nlsq_arrays["free_values"], float))


def _model_frame(model: np.ndarray, honest: np.ndarray) -> tuple[np.ndarray, ...]:
    """(D, S_m^½, S_m^-½, S_m^-½ S_h S_m^-½) on the correlation scale of Σ_model (module docstring)."""
    scale = np.sqrt(np.diag(model))
    scaled_model = model / np.outer(scale, scale)
    inverse_root = symmetric_power(scaled_model, -0.5, RANK_RATIO)
    ratios = inverse_root @ (honest / np.outer(scale, scale)) @ inverse_root
    return scale, symmetric_power(scaled_model, 0.5, RANK_RATIO), inverse_root, ratios


def honest_to_model(model: np.ndarray, honest: np.ndarray) -> np.ndarray:
    """C with C Σ_honest Cᵀ = Σ_model (module docstring)."""
    scale, root, inverse_root, ratios = _model_frame(model, honest)
    shrink = root @ symmetric_power(ratios, -0.5, RANK_RATIO) @ inverse_root
    return scale[:, None] * shrink / scale[None, :]


def largest_inflation(model: np.ndarray, honest: np.ndarray) -> float:
    """κ: the largest eigenvalue of Σ_model⁻¹ Σ_honest."""
    return float(np.linalg.eigvalsh(_model_frame(model, honest)[3])[-1])


def known(target: Target) -> np.ndarray:
    """(P,) bool: parameters with a positive finite model and honest variance."""
    model, honest = np.diag(target.model), np.diag(target.honest)
    return np.isfinite(model) & np.isfinite(honest) & (model > 0) & (honest > 0)


def adjustment(target: Target, geometry: Geometry) -> Adjustment:
    """The adjustment of the module docstring for the sampled parameters of ``geometry``'s bounds."""
    size = target.center.size
    in_u = known(target)
    anchor_u = to_unbounded(target.center, geometry.lower, geometry.upper)
    matrix, contraction = np.eye(size), np.ones(size)
    if in_u.any():
        block = np.ix_(in_u, in_u)
        fraction = 1.0 / (1.0 + np.exp(-anchor_u[in_u]))
        dx_du = (geometry.upper - geometry.lower)[in_u] * fraction * (1.0 - fraction)
        matrix[block] = honest_to_model(target.model[block], target.honest[block]) * dx_du[None, :] / dx_du[:, None]
        contraction[~in_u] = min(1.0, largest_inflation(target.model[block], target.honest[block]) ** -0.5)
    return Adjustment(anchor=target.center, anchor_u=anchor_u, matrix=matrix, contraction=contraction, in_u=in_u)
