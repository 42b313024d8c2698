"""What the frame-clustered covariance adds to an NLSQ fit (issue 11: at most 20 % at N = 400 x 3).

The fit of bench_nlsq.py (9 varying physics parameters, individual scaling, 3 angles) in this
process, compiled once before timing. Printed: the fit's wall time, the final pass with the
block-pair score sums and the meat (what the honest covariance needs) against the plain Gram
pass it replaced, and the difference as a fraction of the fit.

    .venv/bin/python benchmarks/bench_sandwich.py [--frames 400] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from bench_model import best_time  # noqa: E402
from bench_nlsq import simulate, write_config  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from heterodyne.config import read_config
    from heterodyne.data import load_file
    from heterodyne.nlsq.projection import ProjectedEvaluator
    from heterodyne.nlsq.sandwich import frame_clustered_meat
    from heterodyne.nlsq.setup import build_problem
    from heterodyne.nlsq.solve import fit

    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        path = simulate(directory, args.frames)
        config = read_config(write_config(directory, directory / "cache"), {})
        raw = yaml.safe_load((directory / "run.yaml").read_text())
        data = load_file(path, q=raw["experimental_data"]["q"], phi=raw["experimental_data"]["phi"])
        problem, _ = build_problem(config, c2=data.c2, q=data.q, phi=data.phi, t=data.times, dt=data.dt)
        settings = config.optimization.nlsq
        result = fit(problem, settings)  # compiles everything
        fit_seconds = best_time(lambda: fit(problem, settings), args.repeats)
        evaluator = ProjectedEvaluator(problem)
        x = result.full[problem.vary]
        theta, z = x[:evaluator.n_theta], result.full[len(problem.names) - len(evaluator.z_initial):]
        evaluator.angle_grams(theta, z), evaluator.score_sums(theta, z)
        gram_seconds = best_time(lambda: evaluator.angle_grams(theta, z), args.repeats)
        honest_seconds = best_time(lambda: frame_clustered_meat(evaluator.score_sums(theta, z), result.chi2_reduced),
                                   args.repeats)
    added = honest_seconds - gram_seconds
    print(f"N={args.frames} x 3 ({problem.points.size} points, {x.size} free): fit {fit_seconds:.2f} s "
          f"({result.function_evaluations} evaluations); final Gram pass {gram_seconds:.3f} s; "
          f"pass with block Gram matrices + meat {honest_seconds:.3f} s; added {added:.3f} s = "
          f"{100 * added / fit_seconds:.1f} % of the fit; block {result.sandwich['block_frames']} frames")


if __name__ == "__main__":
    main()
