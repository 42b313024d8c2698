"""Read-only HDF5 access with one-line errors: open a file, read scalars, text and 1-D vectors.

Result files come from several writers (boost_corr, Matlab, xpcs-eigen), so the same quantity may be
stored as a scalar, a (1,)/(1, 1) array, a byte string, a variable-length string or a Matlab char
array. The readers here normalise those to Python scalars, ``str`` and 1-D numpy arrays.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import h5py
import numpy as np

from heterodyne.errors import HeterodyneError

Scalar = int | float | bool | str


def one_line(text: object) -> str:
    """Collapse any message (e.g. a multi-line h5py error) to a single line."""
    return " ".join(str(text).split())


@contextmanager
def open_readonly(path: Path) -> Iterator[h5py.File]:
    """Open ``path`` read-only; a missing file or a non-HDF5 file is a one-line HeterodyneError."""
    if not path.exists():
        raise HeterodyneError(f"data file not found: {path}")
    if not path.is_file():
        raise HeterodyneError(f"data path is not a regular file: {path}")
    try:
        handle = h5py.File(path, "r")
    except OSError as exc:
        raise HeterodyneError(f"not a readable HDF5 file: {path} ({one_line(exc)})") from None
    with handle:
        yield handle


def dataset(h5: h5py.File, h5path: str) -> h5py.Dataset | None:
    """The dataset at ``h5path``, or None when the path is absent (a group there is an error)."""
    if h5path not in h5:
        return None
    node = h5[h5path]
    if not isinstance(node, h5py.Dataset):
        raise HeterodyneError(f"expected a dataset, found a group in {h5.filename} at {h5path}")
    return node


def _decode(value: object) -> object:
    if isinstance(value, bytes | np.bytes_):
        return bytes(value).decode("utf-8", errors="replace").strip("\x00 ")
    if isinstance(value, np.generic):
        return value.item()
    return value


def scalar_value(node: h5py.Dataset) -> Scalar:
    """A size-1 dataset (scalar, (1,), (1, 1)) as a Python scalar; strings decoded."""
    raw = node[()]
    if isinstance(raw, bytes | str):
        return _decode(raw)  # type: ignore[return-value]
    array = np.asarray(raw)
    if array.size != 1:
        raise HeterodyneError(
            f"expected a single value, found shape {array.shape} in {node.file.filename} at {node.name}"
        )
    return _decode(array.reshape(())[()])  # type: ignore[return-value]


def read_scalar(h5: h5py.File, h5path: str) -> Scalar | None:
    """The size-1 dataset at ``h5path`` as a Python scalar, or None when the path is absent."""
    node = dataset(h5, h5path)
    return None if node is None else scalar_value(node)


def read_number(h5: h5py.File, h5path: str) -> float | None:
    """The numeric size-1 dataset at ``h5path`` as a float, or None when absent."""
    value = read_scalar(h5, h5path)
    if value is None:
        return None
    if isinstance(value, str | bool):
        raise HeterodyneError(f"expected a number, found {value!r} in {h5.filename} at {h5path}")
    return float(value)


def read_text(h5: h5py.File, h5path: str) -> str | None:
    """A text dataset (bytes, str, or a Matlab uint8/char array) as ``str``, or None when absent."""
    node = dataset(h5, h5path)
    if node is None:
        return None
    raw = node[()]
    if isinstance(raw, bytes | str):
        return str(_decode(raw))
    array = np.asarray(raw)
    if array.dtype.kind in "ui":
        return bytes(array.astype(np.uint8).ravel()).decode("utf-8", errors="replace").strip("\x00 ")
    if array.size == 1:
        return str(_decode(array.reshape(())[()]))
    raise HeterodyneError(f"expected a string, found shape {array.shape} in {h5.filename} at {h5path}")


def read_strings(h5: h5py.File, h5path: str) -> list[str] | None:
    """A 1-D array of strings (fixed-length bytes or variable-length) as a list, or None."""
    node = dataset(h5, h5path)
    if node is None:
        return None
    raw = node[()]
    if isinstance(raw, bytes | str):
        return [str(_decode(raw))]
    return [str(_decode(item)) for item in np.asarray(raw).ravel()]


def read_vector(h5: h5py.File, h5path: str) -> np.ndarray | None:
    """A numeric dataset squeezed to 1-D (legacy files store lists as (1, N) or (N, 1)), or None."""
    node = dataset(h5, h5path)
    if node is None:
        return None
    array = np.asarray(node[()])
    if array.dtype.kind not in "uif":
        raise HeterodyneError(
            f"expected numbers, found dtype {array.dtype} in {h5.filename} at {h5path}"
        )
    if array.ndim > 1 and sum(extent > 1 for extent in array.shape) > 1:
        raise HeterodyneError(
            f"expected a 1-D list, found shape {array.shape} in {h5.filename} at {h5path}"
        )
    return array.reshape(-1)
