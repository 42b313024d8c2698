"""The JSON Schema (Draft 2020-12) of the analysis configuration: structure, types and every default.

Every leaf carries a ``default`` (parameter defaults come from :mod:`heterodyne.parameters`) and
every property a one-line ``description`` (the template's comments). Three extra annotations,
ignored by jsonschema itself, shape the one-line error messages and the template:

- ``x-expected``: what a value should look like; an error of a schema carrying it, or of any
  ``oneOf`` branch beneath it, is reported as "expected <x-expected>, got <value>".
- ``x-unknown``: why a key is not allowed here (replaces the "did you mean" suggestion).
- ``x-flow``: the template writes this mapping on one line, ``{key: value, ...}``.
"""

from __future__ import annotations

from typing import Any

from heterodyne.cmc.combination import COMBINATIONS
from heterodyne.parameters import PHYSICS_PARAMETERS, SCALING_PARAMETERS, ParameterSpec
from heterodyne.scaling import MODES as SCALING_MODES

Schema = dict[str, Any]

PRIOR_TYPES = ("uniform", "normal", "lognormal")
"""The prior families a parameter may have (:mod:`heterodyne.cmc.posterior` gives each its density)."""
NLSQ_WEIGHTS = ("uniform", "lag_noise")
NLSQ_STARTS = ("auto", "initial")


def _leaf(types: str | list[str], default: Any, description: str, **keywords: Any) -> Schema:
    """A scalar property: its type(s), its default, its description and any further keywords."""
    return {"type": types, "default": default, "description": description, **keywords}


def _section(description: str, properties: dict[str, Schema], flow: bool = False) -> Schema:
    """A mapping with exactly the given keys, each optional; null (an empty section) means ``{}``.

    ``flow``: the template writes it on one line.
    """
    schema: Schema = {
        "type": ["object", "null"],
        "description": description,
        "properties": properties,
        "additionalProperties": False,
    }
    return {**schema, "x-flow": True} if flow else schema


def _pair() -> Schema:
    """A list of exactly two numbers."""
    return {"type": "array", "prefixItems": [{"type": "number"}, {"type": "number"}],
            "items": False, "minItems": 2}


def _bounds(lower: float, upper: float, description: str) -> Schema:
    """A ``[lower, upper]`` pair of numbers (lower < upper is a cross-field check)."""
    return {
        **_pair(),
        "default": [lower, upper],
        "description": description,
        "x-expected": "a list [lower, upper] of two numbers",
    }


def _when_type(types: list[str], then: Schema) -> Schema:
    """Apply ``then`` to a mapping whose ``type`` key is one of ``types``."""
    return {"if": {"properties": {"type": {"enum": types}}, "required": ["type"]}, "then": then}


def _prior_schema() -> Schema:
    """``{type: uniform}`` (over the bounds) or ``{type: normal|lognormal, mu, sigma > 0}``."""
    return {
        "type": "object",
        "description": "CMC prior: {type: uniform} over the bounds, or {type: normal|lognormal, mu, sigma}",
        "properties": {
            "type": {"type": "string", "enum": list(PRIOR_TYPES), "description": "prior family"},
            "mu": {"type": "number", "description": "mean (of log(value) for lognormal)"},
            "sigma": {
                "type": "number",
                "exclusiveMinimum": 0,
                "description": "standard deviation (of log(value) for lognormal), > 0",
            },
        },
        "required": ["type"],
        "additionalProperties": False,
        "default": {"type": "uniform"},
        "x-flow": True,
        "allOf": [
            _when_type(["uniform"], {
                "properties": {"type": True},
                "additionalProperties": False,
                "x-unknown": "a uniform prior spans the bounds and takes no other keys",
            }),
            _when_type(["normal", "lognormal"], {"required": ["mu", "sigma"]}),
        ],
    }


def _parameter_schema(spec: ParameterSpec) -> Schema:
    """One physics parameter: initial value, bounds, whether it varies, and its prior."""
    fixed = f"; fixed by default: {spec.fixed_because}" if spec.fixed_because else ""
    return _section(
        f"{spec.description} [{spec.unit}]{fixed}",
        {
            "initial": _leaf("number", spec.default, "starting value (the fixed value when vary is false)"),
            "bounds": _bounds(spec.lower, spec.upper, "closed interval [lower, upper], lower < upper"),
            "vary": _leaf("boolean", spec.varies_by_default, "fit this parameter (false: hold it at initial)"),
            "prior": _prior_schema(),
            "tied_to": {"type": ["string", "null"],
                        "description": "another fitted physics parameter of the same unit that this one equals "
                                       "everywhere (its bounds and prior apply); absent or null: not tied"},
        },
        flow=True,
    )


def _scaling_parameter_schema(spec: ParameterSpec) -> Schema:
    """Per-angle ``contrast`` or ``offset``: initial (one number or one per angle) and bounds."""
    return _section(
        f"{spec.description}: initial (a number, or a list with one per angle) and bounds",
        {
            "initial": {
                "type": ["number", "array"],
                "items": {"type": "number"},
                "minItems": 1,
                "default": spec.default,
                "description": "starting value; the value used in fixed mode",
                "x-expected": "a number or a non-empty list of numbers (one per angle)",
            },
            "bounds": _bounds(spec.lower, spec.upper, "closed interval [lower, upper], lower < upper"),
        },
        flow=True,
    )


def _phi_schema() -> Schema:
    """``null`` (all angles), a list of angles, or a list of ``[lo, hi]`` ranges, in degrees."""
    return {
        "oneOf": [
            {"type": "null"},
            {"type": "array", "items": {"type": "number"}, "minItems": 1},
            {"type": "array", "items": _pair(), "minItems": 1},
        ],
        "default": None,
        "description": "null = all angles at that q; a list of angles (deg); or a list of [lo, hi] ranges",
        "x-expected": "null, a list of angles in degrees, or a list of [lo, hi] ranges",
    }


def _experimental_data() -> Schema:
    """``experimental_data``: the file and the (q, phi) selection."""
    return _section("the input data and which (q, phi) bins to analyse", {
        "file_path": _leaf(["string", "null"], None,
                           "HDF5 two-time file; required unless --data is given", minLength=1),
        "q": _leaf(["number", "null"], None,
                   "1/Å; select the stored q nearest this (null: every q; bins are fitted jointly, each at its own q)",
                   exclusiveMinimum=0),
        "q_tolerance": _leaf("number", 0.05, "relative tolerance of the q selection", exclusiveMinimum=0),
        "phi": _phi_schema(),
        "phi_tolerance": _leaf("number", 1.0, "deg; tolerance when matching listed angles",
                               exclusiveMinimum=0),
    })


def _analyzer_parameters() -> Schema:
    """``analyzer_parameters``: the clock (dt, time origin) and the frame range."""
    return _section("time step, time origin and frame range", {
        "dt": _leaf(["number", "null"], None, "s per frame; null = from the file", exclusiveMinimum=0),
        "time_origin": _leaf(["number", "null"], None, "s; stored frame k is at time_origin + k·dt; "
                             "null = begin_frame × frame_time from the file", minimum=0),
        "start_frame": _leaf("integer", 1, "first frame, 1-based inclusive", minimum=1),
        "end_frame": _leaf(["integer", "null"], None, "last frame, 1-based inclusive; null = last frame",
                           minimum=1),
    })


def _parameters() -> Schema:
    """``parameters``: one entry per physics parameter, from the registry."""
    return _section(
        "the 14 physics parameters; any parameter, and any of its keys, may be omitted",
        {spec.name: _parameter_schema(spec) for spec in PHYSICS_PARAMETERS},
    )


def _scaling() -> Schema:
    """``scaling``: how per-angle contrast and offset are modelled."""
    by_name = {spec.name: spec for spec in SCALING_PARAMETERS}
    return _section("per-angle contrast and offset", {
        "mode": _leaf("string", "auto",
                      "auto (every bin its own contrast and offset, solved linearly) | individual | constant | "
                      "fourier | fixed", enum=["auto", *SCALING_MODES]),
        "fourier_order": _leaf("integer", 1, "harmonics in phi for fourier mode (a series per q)", minimum=0),
        "contrast": _scaling_parameter_schema(by_name["contrast"]),
        "offset": _scaling_parameter_schema(by_name["offset"]),
    })


def _nlsq() -> Schema:
    """``optimization.nlsq``."""
    return _section("nonlinear least squares", {
        "max_iterations": _leaf("integer", 200, "maximum function evaluations per start", minimum=1),
        "start": _leaf("string", "auto", "auto: the configured initial values and an estimate read off the data; "
                       "initial: the configured values only", enum=list(NLSQ_STARTS)),
        "multistart": _leaf("integer", 8,
                            "starts of the global search on a subsample: the configured values, the estimate "
                            "(start: auto), and draws around the latter; the best 2 are refined on all points",
                            minimum=1),
        "seed": _leaf("integer", 0, "seed of the multistart and subsampling draws", minimum=0),
        "weights": _leaf("string", "uniform", "uniform | lag_noise", enum=list(NLSQ_WEIGHTS)),
        "ftol": _leaf("number", 1.0e-8, "relative tolerance on the cost", exclusiveMinimum=0),
        "xtol": _leaf("number", 1.0e-8, "relative tolerance on the parameters", exclusiveMinimum=0),
        "gtol": _leaf("number", 1.0e-8, "tolerance on the gradient", exclusiveMinimum=0),
        "max_points": _leaf(["integer", "null"], None,
                            "null = all points; an integer: a reproducible subsample", minimum=1),
        "noise_sigma": _leaf(["number", "null"], None, "σ of uniform weights; null = estimate from the data",
                             exclusiveMinimum=0),
    })


def _cmc() -> Schema:
    """``optimization.cmc`` (docs/cmc.md)."""
    return _section("Consensus Monte Carlo", {
        "num_warmup": _leaf("integer", 500, "warm-up steps per chain", minimum=1),
        "num_samples": _leaf("integer", 500, "draws per chain (>= 10)", minimum=10),
        "num_chains": _leaf("integer", 4, "chains per shard (>= 2: R-hat compares chains)", minimum=2),
        "seed": _leaf("integer", 42, "run seed; shard seeds derive from it", minimum=0),
        "max_r_hat": _leaf("number", 1.05, "flag a shard whose R-hat exceeds this (> 1)",
                           exclusiveMinimum=1),
        "max_points_per_shard": {
            "oneOf": [{"const": "auto"}, {"type": "integer", "minimum": 100}],
            "default": "auto",
            "description": '"auto" or an integer >= 100 (points per shard)',
            "x-expected": '"auto" or an integer >= 100',
        },
        "warmstart": _leaf("boolean", True, "start chains at the NLSQ optimum"),
        "num_workers": _leaf(["integer", "null"], None,
                             "parallel shard workers; null = HETERODYNE_NUM_WORKERS or from cores",
                             minimum=1),
        "drop_flagged_shards": _leaf("boolean", False, "leave flagged shards out of the consensus"),
        "combination": _leaf("string", "barycenter",
                             "barycenter (shard likelihood^(n/n_k), Wasserstein barycenter) | scott (Scott's average)",
                             enum=list(COMBINATIONS)),
    })


def build_schema() -> Schema:
    """The whole analysis-configuration schema (a fresh dict each call)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "heterodyne analysis configuration",
        **_section("one heterodyne analysis run", {
            "experimental_data": _experimental_data(),
            "analyzer_parameters": _analyzer_parameters(),
            "parameters": _parameters(),
            "scaling": _scaling(),
            "optimization": _section("fitting settings", {"nlsq": _nlsq(), "cmc": _cmc()}),
            "output": _section("where results go", {
                "output_dir": _leaf("string", "results", "directory for the run's het_<hash>/ folder",
                                    minLength=1),
                "plots": _leaf("boolean", False, "write plots"),
                "viewer_file": _leaf("boolean", False, "also write fit_viewer.h5: the fitted c2 and "
                                     "residuals in the APS correlator's layout, for the APS viewer "
                                     "(heterodyne plot always writes it)"),
            }),
            "compute": _section("compute environment", {
                "jax_cache_dir": _leaf(["string", "null"], None,
                                       "JAX compilation cache; null = under the user's cache dir",
                                       minLength=1),
            }),
        }),
    }


SCHEMA: Schema = build_schema()
"""The schema, built once; treat as read-only."""
