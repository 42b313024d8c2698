"""Memory estimates of the workflow's jobs (``resources: mem_mb``), from the arrays the jobs hold.

Each estimate is a process base plus the arrays alive at the job's peak, from the shape of its
data: A selected bins of N frames, P = A·N(N−1)/2 points (see :class:`~heterodyne.batch.shape.Selection`).
The bases and per-point sizes are those of the code (heterodyne.nlsq.problem, heterodyne.cmc.setup)
and are checked against the peak resident memory of real jobs by ``benchmarks/bench_memory.py``
(docs/memory.md: 0.95–1.16× the measured peak from 240 000 to 14 million points).

NLSQ job, with P' = min(P, max_points) points fitted and n = 14 + 2A Jacobian columns at most:

    BASE_NLSQ + 8·A·N² (the data window) + max(40·P, 120·P') + 2 · 8·(n + 1)·chunk

the point list of the whole window (angle, i, j, value: 32 bytes a point, plus index temporaries)
from which a subsample is drawn; the fitted points with σ (40 bytes), their padded copy in numpy
and on the JAX device (2 × 40); and one chunk of at most CHUNK_POINTS points through the Jacobian
pass, whose ∂r/∂x and [J | r] are chunk × (n + 1) float64 each. The P × n Jacobian is never held.

CMC shard job, with S points in the shard and p chains side by side (min(chains, threads)):

    BASE_CMC + 8·A·N² + 40·P + 120·S + p · NUTS_BYTES_PER_POINT · S      (point by point)
    BASE_CMC + 8·A·N² + 40·P + 120·S + p · TILE_BYTES_PER_PAIR · P       (on tiles)

the whole window's points and σ (the plan cuts the shard from them), the shard's copies as above,
and the NUTS step's working arrays of each running chain: the model's intermediate values, kept
for the reverse-mode gradient, per shard point, or, for a shard sampled on the tiles of
:mod:`heterodyne.cmc.tiles` (one holding at least a quarter of the pairs), per tile entry, that is
per pair of the selected angles whether the shard holds it or not.

A shard job's threads are its chains × ``THREADS_PER_CHAIN``: every chain runs side by side.
"""

from __future__ import annotations

import math

from heterodyne.batch.shape import Selection
from heterodyne.cmc.tiles import use_tiles
from heterodyne.nlsq.projection import CHUNK_POINTS

MIB = 2**20
BASE_NLSQ_MB = 400
"""Python with jax and the package, and XLA compiling the Jacobian pass (cold compile cache)."""
BASE_CMC_MB = 1024
"""The same with numpyro and the compiled NUTS step: measured 1.0 GB for a shard of 9 000 points."""
FULL_POINT_BYTES = 40
"""A point of the whole window: angle index, i, j (int64) and value, σ or index temporaries (float64)."""
FITTED_POINT_BYTES = 3 * 40
"""A fitted (or shard) point and σ, its padded numpy copy and that copy on the JAX device."""
NUTS_BYTES_PER_POINT = 8 * 100
"""float64 values of the model per point kept for the gradient of one NUTS step (measured ~770 bytes)."""
TILE_BYTES_PER_PAIR = 8 * 6
"""float64 values per tile entry kept for the gradient of one NUTS step on tiles (measured 30–55 bytes
a pair from the peaks of one shard job with one and with two chains side by side, 7 × 1 000 and 7 × 2 000
frames)."""
THREADS_PER_CHAIN = 1
"""Threads of a CMC chain in a workflow job: chains side by side scale better than threads per chain."""


def chunk_points(n_points: int) -> int:
    """Points per Jacobian chunk: ``n_points`` cut into ⌈n / CHUNK_POINTS⌉ equal chunks."""
    return math.ceil(n_points / max(1, math.ceil(n_points / CHUNK_POINTS)))


def nlsq_mem_mb(data: Selection, n_columns: int, max_points: int | None) -> int:
    """An NLSQ job: base + data window + point arrays + one chunk's Jacobian and [J | r]."""
    fitted = data.n_points if max_points is None else min(data.n_points, max_points)
    points = max(FULL_POINT_BYTES * data.n_points, FITTED_POINT_BYTES * fitted)
    chunk = 2 * 8 * (n_columns + 1) * chunk_points(fitted)
    return BASE_NLSQ_MB + math.ceil((data.data_bytes + points + chunk) / MIB)


def shard_threads(n_chains: int) -> int:
    """Threads of a CMC shard job: its chains side by side, ``THREADS_PER_CHAIN`` each."""
    return n_chains * THREADS_PER_CHAIN


def shard_mem_mb(data: Selection, n_shards: int, chains_at_once: int) -> int:
    """A CMC shard job: base + data window + the window's points + the shard's arrays and the NUTS
    work of ``chains_at_once`` chains, point by point or on tiles."""
    shard_points = math.ceil(data.n_points / n_shards)
    if use_tiles(shard_points, data.n_angles, data.n_frames):
        nuts = chains_at_once * TILE_BYTES_PER_PAIR * data.n_points
    else:
        nuts = chains_at_once * NUTS_BYTES_PER_POINT * shard_points
    arrays = FULL_POINT_BYTES * data.n_points + FITTED_POINT_BYTES * shard_points + nuts
    return BASE_CMC_MB + math.ceil((data.data_bytes + arrays) / MIB)


def combine_mem_mb(data: Selection) -> int:
    """The consensus job: base + data (it reloads the data for the result's data section)."""
    return BASE_CMC_MB + math.ceil(2 * data.data_bytes / MIB)
