"""The clock of the stored frames: the time step between them and the time of the first.

``dt = frame_time × stride × avg`` (docs/data-formats.md, "The clock"): APS-U reads
``/entry/instrument/detector_1/frame_time`` and ``/xpcs/twotime/config/{stride_frame, avg_frame}``;
legacy reads ``/measurement/instrument/detector/exposure_period`` and ``/xpcs/{stride,avg}_frames``.
A missing stride or averaging factor counts as 1. A dt given in the analysis configuration
overrides the file's; a difference of more than 1 % is logged as a warning.

Stored frame k (1-based) of a correlator run begun at raw frame b (0-based) sits at

    t_k = t_0 + k · dt,   t_0 = b · dt / (stride × avg)   (= b · frame_time with the file's dt)

b is ``/xpcs/twotime/config/begin_frame`` (APS-U, 0-based as the correlator numbers raw frames) or
``/xpcs/data_begin_todo`` − 1 (legacy, whose frame numbers are 1-based; ``/xpcs/data_begin`` − 1
when that is absent); no recorded b means b = 0, t_k = k · dt. A ``time_origin`` in the analysis
configuration overrides t_0.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import h5py

from heterodyne.data.h5access import read_number
from heterodyne.data.layouts import APS_U, LEGACY, Layout
from heterodyne.errors import HeterodyneError
from heterodyne.layouts import aps_u, legacy

logger = logging.getLogger("heterodyne")

DT_MISMATCH_WARNING = 0.01
"""Relative difference between a configured dt and the file's above which a warning is logged."""


@dataclass(frozen=True)
class TimeStep:
    """The file's time-base factors, the raw frame (0-based) its run began at, and the HDF5 path
    each came from (None: absent)."""

    frame_time: float | None
    stride: float
    average: float
    sources: dict[str, str | None]
    begin_frame: int = 0

    @property
    def dt(self) -> float | None:
        """frame_time × stride × average, or None when the file has no frame time."""
        return None if self.frame_time is None else self.frame_time * self.stride * self.average

    def as_dict(self) -> dict[str, float | str | None]:
        """Plain JSON-ready form: the factors, the begin frame, their source paths and the product."""
        return {
            "frame_time": self.frame_time,
            "stride": self.stride,
            "average": self.average,
            "dt": self.dt,
            "begin_frame": self.begin_frame,
            **{f"{factor}_path": path for factor, path in self.sources.items()},
        }

    def origin(self, dt: float) -> float:
        """t_0 = begin_frame · dt / (stride × average): the time before stored frame k's k · dt."""
        return self.begin_frame * dt / (self.stride * self.average)


def _first_present(h5: h5py.File, candidates: tuple[str, ...]) -> tuple[float | None, str | None]:
    for h5path in candidates:
        value = read_number(h5, h5path)
        if value is not None:
            return value, h5path
    return None, None


def read_begin_frame(h5: h5py.File, layout: Layout) -> tuple[int, str | None]:
    """The 0-based raw frame the run began at and its path ((0, None) when the file has none)."""
    candidates = [(aps_u.BEGIN, 0)] if layout.name != LEGACY else []
    if layout.name != APS_U:
        candidates += [(path, 1) for path in (legacy.DATA_BEGIN_TODO, legacy.DATA_BEGIN)]
    for h5path, first in candidates:
        value = read_number(h5, h5path)
        if value is None:
            continue
        if not (math.isfinite(value) and value == round(value) and value >= first):
            numbering = "0-based" if first == 0 else "1-based"
            raise HeterodyneError(
                f"begin frame must be a {numbering} frame number, found {value} in {h5.filename} at {h5path}"
            )
        return int(value) - first, h5path
    return 0, None


def read_time_step(h5: h5py.File, layout: Layout) -> TimeStep:
    """The time-base factors of the layout (transitional files: APS-U paths first, then legacy)."""
    aps_u_paths = (aps_u.FRAME_TIME, aps_u.STRIDE, aps_u.AVERAGE)
    legacy_paths = (legacy.FRAME_TIME, legacy.STRIDE, legacy.AVERAGE)
    candidates: list[tuple[str, ...]]
    if layout.name == APS_U:
        candidates = [(path,) for path in aps_u_paths]
    elif layout.name == LEGACY:
        candidates = [(path,) for path in legacy_paths]
    else:
        candidates = list(zip(aps_u_paths, legacy_paths, strict=True))
    (frame_time, frame_path), (stride, stride_path), (average, average_path) = (
        _first_present(h5, paths) for paths in candidates
    )
    for factor, path in ((stride, stride_path), (average, average_path)):
        if factor is not None and not factor > 0:
            raise HeterodyneError(f"frame factor must be positive, found {factor} in {h5.filename} at {path}")
    begin_frame, begin_path = read_begin_frame(h5, layout)
    return TimeStep(
        frame_time=frame_time,
        stride=1.0 if stride is None else stride,
        average=1.0 if average is None else average,
        sources={"frame_time": frame_path, "stride": stride_path, "average": average_path,
                 "begin_frame": begin_path},
        begin_frame=begin_frame,
    )


def resolve_dt(time_step: TimeStep, override: float | None, file: str) -> tuple[float, str]:
    """The dt to use and its source ("config" or "file"); refuses a missing or non-positive dt."""
    file_dt = time_step.dt
    if override is not None:
        if not (math.isfinite(override) and override > 0):
            raise HeterodyneError(
                f"dt must be a positive number of seconds, got {override} (configuration, for {file})"
            )
        if file_dt is not None and file_dt > 0 and abs(override - file_dt) > DT_MISMATCH_WARNING * file_dt:
            logger.warning(
                "%s: configured dt = %g s differs from the file's %g s (frame_time %g x stride %g x avg %g) "
                "by more than 1 %%; using the configured value",
                file,
                override,
                file_dt,
                time_step.frame_time,
                time_step.stride,
                time_step.average,
            )
        return float(override), "config"
    if file_dt is None:
        looked_for = f"{aps_u.FRAME_TIME} or {legacy.FRAME_TIME}"
        raise HeterodyneError(f"no frame time in {file} (looked for {looked_for}); give dt in the configuration")
    if not (math.isfinite(file_dt) and file_dt > 0):
        raise HeterodyneError(
            f"dt = {file_dt} from the file is not positive in {file} at {time_step.sources['frame_time']}"
        )
    return file_dt, "file"


def resolve_time_origin(
    time_step: TimeStep, dt: float, override: float | None, file: str
) -> tuple[float, str | None]:
    """t_0 and its source: "config", the HDF5 path of the begin frame, or None (none recorded, t_0 = 0)."""
    if override is not None:
        if not (math.isfinite(override) and override >= 0):
            raise HeterodyneError(
                f"time_origin must be a number of seconds >= 0, got {override} (configuration, for {file})"
            )
        return float(override), "config"
    return time_step.origin(dt), time_step.sources["begin_frame"]
