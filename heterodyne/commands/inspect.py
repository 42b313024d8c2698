"""``heterodyne inspect FILE [--json]``: what a two-time result file holds, without reading matrices.

Prints the layout, the stored frame count, dt with its factors and their HDF5 sources, the
correlator configuration, the incident energy, the SHA-256 and one line per bin (key, label, q, φ).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from heterodyne.data import FileSummary, file_sha256, scan_file


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``inspect`` subcommand and return its parser."""
    parser = subparsers.add_parser(
        "inspect",
        help="describe a two-time result file (layout, bins, frames, dt, provenance)",
        description="Describe a two-time correlation HDF5 file without reading its matrices.",
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="HDF5 result file")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    return parser


def summary_document(summary: FileSummary, sha256: str) -> dict[str, Any]:
    """The summary as a JSON-ready dict."""
    return {
        "file": summary.path,
        "sha256": sha256,
        "layout": summary.layout,
        "matrix_group": summary.matrix_group,
        "n_frames": summary.n_frames,
        "dt_file": summary.dt_file,
        "time_base": summary.time_step.as_dict(),
        "correlator_config": summary.config,
        "incident_energy": summary.incident_energy,
        "bins": [info.as_dict() for info in summary.bins],
    }


def _dt_line(summary: FileSummary) -> str:
    step = summary.time_step
    if step.dt is None:
        return "dt: not in the file (no frame time); give dt in the configuration"
    factors = f"frame_time {step.frame_time:g} s x stride {step.stride:g} x avg {step.average:g}"
    sources = ", ".join(f"{name} {step.sources[name] or 'absent (1)'}" for name in ("frame_time", "stride", "average"))
    return f"dt: {step.dt:g} s = {factors}  [{sources}]"


def _clock_line(summary: FileSummary) -> str:
    step = summary.time_step
    source = step.sources["begin_frame"] or "none recorded"
    if step.dt is None:
        return f"clock: stored frame k at t0 + k x dt, begin_frame {step.begin_frame} [{source}]"
    return (f"clock: stored frame k at {step.origin(step.dt):g} s + k x dt "
            f"(begin_frame {step.begin_frame} x frame_time) [{source}]")


def summary_text(summary: FileSummary, sha256: str) -> str:
    """Human-readable, one fact per line, then a table of the bins."""
    config = ", ".join(f"{name}={value}" for name, value in summary.config.items()) or "none recorded"
    energy = "not recorded" if summary.incident_energy is None else f"{summary.incident_energy:g} keV"
    lines = [
        f"file: {summary.path}",
        f"sha256: {sha256}",
        f"layout: {summary.layout} (matrices in {summary.matrix_group})",
        f"frames: {summary.n_frames}",
        _dt_line(summary),
        _clock_line(summary),
        f"correlator config: {config}",
        f"incident energy: {energy}",
        f"bins: {len(summary.bins)}",
        f"  {'key':<12} {'label':>6} {'q (1/A)':>12} {'phi (deg)':>10}",
    ]
    lines += [f"  {b.key:<12} {b.label:>6} {b.q:>12.6g} {b.phi:>10.4g}" for b in summary.bins]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    """Print the description of ``args.file``; returns 0 (bad files raise HeterodyneError)."""
    summary = scan_file(args.file)
    sha256 = file_sha256(summary.path)
    if args.json:
        sys.stdout.write(json.dumps(summary_document(summary, sha256), indent=2) + "\n")
    else:
        sys.stdout.write(summary_text(summary, sha256))
    return 0
