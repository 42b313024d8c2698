"""Named reductions of the model: each a set of constraints on the physics parameters, applied to a
resolved config (docs/comparison.md).

A constraint is ``name = value`` or ``name = other`` (a tie). Against the user's full config a
constraint is

- *tested*: it restricts parameters the full fit varies;
- *already met*: the config fixes (or ties) the parameters so that it holds, nothing to test;
- *not nested*: the config fixes a parameter at another value (or the value lies outside the
  parameter's bounds): the reduced model is not a special case of the user's full model.

``held`` names the parameters a reduction leaves without effect on c2 (they cannot be fitted in
the reduced model): they are held at the full fit's values there and are not tested.

``one_component`` is f_s ≡ 1 (f0 = 1, f1 = f3 = 0): the field is the sample's alone, and every
constraint of it is needed to make f_s(t) = clip(f0 e^{f1 (t − f2)} + f3, 0, 1) ≡ 1. Its mirror
f_s ≡ 0 (f0 = f3 = 0) describes the same data with the components swapped (docs/model.md); its
test (:mod:`heterodyne.comparison.minority_share`) covers both, and its constraints here serve
only to decide whether the config nests it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import MappingProxyType

from heterodyne.config.tree import AnalysisConfig, ParameterConfig
from heterodyne.errors import HeterodyneError

Constraint = tuple[str, float | str]
"""``(name, value)`` or ``(name, other parameter)``."""

REFERENCE_TRANSPORT = ("D0_ref", "alpha_ref", "D_offset_ref")
SAMPLE_TRANSPORT = ("D0_sample", "alpha_sample", "D_offset_sample")
VELOCITY = ("v0", "beta", "v_offset", "phi0")


@dataclass(frozen=True)
class Reduction:
    """A named nested model: its constraints, the parameters it leaves without effect, what it
    means, and how far its test is calibrated on speckle replicates (docs/comparison.md)."""

    name: str
    constraints: tuple[Constraint, ...]
    held: tuple[str, ...]
    meaning: str
    calibration: str

    def describe(self) -> str:
        """The constraints as ``a=b`` joined by ``;``."""
        return ";".join(f"{name}={target}" for name, target in self.constraints)


REDUCTIONS: tuple[Reduction, ...] = (
    Reduction("one_component", (("f0", 1.0), ("f1", 0.0), ("f3", 0.0)), (*REFERENCE_TRANSPORT, *VELOCITY, "f2"),
              "f_s = 1: the sample's field alone, no heterodyne term (reference transport and velocity held)",
              "calibrated; little power on short runs"),
    Reduction("tied_transport", tuple(zip(REFERENCE_TRANSPORT, SAMPLE_TRANSPORT, strict=True)), (),
              "the reference and the sample share one transport coefficient J(t)", "calibrated"),
    Reduction("steady", (("alpha_ref", 0.0), ("alpha_sample", 0.0), ("beta", 0.0), ("f1", 0.0)), ("f2",),
              "constant transport rates, velocity and fraction in time",
              "calibrated; little power for exponents on short runs"),
    Reduction("constant_fraction", (("f1", 0.0),), ("f2",), "a sample fraction constant in time", "calibrated"),
)
BY_NAME = {reduction.name: reduction for reduction in REDUCTIONS}


def select_reductions(names: list[str] | None) -> tuple[Reduction, ...]:
    """The reductions named (all of them for None), in the order of ``REDUCTIONS``; an unknown
    or repeated name is an error."""
    if names is None:
        return REDUCTIONS
    unknown = [name for name in names if name not in BY_NAME]
    if unknown:
        raise HeterodyneError(f"unknown reduction {unknown[0]!r}; the reductions are {', '.join(BY_NAME)}")
    if len(set(names)) != len(names):
        raise HeterodyneError(f"a reduction is named twice in {', '.join(names)}")
    return tuple(reduction for reduction in REDUCTIONS if reduction.name in names)


@dataclass(frozen=True)
class Nesting:
    """A reduction against a full config: the constraints left to test, as
    (name, value) and (name, other) pairs on fitted parameters, or why it is not nested."""

    tested: tuple[Constraint, ...]
    not_nested: str | None


def _effective(config: AnalysisConfig, name: str) -> str:
    """The parameter whose value ``name`` takes in ``config``: its tie target, or itself."""
    return config.parameters[name].tied_to or name


def nesting(config: AnalysisConfig, reduction: Reduction) -> Nesting:
    """Which of ``reduction``'s constraints restrict the fit of ``config`` (module docstring)."""
    tested: list[Constraint] = []
    for name, target in reduction.constraints:
        left = _effective(config, name)
        if isinstance(target, str):
            right = _effective(config, target)
            if left == right:
                continue
            fixed = [p for p in (left, right) if not config.parameters[p].vary]
            if len(fixed) == 2:
                values = [config.parameters[p].initial for p in fixed]
                if values[0] != values[1]:
                    return Nesting((), f"the config fixes {left} = {values[0]:g} and {right} = {values[1]:g}")
                continue
            if fixed:
                free = right if fixed[0] == left else left
                constraint = _value_constraint(config, free, config.parameters[fixed[0]].initial)
                if isinstance(constraint, str):
                    return Nesting((), constraint)
                tested.append(constraint)
                continue
            tested.append((left, right))
            continue
        constraint = _value_constraint(config, left, float(target))
        if isinstance(constraint, str):
            return Nesting((), constraint)
        if config.parameters[left].vary:
            tested.append(constraint)
    return Nesting(tuple(tested), None)


def _value_constraint(config: AnalysisConfig, name: str, value: float) -> Constraint | str:
    """``(name, value)``, or why the config excludes it (fixed elsewhere, or outside the bounds)."""
    entry = config.parameters[name]
    if not entry.vary and entry.initial != value:
        return f"the config fixes {name} at {entry.initial:g}, not {value:g}"
    lower, upper = entry.bounds
    if not lower <= value <= upper:
        return f"{name} = {value:g} lies outside its bounds [{lower:g}, {upper:g}]"
    return name, value


def reduced_config(config: AnalysisConfig, reduction: Reduction, values: dict[str, float]) -> AnalysisConfig:
    """``config`` under ``reduction``'s constraints, every parameter starting at ``values`` (the full
    fit's), the ``held`` ones fixed there, the fit started from these values alone.

    ``values`` are clipped into each parameter's bounds; a tie becomes ``tied_to`` (to the
    parameter the full config fits), a value a fixed parameter.
    """
    parameters = dict(config.parameters)
    for name, entry in config.parameters.items():
        lower, upper = entry.bounds
        parameters[name] = dataclasses.replace(entry, initial=min(max(values[name], lower), upper))
    for name in reduction.held:
        if parameters[name].tied_to is None:
            parameters[name] = dataclasses.replace(parameters[name], vary=False)
    for name, target in nesting(config, reduction).tested:
        parameters[name] = _constrained(parameters[name], parameters, target)
    settings = dataclasses.replace(config.optimization.nlsq, start="initial", multistart=1)
    return dataclasses.replace(config, parameters=MappingProxyType(parameters),
                               optimization=dataclasses.replace(config.optimization, nlsq=settings))


def _constrained(entry: ParameterConfig, parameters: dict[str, ParameterConfig],
                 target: float | str) -> ParameterConfig:
    """``entry`` fixed at ``target`` (a value), or tied to it (a parameter name)."""
    if isinstance(target, str):
        return dataclasses.replace(entry, initial=parameters[target].initial, tied_to=target)
    return dataclasses.replace(entry, initial=float(target), vary=False)
