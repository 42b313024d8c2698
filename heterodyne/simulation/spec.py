"""The settings of a simulated file (:class:`SimulationSpec`), their validation, and what follows
from them: the clock of the stored frames, the natural q × φ grid and the processed bins with their
scaling (see :mod:`heterodyne.simulation`)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

import numpy as np

from heterodyne.errors import HeterodyneError
from heterodyne.layouts import aps_u, legacy
from heterodyne.parameters import BY_NAME, PHYSICS_NAMES, PHYSICS_PARAMETERS
from heterodyne.simulation.speckle import STATIC_BINS_PER_BIN
from heterodyne.simulation.velocity_jump import VelocityJump

SIMULATION_LAYOUTS = (aps_u.NAME, legacy.NAME)
NOISE_MODELS = ("independent", "speckle")
INDEPENDENT_ONLY = ("contrast", "contrast_anisotropy", "contrast_scatter", "offset", "noise_sigma", "diagonal_excess")
"""Spec fields that shape the independent-noise matrices only; speckle data set their own."""


@dataclass(frozen=True)
class SimulatedBin:
    """One processed bin: its natural grid cell, compressed label, (q, φ) and scaling."""

    q_index: int
    phi_index: int
    label: int
    q: float
    phi: float
    contrast: float
    offset: float


@dataclass(frozen=True)
class SimulationSpec:
    """Everything that defines a simulated file; every field has a realistic default.

    Time base: ``frame_time`` (s between raw frames) × ``stride_frame`` × ``avg_frame`` = dt
    (default 6 ms, a 1.2 s window over 200 frames). At the default q (6–12 × 10⁻³ Å⁻¹) and the
    registry's default truth (D0 = 1e4 Å²/s, v0 = 1e3 Å/s, f0 = 0.5) the processed bins
    (q = 0.009 and 0.012 Å⁻¹) decay by e^{−1.0} to e^{−1.7} over the window and the cross term
    runs through up to about two fringes (fewer where cos φ is small), far from aliasing
    (q·v·dt ≤ 0.07 rad).

    q-map: the natural grid is ``q_centres`` × ``phi_centres`` (q-major: cell n = q_idx · n_φ + φ_idx);
    ``empty_cells`` lists (q_idx, φ_idx) cells with no pixels; every non-empty cell of the rows
    ``processed_q_rows`` is processed. ``params`` overrides the registry defaults of the physics
    parameters (truth); unknown names and values outside the registry bounds are refused.

    Velocity jump (both noise kinds, default off): from ``velocity_jump_time`` (s, on the frames'
    clock :meth:`frame_times`, strictly between the first and the last stored frame) on, the
    velocity is ``velocity_jump_factor`` (> 0) times the model's, the displacement continuous
    (:mod:`heterodyne.simulation.velocity_jump`).
    """

    n_frames: int = 200
    frame_time: float = 1e-3
    stride_frame: int = 2
    avg_frame: int = 3
    begin_frame: int = 0
    q_centres: tuple[float, ...] = (0.006, 0.009, 0.012)
    phi_centres: tuple[float, ...] = (-157.5, -112.5, -67.5, -22.5, 22.5, 67.5, 112.5, 157.5)
    empty_cells: tuple[tuple[int, int], ...] = ((0, 2), (0, 3), (1, 5))
    processed_q_rows: tuple[int, ...] = (1, 2)
    contrast: float = 0.2
    contrast_anisotropy: float = 0.1
    contrast_scatter: float = 0.0
    offset: float = 1.0
    noise_sigma: float = 0.002
    diagonal_excess: float = 0.02
    seed: int = 0
    layout: str = aps_u.NAME
    incident_energy_kev: float = 10.0
    noise: str = "independent"
    pixels_per_bin: int = 2000
    speckle_modes: int = 4
    counts_per_pixel: float = 10.0
    shared_speckle: float = 0.0
    velocity_jump_time: float | None = None
    velocity_jump_factor: float = 1.0
    params: Mapping[str, float] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        self._check_time_base()
        self._check_grid()
        self._check_scaling_and_noise()
        self._check_speckle()
        self._check_truth()
        self._check_velocity_jump()

    def _check_time_base(self) -> None:
        for name in ("n_frames", "stride_frame", "avg_frame", "begin_frame", "seed", "pixels_per_bin", "speckle_modes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise HeterodyneError(f"simulation {name} must be an integer, got {value!r}")
        if self.n_frames < 2 or self.stride_frame < 1 or self.avg_frame < 1 or self.begin_frame < 0:
            raise HeterodyneError(
                f"simulation needs n_frames >= 2, stride_frame, avg_frame >= 1 and begin_frame >= 0, got "
                f"{self.n_frames}, {self.stride_frame}, {self.avg_frame}, {self.begin_frame}"
            )
        if not (math.isfinite(self.frame_time) and self.frame_time > 0):
            raise HeterodyneError(f"simulation frame_time must be positive, got {self.frame_time}")
        if self.layout not in SIMULATION_LAYOUTS:
            raise HeterodyneError(f"simulation layout must be one of {SIMULATION_LAYOUTS}, got {self.layout!r}")

    def _check_grid(self) -> None:
        if not self.q_centres or not self.phi_centres or min(self.q_centres) <= 0:
            raise HeterodyneError("simulation q_centres must be positive and phi_centres non-empty")
        n_q, n_phi = len(self.q_centres), len(self.phi_centres)
        for q_index, phi_index in self.empty_cells:
            if not (0 <= q_index < n_q and 0 <= phi_index < n_phi):
                raise HeterodyneError(
                    f"simulation empty cell ({q_index}, {phi_index}) is outside the {n_q}x{n_phi} grid"
                )
        if any(not 0 <= row < n_q for row in self.processed_q_rows):
            raise HeterodyneError(f"simulation processed_q_rows {self.processed_q_rows} outside 0..{n_q - 1}")
        if not self.processed_cells():
            raise HeterodyneError("simulation processes no bin: every cell of processed_q_rows is empty")

    def _check_scaling_and_noise(self) -> None:
        contrast_spec, offset_spec = BY_NAME["contrast"], BY_NAME["offset"]
        if not contrast_spec.lower <= self.contrast <= contrast_spec.upper:
            raise HeterodyneError(
                f"simulation contrast {self.contrast} outside [{contrast_spec.lower}, {contrast_spec.upper}]"
            )
        if not offset_spec.lower <= self.offset <= offset_spec.upper:
            raise HeterodyneError(
                f"simulation offset {self.offset} outside [{offset_spec.lower}, {offset_spec.upper}]"
            )
        if not 0 <= self.contrast_anisotropy < 1:
            raise HeterodyneError(
                f"simulation contrast_anisotropy must be in [0, 1), got {self.contrast_anisotropy}"
            )
        if not 0 <= self.contrast_scatter < 1:
            raise HeterodyneError(f"simulation contrast_scatter must be in [0, 1), got {self.contrast_scatter}")
        if not (self.noise_sigma >= 0 and self.diagonal_excess >= 0):
            raise HeterodyneError(
                "simulation noise_sigma and diagonal_excess must be >= 0, "
                f"got {self.noise_sigma}, {self.diagonal_excess}"
            )

    def _check_speckle(self) -> None:
        if self.noise not in NOISE_MODELS:
            raise HeterodyneError(f"simulation noise must be one of {NOISE_MODELS}, got {self.noise!r}")
        if self.pixels_per_bin < STATIC_BINS_PER_BIN or self.pixels_per_bin % STATIC_BINS_PER_BIN:
            raise HeterodyneError(
                f"simulation pixels_per_bin must be a positive multiple of {STATIC_BINS_PER_BIN} "
                f"(the static bins per bin), got {self.pixels_per_bin}"
            )
        if self.speckle_modes < 1:
            raise HeterodyneError(f"simulation speckle_modes must be >= 1, got {self.speckle_modes}")
        if not (math.isfinite(self.counts_per_pixel) and self.counts_per_pixel > 0):
            raise HeterodyneError(f"simulation counts_per_pixel must be positive, got {self.counts_per_pixel}")
        if isinstance(self.shared_speckle, bool) or not (
                isinstance(self.shared_speckle, numbers.Real) and 0.0 <= self.shared_speckle < 1.0):
            raise HeterodyneError(f"simulation shared_speckle must be in [0, 1), got {self.shared_speckle!r}")
        if self.shared_speckle > 0.0 and self.noise != "speckle":
            raise HeterodyneError("simulation shared_speckle: only used with noise 'speckle'")
        if self.noise == "speckle":
            changed = [
                f.name for f in fields(self) if f.name in INDEPENDENT_ONLY and getattr(self, f.name) != f.default
            ]
            if changed:
                raise HeterodyneError(
                    f"simulation {', '.join(changed)}: not used with noise 'speckle' "
                    "(its contrast is 1/speckle_modes, its offset 1 and its noise that of the photons)"
                )

    def _check_truth(self) -> None:
        for name, value in self.params.items():
            if name not in PHYSICS_NAMES:
                raise HeterodyneError(f"unknown physics parameter {name!r} (known: {', '.join(PHYSICS_NAMES)})")
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise HeterodyneError(f"truth {name} must be a finite number, got {value!r}")
            spec = BY_NAME[name]
            if not spec.lower <= value <= spec.upper:
                raise HeterodyneError(f"truth {name} = {value} is outside its bounds [{spec.lower:g}, {spec.upper:g}]")

    def _check_velocity_jump(self) -> None:
        factor, time = self.velocity_jump_factor, self.velocity_jump_time
        if isinstance(factor, bool) or not (isinstance(factor, numbers.Real) and math.isfinite(factor) and factor > 0):
            raise HeterodyneError(f"simulation velocity_jump_factor must be a positive number, got {factor!r}")
        if time is None:
            if factor != 1.0:
                raise HeterodyneError("simulation velocity_jump_factor needs a velocity_jump_time")
            return
        first, last = self.frame_times()[[0, -1]]
        if isinstance(time, bool) or not (isinstance(time, numbers.Real) and first < time < last):
            raise HeterodyneError(
                f"simulation velocity_jump_time must lie strictly between the first and last frame times "
                f"({first:g} s, {last:g} s), got {time!r}"
            )

    @property
    def velocity_jump(self) -> VelocityJump | None:
        """The jump of the velocity, or None when the flow has none."""
        if self.velocity_jump_time is None:
            return None
        return VelocityJump(float(self.velocity_jump_time), float(self.velocity_jump_factor))

    @property
    def shared_pixel_count(self) -> int:
        """Pixels of each bin whose speckle fields the bins at its q share: ⌊shared_speckle · pixels_per_bin⌋."""
        return math.floor(self.shared_speckle * self.pixels_per_bin)

    @property
    def dt(self) -> float:
        """frame_time × stride_frame × avg_frame, seconds between stored frames."""
        return self.frame_time * self.stride_frame * self.avg_frame

    @property
    def end_frame(self) -> int:
        """Last raw frame (0-based) the correlator used: begin + n_frames · stride · avg − 1."""
        return self.begin_frame + self.n_frames * self.stride_frame * self.avg_frame - 1

    @property
    def time_origin(self) -> float:
        """begin_frame × frame_time: seconds before stored frame k's k · dt (the correlator's clock)."""
        return self.begin_frame * self.frame_time

    def frame_times(self) -> np.ndarray:
        """t_k = begin_frame · frame_time + k · dt of the stored frames k = 1 … n_frames."""
        return self.time_origin + np.arange(1, self.n_frames + 1, dtype=np.float64) * self.dt

    def truth_params(self) -> dict[str, float]:
        """All 14 physics parameters in canonical order: registry defaults updated by ``params``."""
        return {p.name: float(self.params.get(p.name, p.default)) for p in PHYSICS_PARAMETERS}

    def truth_vector(self) -> np.ndarray:
        """:meth:`truth_params` as a float64 vector θ in canonical order (the model's input)."""
        return np.asarray(list(self.truth_params().values()))

    def non_empty_cells(self) -> list[tuple[int, int]]:
        """Non-empty natural cells in natural order; the i-th has compressed label i + 1."""
        empty = set(self.empty_cells)
        return [
            (q_index, phi_index)
            for q_index in range(len(self.q_centres))
            for phi_index in range(len(self.phi_centres))
            if (q_index, phi_index) not in empty
        ]

    def processed_cells(self) -> list[tuple[int, int]]:
        """The non-empty cells of ``processed_q_rows``, in natural order."""
        return [cell for cell in self.non_empty_cells() if cell[0] in self.processed_q_rows]

    def contrast_scatter_draws(self) -> np.ndarray:
        """u of the processed bins in key order: uniform in [−1, 1], from the seed's own stream for
        the per-bin contrast (independent of the noise stream ``PCG64(seed)``)."""
        stream = np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.seed).spawn(1)[0]))
        return stream.uniform(-1.0, 1.0, size=len(self.processed_cells()))

    def processed_bins(self) -> list[SimulatedBin]:
        """The processed bins with their APS-U compressed labels and scaling, in key order.

        Independent noise: contrast · (1 + contrast_anisotropy · cos 2φ) · (1 + contrast_scatter · u)
        with u from :meth:`contrast_scatter_draws`; speckle: 1/speckle_modes. Offset: ``offset`` (1 for speckle).
        """
        labels = {cell: position + 1 for position, cell in enumerate(self.non_empty_cells())}
        bins = []
        draws = self.contrast_scatter_draws()
        for position, (q_index, phi_index) in enumerate(self.processed_cells()):
            phi = self.phi_centres[phi_index]
            if self.noise == "speckle":
                contrast, offset = 1.0 / self.speckle_modes, 1.0
            else:
                contrast = self.contrast * (1.0 + self.contrast_anisotropy * math.cos(math.radians(2 * phi)))
                contrast *= 1.0 + self.contrast_scatter * float(draws[position])
                offset = self.offset
            bins.append(
                SimulatedBin(
                    q_index=q_index,
                    phi_index=phi_index,
                    label=labels[(q_index, phi_index)],
                    q=float(self.q_centres[q_index]),
                    phi=float(phi),
                    contrast=contrast,
                    offset=offset,
                )
            )
        return bins

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form of every field."""
        plain: dict[str, Any] = {}
        for spec_field in fields(self):
            value = getattr(self, spec_field.name)
            if isinstance(value, Mapping):
                value = dict(value)
            elif isinstance(value, tuple):
                value = [list(item) if isinstance(item, tuple) else item for item in value]
            plain[spec_field.name] = value
        return plain

