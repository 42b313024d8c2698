"""The resolved analysis configuration as a frozen tree of typed records.

:func:`heterodyne.config.resolve_config` gives a validated dict with every default filled in.
:meth:`AnalysisConfig.from_resolved` turns it into one record per section of
:mod:`heterodyne.config.schema`: fields named and ordered as the schema's properties, lists as
tuples, the physics parameters as a read-only mapping in registry order. :meth:`AnalysisConfig.as_dict`
gives back exactly that dict (the same keys in the same order, lists, and ints and floats where
they were), which result.json records and run ids hash (:mod:`heterodyne.provenance`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import Field, dataclass, fields
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar

Pair = tuple[float, float]
"""``[lower, upper]`` bounds, or a ``[lo, hi]`` range of angles."""
Phi = tuple[float, ...] | tuple[Pair, ...] | None
"""The angle selection: every angle (None), listed angles, or ranges of angles, in degrees."""

_Record_T = TypeVar("_Record_T")


class _Record:
    """A section of the configuration; :meth:`as_dict` gives its resolved dict back."""

    __slots__ = ()
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    def as_dict(self) -> dict[str, Any]:
        """The section as the resolved config holds it: nested dicts and lists, in field order."""
        return {item.name: _plain(getattr(self, item.name)) for item in fields(self)}


def _frozen(value: Any) -> Any:
    """A resolved value with every list, at any depth, made a tuple."""
    return tuple(_frozen(item) for item in value) if isinstance(value, list) else value


def _plain(value: Any) -> Any:
    """The resolved form of a field value: records and mappings as dicts, tuples as lists."""
    if isinstance(value, _Record):
        return value.as_dict()
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


def _record(kind: Callable[..., _Record_T], section: Mapping[str, Any]) -> _Record_T:
    """A record of scalar and list fields from its resolved section (an unknown key is a TypeError)."""
    return kind(**{key: _frozen(value) for key, value in section.items()})


@dataclass(frozen=True, slots=True)
class ExperimentalData(_Record):
    """``experimental_data``: the input file and the (q, phi) selection."""

    file_path: str | None
    q: float | None
    q_tolerance: float
    phi: Phi
    phi_tolerance: float


@dataclass(frozen=True, slots=True)
class AnalyzerParameters(_Record):
    """``analyzer_parameters``: the clock and the 1-based inclusive frame range."""

    dt: float | None
    time_origin: float | None
    start_frame: int
    end_frame: int | None


@dataclass(frozen=True, slots=True)
class Prior(_Record):
    """A parameter's CMC prior: ``uniform`` over the bounds, or ``normal``/``lognormal`` with mu, sigma."""

    type: str
    mu: float | None = None
    sigma: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """The resolved prior: ``mu`` and ``sigma`` only where the prior has them."""
        return {key: value for key, value in _Record.as_dict(self).items() if value is not None}


@dataclass(frozen=True, slots=True)
class ParameterConfig(_Record):
    """One physics parameter: its initial (or fixed) value, bounds, whether it varies, its prior,
    and the parameter it is tied to (None: not tied)."""

    initial: float
    bounds: Pair
    vary: bool
    prior: Prior
    tied_to: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The resolved entry: ``tied_to`` only where the parameter is tied (absent: not tied)."""
        entry = _Record.as_dict(self)
        return entry if self.tied_to is not None else {key: value for key, value in entry.items() if key != "tied_to"}

    @classmethod
    def from_resolved(cls, entry: Mapping[str, Any]) -> ParameterConfig:
        """The record of one resolved ``parameters.<name>`` entry."""
        return _record(cls, {**entry, "prior": _record(Prior, entry["prior"])})


@dataclass(frozen=True, slots=True)
class ScalingParameterConfig(_Record):
    """``scaling.contrast`` or ``scaling.offset``: one initial value or one per angle, and bounds."""

    initial: float | tuple[float, ...]
    bounds: Pair


@dataclass(frozen=True, slots=True)
class ScalingConfig(_Record):
    """``scaling``: how per-angle contrast and offset are modelled."""

    mode: str
    fourier_order: int
    contrast: ScalingParameterConfig
    offset: ScalingParameterConfig

    @classmethod
    def from_resolved(cls, section: Mapping[str, Any]) -> ScalingConfig:
        """The record of the resolved ``scaling`` section."""
        return _record(cls, {**section, "contrast": _record(ScalingParameterConfig, section["contrast"]),
                             "offset": _record(ScalingParameterConfig, section["offset"])})


@dataclass(frozen=True, slots=True)
class NlsqSettings(_Record):
    """``optimization.nlsq``: the least-squares fit."""

    max_iterations: int
    start: str
    multistart: int
    seed: int
    weights: str
    ftol: float
    xtol: float
    gtol: float
    max_points: int | None
    noise_sigma: float | None


@dataclass(frozen=True, slots=True)
class CmcSettings(_Record):
    """``optimization.cmc``: Consensus Monte Carlo (``max_points_per_shard`` is ``"auto"`` or a count)."""

    num_warmup: int
    num_samples: int
    num_chains: int
    seed: int
    max_r_hat: float
    max_points_per_shard: int | str
    warmstart: bool
    num_workers: int | None
    drop_flagged_shards: bool
    combination: str


@dataclass(frozen=True, slots=True)
class OptimizationSettings(_Record):
    """``optimization``: the settings of each method."""

    nlsq: NlsqSettings
    cmc: CmcSettings


@dataclass(frozen=True, slots=True)
class OutputSettings(_Record):
    """``output``: where results go and which optional files are written."""

    output_dir: str
    plots: bool
    viewer_file: bool


@dataclass(frozen=True, slots=True)
class ComputeSettings(_Record):
    """``compute``: the compute environment."""

    jax_cache_dir: str | None


@dataclass(frozen=True, slots=True)
class AnalysisConfig(_Record):
    """One run's whole analysis configuration, validated and default-filled.

    Equal configurations compare equal; a changed copy is ``dataclasses.replace`` of the section.
    """

    experimental_data: ExperimentalData
    analyzer_parameters: AnalyzerParameters
    parameters: Mapping[str, ParameterConfig]
    scaling: ScalingConfig
    optimization: OptimizationSettings
    output: OutputSettings
    compute: ComputeSettings

    @classmethod
    def from_resolved(cls, resolved: Mapping[str, Any]) -> AnalysisConfig:
        """The tree of a config as :func:`heterodyne.config.resolve_config` returns it."""
        optimization = resolved["optimization"]
        return cls(
            experimental_data=_record(ExperimentalData, resolved["experimental_data"]),
            analyzer_parameters=_record(AnalyzerParameters, resolved["analyzer_parameters"]),
            parameters=MappingProxyType({name: ParameterConfig.from_resolved(entry)
                                         for name, entry in resolved["parameters"].items()}),
            scaling=ScalingConfig.from_resolved(resolved["scaling"]),
            optimization=OptimizationSettings(nlsq=_record(NlsqSettings, optimization["nlsq"]),
                                              cmc=_record(CmcSettings, optimization["cmc"])),
            output=_record(OutputSettings, resolved["output"]),
            compute=_record(ComputeSettings, resolved["compute"]),
        )

    def __reduce__(self) -> tuple[Callable[[Mapping[str, Any]], AnalysisConfig], tuple[dict[str, Any]]]:
        """Pickle (and deep-copy) through the resolved dict: the parameters' read-only view cannot be pickled."""
        return AnalysisConfig.from_resolved, (self.as_dict(),)
