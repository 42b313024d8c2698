"""Model evaluation and Jacobian cost on the point-list path (issues: core package, every core busy).

For N frames × 3 angles, all strict-upper-triangle points, after compilation: time of one
evaluation of c2 and of its 14-column physics Jacobian (jax.jacfwd of ``model.c2_points``, as the
solver computes it), and the time to import ``heterodyne`` (no jax work). Prints one line per
size. The sampler's gradient is timed where it runs, inside NUTS: ``bench_sampler_gradient.py``.

    .venv/bin/python benchmarks/bench_model.py [--repeats 20]
"""

from __future__ import annotations

import argparse
import functools
import subprocess
import sys
import time

import numpy as np


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


def time_size(n_frames: int, theta, q, phi, repeats: int) -> str:
    """One line of timings for N = ``n_frames`` and every strict-upper-triangle point of each angle."""
    from heterodyne import model
    from heterodyne.jaxconfig import jax, jnp

    n_angles = q.size
    i, j = np.triu_indices(n_frames, k=1)
    points = dict(t=jnp.arange(1, n_frames + 1) * 1e-3, q=q, phi=phi,
                  angle_index=jnp.asarray(np.repeat(np.arange(n_angles), i.size)),
                  i=jnp.asarray(np.tile(i, n_angles)), j=jnp.asarray(np.tile(j, n_angles)))
    contrast, offset = jnp.full(n_angles, 0.2), jnp.ones(n_angles)
    timed = {
        "value": jax.jit(lambda th: model.c2_points(th, contrast, offset, **points)),
        "jacobian": jax.jit(jax.jacfwd(lambda th: model.c2_points(th, contrast, offset, **points))),
    }
    n_points = int(points["i"].size)
    cells = []
    for label, function in timed.items():
        run_ready(function, theta)
        seconds = best_time(functools.partial(run_ready, function, theta), repeats)
        cells.append(f"{label} {seconds * 1e3:.2f} ms ({seconds / n_points * 1e9:.1f} ns/pt)")
    return f"N={n_frames:5d} x {n_angles} angles, {n_points:8d} points: " + "; ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--frames", type=int, nargs="+", default=[200, 400, 1000])
    args = parser.parse_args()

    from heterodyne.jaxconfig import jnp
    from heterodyne.parameters import PHYSICS_PARAMETERS

    print(f"import heterodyne + cli: {import_time() * 1e3:.0f} ms")
    theta = jnp.array([p.default for p in PHYSICS_PARAMETERS]).at[1].set(0.3).at[7].set(0.2).at[10].set(0.5)
    q = jnp.full(3, 0.01)
    phi = jnp.array([0.0, 45.0, 90.0])
    for n_frames in args.frames:
        print(time_size(n_frames, theta, q, phi, args.repeats), flush=True)


if __name__ == "__main__":
    main()
