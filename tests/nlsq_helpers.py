"""Simulate a data set with known truth and fit it through the package's own API."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from heterodyne.config import AnalysisConfig, resolve_config
from heterodyne.data import load_file
from heterodyne.nlsq.report import nlsq_section
from heterodyne.nlsq.setup import build_problem
from heterodyne.nlsq.solve import fit
from heterodyne.parameters import PHYSICS_NAMES
from heterodyne.simulation import SimulationSpec, simulate_dataset

FIT_Q = 0.009
FIT_PHI = [-157.5, -67.5, 22.5]
TRUTH = dict(D0_ref=2e4, D0_sample=8e4, v0=1200.0, f0=0.3)
"""The small runs' truth: two constant-rate components and a steady flow (the rest at the defaults)."""


def simulate(directory: Path, truth: dict, **spec_fields) -> tuple[Path, dict]:
    """A simulated APS-U file and its truth document."""
    path = directory / "sim.h5"
    spec = replace(SimulationSpec(), params=truth, **spec_fields)
    truth_path = simulate_dataset(path, spec)
    return path, json.loads(truth_path.read_text())


def fit_config(varying: dict[str, float], fixed: dict[str, float], **sections) -> AnalysisConfig:
    """A resolved config: ``varying`` start at the given values, ``fixed`` are held there."""
    parameters = {name: {"initial": value, "vary": True} for name, value in varying.items()}
    parameters.update({name: {"initial": value, "vary": False} for name, value in fixed.items()})
    missing = set(PHYSICS_NAMES) - set(parameters)
    assert not missing, f"test must place every parameter: {missing}"
    raw = {"experimental_data": {"q": FIT_Q, "phi": FIT_PHI}, "parameters": parameters}
    for section, values in sections.items():
        raw[section] = values
    return resolve_config(raw)


def run_fit(path: Path, config: AnalysisConfig):
    """(nlsq section, fit, problem) of ``config`` on the file at ``path``."""
    selection = config.experimental_data
    data = load_file(path, q=selection.q, phi=selection.phi)
    problem, noise_info = build_problem(config, c2=data.c2, q=data.q, phi=data.phi, t=data.times, dt=data.dt)
    result = fit(problem, config.optimization.nlsq)
    return nlsq_section(result, problem, noise_info, config.scaling.mode), result, problem


def truth_scaling(truth: dict) -> tuple[np.ndarray, np.ndarray]:
    """True (contrast, offset) of the fitted bins, in selection order."""
    by_phi = {(b["q"], b["phi"]): b for b in truth["bins"]}
    bins = [by_phi[(FIT_Q, phi)] for phi in FIT_PHI]
    return np.array([b["contrast"] for b in bins]), np.array([b["offset"] for b in bins])
