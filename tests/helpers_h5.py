"""Shared builders for the data and simulator tests: small simulated files and edited copies.

Every test file uses the same small frame count so the model is compiled for one shape only.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from heterodyne.simulation import SimulationSpec, simulate_dataset

SMALL_FRAMES = 40


def simulate_small(directory: Path, name: str = "data.h5", **spec_fields: Any) -> tuple[Path, dict[str, Any]]:
    """Simulate a SMALL_FRAMES file in ``directory``; return its path and the parsed truth JSON."""
    spec = SimulationSpec(**{"n_frames": SMALL_FRAMES, **spec_fields})
    path = directory / name
    truth_path = simulate_dataset(path, spec)
    return path, json.loads(truth_path.read_text())


def edited_copy(source: Path, target: Path, edit: Callable[[h5py.File], None]) -> Path:
    """Copy ``source`` to ``target`` and apply ``edit`` to the copy opened read-write."""
    shutil.copyfile(source, target)
    with h5py.File(target, "r+") as h5:
        edit(h5)
    return target


def stored_half(path: Path, h5path: str) -> np.ndarray:
    """The stored matrix at ``h5path`` exactly as written, as float64."""
    with h5py.File(path, "r") as h5:
        return np.asarray(h5[h5path][()], dtype=np.float64)


def rebuilt_full(half: np.ndarray) -> np.ndarray:
    """h + hᵀ − diag(h) of a stored half matrix."""
    return half + half.T - np.diag(np.diag(half))


def to_transitional(h5: h5py.File) -> None:
    """Edit an APS-U file into the transitional layout: the matrices move to /xpcs/C2T_all as g2_NNNNN."""
    h5.create_group("/xpcs/C2T_all")
    for key in list(h5["/xpcs/twotime/correlation_map"]):
        h5.move(f"/xpcs/twotime/correlation_map/{key}", f"/xpcs/C2T_all/{key.replace('c2_', 'g2_')}")
    del h5["/xpcs/twotime/correlation_map"]


def replace_dataset(h5: h5py.File, h5path: str, data: Any) -> None:
    """Delete ``h5path`` (if present) and write ``data`` there."""
    if h5path in h5:
        del h5[h5path]
    h5[h5path] = data


@contextmanager
def heterodyne_warnings() -> Iterator[list[str]]:
    """Collect the messages of WARNING records of the ``heterodyne`` logger (propagation-independent)."""
    messages: list[str] = []

    class Collector(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                messages.append(record.getMessage())

    logger = logging.getLogger("heterodyne")
    handler = Collector()
    logger.addHandler(handler)
    previous_level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)
