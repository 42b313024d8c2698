"""Property-based checks: any increasing bounds with an initial inside validate; swapped ones fail."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heterodyne.config import parameter_table, resolve_config
from heterodyne.errors import HeterodyneError
from heterodyne.parameters import PHYSICS_NAMES

_finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)


@st.composite
def _bounded_entry(draw: st.DrawFn) -> tuple[float, float, float]:
    """Distinct ``lower < upper`` and an initial value in the closed interval."""
    lower, upper = sorted(draw(st.lists(_finite, min_size=2, max_size=2, unique=True)))
    fraction = draw(st.floats(min_value=0.0, max_value=1.0))
    initial = min(max(lower + fraction * (upper - lower), lower), upper)
    return lower, upper, initial


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(PHYSICS_NAMES), entry=_bounded_entry(), vary=st.booleans())
def test_valid_bounds_and_initial_resolve(name: str, entry: tuple[float, float, float], vary: bool):
    lower, upper, initial = entry
    config = resolve_config({"parameters": {name: {"initial": initial, "bounds": [lower, upper],
                                                   "vary": vary}}})
    row = parameter_table(config)[PHYSICS_NAMES.index(name)]
    assert row == {"name": name, "initial": initial, "lower": lower, "upper": upper, "vary": vary,
                   "prior": {"type": "uniform"}, "tied_to": None}


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(PHYSICS_NAMES), entry=_bounded_entry(), equal=st.booleans())
def test_swapped_or_equal_bounds_fail(name: str, entry: tuple[float, float, float], equal: bool):
    lower, upper, initial = entry
    bounds = [upper, upper] if equal else [upper, lower]
    with pytest.raises(HeterodyneError, match=rf"^run\.yaml: parameters\.{name}\.bounds: lower bound"):
        resolve_config({"parameters": {name: {"initial": initial, "bounds": bounds}}}, "run.yaml")


@settings(max_examples=100, deadline=None)
@given(name=st.sampled_from(PHYSICS_NAMES), entry=_bounded_entry(), outside=_finite)
def test_initial_outside_bounds_fails(name: str, entry: tuple[float, float, float], outside: float):
    lower, upper, _ = entry
    if lower <= outside <= upper:
        outside = upper + abs(upper) + 1.0
    with pytest.raises(HeterodyneError, match=rf"^run\.yaml: parameters\.{name}\.initial: "):
        resolve_config({"parameters": {name: {"initial": outside, "bounds": [lower, upper]}}},
                       "run.yaml")
