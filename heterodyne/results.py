"""Writing a run's outputs: ``result.json`` and NPZ files, atomically, with plain values only.

Atomic: each file is written to a temporary name in its directory, flushed to disk and renamed
over the target, so an interrupted run never leaves a truncated file. JSON holds no NaN or
infinity (they become null, so ``jq`` reads every file); NPZ files hold plain numeric and
unicode arrays only (loadable with ``allow_pickle=False``).
"""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from heterodyne.errors import HeterodyneError
from heterodyne.interrupt import raise_if_interrupted


def check_writable(directory: Path) -> None:
    """Refuse early when ``directory`` cannot be created or written (nothing is created here)."""
    existing = directory
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise HeterodyneError(f"output directory {directory}: {existing} is not a writable directory")


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


@contextmanager
def atomic_destination(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (directories created); on success rename it onto
    ``path``, otherwise remove it. The file gets 0666 less the umask, not mkstemp's 0600."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise HeterodyneError(f"cannot write {path}: {error.strerror or error}") from error
    os.fchmod(descriptor, 0o666 & ~_umask())
    os.close(descriptor)
    try:
        yield Path(temporary)
        raise_if_interrupted()
        os.replace(temporary, path)
    except OSError as error:
        raise HeterodyneError(f"cannot write {path}: {error.strerror or error}") from error
    finally:
        Path(temporary).unlink(missing_ok=True)


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` atomically, flushed to disk before the rename."""
    with atomic_destination(path) as temporary, open(temporary, "wb") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())


def plain(value: Any) -> Any:
    """``value`` with numpy scalars/arrays turned into Python ones and non-finite floats into None."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: Path, document: dict) -> None:
    """Atomically write ``document`` as indented JSON (keys in insertion order)."""
    text = json.dumps(plain(document), indent=2, allow_nan=False) + "\n"
    atomic_write_bytes(path, text.encode())


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Atomically write plain arrays (numeric or unicode; object arrays are refused)."""
    converted: dict[str, Any] = {name: np.asarray(array) for name, array in arrays.items()}
    for name, array in converted.items():
        if array.dtype.kind not in "biufU":
            raise TypeError(f"{path.name}: array {name!r} has dtype {array.dtype}, not a plain type")
    buffer = io.BytesIO()
    np.savez(buffer, **converted)
    atomic_write_bytes(path, buffer.getvalue())
