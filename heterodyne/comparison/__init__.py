"""Nested reductions of the model and their comparison with the full fit (docs/comparison.md)."""

from heterodyne.comparison.compare import COLUMNS, compare
from heterodyne.comparison.reductions import REDUCTIONS, Reduction, reduced_config

__all__ = ["COLUMNS", "REDUCTIONS", "Reduction", "compare", "reduced_config"]
