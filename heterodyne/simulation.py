"""Simulated two-time result files with known truth, in the correlator's layouts.

No public test data set exists, so the package writes its own. Entry point::

    simulate_dataset(path, SimulationSpec(...), truth_path=None) -> Path of the truth JSON

:class:`SimulationSpec` holds every setting (all have defaults); ``noise`` picks the noise model:

``"independent"`` (default): the model (:func:`heterodyne.model.c2_grid`) evaluated on the stored
frame times, plus per-bin contrast ``contrast · (1 + contrast_anisotropy · cos 2φ) · (1 + contrast_scatter · u)``,
a common ``offset``, a shot-noise excess ``diagonal_excess`` on the diagonal c2(t, t) and independent
Gaussian noise of standard deviation ``noise_sigma`` on the stored upper triangle (diagonal
included), drawn from ``numpy.random.Generator(PCG64(seed))`` bin after bin in key order. The irregular factor
``u`` is uniform in [−1, 1], one per processed bin in key order, from a stream of its own
(``PCG64(SeedSequence(seed).spawn(1)[0])``), so ``contrast_scatter`` = 0 (the default) leaves the
file as it was and the noise is the same whatever the scatter.

``"speckle"``: pixel-level speckle fields and Poisson photon counts (:mod:`heterodyne.speckle`),
``pixels_per_bin`` pixels of ``speckle_modes`` modes each (contrast 1/speckle_modes, offset 1) at
``counts_per_pixel`` mean photons per pixel and raw frame (about 10 is photon-rich, 0.05
photon-sparse), reduced to c2 as the APS correlator does. Its noise is that of measured data:
elements sharing a frame, or on nearby frames, are correlated. ``shared_speckle`` (default 0) is
the fraction of each bin's pixels whose speckle fields are common to all processed bins at the
same q: their frame effects, and so their noise, are then partly shared between angles, as when
bins overlap. Example (3 bins at one q)::

    spec = SimulationSpec(noise="speckle", n_frames=200, q_centres=(0.01,), phi_centres=(0, 45, 90),
                          empty_cells=(), processed_q_rows=(0,), pixels_per_bin=2000,
                          speckle_modes=4, counts_per_pixel=10.0, seed=7, params={"v0": 500.0})

Both modes have:

- the correlator's clock: stored frame k (1-based) of a run begun at raw frame ``begin_frame``
  (0-based) sits at t_k = begin_frame · frame_time + k · dt, dt = frame_time × stride_frame ×
  avg_frame;
- a natural q × φ grid with empty cells (beam stop, detector gaps), so the compressed q-map labels
  skip them and only ``dynamic_index_mapping`` recovers (q, φ) of a label;
- only a subset of the bins processed into two-time matrices;
- storage as float32 upper triangles (lower triangle 0), one chunk per matrix, LZF (APS-U) or
  gzip (legacy). The same spec gives byte-identical matrices (legacy files are byte-identical as
  a whole; h5py's LZF filter may encode the same data to different bytes, so APS-U files are
  identical only once decompressed).

The truth (parameters, per-bin (q, φ), contrast and offset, dt, clock, noise, seed and the whole
spec) goes to ``<file>.truth.json``. Both files are written under a temporary name in the target
directory and moved into place with ``os.replace``.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import h5py
import numpy as np

from heterodyne import __version__
from heterodyne.detector_maps import DetectorMaps, build_maps
from heterodyne.errors import HeterodyneError
from heterodyne.parameters import BY_NAME, PHYSICS_NAMES, PHYSICS_PARAMETERS
from heterodyne.results import atomic_destination
from heterodyne.speckle import STATIC_BINS_PER_BIN, SpeckleFrames, correlator_c2, expected_counts, simulate_counts

SIMULATION_LAYOUTS = ("aps-u", "legacy")
NOISE_MODELS = ("independent", "speckle")
INDEPENDENT_ONLY = ("contrast", "contrast_anisotropy", "contrast_scatter", "offset", "noise_sigma", "diagonal_excess")
"""Spec fields that shape the independent-noise matrices only; speckle data set their own."""
TRUTH_SUFFIX = ".truth.json"
TRUTH_FORMAT = "heterodyne-simulation-truth/1"
G2_SEGMENTS = 5
"""Diagonal blocks of ``normalized_g2_segments``, as the correlator writes."""
DETECTOR_DISTANCE_M = 5.0
PIXEL_SIZE_M = 75e-6
START_TIME = "2000-01-01T00:00:00"
"""The fictitious start of every simulated run (a fixed value, so the same spec gives the same file)."""


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
    layout: str = "aps-u"
    incident_energy_kev: float = 10.0
    noise: str = "independent"
    pixels_per_bin: int = 2000
    speckle_modes: int = 4
    counts_per_pixel: float = 10.0
    shared_speckle: float = 0.0
    params: Mapping[str, float] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        self._check_time_base()
        self._check_grid()
        self._check_scaling_and_noise()
        self._check_speckle()
        self._check_truth()

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


def model_matrices(spec: SimulationSpec) -> np.ndarray:
    """Noise-free model c2, (K, N, N) float64, of the processed bins at the stored frame times
    t_k = begin_frame · frame_time + k · dt, k = 1…N.

    One bin at a time (memory stays N² per bin), through one jit-compiled evaluation.
    """
    from heterodyne.jaxconfig import jax, jnp
    from heterodyne.model import c2_grid

    evaluate = jax.jit(c2_grid)
    theta = jnp.asarray([spec.truth_params()[name] for name in PHYSICS_NAMES])
    times = jnp.asarray(spec.frame_times())
    matrices = np.empty((len(spec.processed_bins()), spec.n_frames, spec.n_frames))
    for index, info in enumerate(spec.processed_bins()):
        matrices[index] = np.asarray(
            evaluate(
                theta,
                jnp.asarray([info.contrast]),
                jnp.asarray([info.offset]),
                t=times,
                q=jnp.asarray([info.q]),
                phi=jnp.asarray([info.phi]),
            )[0]
        )
    return matrices


def stored_matrices(spec: SimulationSpec, model: np.ndarray) -> np.ndarray:
    """Independent noise: upper triangles (diagonal included) of model + diagonal excess + noise,
    as float32 with a zero lower triangle, (K, N, N)."""
    rng = np.random.Generator(np.random.PCG64(spec.seed))
    n = spec.n_frames
    stored = np.empty(model.shape, dtype=np.float32)
    for index, matrix in enumerate(model):
        noisy = matrix + spec.diagonal_excess * np.eye(n) + rng.normal(0.0, spec.noise_sigma, size=(n, n))
        stored[index] = np.triu(noisy).astype(np.float32)
    return stored


def _theta(spec: SimulationSpec) -> np.ndarray:
    return np.asarray([spec.truth_params()[name] for name in PHYSICS_NAMES])


def _raw_frames(spec: SimulationSpec) -> dict[str, Any]:
    return {"n_frames": spec.n_frames, "frame_time": spec.frame_time, "stride": spec.stride_frame,
            "average": spec.avg_frame, "begin": spec.begin_frame}


def speckle_frames(spec: SimulationSpec) -> SpeckleFrames:
    """Photon counts of the processed bins' pixels (:func:`heterodyne.speckle.simulate_counts`)."""
    bins = spec.processed_bins()
    return simulate_counts(
        _theta(spec),
        np.asarray([info.q for info in bins]),
        np.asarray([info.phi for info in bins]),
        **_raw_frames(spec),
        pixels=spec.pixels_per_bin,
        modes=spec.speckle_modes,
        counts_per_pixel=spec.counts_per_pixel,
        seed=spec.seed,
        shared_pixels=spec.shared_pixel_count,
    )


def detector_maps(spec: SimulationSpec, frames: SpeckleFrames | None) -> DetectorMaps:
    """The q-map and mean intensities of the file (:mod:`heterodyne.detector_maps`); pixels not
    simulated carry the expected count at ``counts_per_pixel`` photons per pixel and raw frame."""
    expected = expected_counts(_theta(spec), **_raw_frames(spec), counts_per_pixel=spec.counts_per_pixel)
    return build_maps(spec.q_centres, spec.phi_centres, spec.non_empty_cells(), spec.processed_cells(),
                      spec.pixels_per_bin, None if frames is None else frames.counts, expected)


def diagonal_average_g2(stored: np.ndarray) -> np.ndarray:
    """normalized_g2 (T, K): g2[τ, k] = mean over i of C_k[i, i + τ] (the stored upper triangle)."""
    n = stored.shape[1]
    g2 = np.empty((n, stored.shape[0]), dtype=np.float32)
    for lag in range(n):
        g2[lag] = np.diagonal(stored, offset=lag, axis1=1, axis2=2).mean(axis=1)
    return g2


def segment_g2(stored: np.ndarray, segments: int = G2_SEGMENTS) -> np.ndarray:
    """normalized_g2_segments (L, S, K), L = T // S: the diagonal averages within each of S
    consecutive diagonal blocks of L frames."""
    length = stored.shape[1] // segments
    blocks = [stored[:, s * length:(s + 1) * length, s * length:(s + 1) * length] for s in range(segments)]
    return np.stack([diagonal_average_g2(block) for block in blocks], axis=1)


def _text(h5: h5py.File, h5path: str, text: str) -> None:
    """A variable-length string dataset, as the correlator writes its text."""
    h5.create_dataset(h5path, data=text, dtype=h5py.string_dtype())


def _write_entry(h5: h5py.File, spec: SimulationSpec) -> None:
    """``/entry``: run metadata as the beamline writes it (fictitious start time, detector geometry)."""
    start = datetime.fromisoformat(START_TIME)
    raw_frames = spec.end_frame + 1
    _text(h5, "/entry/start_time", START_TIME)
    _text(h5, "/entry/end_time", (start + timedelta(seconds=raw_frames * spec.frame_time)).isoformat())
    _text(h5, "/entry/schema_version", "1.0")
    _text(h5, "/entry/sample/name", "heterodyne simulation")
    h5["/entry/instrument/bluesky/metadata/num_images"] = np.int64(raw_frames)
    _text(h5, "/entry/instrument/bluesky/metadata/plan_name", "heterodyne_simulate")
    detector = "/entry/instrument/detector_1"
    for name in ("beam_center_position_x", "beam_center_position_y", "beam_center_x", "beam_center_y",
                 "position_x", "position_y"):
        h5[f"{detector}/{name}"] = np.float64(0.0)
    h5[f"{detector}/count_time"] = np.float64(spec.frame_time)
    h5[f"{detector}/frame_time"] = np.float64(spec.frame_time)
    h5[f"{detector}/distance"] = np.float64(DETECTOR_DISTANCE_M)
    h5[f"{detector}/x_pixel_size"] = np.float64(PIXEL_SIZE_M)
    h5[f"{detector}/y_pixel_size"] = np.float64(PIXEL_SIZE_M)
    h5["/entry/instrument/incident_beam/incident_energy"] = np.float64(spec.incident_energy_kev)


def _lzf(h5: h5py.File, h5path: str, data: np.ndarray) -> None:
    h5.create_dataset(h5path, data=data, compression="lzf", chunks=data.shape)


def _write_qmap(h5: h5py.File, spec: SimulationSpec, maps: DetectorMaps, name: str) -> None:
    """``/xpcs/qmap``: the natural grids, the labels of the non-empty cells, the region maps."""
    n_q, n_phi = len(spec.q_centres), len(spec.phi_centres)
    qmap = "/xpcs/qmap"
    h5[f"{qmap}/dynamic_v_list_dim0"] = np.asarray(spec.q_centres, dtype=np.float64)
    h5[f"{qmap}/dynamic_v_list_dim1"] = np.asarray(spec.phi_centres, dtype=np.float64)
    h5[f"{qmap}/dynamic_num_pts"] = np.array([n_q, n_phi], dtype=np.int64)
    natural_indices = [q_index * n_phi + phi_index for q_index, phi_index in spec.non_empty_cells()]
    h5[f"{qmap}/dynamic_index_mapping"] = np.array(natural_indices, dtype=np.int64)
    h5[f"{qmap}/static_v_list_dim0"] = maps.static_q
    h5[f"{qmap}/static_v_list_dim1"] = maps.static_phi
    h5[f"{qmap}/static_num_pts"] = np.array([maps.static_q.size, maps.static_phi.size], dtype=np.int64)
    h5[f"{qmap}/static_index_mapping"] = maps.static_index_mapping
    h5[f"{qmap}/map_names"] = np.array([b"q", b"phi"])
    h5[f"{qmap}/map_units"] = np.array([b"1/A", b"deg"])
    for map_name in ("dynamic_roi_map", "static_roi_map", "mask"):
        _lzf(h5, f"{qmap}/{map_name}", getattr(maps, map_name))
    _lzf(h5, f"{qmap}/blemish", np.ones_like(maps.mask))
    h5[f"{qmap}/beam_center_x"] = np.float64(0.0)
    h5[f"{qmap}/beam_center_y"] = np.float64(0.0)
    h5[f"{qmap}/detector_distance"] = np.float64(DETECTOR_DISTANCE_M)
    h5[f"{qmap}/pixel_size"] = np.float64(PIXEL_SIZE_M)
    h5[f"{qmap}/energy"] = np.float64(spec.incident_energy_kev)
    _text(h5, f"{qmap}/source_file", f"{name}_qmap.hdf")
    digest = hashlib.sha256(maps.dynamic_roi_map.tobytes() + maps.static_roi_map.tobytes()).hexdigest()
    h5[qmap].attrs["hash"] = digest
    h5[qmap].attrs["version"] = f"heterodyne {__version__}"


def _write_twotime(h5: h5py.File, spec: SimulationSpec, stored: np.ndarray, name: str) -> None:
    """``/xpcs/twotime``: the matrices, their labels, g2 and the correlator settings (its defaults
    where a simulation has no counterpart)."""
    for index, matrix in enumerate(stored, start=1):
        _lzf(h5, f"/xpcs/twotime/correlation_map/c2_{index:05d}", matrix)
    h5["/xpcs/twotime/processed_bins"] = np.array([info.label for info in spec.processed_bins()], dtype=np.int64)
    h5["/xpcs/twotime/normalized_g2"] = diagonal_average_g2(stored)
    h5["/xpcs/twotime/normalized_g2_segments"] = segment_g2(stored)
    config = "/xpcs/twotime/config"
    for setting in ("avg_frame", "stride_frame", "begin_frame"):
        h5[f"{config}/{setting}"] = np.int64(getattr(spec, setting))
    settings = {"end_frame": np.int64(-1), "gpu_id": np.int64(-1), "num_loaders": np.int64(1),
                "num_partial_g2": np.int64(0), "bin_time_s": np.float64(1e-6), "crop_ratio_threshold": np.float64(1.0),
                "max_memory": np.float64(36.0), "normalize_frame": np.True_, "overwrite": np.True_,
                "save_G2": np.False_, "verbose": np.False_}
    for setting, value in settings.items():
        h5[f"{config}/{setting}"] = value
    texts = {"analysis_type": "twotime", "output": "results", "qmap": f"{name}_qmap.hdf", "raw": f"{name}.h5",
             "smooth": "sqmap"}
    for setting, text in texts.items():
        _text(h5, f"{config}/{setting}", text)


def _write_aps_u(h5: h5py.File, spec: SimulationSpec, stored: np.ndarray, maps: DetectorMaps, name: str) -> None:
    """APS-U layout with every path the APS correlator (boost_corr) writes; ``name``: the run's name."""
    _write_entry(h5, spec)
    _write_qmap(h5, spec, maps, name)
    _write_twotime(h5, spec, stored, name)
    _text(h5, "/xpcs/rawdata_path", f"{name}.h5")
    h5["/xpcs/temporal_mean/scattering_1d"] = maps.scattering_1d()
    h5["/xpcs/temporal_mean/scattering_1d_segments"] = maps.scattering_1d_segments()
    _lzf(h5, "/xpcs/temporal_mean/scattering_2d", maps.image[None].astype(np.float32))
    h5["/xpcs/spatial_mean/intensity_vs_time"] = maps.intensity_vs_time()


def _write_legacy(h5: h5py.File, spec: SimulationSpec, stored: np.ndarray) -> None:
    """Legacy layout (docs/data-formats.md): every natural cell is a dynamic partition (1-based)."""
    n_q, n_phi = len(spec.q_centres), len(spec.phi_centres)
    h5["/xpcs/output_data"] = np.bytes_(b"/exchange")
    for index, matrix in enumerate(stored, start=1):
        h5.create_dataset(
            f"/exchange/C2T_all/g2_{index:05d}", data=matrix, compression="gzip", chunks=matrix.shape
        )
    partitions = np.array(
        [[q_index * n_phi + phi_index + 1] for q_index, phi_index in spec.processed_cells()], dtype=np.uint64
    )
    h5["/xpcs/qphi_bin_to_process"] = partitions
    h5["/xpcs/dqlist"] = np.repeat(np.asarray(spec.q_centres, dtype=np.float64), n_phi)[None, :]
    h5["/xpcs/dphilist"] = np.tile(np.asarray(spec.phi_centres, dtype=np.float64), n_q)[None, :]
    h5["/xpcs/dnoq"] = np.full((1, 1), n_q, dtype=np.float64)
    h5["/xpcs/dnophi"] = np.full((1, 1), n_phi, dtype=np.float64)
    h5["/xpcs/avg_frames"] = np.full((1, 1), spec.avg_frame, dtype=np.uint64)
    h5["/xpcs/stride_frames"] = np.full((1, 1), spec.stride_frame, dtype=np.uint64)
    # Legacy frame numbers are 1-based: data_begin/data_end span the raw file, *_todo the processed run.
    h5["/xpcs/data_begin"] = np.full((1, 1), 1, dtype=np.uint64)
    h5["/xpcs/data_end"] = np.full((1, 1), spec.end_frame + 1, dtype=np.uint64)
    h5["/xpcs/data_begin_todo"] = np.full((1, 1), spec.begin_frame + 1, dtype=np.uint64)
    h5["/xpcs/data_end_todo"] = np.full((1, 1), spec.end_frame + 1, dtype=np.uint64)
    h5["/xpcs/analysis_type"] = np.bytes_(b"Twotime")
    h5["/measurement/instrument/detector/exposure_period"] = np.full((1, 1), spec.frame_time)
    h5["/measurement/instrument/source_begin/energy"] = np.full((1, 1), spec.incident_energy_kev)


def truth_document(spec: SimulationSpec, data_path: Path) -> dict[str, Any]:
    """The truth JSON: parameters, per-bin key/label/(q, φ)/scaling, time base, noise, seed, spec."""
    key_prefix = "c2" if spec.layout == "aps-u" else "g2"
    n_phi = len(spec.phi_centres)
    bins = []
    for index, info in enumerate(spec.processed_bins(), start=1):
        file_label = info.label if spec.layout == "aps-u" else info.q_index * n_phi + info.phi_index + 1
        bins.append(
            {
                "key": f"{key_prefix}_{index:05d}",
                "label": file_label,
                "q_index": info.q_index,
                "phi_index": info.phi_index,
                "q": info.q,
                "phi": info.phi,
                "contrast": info.contrast,
                "offset": info.offset,
            }
        )
    return {
        "format": TRUTH_FORMAT,
        "heterodyne_version": __version__,
        "data_file": data_path.name,
        "layout": spec.layout,
        "params": spec.truth_params(),
        "bins": bins,
        "dt": spec.dt,
        "frame_time": spec.frame_time,
        "stride_frame": spec.stride_frame,
        "avg_frame": spec.avg_frame,
        "n_frames": spec.n_frames,
        "frames": [1, spec.n_frames],
        "begin_frame": spec.begin_frame,
        "time_origin": spec.time_origin,
        "time_convention": "stored frame k (1-based) at t = begin_frame * frame_time + k * dt",
        "noise": spec.noise,
        "noise_sigma": spec.noise_sigma,
        "diagonal_excess": spec.diagonal_excess,
        "seed": spec.seed,
        "spec": spec.as_dict(),
    }


def default_truth_path(data_path: Path) -> Path:
    """``<file>.truth.json`` beside the data file."""
    return data_path.with_name(data_path.name + TRUTH_SUFFIX)


def simulate_dataset(
    path: str | Path, spec: SimulationSpec | None = None, *, truth_path: str | Path | None = None
) -> Path:
    """Write a simulated result file at ``path`` and its truth JSON; return the truth JSON path."""
    spec = SimulationSpec() if spec is None else spec
    data_path = Path(path).expanduser().resolve()
    truth_file = default_truth_path(data_path) if truth_path is None else Path(truth_path).expanduser().resolve()
    frames = speckle_frames(spec) if spec.noise == "speckle" else None
    stored = stored_matrices(spec, model_matrices(spec)) if frames is None else correlator_c2(frames)
    with atomic_destination(data_path) as temporary, h5py.File(temporary, "w") as h5:
        if spec.layout == "aps-u":
            _write_aps_u(h5, spec, stored, detector_maps(spec, frames), data_path.stem)
        else:
            _write_legacy(h5, spec, stored)
    with atomic_destination(truth_file) as temporary:
        temporary.write_text(json.dumps(truth_document(spec, data_path), indent=2) + "\n")
    return truth_file
