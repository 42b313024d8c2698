"""Model evaluation and Jacobian cost on the point-list path (issue: core package).

For N frames × 3 angles, all strict-upper-triangle points, after compilation: time of one
evaluation of c2 and of its Jacobian (jax.jacfwd over 14 physics + 2·3 scaling parameters), and
the time to import ``heterodyne`` (no jax work). Prints one line per size.

    .venv/bin/python benchmarks/bench_model.py [--repeats 20]
"""

from __future__ import annotations

import argparse
import functools
import subprocess
import sys
import time

import numpy as np


def points_model(packed, *, t, q, phi, angle_index, i, j):
    """c2 at the points (angle_index, i, j) of physics parameters, contrasts and offsets packed in one vector."""
    from heterodyne import model
    from heterodyne.parameters import N_PHYSICS

    n_angles = q.size
    return model.c2_points(packed[:N_PHYSICS], packed[N_PHYSICS:N_PHYSICS + n_angles], packed[N_PHYSICS + n_angles:],
                           t=t, q=q, phi=phi, angle_index=angle_index, i=i, j=j)


def run_ready(function, argument):
    return function(argument).block_until_ready()


def best_time(function, repeats: int) -> float:
    """Minimum wall time of ``function()`` (which must block on its result) over ``repeats``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def import_time() -> float:
    """Wall time of ``import heterodyne, heterodyne.cli`` in a fresh interpreter."""
    code = "import time; s=time.perf_counter(); import heterodyne, heterodyne.cli; print(time.perf_counter()-s)"
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--frames", type=int, nargs="+", default=[200, 400, 1000])
    args = parser.parse_args()

    import jax
    import jax.numpy as jnp

    from heterodyne.parameters import PHYSICS_PARAMETERS

    print(f"import heterodyne + cli: {import_time() * 1e3:.0f} ms")
    theta = jnp.array([p.default for p in PHYSICS_PARAMETERS]).at[1].set(0.3).at[7].set(0.2).at[10].set(0.5)
    n_angles = 3
    q = jnp.full(n_angles, 0.01)
    phi = jnp.array([0.0, 45.0, 90.0])
    for n_frames in args.frames:
        t = jnp.arange(1, n_frames + 1) * 1e-3
        i, j = np.triu_indices(n_frames, k=1)
        angle_index = jnp.asarray(np.repeat(np.arange(n_angles), i.size))
        i = jnp.asarray(np.tile(i, n_angles))
        j = jnp.asarray(np.tile(j, n_angles))

        evaluate = functools.partial(points_model, t=t, q=q, phi=phi, angle_index=angle_index, i=i, j=j)
        value = jax.jit(evaluate)
        jacobian = jax.jit(jax.jacfwd(evaluate))
        packed = jnp.concatenate([theta, jnp.full(n_angles, 0.2), jnp.ones(n_angles)])
        value(packed).block_until_ready()
        jacobian(packed).block_until_ready()
        t_value = best_time(functools.partial(run_ready, value, packed), args.repeats)
        t_jac = best_time(functools.partial(run_ready, jacobian, packed), max(3, args.repeats // 4))
        points = int(i.size)
        print(
            f"N={n_frames:5d} x {n_angles} angles, {points:8d} points: "
            f"value {t_value * 1e3:8.2f} ms ({t_value / points * 1e9:6.1f} ns/pt), "
            f"jacobian[{packed.size}] {t_jac * 1e3:8.1f} ms ({t_jac / points * 1e9:6.1f} ns/pt)"
        )


if __name__ == "__main__":
    main()
