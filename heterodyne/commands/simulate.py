"""``heterodyne simulate OUT.h5``: write a simulated two-time result file and its truth JSON.

Options set the layout, frame count, time base and clock, noise model (``--noise speckle`` for
pixel-level speckle data, or the sigma of independent noise), seed and any truth parameter by its
registry name (``--set v0=500 --set contrast=0.1``), a velocity that jumps by a factor at a given
time (``--jump-time 0.6 --jump-factor 1.5``) and, for independent noise, an irregular
per-bin contrast (``--contrast-scatter 0.3``: each bin's contrast times 1 + 0.3·u, u uniform in
[−1, 1] drawn from the seed); see :class:`heterodyne.simulation.SimulationSpec`.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from heterodyne.errors import HeterodyneError
from heterodyne.parameters import PHYSICS_NAMES, SCALING_NAMES
from heterodyne.simulation import NOISE_MODELS, SIMULATION_LAYOUTS, SimulationSpec, default_truth_path, simulate_dataset


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``simulate`` subcommand and return its parser."""
    defaults = SimulationSpec()
    parser = subparsers.add_parser(
        "simulate",
        help="write a simulated two-time HDF5 file with known truth",
        description="Simulate a two-time correlation file from the model (APS-U or legacy layout) "
        "and write the truth beside it as <OUT>.truth.json.",
    )
    parser.add_argument("output", type=Path, metavar="OUT.h5", help="HDF5 file to write")
    parser.add_argument("--layout", choices=SIMULATION_LAYOUTS, default=defaults.layout,
                        help=f"file layout (default {defaults.layout})")
    parser.add_argument("--frames", type=int, default=defaults.n_frames, metavar="N",
                        help=f"stored frames per matrix (default {defaults.n_frames})")
    parser.add_argument("--frame-time", type=float, default=defaults.frame_time, metavar="SECONDS",
                        help=f"seconds between raw frames (default {defaults.frame_time:g})")
    parser.add_argument("--stride", type=int, default=defaults.stride_frame, metavar="K",
                        help=f"frame stride (default {defaults.stride_frame})")
    parser.add_argument("--avg", type=int, default=defaults.avg_frame, metavar="K",
                        help=f"frames averaged per stored frame (default {defaults.avg_frame})")
    parser.add_argument("--begin-frame", type=int, default=defaults.begin_frame, metavar="B",
                        help="raw frame (0-based) the correlator run began at; stored frame k sits at "
                        f"B x frame_time + k x dt (default {defaults.begin_frame})")
    parser.add_argument("--noise", type=noise_option, default=("independent", None),
                        metavar="speckle|independent|SIGMA",
                        help="noise model: 'speckle' (pixel fields and photon counts, reduced as the APS "
                        "correlator does), 'independent' Gaussian noise on the stored triangle, or SIGMA, "
                        f"the sigma of the independent noise (default {defaults.noise_sigma:g})")
    parser.add_argument("--pixels", type=int, default=defaults.pixels_per_bin, metavar="P",
                        help=f"speckle: pixels per bin, a multiple of 4 (default {defaults.pixels_per_bin})")
    parser.add_argument("--modes", type=int, default=defaults.speckle_modes, metavar="M",
                        help=f"speckle: modes per pixel, contrast 1/M (default {defaults.speckle_modes})")
    parser.add_argument("--counts", type=float, default=defaults.counts_per_pixel, metavar="RATE",
                        help="speckle: mean photons per pixel and raw frame "
                        f"(default {defaults.counts_per_pixel:g}; 0.05 is photon-sparse)")
    parser.add_argument("--shared-speckle", type=float, default=defaults.shared_speckle, metavar="FRACTION",
                        help="speckle: fraction of each bin's pixels whose speckle fields the bins at the same q "
                        "share (noise shared between angles; default 0)")
    parser.add_argument("--contrast-scatter", type=float, default=defaults.contrast_scatter, metavar="X",
                        help="independent noise: each bin's contrast times 1 + X*u, u uniform in [-1, 1] drawn "
                        f"from the seed, 0 <= X < 1 (default {defaults.contrast_scatter:g})")
    parser.add_argument("--diagonal-excess", type=float, default=defaults.diagonal_excess, metavar="X",
                        help=f"shot-noise excess on the diagonal (default {defaults.diagonal_excess:g})")
    parser.add_argument("--jump-time", type=float, default=None, metavar="SECONDS",
                        help="a velocity that jumps: from this time on (s, on the frames' clock) the velocity is "
                        "--jump-factor times the model's, the displacement continuous (default: no jump)")
    parser.add_argument("--jump-factor", type=float, default=defaults.velocity_jump_factor, metavar="F",
                        help="the velocity's factor after --jump-time (default 1)")
    parser.add_argument("--seed", type=int, default=defaults.seed, help=f"noise seed (default {defaults.seed})")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="assignments",
                        help="truth value of a physics parameter, or contrast/offset; repeatable")
    parser.add_argument("--truth-json", type=Path, metavar="PATH",
                        help="where to write the truth (default OUT.h5.truth.json)")
    parser.add_argument("--force", action="store_true", help="overwrite existing output files")
    return parser


def noise_option(text: str) -> tuple[str, float | None]:
    """``--noise`` value → (noise model, independent-noise sigma; None: the spec's default)."""
    if text in NOISE_MODELS:
        return text, None
    try:
        sigma = float(text)
    except ValueError:
        known = ", ".join(NOISE_MODELS)
        raise argparse.ArgumentTypeError(f"expected one of {known} or a number, got {text!r}") from None
    return "independent", sigma


def parse_assignments(assignments: list[str]) -> tuple[dict[str, float], dict[str, Any]]:
    """``NAME=VALUE`` strings → (physics truth overrides, contrast/offset overrides)."""
    physics: dict[str, float] = {}
    scaling: dict[str, Any] = {}
    for assignment in assignments:
        name, separator, text = assignment.partition("=")
        name = name.strip()
        if not separator:
            raise HeterodyneError(f"--set {assignment!r}: expected NAME=VALUE")
        try:
            value = float(text)
        except ValueError:
            raise HeterodyneError(f"--set {assignment!r}: {text!r} is not a number") from None
        if not math.isfinite(value):
            raise HeterodyneError(f"--set {assignment!r}: value must be finite")
        if name in SCALING_NAMES:
            scaling[name] = value
        elif name in PHYSICS_NAMES:
            physics[name] = value
        else:
            known = ", ".join(PHYSICS_NAMES + SCALING_NAMES)
            raise HeterodyneError(f"--set {assignment!r}: unknown parameter {name!r} (known: {known})")
    return physics, scaling


def run(args: argparse.Namespace) -> int:
    """Write the file and its truth JSON; returns 0 (bad options raise HeterodyneError)."""
    physics, scaling = parse_assignments(args.assignments)
    noise, sigma = args.noise
    spec = SimulationSpec(
        n_frames=args.frames,
        frame_time=args.frame_time,
        stride_frame=args.stride,
        avg_frame=args.avg,
        begin_frame=args.begin_frame,
        noise=noise,
        noise_sigma=SimulationSpec.noise_sigma if sigma is None else sigma,
        diagonal_excess=args.diagonal_excess,
        contrast_scatter=args.contrast_scatter,
        pixels_per_bin=args.pixels,
        speckle_modes=args.modes,
        counts_per_pixel=args.counts,
        shared_speckle=args.shared_speckle,
        velocity_jump_time=args.jump_time,
        velocity_jump_factor=args.jump_factor,
        seed=args.seed,
        layout=args.layout,
        params=physics,
        **scaling,
    )
    truth_path = default_truth_path(args.output) if args.truth_json is None else args.truth_json
    if not args.force:
        for path in (args.output, truth_path):
            if path.exists():
                raise HeterodyneError(f"{path}: already exists (use --force to overwrite)")
    written = simulate_dataset(args.output, spec, truth_path=truth_path)
    print(f"wrote {args.output.resolve()} ({spec.layout}, {spec.noise} noise, "
          f"{len(spec.processed_bins())} bins x {spec.n_frames} frames)")
    print(f"wrote {written}")
    return 0
