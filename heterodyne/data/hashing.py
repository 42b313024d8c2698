"""SHA-256 of an input file, streamed in 1 MiB blocks so large HDF5 files never sit in memory."""

from __future__ import annotations

import hashlib
from pathlib import Path

from heterodyne.errors import HeterodyneError

BLOCK_SIZE = 1 << 20


def file_sha256(path: str | Path) -> str:
    """Return the hex SHA-256 digest of the file at ``path`` (read-only, 1 MiB blocks)."""
    digest = hashlib.sha256()
    try:
        with Path(path).open("rb") as stream:
            while block := stream.read(BLOCK_SIZE):
                digest.update(block)
    except FileNotFoundError:
        raise HeterodyneError(f"data file not found: {path}") from None
    except OSError as exc:
        raise HeterodyneError(f"cannot read data file {path}: {exc.strerror or exc}") from None
    return digest.hexdigest()
