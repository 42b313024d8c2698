"""Speckle simulator cost: one speckle-level file of N frames × 3 bins × P pixels.

Times :func:`heterodyne.simulation.simulate_dataset` with ``noise="speckle"`` (fields, photon
counts, the correlator's c2 and the file) for a replicate-study size, after one warm-up run that
pays the jax import. Prints one line per (pixels, counts, avg_frame) setting.

    .venv/bin/python benchmarks/bench_speckle.py [--frames 200] [--repeats 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from heterodyne.simulation import SimulationSpec, simulate_dataset


def spec(frames: int, pixels: int, counts: float, average: int, seed: int) -> SimulationSpec:
    """Three bins at one q, 4 modes, stride 2."""
    return SimulationSpec(noise="speckle", n_frames=frames, q_centres=(0.01,), phi_centres=(0.0, 45.0, 90.0),
                          empty_cells=(), processed_q_rows=(0,), pixels_per_bin=pixels, counts_per_pixel=counts,
                          avg_frame=average, seed=seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        simulate_dataset(Path(directory) / "warm.h5", spec(10, 100, 10.0, 1, 0))
        for pixels, counts, average in ((2000, 10.0, 1), (4000, 10.0, 1), (4000, 0.05, 1), (2000, 10.0, 3)):
            times = []
            for repeat in range(args.repeats):
                start = time.perf_counter()
                simulate_dataset(Path(directory) / "bench.h5", spec(args.frames, pixels, counts, average, repeat))
                times.append(time.perf_counter() - start)
            print(f"N={args.frames} x 3 bins x {pixels} pixels x 4 modes, {counts:g} photons/pixel/frame, "
                  f"avg_frame={average} ({args.frames * average} raw frames): best {min(times):.2f} s, "
                  f"median {sorted(times)[len(times) // 2]:.2f} s")


if __name__ == "__main__":
    main()
