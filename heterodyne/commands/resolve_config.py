"""``heterodyne resolve-config BASE.yaml [--set KEY=VALUE ...] [--inherit-from RESULT.json --inherit NAME ...]
[--data F] [--seed S] --output RUN.yaml``.

Writes the fully resolved analysis configuration of one run (every default filled in, the
overrides applied, validated), so that the run can be repeated by hand with
``heterodyne --config RUN.yaml``. The workflow writes one per run with this command; a window
along the age (:mod:`heterodyne.age.windows`) holds ``--inherit`` parameters at the global run's
NLSQ estimate.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

import yaml

from heterodyne.config import read_config
from heterodyne.config.yaml_io import parse_yaml
from heterodyne.errors import HeterodyneError
from heterodyne.results import atomic_write_bytes


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``resolve-config`` subcommand and return its parser."""
    parser = subparsers.add_parser(
        "resolve-config",
        help="write the resolved analysis config of one run (base config plus overrides)",
        description="Apply dotted-path overrides to a base analysis config, validate it and write "
        "the resolved config (every default filled in) atomically.",
    )
    parser.add_argument("base", type=Path, metavar="BASE.yaml", help="base analysis config")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="assignments",
                        help="override a dotted config key, e.g. analyzer_parameters.start_frame=100; "
                             "VALUE is read as YAML (numbers, null, [lists]); repeatable")
    parser.add_argument("--data", type=Path,
                        help="HDF5 file of the run (sets experimental_data.file_path, made absolute)")
    parser.add_argument("--seed", type=int, help="sets optimization.nlsq.seed and optimization.cmc.seed")
    parser.add_argument("--inherit-from", type=Path, metavar="RESULT.json",
                        help="a finished run's result.json whose NLSQ estimate --inherit takes values from")
    parser.add_argument("--inherit", action="append", default=[], metavar="NAME",
                        help="hold a physics parameter at --inherit-from's estimate (`scaling`: every angle's "
                             "contrast and offset); applied after --set; repeatable")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="RUN.yaml",
                        help="where to write the resolved config")
    return parser


def parse_assignments(assignments: list[str]) -> dict:
    """``KEY=VALUE`` strings → {dotted key: YAML value}; a key given twice is an error."""
    overrides: dict = {}
    for assignment in assignments:
        key, separator, text = assignment.partition("=")
        key = key.strip()
        if not separator or not key:
            raise HeterodyneError(f"--set {assignment!r}: expected KEY=VALUE")
        if key in overrides:
            raise HeterodyneError(f"--set {key}: given twice")
        overrides[key] = parse_yaml(text, f"--set {key}")
    return overrides


def run_overrides(args: argparse.Namespace) -> dict:
    """Every override of the run: the ``--set`` assignments, the inherited values, then the data file
    and the seed."""
    overrides = parse_assignments(args.assignments)
    if args.inherit and args.inherit_from is None:
        raise HeterodyneError("--inherit needs --inherit-from RESULT.json")
    if args.inherit_from is not None:
        from heterodyne.age.windows import inherited_overrides
        from heterodyne.run_directory import read_result

        overrides.update(inherited_overrides(read_result(args.inherit_from), args.inherit))
    if args.data is not None:
        overrides["experimental_data.file_path"] = str(args.data.resolve())
    if args.seed is not None:
        overrides["optimization.nlsq.seed"] = args.seed
        overrides["optimization.cmc.seed"] = args.seed
    return overrides


def header(args: argparse.Namespace) -> str:
    """Comment lines saying how the file was made and how to repeat the run."""
    command = ["heterodyne", "resolve-config", str(args.base)]
    for assignment in args.assignments:
        command += ["--set", assignment]
    if args.data is not None:
        command += ["--data", str(args.data)]
    if args.seed is not None:
        command += ["--seed", str(args.seed)]
    if args.inherit_from is not None:
        command += ["--inherit-from", str(args.inherit_from)]
    for name in args.inherit:
        command += ["--inherit", name]
    command += ["--output", str(args.output)]
    return (
        f"# Resolved by: {shlex.join(command)}\n"
        "# Every key holds its effective value. Repeat the run with:\n"
        f"#   heterodyne --config {shlex.quote(str(args.output))} --run-dir DIR\n"
    )


def run(args: argparse.Namespace) -> int:
    """Resolve, validate and write the config; returns 0 (bad keys or values raise HeterodyneError)."""
    if args.output.is_dir():
        raise HeterodyneError(f"{args.output}: is a directory")
    config = read_config(args.base, run_overrides(args))
    text = header(args) + yaml.safe_dump(config.as_dict(), sort_keys=False, default_flow_style=None)
    atomic_write_bytes(args.output, text.encode("utf-8"))
    return 0
