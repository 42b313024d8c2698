"""Windows along the sample age: their frame bounds, their names, and the analysis config of each.

A survey in windows of W frames every S frames (S = W by default: disjoint windows) over the
frames [first, last] a run selects has the windows [s, s + W − 1] for s = first, first + S, …
while s + W − 1 ≤ last. A last, partial window is dropped: it would be shorter than the others,
its estimates noisier and, for rates that change inside a window, biased differently, and the
change-point finder (:mod:`heterodyne.age.changepoint`) compares windows of one width. Frames
after the last full window belong to no window (at most S − 1 of them when S ≤ W).

A window is a run over its frames alone (``analyzer_parameters.start_frame`` and ``end_frame``):
the frames keep their ages on the file's clock, t_k = time_origin + k·dt for stored frame k.

Each window is fitted with a time-local reduction of the model, by default constant rates over
the window, with every other rate parameter held at its time-local value:

    J_ref = D0_ref, J_sample = D0_sample, v = v0, f_s = f0
    (alpha_ref = alpha_sample = beta = f1 = f2 = f3 = 0, D_offset_ref = D_offset_sample = v_offset = 0)

``free`` names the physics parameters the windows fit (default D0_ref, D0_sample, v0, f0);
``inherit`` those held at the global fit's estimate (default phi0: the flow angle is a property of
the geometry, not of the age), and ``scaling`` in it holds every angle's contrast and offset at
the global fit's (scaling mode ``fixed``); otherwise they are fitted per window. A physics
parameter in neither list is held: at 0 when the reduction above zeroes it, else at its
configured initial value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from heterodyne.errors import HeterodyneError
from heterodyne.parameters import PHYSICS_NAMES

TIME_LOCAL_ZEROS = ("alpha_ref", "D_offset_ref", "alpha_sample", "D_offset_sample", "beta", "v_offset",
                    "f1", "f2", "f3")
"""The parameters whose zero makes J_ref, J_sample, v and f_s constant in time."""
DEFAULT_FREE = ("D0_ref", "D0_sample", "v0", "f0")
DEFAULT_INHERIT = ("phi0",)
SCALING = "scaling"
"""The ``inherit`` entry that holds contrast and offset at the global fit's values."""
NAME_PREFIX = "window="
MIN_DIGITS = 4


@dataclass(frozen=True)
class Window:
    """Stored frames ``start`` … ``end`` (1-based, inclusive) and the run's name for them."""

    start: int
    end: int
    name: str

    @property
    def frames(self) -> int:
        return self.end - self.start + 1


def _positive_integer(value: Any, what: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise HeterodyneError(f"{what} must be an integer >= {least}, got {value!r}")
    return value


def window_bounds(first: int, last: int, width: int, step: int | None = None, *,
                  where: str = "windows") -> list[Window]:
    """The full windows of ``width`` frames every ``step`` (default ``width``) over frames
    ``first`` … ``last`` (module docstring); named ``window=<start>-<end>`` with the frame numbers
    zero-padded to the digits of ``last`` (at least four), so the names sort in age order.

    A width of more frames than [first, last] holds, a width below 2 or a step below 1 raise
    :class:`HeterodyneError` naming ``where``."""
    width = _positive_integer(width, f"{where}: width", 2)
    step = width if step is None else _positive_integer(step, f"{where}: step", 1)
    available = last - first + 1
    if width > available:
        raise HeterodyneError(f"{where}: width {width} is more than the {available} frames selected "
                              f"({first}..{last})")
    digits = max(MIN_DIGITS, len(str(last)))
    return [Window(start, start + width - 1, f"{NAME_PREFIX}{start:0{digits}d}-{start + width - 1:0{digits}d}")
            for start in range(first, last - width + 2, step)]


def disjoint(windows: Sequence[tuple[int, int]]) -> list[int]:
    """Indices of a greedy run of windows that share no frame (the first, then each that starts
    after the last kept one ends): with a step S < W, every ⌈W/S⌉-th window."""
    kept: list[int] = []
    for index, (start, _) in enumerate(windows):
        if not kept or start > windows[kept[-1]][1]:
            kept.append(index)
    return kept


def check_parameter_lists(free: Iterable[str], inherit: Iterable[str], where: str = "windows") -> None:
    """Known names, none twice, none both free and inherited; at least one free parameter."""
    free, inherit = list(free), list(inherit)
    for key, names, known in (("free", free, PHYSICS_NAMES), ("inherit", inherit, (*PHYSICS_NAMES, SCALING))):
        for name in names:
            if name not in known:
                raise HeterodyneError(f"{where}.{key}: unknown parameter {name!r} (known: {', '.join(known)})")
        if len(set(names)) != len(names):
            raise HeterodyneError(f"{where}.{key}: a parameter is listed twice")
    both = sorted(set(free) & set(inherit))
    if both:
        raise HeterodyneError(f"{where}: {', '.join(both)} both free and inherited")
    if not free:
        raise HeterodyneError(f"{where}.free: no parameter to fit")


def window_overrides(window: Window, free: Sequence[str] = DEFAULT_FREE,
                     inherit: Sequence[str] = DEFAULT_INHERIT) -> dict[str, Any]:
    """The dotted-key overrides of a window's run that do not depend on the global fit: its frames
    and which physics parameters vary (the inherited ones are held here; their values come from
    :func:`inherited_overrides`)."""
    check_parameter_lists(free, inherit)
    overrides: dict[str, Any] = {"analyzer_parameters.start_frame": window.start,
                                 "analyzer_parameters.end_frame": window.end}
    for name in PHYSICS_NAMES:
        overrides[f"parameters.{name}.vary"] = name in free
        if name not in free and name not in inherit and name in TIME_LOCAL_ZEROS:
            overrides[f"parameters.{name}.initial"] = 0.0
    return overrides


def inherited_overrides(global_result: Mapping[str, Any], inherit: Sequence[str]) -> dict[str, Any]:
    """The dotted-key overrides that hold ``inherit`` at the global run's NLSQ estimate (its
    result.json document): each physics parameter's value, and for ``scaling`` every angle's
    contrast and offset (scaling mode ``fixed``)."""
    section = global_result.get("nlsq")
    if not isinstance(section, Mapping):
        raise HeterodyneError("the global run's result has no nlsq section")
    overrides: dict[str, Any] = {}
    for name in inherit:
        if name == SCALING:
            overrides.update({"scaling.mode": "fixed", "scaling.contrast.initial": list(section["contrast"]),
                              "scaling.offset.initial": list(section["offset"])})
        elif name in PHYSICS_NAMES:
            overrides[f"parameters.{name}.initial"] = float(section[name])
            overrides[f"parameters.{name}.vary"] = False
        else:
            known = ", ".join((*PHYSICS_NAMES, SCALING))
            raise HeterodyneError(f"windows.inherit: unknown parameter {name!r} (known: {known})")
    return overrides
