"""Heterodyne two-time XPCS analysis (He et al., PNAS 2024 and 2025).

Importing the package does no JAX work: the model and fitters import jax lazily, so that the
command line can set thread budgets before jax starts.
"""

__version__ = "0.1.0"
