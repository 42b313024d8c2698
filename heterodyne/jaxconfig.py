"""JAX, configured for this package: float64 everywhere.

Every module that uses JAX imports ``jax``/``jnp`` from here, so 64-bit mode is on before the
first array is created, whichever module a process happens to import first.
"""

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402

__all__ = ["jax", "jnp"]
