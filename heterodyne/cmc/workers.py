"""All shards of a run inside one process's thread budget: shard workers × chains side by side.

With C threads, S shards and c chains per shard, the layout is

    p = min(c, C)                     chains side by side (threads of one process)
    W = min(W_max, S, max(1, ⌊C / p⌋))  shard workers (processes; 1: this process)
    T = ⌊C / W⌋                       threads of each worker, p = min(c, T) chains side by side

where W_max, the most shard workers at once, is ``optimization.cmc.num_workers``, else
$HETERODYNE_NUM_WORKERS, else ⌊cores/2⌋ − 1 (at least 1). Chains come first: they share one
process's imports, compiled code and data, so a shard's chains fill the budget before a second
worker starts; the threads left over (C > S·c) go to XLA's pool, shared by the worker's chains.
With one worker the shards run one after another in this process; otherwise in spawned worker
processes. A chain's draws depend on neither W nor p (:mod:`heterodyne.cmc.sampler`).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from heterodyne.cmc.sampler import ShardDraws
from heterodyne.cmc.setup import CmcSetup, sample_one
from heterodyne.process_pool import map_in_processes
from heterodyne.runtime import positive_int_from_env

log = logging.getLogger("heterodyne")

WORKERS_ENV = "HETERODYNE_NUM_WORKERS"


@dataclass(frozen=True)
class ShardLayout:
    """How a thread budget runs the shards: ``workers`` processes of ``threads`` threads, each
    running ``side_by_side`` chains of its shard at once."""

    workers: int
    threads: int
    side_by_side: int

    @property
    def threads_per_chain(self) -> int:
        return max(1, self.threads // self.side_by_side)


def max_workers(configured: int | None) -> int:
    """W_max: ``configured``, else $HETERODYNE_NUM_WORKERS, else ⌊cores/2⌋ − 1 (at least 1)."""
    if configured is None:
        configured = positive_int_from_env(WORKERS_ENV)
    if configured is None:
        configured = max(1, len(os.sched_getaffinity(0)) // 2 - 1)
    return configured


def shard_layout(threads: int, n_shards: int, n_chains: int, configured_workers: int | None = None) -> ShardLayout:
    """The layout of ``n_shards`` shards of ``n_chains`` chains in ``threads`` threads (module docstring)."""
    chains_at_once = min(n_chains, threads)
    workers = max(1, min(max_workers(configured_workers), n_shards, threads // chains_at_once))
    per_worker = threads // workers
    return ShardLayout(workers=workers, threads=per_worker, side_by_side=min(n_chains, per_worker))


def sample_all(setup: CmcSetup, threads: int) -> list[ShardDraws]:
    """Every shard's draws, in shard order."""
    n_shards = setup.plan.n_shards
    layout = shard_layout(threads, n_shards, setup.settings.num_chains, setup.settings.num_workers)
    log.info("cmc: %d shards on %d worker(s) of %d threads, %d chains side by side", n_shards, layout.workers,
             layout.threads, layout.side_by_side)
    return map_in_processes(sample_one, [(setup, shard, layout.side_by_side) for shard in range(n_shards)],
                            workers=layout.workers, threads=layout.threads)
