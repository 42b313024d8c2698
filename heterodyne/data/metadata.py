"""Provenance metadata: the correlator configuration and the incident energy.

APS-U keeps the correlator settings as scalar datasets in ``/xpcs/twotime/config`` and the energy
(keV) at ``/entry/instrument/incident_beam/incident_energy``. Legacy files keep scalar settings
directly under ``/xpcs`` and the energy at ``/measurement/instrument/source_begin/energy``.
"""

from __future__ import annotations

import h5py

from heterodyne.data.h5access import Scalar, read_number, scalar_value
from heterodyne.data.layouts import APS_U, LEGACY, Layout
from heterodyne.layouts import aps_u, legacy


def _scalar_datasets(group: h5py.Group) -> dict[str, Scalar]:
    return {
        name: scalar_value(node)
        for name, node in sorted(group.items())
        if isinstance(node, h5py.Dataset) and node.size == 1
    }


def read_correlator_config(h5: h5py.File, layout: Layout) -> dict[str, Scalar]:
    """Every single-valued dataset of the correlator-settings group, as Python scalars."""
    candidates: tuple[str, ...]
    if layout.name == APS_U:
        candidates = (aps_u.CONFIG_GROUP,)
    elif layout.name == LEGACY:
        candidates = (legacy.SETTINGS_GROUP,)
    else:
        candidates = (aps_u.CONFIG_GROUP, legacy.SETTINGS_GROUP)
    for h5path in candidates:
        group = h5.get(h5path)
        if isinstance(group, h5py.Group):
            return _scalar_datasets(group)
    return {}


def read_incident_energy(h5: h5py.File, layout: Layout) -> float | None:
    """Incident energy in keV, or None when the file does not record it."""
    candidates = (aps_u.INCIDENT_ENERGY, legacy.INCIDENT_ENERGY)
    if layout.name == LEGACY:
        candidates = candidates[::-1]
    for h5path in candidates:
        energy = read_number(h5, h5path)
        if energy is not None:
            return energy
    return None
