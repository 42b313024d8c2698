"""A shard's points laid out as square tiles of each angle's frame pairs, for the sampler.

Where a shard holds most of the strict-upper-triangle points (one shard, or a few), its
likelihood is cheaper on dense tiles than point by point: the frames are cut into tiles of
``tile_size`` frames, every point (angle, i < j) is stored in the tile of frames (i, j), and the
correlation comes from :func:`heterodyne.model.tile_correlations`, which needs exponentials per
frame only off the diagonal tiles and no gather or scatter per point. A tile entry that holds no
point of the shard (a pair of another shard, a masked pair, the lower triangle, the diagonal, the
padding frames) has weight 0, so it adds nothing:

    Σ_{p ∈ shard} r_p² = Σ_tiles (w · (y − offset − contrast · corr))²

with the same σ, contrast and offset as :func:`heterodyne.nlsq.problem.weighted_residuals`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from heterodyne.nlsq.problem import FitProblem, ProblemConstants, physics_and_scaling

SMALL_TILE, LARGE_TILE = 8, 16
SMALL_TILES_UP_TO = 256
"""Runs of up to this many frames are cut into tiles of ``SMALL_TILE`` frames, longer ones into
tiles of ``LARGE_TILE`` (docs/decisions/2026-12-05-cmc-likelihood-on-tiles.md): small tiles waste
fewer entries on padding and on the diagonal tiles' lower triangles, large ones have fewer tile
pairs to loop over."""
DENSEST_POINTS = 0.25
"""Tiles are used when a shard holds at least this fraction of the strict-upper-triangle pairs of
its angles (the tiles' cost is that of every pair; per pair they are about five times cheaper)."""


class TiledPoints(NamedTuple):
    """A shard's points on the tiles of :func:`heterodyne.model.tile_correlations` (a pytree for jit)."""

    value_diagonal: Any     # (A, n_tiles, tile, tile) c2 values; 0 where no point
    weight_diagonal: Any    # (A, n_tiles, tile, tile) 1/σ; 0 where no point
    value_off: Any          # (A, n_pairs, tile, tile)
    weight_off: Any
    row_tile: Any           # (n_pairs,) tile I of each off-diagonal tile pair
    column_tile: Any        # (n_pairs,) tile J > I


def use_tiles(shard_points: int, n_angles: int, n_frames: int) -> bool:
    """Whether a shard of ``shard_points`` points is sampled on tiles (``DENSEST_POINTS``)."""
    return shard_points >= DENSEST_POINTS * n_angles * n_frames * (n_frames - 1) / 2


def tile_size(n_frames: int) -> int:
    """Frames per tile side for a run of ``n_frames`` frames (``SMALL_TILES_UP_TO``)."""
    return SMALL_TILE if n_frames <= SMALL_TILES_UP_TO else LARGE_TILE


def tiled_points(problem: FitProblem) -> TiledPoints:
    """``problem``'s points (frames i < j) and weights 1/σ placed on the tiles."""
    points = problem.points
    tile = tile_size(problem.t.size)
    n_angles, n_tiles = problem.q.size, -(-problem.t.size // tile)
    row_tile, column_tile = np.triu_indices(n_tiles, 1)
    pair_of = np.full((n_tiles, n_tiles), -1)
    pair_of[row_tile, column_tile] = np.arange(row_tile.size)
    tile_i, tile_j = points.i // tile, points.j // tile
    inside_i, inside_j = points.i % tile, points.j % tile
    on_diagonal = tile_i == tile_j
    shape_diagonal, shape_off = (n_angles, n_tiles, tile, tile), (n_angles, row_tile.size, tile, tile)
    value_diagonal, weight_diagonal = np.zeros(shape_diagonal), np.zeros(shape_diagonal)
    value_off, weight_off = np.zeros(shape_off), np.zeros(shape_off)
    weight = 1.0 / problem.sigma
    d, o = on_diagonal, ~on_diagonal
    where_diagonal = (points.angle_index[d], tile_i[d], inside_i[d], inside_j[d])
    where_off = (points.angle_index[o], pair_of[tile_i[o], tile_j[o]], inside_i[o], inside_j[o])
    value_diagonal[where_diagonal], weight_diagonal[where_diagonal] = points.value[d], weight[d]
    value_off[where_off], weight_off[where_off] = points.value[o], weight[o]
    return TiledPoints(value_diagonal, weight_diagonal, value_off, weight_off, row_tile, column_tile)


def squared_residual_sum(x, constants: ProblemConstants, tiles: TiledPoints, *, n_contrast: int):
    """Σ r_p² over the tiles' points at the free parameters ``x`` (module docstring)."""
    from heterodyne import model

    theta, contrast, offset = physics_and_scaling(x, constants, n_contrast=n_contrast)
    contrast, offset = contrast[:, None, None, None], offset[:, None, None, None]
    _, n_tiles, tile, _ = tiles.value_diagonal.shape
    diagonal, off = model.tile_correlations(
        theta, constants.t, constants.q, constants.phi, n_tiles=n_tiles, tile=tile, row_tile=tiles.row_tile,
        column_tile=tiles.column_tile)
    residual_diagonal = (tiles.value_diagonal - offset - contrast * diagonal) * tiles.weight_diagonal
    residual_off = (tiles.value_off - offset - contrast * off) * tiles.weight_off
    return (residual_diagonal * residual_diagonal).sum() + (residual_off * residual_off).sum()
