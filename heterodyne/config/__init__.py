"""The analysis configuration of one run: loading, validation, defaults, template, parameter table.

A resolved configuration is an :class:`AnalysisConfig`, a frozen tree of typed records
(:mod:`heterodyne.config.tree`).

Structure, types and every default live in one JSON Schema (:mod:`heterodyne.config.schema`;
parameter defaults come from :mod:`heterodyne.parameters`). Problems raise
:class:`heterodyne.errors.HeterodyneError` with one line naming the file and the key path.
"""

from heterodyne.config.dotted import get_dotted, set_dotted
from heterodyne.config.resolve import read_config, resolve_config
from heterodyne.config.schema import SCHEMA, build_schema
from heterodyne.config.table import parameter_table
from heterodyne.config.template import template_text
from heterodyne.config.tree import AnalysisConfig

__all__ = [
    "SCHEMA",
    "AnalysisConfig",
    "build_schema",
    "get_dotted",
    "read_config",
    "parameter_table",
    "resolve_config",
    "set_dotted",
    "template_text",
]
