"""The sampler's likelihood on tiles against the point-by-point one and against c2 on the grid."""

import dataclasses

import numpy as np
import pytest
from nlsq_helpers import fit_config

from heterodyne import model
from heterodyne.cmc import geometry, tiles
from heterodyne.cmc.calibration import Adjustment
from heterodyne.cmc.posterior import Priors, log_density, model_arguments
from heterodyne.jaxconfig import jax, jnp
from heterodyne.parameters import PHYSICS_NAMES

AGEING = dict(D0_ref=2e4, alpha_ref=-0.3, D_offset_ref=50.0, D0_sample=8e4, alpha_sample=0.4, D_offset_sample=0.0,
              v0=1200.0, beta=0.3, v_offset=20.0, f0=0.3, f1=0.8, f2=0.1, f3=0.05, phi0=4.0)
Q, PHI = np.array([0.009, 0.009, 0.012]), np.array([0.0, 45.0, 100.0])


def grid_and_tiles(theta, n_frames, tile):
    """c2's correlation on the grid (A, N, N), and the tiles' (diagonal, off, row_tile, column_tile)."""
    t = 0.2 + 1e-3 * np.arange(n_frames)
    grid = model.c2_grid(jnp.asarray(theta), jnp.ones(3), jnp.zeros(3), t=jnp.asarray(t), q=jnp.asarray(Q),
                         phi=jnp.asarray(PHI))
    n_tiles = -(-n_frames // tile)
    row_tile, column_tile = np.triu_indices(n_tiles, 1)
    diagonal, off = model.tile_correlations(jnp.asarray(theta), jnp.asarray(t), jnp.asarray(Q), jnp.asarray(PHI),
                                            n_tiles=n_tiles, tile=tile, row_tile=jnp.asarray(row_tile),
                                            column_tile=jnp.asarray(column_tile))
    return np.asarray(grid), np.asarray(diagonal), np.asarray(off), row_tile, column_tile


def tile_rise(theta, n_frames, tile):
    """The largest rise of a decay exponent (2a, 2b, a + b) across one tile."""
    t = 0.2 + 1e-3 * np.arange(n_frames + tile)
    a, b = np.asarray(model.angle_frame_table(jnp.asarray(theta), jnp.asarray(t), jnp.asarray(Q),
                                              jnp.asarray(PHI)))[:2]
    return max(2 * float(np.max(e[:, tile:] - e[:, :-tile])) for e in (a, b))


@pytest.mark.parametrize("tile", [tiles.SMALL_TILE, tiles.LARGE_TILE])
@pytest.mark.parametrize("n_frames", [7, 16, 37])
@pytest.mark.parametrize("fast", [False, True])
def test_tile_correlations_equal_the_grid_at_every_pair(tile, n_frames, fast):
    theta = np.array([AGEING[name] for name in PHYSICS_NAMES])
    theta[[0, 3]] *= 1.6e5 / tile if fast else 1.0  # fast: a decay exponent rises by more than FACTOR_RANGE in a tile
    factored = tile_rise(theta, n_frames, tile) < model.FACTOR_RANGE
    assert factored == (not fast)  # both branches of the diagonal tiles are exercised
    grid, diagonal, off, row_tile, column_tile = grid_and_tiles(theta, n_frames, tile)
    assert np.isfinite(diagonal).all() and np.isfinite(off).all()
    compared = 0
    for i, j in zip(*np.triu_indices(n_frames, 1), strict=True):
        tile_i, x = divmod(i, tile)
        tile_j, y = divmod(j, tile)
        if tile_i == tile_j:
            value = diagonal[:, tile_i, x, y]
        else:
            value = off[:, np.flatnonzero((row_tile == tile_i) & (column_tile == tile_j))[0], x, y]
        np.testing.assert_allclose(value, grid[:, i, j], rtol=1e-12, atol=1e-300)
        compared += 1
    assert compared == n_frames * (n_frames - 1) // 2
    assert (grid[:, 0, 1] > np.finfo(float).tiny).all()  # the neighbours compared are normal doubles, not underflowed


def shard_problem(n_frames, fraction, seed):
    """A 3-angle problem with nine free physics parameters and per-angle scaling, restricted to a
    random ``fraction`` of its points, and the unit geometry around the truth."""
    from heterodyne.nlsq.setup import build_problem

    free = ["D0_ref", "alpha_ref", "D0_sample", "alpha_sample", "v0", "beta", "f0", "f1", "phi0"]
    config = fit_config({n: AGEING[n] for n in free}, {n: v for n, v in AGEING.items() if n not in free})
    t = 0.2 + 1e-3 * np.arange(n_frames)
    theta = np.array([AGEING[name] for name in PHYSICS_NAMES])
    c2 = np.asarray(model.c2_grid(jnp.asarray(theta), jnp.full(3, 0.2), jnp.ones(3), t=jnp.asarray(t),
                                  q=jnp.asarray(Q), phi=jnp.asarray(PHI)))
    c2 = c2 + 0.002 * np.random.default_rng(seed).standard_normal(c2.shape)
    problem, _ = build_problem(config, c2=c2, q=Q, phi=PHI, t=t, dt=1e-3)
    n_points = problem.points.size
    keep = np.sort(np.random.default_rng(seed + 1).permutation(n_points)[:int(fraction * n_points)])
    problem = dataclasses.replace(problem, points=problem.points.subset(keep), sigma=problem.sigma[keep])
    vary = problem.vary
    geo = geometry.unit_geometry(problem.initial[vary], problem.lower[vary], problem.upper[vary])
    return problem, geo


@pytest.mark.parametrize("small_tiles_up_to", [tiles.SMALL_TILES_UP_TO, 0])
@pytest.mark.parametrize(("n_frames", "fraction"), [(40, 1.0), (37, 0.4)])
def test_density_on_tiles_equals_the_density_point_by_point(n_frames, fraction, small_tiles_up_to, monkeypatch):
    monkeypatch.setattr(tiles, "SMALL_TILES_UP_TO", small_tiles_up_to)  # 0: the long runs' large tiles
    problem, geo = shard_problem(n_frames, fraction, seed=n_frames)
    n = geo.center.size
    identity = Adjustment(matrix=np.eye(n), anchor_u=geo.center, anchor=problem.initial[problem.vary],
                          contraction=np.ones(n), in_u=np.ones(n, bool))
    uniform = Priors(np.zeros(n, np.int64), np.zeros(n), np.ones(n))
    n_contrast = len(problem.scaling.contrast)
    on_points = model_arguments(problem, geo, identity, uniform, (2.5, 1.0), problem.points.size + 11)
    on_tiles = model_arguments(problem, geo, identity, uniform, (2.5, 1.0), problem.points.size + 11, on_tiles=True)
    assert isinstance(on_tiles[1], tiles.TiledPoints)
    assert on_tiles[1].value_diagonal.shape[-1] == tiles.tile_size(n_frames)

    density = jax.jit(jax.value_and_grad(lambda z, arguments: log_density(z, *arguments, n_contrast=n_contrast)))
    for z in 0.3 * np.random.default_rng(3).standard_normal((4, n)):
        value_points, gradient_points = density(jnp.asarray(z), on_points)
        value_tiles, gradient_tiles = density(jnp.asarray(z), on_tiles)
        assert float(value_tiles) == pytest.approx(float(value_points), rel=1e-12)
        np.testing.assert_allclose(gradient_tiles, gradient_points, rtol=1e-9,
                                   atol=1e-9 * float(np.abs(gradient_points).max()))


def test_runs_up_to_256_frames_take_the_small_tiles():
    assert [tiles.tile_size(n) for n in (7, 256, 257, 1000)] == [tiles.SMALL_TILE] * 2 + [tiles.LARGE_TILE] * 2


def test_tiles_are_used_where_a_shard_holds_most_pairs():
    pairs = 3 * 100 * 99 // 2
    assert tiles.use_tiles(pairs, 3, 100)
    assert tiles.use_tiles(int(np.ceil(tiles.DENSEST_POINTS * pairs)), 3, 100)
    assert not tiles.use_tiles(int(tiles.DENSEST_POINTS * pairs) - 1, 3, 100)
