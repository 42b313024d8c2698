"""All shards of a run inside one process's budget: at most W shard workers at once.

W is ``optimization.cmc.num_workers``, else $HETERODYNE_NUM_WORKERS, else ⌊cores/2⌋ − 1 (at
least 1), and never more than the shards or the thread budget; each worker gets
⌊threads / W⌋ threads. With one worker the shards run one after another in this process (no
start-up or compilation repeated); otherwise in spawned worker processes.
"""

from __future__ import annotations

import logging
import os

from heterodyne.cmc.sampler import ShardDraws
from heterodyne.cmc.setup import CmcSetup, sample_one
from heterodyne.process_pool import map_in_processes
from heterodyne.runtime import positive_int_from_env

log = logging.getLogger("heterodyne")

WORKERS_ENV = "HETERODYNE_NUM_WORKERS"


def resolve_workers(configured: int | None, threads: int, n_shards: int) -> int:
    """The number of shard workers (see the module docstring)."""
    if configured is None:
        configured = positive_int_from_env(WORKERS_ENV)
    if configured is None:
        configured = max(1, len(os.sched_getaffinity(0)) // 2 - 1)
    return max(1, min(configured, threads, n_shards))


def sample_all(setup: CmcSetup, threads: int) -> list[ShardDraws]:
    """Every shard's draws, in shard order."""
    n_shards = setup.plan.n_shards
    workers = resolve_workers(setup.settings["num_workers"], threads, n_shards)
    if workers > 1:
        log.info("cmc: %d shards on %d workers x %d threads", n_shards, workers, threads // workers)
    return map_in_processes(sample_one, [(setup, shard) for shard in range(n_shards)],
                            workers=workers, threads=threads // workers)
