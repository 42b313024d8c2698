"""Shared test set-up: JAX on the CPU. (64-bit mode is the package's own job: not set here.)"""

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
