"""Subcommands of the command line: each module offers ``add_parser(subparsers)`` and ``run(args) -> int``."""
