"""JAX, configured for this package: float64 everywhere, and XLA's CPU code paths that are fast here.

Every module that uses JAX imports ``jax``/``jnp`` from here, so 64-bit mode is on before the
first array is created, whichever module a process happens to import first. The switch is
process-wide and stays on, in a notebook too (README.md, "Python API"): JAX's scoped switch
(``jax.enable_x64`` as a context manager) holds only in the thread that enters it, and the fit
and the sampler compute in worker threads of their own.

Two XLA flags are set unless $XLA_FLAGS already chooses them. Both are read when the CPU backend
starts, so setting them here, before any computation, is enough:

- XLA's experimental YNNPACK fusion is switched off: it fuses the elementwise model into the
  reduction Σ r² and then runs about 9× slower than the plain loop fusion (measured: 2.85 ms
  versus 0.31 ms for 14 850 points).
- Eigen's threaded dot product is switched off: the dot products here are small (the sampler's
  tile contractions, 16 × 4 × 16), and splitting them over XLA's pool costs more than it saves
  while the sampler's chains already keep every core busy. Measured on the sampler's gradient
  (N = 100 frames × 3 angles, one thread): 240 µs threaded, 180 µs not; ``heterodyne --method
  cmc`` on the same data: the shard's 4 × (500 + 500) draws 9.1 s threaded, 7.2 s not.
"""

import os

FLAGS = {"--xla_cpu_experimental_ynn_fusion_type": "", "--xla_cpu_multi_thread_eigen": "false"}
for flag, value in FLAGS.items():
    if flag not in os.environ.get("XLA_FLAGS", ""):
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {flag}={value}".strip()

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402

__all__ = ["jax", "jnp"]
