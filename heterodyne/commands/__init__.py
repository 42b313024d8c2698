"""The command-line layer: argparse in, a library call, an exit code out.

Each subcommand module offers ``add_parser(subparsers)`` and ``run(args) -> int``; ``run.py`` is
the top-level run (``add_arguments(parser)`` and ``run(args)``), and ``cmc_inputs.py`` holds the
options the CMC workflow commands share. The work itself is in the library
(:mod:`heterodyne.analysis`, :mod:`heterodyne.cmc_jobs` and below), which never imports this package.
"""
