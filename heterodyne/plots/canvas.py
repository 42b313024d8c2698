"""Blank figures and their atomic writing, in PNG (default), SVG or PDF.

Figures are plain :class:`matplotlib.figure.Figure` objects rendered by the non-interactive Agg
(or vector) canvas: no pyplot, so no GUI backend is ever selected and nothing global changes.
Vector files carry no creation date, so the same figure gives the same bytes.
"""

from __future__ import annotations

import io
from pathlib import Path

from heterodyne.errors import HeterodyneError
from heterodyne.results import atomic_write_bytes

IMAGE_FORMATS = ("png", "svg", "pdf")
DPI = 100
NO_DATE = {"png": None, "svg": {"Date": None}, "pdf": {"CreationDate": None}}


def check_image_format(image_format: str) -> None:
    """Refuse a format other than png, svg or pdf."""
    if image_format not in IMAGE_FORMATS:
        raise HeterodyneError(f"image format {image_format!r}: expected one of {', '.join(IMAGE_FORMATS)}")


def new_figure(width: float, height: float, *, constrained: bool = True):
    """A blank figure of ``width`` × ``height`` inches, with constrained layout unless told not to."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained" if constrained else None)


def save_figure(figure, directory: Path, stem: str, image_format: str) -> Path:
    """Write ``figure`` to ``directory/stem.<image_format>`` atomically and return the path."""
    check_image_format(image_format)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=image_format, dpi=DPI, metadata=NO_DATE[image_format])
    path = directory / f"{stem}.{image_format}"
    atomic_write_bytes(path, buffer.getvalue())
    return path
