"""The command line: ``heterodyne`` (alias ``ht``).

Exit codes (README.md, "Command line"): 0 success; 1 unrecoverable error, reported as one line on
stderr (a traceback only with --verbose); 2 convergence failure, outputs still written; 130
interrupted by SIGINT.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback

from heterodyne import __version__
from heterodyne.commands import run as run_command
from heterodyne.errors import HeterodyneError
from heterodyne.interrupt import sticky_interrupt
from heterodyne.log_setup import configure_logging

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130

SUBCOMMANDS = ("inspect", "simulate", "config", "nlsq-batch", "plot", "trends", "resolve-config", "summarize",
               "cmc-plan", "cmc-shard", "cmc-combine", "preview", "windows", "compare")


def build_parser() -> argparse.ArgumentParser:
    """The parser: the run options at top level, and subcommands from ``heterodyne.commands.<name>``."""
    parser = argparse.ArgumentParser(
        prog="heterodyne",
        description="Heterodyne two-time XPCS analysis: joint multi-angle NLSQ fits of the 14-parameter model.",
    )
    parser.add_argument("--version", action="version", version=f"heterodyne {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging and tracebacks")
    run_command.add_arguments(parser)
    parser.set_defaults(run=run_command.run)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        command = importlib.import_module(f"heterodyne.commands.{name.replace('-', '_')}")
        command.add_parser(subparsers).set_defaults(run=command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv``, run the command and return its exit code (never raises)."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    configure_logging(args.verbose)
    try:
        with sticky_interrupt():
            return args.run(args)
    except HeterodyneError as error:
        return report_error(str(error), args.verbose)
    except KeyboardInterrupt:
        print("heterodyne: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # noqa: BLE001 - the exit-code contract: any failure is one line + 1
        return report_error(f"unexpected {type(error).__name__}: {error}", args.verbose)


def report_error(message: str, verbose: bool) -> int:
    """One line on stderr (and the traceback when verbose); returns exit code 1."""
    if verbose:
        traceback.print_exc(file=sys.stderr)
    first_line = message.strip().splitlines()[0] if message.strip() else "error"
    print(f"heterodyne: error: {first_line}", file=sys.stderr)
    return EXIT_ERROR



def entry_point() -> None:
    """Console-script entry. After an interrupt, leave at once: finalising the interpreter while
    XLA's worker threads may still be mid-computation can crash the process on the way out."""
    code = main()
    if code == EXIT_INTERRUPTED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry_point()
