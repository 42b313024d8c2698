"""Independent tasks of one command in W worker processes, each held to T threads.

Used where a command has several independent pieces of work (CMC shards, runs to fit, runs to
draw): a worker pays interpreter start-up and the numpy/jax imports once for all the tasks it
gets. Workers are spawned, not forked (a forked JAX process can deadlock), and their thread
budget is applied before they import numpy or jax. With one worker the tasks run in this process,
one after another, sharing its imports and compiled functions.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

log = logging.getLogger("heterodyne")


def _start_worker(threads: int, level: int) -> None:
    """Initializer of a worker process: its thread budget, then logging like the parent's."""
    from heterodyne.log_setup import configure_logging
    from heterodyne.runtime import apply_thread_budget

    apply_thread_budget(threads)
    configure_logging(level <= logging.DEBUG)


def map_in_processes(function: Callable, tasks: Sequence[tuple], *, workers: int, threads: int) -> list[Any]:
    """``[function(*task) for task in tasks]``, in order, run by ``workers`` processes of ``threads``
    threads each (in this process when ``workers`` is 1). The first exception is raised."""
    if workers == 1:
        return [function(*task) for task in tasks]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                             initargs=(threads, log.getEffectiveLevel())) as pool:
        return list(pool.map(function, *zip(*tasks, strict=True)))
