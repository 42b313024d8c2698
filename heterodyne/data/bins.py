"""The bin table: for every stored matrix its key, its q-map label, and its (q, φ).

APS-U (docs/data-formats.md). ``processed_bins[k]`` is the 1-based *compressed* label L of the
k-th key (keys in counter order). Compressed labels skip the empty cells of the natural
n_q × n_φ grid, so the natural 0-based index is ``n = dynamic_index_mapping[L − 1]`` and
``q_idx, φ_idx = divmod(n, n_φ)``; ``q = dynamic_v_list_dim0[q_idx]``, ``φ = dynamic_v_list_dim1[φ_idx]``.
Computing ``(L − 1) // n_φ`` directly mislabels every bin after the first empty cell.

Legacy (§2). ``qphi_bin_to_process[k]`` is the 1-based dynamic partition of the k-th key and
``q = dqlist[L − 1]``, ``φ = dphilist[L − 1]`` (the lists are stored (1, N): squeezed here).

Transitional. Matrices under ``/xpcs/C2T_all``; labels and q-map are read from whichever of the
APS-U or legacy paths the file carries (APS-U first).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import h5py
import numpy as np

from heterodyne.data.h5access import read_strings, read_vector
from heterodyne.data.layouts import APS_U, LEGACY, Layout
from heterodyne.errors import HeterodyneError
from heterodyne.layouts import aps_u, legacy

logger = logging.getLogger("heterodyne")


@dataclass(frozen=True)
class BinInfo:
    """One stored matrix: its dataset key, 1-based q-map label, q (Å⁻¹) and φ (degrees)."""

    key: str
    label: int
    q: float
    phi: float

    def as_dict(self) -> dict[str, str | int | float]:
        """Plain JSON-ready form."""
        return {"key": self.key, "label": self.label, "q": self.q, "phi": self.phi}


def _integer_labels(values: np.ndarray, h5: h5py.File, h5path: str) -> np.ndarray:
    """Labels as int64, refusing non-integral or non-positive entries."""
    if values.size and (np.any(values != np.round(values)) or np.any(values < 1)):
        raise HeterodyneError(
            f"bin labels must be integers >= 1, found {values.tolist()[:10]} in {h5.filename} at {h5path}"
        )
    return values.astype(np.int64)


def _read_labels(h5: h5py.File, layout: Layout, n_keys: int) -> np.ndarray:
    """The q-map label of each key, from the layout's label dataset (checked against the key count)."""
    candidates = {
        APS_U: (aps_u.PROCESSED_BINS,),
        LEGACY: (legacy.BINS_TO_PROCESS,),
    }.get(layout.name, (aps_u.PROCESSED_BINS, legacy.BINS_TO_PROCESS))
    for h5path in candidates:
        values = read_vector(h5, h5path)
        if values is None:
            continue
        if values.size != n_keys:
            raise HeterodyneError(
                f"{h5path} lists {values.size} bins but {layout.matrix_group} holds {n_keys} matrices "
                f"in {h5.filename}"
            )
        return _integer_labels(values, h5, h5path)
    if layout.name == APS_U:
        raise HeterodyneError(f"missing {aps_u.PROCESSED_BINS} (labels of the c2 matrices) in {h5.filename}")
    logger.warning(
        "%s: no %s; assuming the k-th matrix of %s is dynamic bin k",
        h5.filename,
        " or ".join(candidates),
        layout.matrix_group,
    )
    return np.arange(1, n_keys + 1, dtype=np.int64)


def _required_vector(h5: h5py.File, h5path: str, what: str) -> np.ndarray:
    values = read_vector(h5, h5path)
    if values is None:
        raise HeterodyneError(f"missing {what} in {h5.filename} at {h5path}")
    return values


def _check_map_names(h5: h5py.File) -> None:
    """Refuse q-maps whose two axes are not (q, φ); warn when the names are absent."""
    names = read_strings(h5, aps_u.QMAP_MAP_NAMES)
    if names is None:
        logger.warning("%s: no %s; assuming the q-map axes are (q, phi)", h5.filename, aps_u.QMAP_MAP_NAMES)
        return
    if [name.strip().lower() for name in names] != ["q", "phi"]:
        raise HeterodyneError(
            f"q-map axes are {names}, expected ['q', 'phi'] in {h5.filename} at {aps_u.QMAP_MAP_NAMES}"
        )


def aps_u_coordinates(h5: h5py.File, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(q, φ) of compressed labels through ``dynamic_index_mapping`` and the natural grid."""
    _check_map_names(h5)
    q_centres = _required_vector(h5, aps_u.QMAP_DIM0, "q bin centres")
    phi_centres = _required_vector(h5, aps_u.QMAP_DIM1, "phi bin centres")
    n_q, n_phi = q_centres.size, phi_centres.size
    num_pts = read_vector(h5, aps_u.QMAP_NUM_PTS)
    if num_pts is not None and num_pts.tolist() != [n_q, n_phi]:
        raise HeterodyneError(
            f"{aps_u.QMAP_NUM_PTS} = {num_pts.tolist()} does not match the {n_q} q and {n_phi} phi centres "
            f"in {h5.filename}"
        )
    mapping = read_vector(h5, aps_u.QMAP_INDEX_MAPPING)
    if mapping is None:
        logger.warning(
            "%s: no %s (old q-map); assuming compressed label L is natural grid cell L-1",
            h5.filename,
            aps_u.QMAP_INDEX_MAPPING,
        )
        mapping = np.arange(n_q * n_phi)
    beyond = labels[labels > mapping.size]
    if beyond.size:
        raise HeterodyneError(
            f"label {int(beyond[0])} is beyond the {mapping.size} entries of {aps_u.QMAP_INDEX_MAPPING} "
            f"in {h5.filename}"
        )
    natural = mapping[labels - 1].astype(np.int64)
    outside = natural[(natural < 0) | (natural >= n_q * n_phi)]
    if outside.size:
        raise HeterodyneError(
            f"natural index {int(outside[0])} is outside the {n_q}x{n_phi} grid in {h5.filename} "
            f"at {aps_u.QMAP_INDEX_MAPPING}"
        )
    q_index, phi_index = np.divmod(natural, n_phi)
    return q_centres[q_index].astype(np.float64), phi_centres[phi_index].astype(np.float64)


def legacy_coordinates(h5: h5py.File, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(q, φ) of 1-based dynamic partitions from the squeezed ``dqlist`` and ``dphilist``."""
    q_list = _required_vector(h5, legacy.Q_LIST, "q list of the dynamic partitions")
    phi_list = _required_vector(h5, legacy.PHI_LIST, "phi list of the dynamic partitions")
    if phi_list.size == 1:
        phi_list = np.full(q_list.size, phi_list[0])
    if q_list.size != phi_list.size:
        raise HeterodyneError(
            f"{legacy.Q_LIST} has {q_list.size} entries but {legacy.PHI_LIST} has {phi_list.size} "
            f"in {h5.filename}"
        )
    beyond = labels[labels > q_list.size]
    if beyond.size:
        raise HeterodyneError(
            f"bin {int(beyond[0])} is beyond the {q_list.size} partitions of {legacy.Q_LIST} in {h5.filename}"
        )
    return q_list[labels - 1].astype(np.float64), phi_list[labels - 1].astype(np.float64)


def read_bin_table(h5: h5py.File, layout: Layout, keys: list[str]) -> tuple[BinInfo, ...]:
    """Key, label, q and φ of every stored matrix, in key order."""
    labels = _read_labels(h5, layout, len(keys))
    uses_aps_u_qmap = layout.name == APS_U or (layout.name != LEGACY and aps_u.QMAP_DIM0 in h5)
    coordinates = aps_u_coordinates if uses_aps_u_qmap else legacy_coordinates
    q, phi = coordinates(h5, labels)
    return tuple(
        BinInfo(key=key, label=int(label), q=float(q_k), phi=float(phi_k))
        for key, label, q_k, phi_k in zip(keys, labels, q, phi, strict=True)
    )
