"""NUTS on one shard (NumPyro's NUTS kernel), in the whitened coordinates of :mod:`heterodyne.cmc.geometry`.

Chains start at z = 0 (the NLSQ optimum) plus a small seeded jitter. Every random choice comes
from the shard seed, derived from the run seed and the shard index alone: chain k runs from the
k-th of ``num_chains`` keys split from it and the k-th start. A chain is one call of one compiled
function (warm-up and draws in a single ``lax.scan``), the same for every chain, shard and
layout; so a chain's draws depend on the seed and the chain's index only, not on how many chains
run side by side, in which worker, or whether the shard runs in a workflow job or inside
``heterodyne --method cmc`` (docs/decisions/2026-12-01-cmc-chains-in-threads.md gives the measurements).

Chains run side by side in threads of this process (XLA releases the GIL while it computes, and
one CPU device runs concurrent calls concurrently), ``side_by_side`` at a time. NumPyro's own
chain methods were measured worse: "vectorized" cost 1.6× four single-chain gradients per step
and waits for the longest trajectory of the four (N = 100 × 3 angles, 500 + 500 draws: 183 s
vectorised, 82 s sequential), and "parallel" (pmap over XLA host devices) compiles other code
than one chain alone, so its draws change with the number of devices. The mass matrix is
diagonal, adapted on top of the NLSQ whitening; a dense one measured worse where the whitening
fits (bulk ESS per second 6.1 vs 6.5 at N = 100, 18.5 vs 42-52 at N = 200) and better only
where the posterior bends away from the NLSQ covariance (short windows: 3.5x the ESS for 1.3x
the time).
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

import numpy as np

from heterodyne.cmc.geometry import Geometry, parameters_of
from heterodyne.cmc.posterior import log_density
from heterodyne.config.tree import CmcSettings

log = logging.getLogger("heterodyne")

START_JITTER = 0.3
"""Standard deviation of the chains' starting points around the optimum, in whitened units."""
MAX_TREE_DEPTH = 10
"""NUTS's tree-depth limit (NumPyro's default): a draw takes at most 2¹⁰ − 1 = 1023 leapfrog steps."""
TARGET_ACCEPT = 0.9
"""NUTS's target acceptance rate for the step-size adaptation. On the demo's posterior cut to 80
frames (the D0_ref–alpha_ref–f0 banana), seeds 1–6: at 0.8, 8–43 divergent draws of 4 000 (156 in all) and a
bulk ESS of 335–571; at 0.9, 1–13 (22 in all) and 481–617, for 5–60 % more leapfrog steps per
draw. R-hat stayed below 1.02 at both."""


@dataclass(frozen=True)
class ShardDraws:
    """One shard's draws of the sampled parameters and its sampler statistics (arrays per chain)."""

    index: int
    seed: int
    n_points: int
    draws: np.ndarray        # (C, D, P) sampled parameters
    diverging: np.ndarray    # (C, D) bool
    energy: np.ndarray       # (C, D) Hamiltonian energy, for E-BFMI
    num_steps: np.ndarray    # (C, D) leapfrog steps per draw
    step_size: np.ndarray    # (C,) adapted step size
    wall_seconds: float


def shard_seed(run_seed: int, shard: int) -> int:
    """A 32-bit seed for ``shard`` of a run seeded with ``run_seed`` (NumPy SeedSequence)."""
    return int(np.random.SeedSequence([run_seed, shard]).generate_state(1)[0])


@cache
def _compiled_chain(n_contrast: int, num_warmup: int, num_samples: int):
    """Jitted (key, start, *arguments) ↦ one NUTS chain's draws of z and its sampler statistics.

    NumPyro's functional NUTS kernel on the potential −log p_k(z) of
    :func:`heterodyne.cmc.posterior.log_density` with ``arguments`` = (constants, data); warm-up
    (step size and diagonal mass matrix adaptation) and draws run in one ``lax.scan``. The
    arguments are traced, not closed over: one compiled chain serves every shard of the same
    (padded) size, in this process and through the persistent compile cache. The density is
    jitted on its own so that NumPyro's several uses of the potential (the initial state, the
    step-size search, the leapfrog step) share one trace of it: tracing the chain took 0.56–0.70 s
    at N = 100 × 3 on tiles, 0.21–0.24 s so, for the same compiled draws bit for bit.
    """
    from numpyro.infer.hmc import hmc

    from heterodyne.jaxconfig import jax

    density = jax.jit(log_density, static_argnames=("n_contrast",))

    def potential(*arguments):
        return lambda z: -density(z, *arguments, n_contrast=n_contrast)

    def chain(key, start, *arguments):
        init_kernel, sample_kernel = hmc(potential_fn_gen=potential, algo="NUTS")
        state = init_kernel(start, num_warmup, target_accept_prob=TARGET_ACCEPT, max_tree_depth=MAX_TREE_DEPTH,
                            model_args=arguments, rng_key=key)

        def step(state, _):
            state = sample_kernel(state, model_args=arguments)
            return state, (state.z, state.diverging, state.energy, state.num_steps, state.adapt_state.step_size)

        _, trace = jax.lax.scan(step, state, length=num_warmup + num_samples)
        return tuple(values[num_warmup:] for values in trace)

    return jax.jit(chain)


def sample_shard(arguments: tuple, geometry: Geometry, settings: CmcSettings, *, n_contrast: int, shard: int,
                 n_shards: int, n_points: int, side_by_side: int = 1) -> ShardDraws:
    """Run ``settings.num_chains`` NUTS chains on the shard posterior of ``arguments`` =
    (constants, data) of :func:`heterodyne.cmc.posterior.model_arguments`,
    ``side_by_side`` at a time in threads, and return the draws of x(z)."""
    from heterodyne.jaxconfig import jax, jnp

    seed = shard_seed(settings.seed, shard)
    n_chains, n_parameters = settings.num_chains, geometry.center.size
    starts = jnp.asarray(START_JITTER * np.random.default_rng(seed).standard_normal((n_chains, n_parameters)))
    keys = jax.random.split(jax.random.PRNGKey(seed), n_chains)
    side_by_side = min(side_by_side, n_chains)
    label = f"cmc shard {shard + 1}/{n_shards} ({n_points} points)"
    log.info("%s: warm-up %d + %d draws x %d chains, %d side by side", label, settings.num_warmup,
             settings.num_samples, n_chains, side_by_side)
    started = time.perf_counter()
    chain = _compiled_chain(n_contrast, settings.num_warmup, settings.num_samples)
    chain = chain.lower(keys[0], starts[0], *arguments).compile()  # traced once, before the threads
    log.debug("%s: sampler traced and compiled (or loaded from the cache) in %.1f s", label,
              time.perf_counter() - started)
    with ThreadPoolExecutor(side_by_side) as pool:
        chains = list(pool.map(lambda k: jax.device_get(chain(keys[k], starts[k], *arguments)), range(n_chains)))
    z, diverging, energy, num_steps, step_size = (np.stack(values) for values in zip(*chains, strict=True))
    draws = np.asarray(parameters_of(jnp.asarray(z), *(jnp.asarray(a) for a in (
        geometry.center, geometry.factor, geometry.lower, geometry.upper))))
    result = ShardDraws(
        index=shard,
        seed=seed,
        n_points=n_points,
        draws=draws,
        diverging=diverging.astype(bool),
        energy=energy.astype(float),
        num_steps=num_steps.astype(np.int64),
        step_size=step_size[:, -1].astype(float),
        wall_seconds=time.perf_counter() - started,
    )
    log.info("%s: done in %.1f s, %d divergences, %.1f leapfrog steps per draw", label, result.wall_seconds,
             int(result.diverging.sum()), float(result.num_steps.mean()))
    return result
