"""Detect the layout of a two-time result file from its content (docs/data-formats.md).

No file carries a format attribute. The checks run in a fixed order:

1. APS-U ("nexus", boost_corr since 2025): ``/xpcs/twotime/correlation_map`` holds ``c2_NNNNN``.
2. Legacy (Matlab / xpcs-eigen): ``/xpcs/output_data`` names the result group (normally
   ``/exchange``) whose ``C2T_all`` holds ``g2_NNNNN``; or ``/exchange/C2T_all`` directly.
3. Transitional: ``/xpcs/C2T_all`` beside APS-U metadata.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import h5py

from heterodyne.data.h5access import read_text
from heterodyne.errors import HeterodyneError
from heterodyne.layouts import aps_u, legacy, transitional

APS_U, LEGACY, TRANSITIONAL = aps_u.NAME, legacy.NAME, transitional.NAME
"""The layout names :class:`Layout` reports (defined in :mod:`heterodyne.layouts`)."""

MATRIX_KEY = re.compile(r"^[cg]2_(\d+)$")
"""Matrix keys are zero-padded counters (``c2_00001``, ``g2_00001``), not bin ids."""


@dataclass(frozen=True)
class Layout:
    """A detected layout: its name and the HDF5 group that holds the half matrices."""

    name: str
    matrix_group: str


def _legacy_matrix_group(h5: h5py.File) -> str | None:
    """The C2T_all group the legacy pointer ``/xpcs/output_data`` leads to, if it exists."""
    target = read_text(h5, legacy.RESULT_POINTER)
    if target is None:
        return None
    group = "/" + target.strip().strip("/") + f"/{legacy.MATRIX_SUBGROUP}"
    return group if group in h5 else None


def detect_layout(h5: h5py.File) -> Layout:
    """Return the layout of an open file; a file with none of the known paths is an error."""
    if aps_u.MATRIX_GROUP in h5:
        return Layout(APS_U, aps_u.MATRIX_GROUP)
    followed = _legacy_matrix_group(h5)
    if followed is not None:
        return Layout(LEGACY, followed)
    if legacy.MATRIX_GROUP in h5:
        return Layout(LEGACY, legacy.MATRIX_GROUP)
    if transitional.MATRIX_GROUP in h5:
        return Layout(TRANSITIONAL, transitional.MATRIX_GROUP)
    pointer_note = ""
    if legacy.RESULT_POINTER in h5:
        pointer_note = f" ({legacy.RESULT_POINTER} = {read_text(h5, legacy.RESULT_POINTER)!r} has no C2T_all)"
    raise HeterodyneError(
        f"no two-time correlation data in {h5.filename}: looked for {aps_u.MATRIX_GROUP} (APS-U), "
        f"{legacy.RESULT_POINTER} -> <group>/C2T_all or {legacy.MATRIX_GROUP} (legacy), "
        f"{transitional.MATRIX_GROUP} (transitional){pointer_note}"
    )


def matrix_keys(h5: h5py.File, layout: Layout) -> list[str]:
    """The matrix dataset names of the layout's group, sorted by their numeric counter."""
    group = h5[layout.matrix_group]
    if not isinstance(group, h5py.Group):
        raise HeterodyneError(f"expected a group of matrices in {h5.filename} at {layout.matrix_group}")
    numbered = [
        (int(match.group(1)), name)
        for name in group
        if (match := MATRIX_KEY.match(name)) and isinstance(group[name], h5py.Dataset)
    ]
    if not numbered:
        members = ", ".join(sorted(group)[:10]) or "nothing"
        raise HeterodyneError(
            f"no c2_NNNNN/g2_NNNNN matrices in {h5.filename} at {layout.matrix_group} (it holds {members})"
        )
    return [name for _, name in sorted(numbered)]
