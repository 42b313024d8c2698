"""The workflow's memory requests (heterodyne.batch.resources) against the peak resident memory of
real jobs: an NLSQ job and a CMC shard job on two data sizes each, in child processes with a cold
compile cache (benchmarks/bench_memory.py measures larger sizes the same way)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_memory.py"


def bench_memory():
    spec = importlib.util.spec_from_file_location("bench_memory", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("n_angles, n_frames, shard_points", [(3, 150, 100_000), (3, 1000, 10_000)])
def test_memory_estimates_lie_within_2x_of_the_measured_peak(tmp_path, n_angles, n_frames, shard_points):
    # 3 x 150 frames: one shard, sampled on tiles; 3 x 1000: shards of 10 000 points, point by point, which
    # keep NUTS short while the shard job still loads the whole window and its points
    measurements = bench_memory().measure(tmp_path, n_angles, n_frames, cmc=True, shard_points=shard_points)
    assert [m.job for m in measurements] == ["nlsq", "cmc_shard"]
    for m in measurements:
        where = f"{m.job} {n_angles}x{n_frames}: estimate {m.estimate_mb} MiB, peak {m.peak_mb:.0f} MiB"
        assert 0.5 <= m.ratio <= 2.0, where
