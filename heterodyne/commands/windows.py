"""``heterodyne windows RUN_DIR ... --global RUN_DIR --table windows.csv --change-points changepoints.csv``.

Tabulates the window runs of one dataset (each RUN_DIR a method directory holding result.json:
``…/nlsq``, or ``…/cmc`` for the CMC quantiles too) into windows.csv, tests v, J_sample and J_ref
for one abrupt change along the age into changepoints.csv, and with ``--figure`` draws the
windowed rates over the global run's curves (see :mod:`heterodyne.age.window_table` and
:mod:`heterodyne.plots.windows`). ``--global`` names the global run of each seed (repeatable; a
window pairs with the global run of its seed, on the same data file). Every input is read before
anything is written; each output is written atomically.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from heterodyne.errors import HeterodyneError


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``windows`` subcommand and return its parser."""
    parser = subparsers.add_parser(
        "windows",
        help="tabulate a dataset's window runs along the age and find abrupt changes in v and J",
        description="Write windows.csv (each window's rates at its mid-age with stderrs), changepoints.csv "
        "(one abrupt change of v, J_sample and J_ref, located with an interval) and optionally the figure "
        "of the windowed rates over the global fit's.",
    )
    parser.add_argument("runs", type=Path, nargs="+", metavar="RUN_DIR", help="the window runs' method directories")
    parser.add_argument("--global", type=Path, action="append", required=True, metavar="RUN_DIR", dest="globals",
                        help="the global run's method directory, one per seed; repeatable")
    parser.add_argument("--table", type=Path, required=True, metavar="CSV", help="windows.csv to write")
    parser.add_argument("--change-points", type=Path, required=True, metavar="CSV", help="changepoints.csv to write")
    parser.add_argument("--figure", type=Path, metavar="IMAGE", help="the figure to write (.png, .svg or .pdf)")
    parser.add_argument("--level", type=float, default=0.01,
                        help="false-alarm rate of each change-point test (default 0.01)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Read every run, then write the tables and the figure; returns 0 (bad inputs raise HeterodyneError)."""
    from heterodyne.age.window_table import (
        GlobalCurves,
        aligned_to_global,
        change_point_table,
        run_seed,
        window_table,
    )
    from heterodyne.plots.canvas import check_image_format
    from heterodyne.run_directory import read_run
    from heterodyne.run_tables import write_csv

    if args.figure is not None:
        check_image_format(args.figure.suffix.lstrip("."))
    if not 0.0 < args.level < 1.0:
        raise HeterodyneError(f"--level must lie in (0, 1), got {args.level}")
    globals_by_seed = {}
    for path in args.globals:
        global_run = read_run(path)
        seed = run_seed(global_run)
        if seed in globals_by_seed:
            raise HeterodyneError(f"--global {path}: a second global run of seed {seed}")
        globals_by_seed[seed] = global_run
    windows = [read_run(path) for path in args.runs]
    for window in windows:
        paired = globals_by_seed.get(run_seed(window))
        if paired is None:
            raise HeterodyneError(f"{window.run_dir}: no --global run of seed {run_seed(window)}")
        if window.document["data_sha256"] != paired.document["data_sha256"]:
            raise HeterodyneError(f"{window.run_dir}: not the data file of the global run {paired.run_dir}")
    curves = {seed: GlobalCurves.of(global_run) for seed, global_run in globals_by_seed.items()}
    table = aligned_to_global(window_table(windows), curves)
    change_points = change_point_table(table, curves, args.level)
    figure = None
    if args.figure is not None:
        from heterodyne.plots.windows import windows_figure

        figure = windows_figure(globals_by_seed[min(table.seed)], table)
    write_csv(args.table, table)
    write_csv(args.change_points, change_points)
    print(args.table)
    print(args.change_points)
    if figure is not None:
        from heterodyne.plots.canvas import save_figure

        print(save_figure(figure, args.figure.parent, args.figure.stem, args.figure.suffix.lstrip(".")))
    return 0
