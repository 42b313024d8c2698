"""Process set-up that must happen before jax is imported: the thread budget and the compile cache.

A batch runs many short processes side by side, so each process keeps to the cores it was given
(``--threads N``, ``HETERODYNE_THREADS`` or Snakemake's ``threads``) and reuses compiled code
from JAX's persistent compilation cache.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from heterodyne.errors import HeterodyneError

log = logging.getLogger("heterodyne")

THREADS_ENV = "HETERODYNE_THREADS"
CACHE_ENV = "HETERODYNE_JAX_CACHE_DIR"
BLAS_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def positive_int_from_env(name: str) -> int | None:
    """The positive integer in environment variable ``name``, or None when it is unset or empty."""
    text = os.environ.get(name)
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise HeterodyneError(f"{name}={text!r}: expected a positive integer")
    return int(text)


def resolve_threads(requested: int | None) -> int:
    """The thread budget: ``requested``, else $HETERODYNE_THREADS, else the usable cores."""
    if requested is None:
        requested = positive_int_from_env(THREADS_ENV)
    if requested is None:
        return len(os.sched_getaffinity(0))
    if requested < 1:
        raise HeterodyneError(f"--threads {requested}: expected a positive integer")
    return requested


def apply_thread_budget(threads: int, xla_threads: int | None = None) -> None:
    """Hold the process to ``threads`` cores: BLAS/OpenMP pools and XLA's CPU thread pool of
    ``xla_threads`` workers (default ``threads``).

    Must run before numpy and jax are imported (the command line guarantees it); called later
    in a process (the Python API, tests) it changes nothing for this process.

    XLA has no thread-count setting: it sizes its pool from the CPUs the process may run on.
    So jax is started while the process is pinned to ``threads`` of its allowed CPUs, and then
    every thread is released to all of them again: the pool has ``threads`` workers, and the
    operating system still places them on whichever cores are free (pinning for the whole run
    would stack concurrent jobs of a batch onto the same cores).

    An NLSQ run asks for a pool of one worker: its passes evaluate their chunks in ``threads``
    threads of their own, and XLA's threaded dot product splits a contraction by the size of its
    pool, which would make the last bits of a pass, and so the point where a search stops,
    depend on ``--threads``.
    """
    if "jax" in sys.modules:
        log.debug("jax already imported: the thread budget applies to child processes only")
        return
    for name in BLAS_THREAD_VARIABLES:
        os.environ[name] = str(threads)
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    allowed = os.sched_getaffinity(0)
    pool = threads if xla_threads is None else xla_threads
    if pool >= len(allowed):
        return
    os.sched_setaffinity(0, sorted(allowed)[:pool])
    try:
        from heterodyne.jaxconfig import jax

        jax.devices()  # creates the CPU client and its thread pool, sized by the pinned CPUs
    finally:
        for thread_id in os.listdir("/proc/self/task"):
            os.sched_setaffinity(int(thread_id), allowed)


def default_cache_dir() -> Path:
    """$HETERODYNE_JAX_CACHE_DIR, else $XDG_CACHE_HOME/heterodyne/jax, else ~/.cache/heterodyne/jax."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "heterodyne" / "jax"


def enable_compile_cache(cache_dir: str | None) -> Path | None:
    """Point JAX's persistent compilation cache at ``cache_dir`` (or the default); return it.

    An unusable cache directory costs only speed, so it is a warning, not an error.
    """
    from heterodyne.jaxconfig import jax

    path = Path(cache_dir) if cache_dir else default_cache_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        log.warning("compile cache disabled: cannot create %s (%s)", path, error.strerror)
        return None
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return path
