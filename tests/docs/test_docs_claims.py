"""Numbers the documentation states that the code defines: each is read from the page with a tight
pattern and compared with the value the code holds (defaults, floors, block and thread rules,
memory formulas, the arrays of the run files)."""

import ast
import math
import re
from pathlib import Path

import numpy as np
import pytest

from heterodyne import numerics
from heterodyne.batch import resources
from heterodyne.batch.shape import Selection
from heterodyne.cmc import combination, geometry, plan, trust, workers
from heterodyne.config.schema import build_schema
from heterodyne.data import memory
from heterodyne.nlsq import goodness, projection, sandwich, solve, starts
from heterodyne.parameters import N_PHYSICS
from heterodyne.run_directory import CMC_ARRAYS, NLSQ_ARRAYS

ROOT = Path(__file__).resolve().parents[2]
SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
TEN_TO = "(10⁻[⁰¹²³⁴⁵⁶⁷⁸⁹]+)"  # a power of ten as the pages write it: 10⁻⁸
WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "twice": 2}


def page(name: str) -> str:
    """A documentation page with its lines joined, so that a claim may wrap."""
    return re.sub(r"\s*\n\s*", " ", (ROOT / name).read_text(encoding="utf-8"))


def claim(name: str, pattern: str) -> tuple[str, ...]:
    """The groups of ``pattern`` in page ``name``; a claim that is gone fails here."""
    found = re.search(pattern, page(name))
    assert found, f"{name} no longer states /{pattern}/"
    return found.groups()


def number(text: str) -> float:
    """'50 000', '2 985', '10⁻⁴', '2¹⁸', '0.5', 'two' or 'twice' as a number."""
    text = text.strip()
    if text in WORDS:
        return WORDS[text]
    power = re.fullmatch(r"(\d+)([⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+)", text)
    if power:
        base, exponent = power.group(1), int(power.group(2).translate(SUPERSCRIPTS))
        return float(f"1e{exponent}") if base == "10" else float(base) ** exponent
    return float(text.replace(" ", ""))


def cmc_default(key: str):
    return build_schema()["properties"]["optimization"]["properties"]["cmc"]["properties"][key]["default"]


def written_keys(module_path: str, function: str) -> set[str]:
    """The keys of the arrays dict a writer function builds: its dict literal keyed by "names"."""
    tree = ast.parse((ROOT / module_path).read_text(encoding="utf-8"))
    (writer,) = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name == function]
    literals = [{key.value for key in node.keys if isinstance(key, ast.Constant)}
                for node in ast.walk(writer) if isinstance(node, ast.Dict)]
    (keys,) = [keys for keys in literals if "names" in keys]
    return keys


NLSQ_WRITTEN = written_keys("heterodyne/nlsq/report.py", "nlsq_arrays")
CMC_WRITTEN = written_keys("heterodyne/cmc/report.py", "summarise")


# CMC defaults and the shard plan

def test_readme_sampling_defaults():
    chains, warmup, samples = claim("README.md", r"(\d+) chains × (\d+) \+ (\d+) draws")
    assert (int(chains), int(warmup), int(samples)) == (
        cmc_default("num_chains"), cmc_default("num_warmup"), cmc_default("num_samples"))
    (default_chains,) = claim("README.md", r"\(`num_chains`, (\d+) by default")
    assert int(default_chains) == cmc_default("num_chains")


@pytest.mark.parametrize(("name", "pattern"), [
    ("docs/cmc.md", r"K = ⌈n / ([\d ]+?)⌉"),
    ("docs/cmc.md", r"under the ([\d ]+?)-point ceiling"),
    ("README.md", r"shards of at most ([\d ]+?) points"),
])
def test_auto_shard_ceiling(name, pattern):
    (value,) = claim(name, pattern)
    assert number(value) == plan.MAX_AUTO_POINTS
    assert cmc_default("max_points_per_shard") == "auto"


@pytest.mark.parametrize(("name", "pattern"), [
    ("docs/cmc.md", r"keeps one shard up to ([\d ]+?) points"),
    ("docs/cmc.md", r"`auto` splits only above ([\d ]+?) points"),
    ("README.md", r"keeps one shard up\s+to ([\d ]+?) points"),
    ("config/analysis.yaml", r"data sets above ([\d ]+?) points are split"),
])
def test_auto_one_shard_ceiling(name, pattern):
    (value,) = claim(name, pattern)
    assert number(value) == plan.MAX_ONE_SHARD_POINTS


def test_auto_shards_never_smaller_than_stated_once_it_splits():
    (value,) = claim("docs/cmc.md", r"never smaller than ([\d ]+?) points once")
    # n / ⌈n / c⌉ grows with n while K = ⌈n / c⌉ holds, so its minima lie where K steps up (n = c·k + 1)
    # and at the first split size
    ceiling, first = plan.MAX_AUTO_POINTS, plan.MAX_ONE_SHARD_POINTS + 1
    n = np.array([first, *range(ceiling * (first // ceiling) + 1, 2 * plan.MAX_ONE_SHARD_POINTS, ceiling)])
    n = n[n >= first]
    smallest = np.min(n / -(-n // ceiling))
    assert number(value) == math.floor(smallest)


@pytest.mark.parametrize(("name", "pattern"), [
    ("docs/cmc.md", r"smaller than ([\d ]+?) points \(the smallest measured\)"),
    ("README.md", r"below the ([\d ]+?) points per shard"),
])
def test_smallest_measured_shard(name, pattern):
    (value,) = claim(name, pattern)
    assert number(value) == plan.MIN_MEASURED_POINTS


def test_trust_and_gaussian_check_thresholds():
    (alpha,) = claim("docs/cmc.md", r"below ([\d.]+) / P \(Bonferroni")
    assert number(alpha) == trust.ALPHA
    (sigmas,) = claim("docs/cmc.md", r"by more than (\d+) Monte Carlo standard errors")
    assert number(sigmas) == combination.AGREEMENT_SIGMAS
    (scale,) = claim("docs/cmc.md", r"without a covariance get the scale ([\d.]+) in u")
    assert number(scale) == geometry.FALLBACK_U_SD


def test_shard_covariance_floors():
    sd_floor, correlation_floor = claim(
        "docs/cmc.md", rf"an sd below {TEN_TO} max\(\|mean\|, 1\) .*? raised to {TEN_TO} times the largest")
    assert number(sd_floor) == numerics.STILL_SD_RATIO
    assert number(correlation_floor) == numerics.DRAWS_CORRELATION_FLOOR


# Threads

def test_nlsq_chunks():
    parallel, chunk = claim("docs/cores.md", r"`PARALLEL_CHUNKS` = (\d+) chunks .*? `CHUNK_POINTS` = ([\d ]+?) points")
    assert number(parallel) == projection.PARALLEL_CHUNKS
    assert number(chunk) == projection.CHUNK_POINTS
    (power,) = claim("docs/memory.md", r"One chunk \(at most (2[¹²³⁴⁵⁶⁷⁸⁹⁰]+) points\)")
    assert number(power) == projection.CHUNK_POINTS


@pytest.mark.parametrize("name", ["docs/cores.md", "README.md"])
def test_default_worker_budget(name, monkeypatch):
    divisor, minus, least = claim(name, r"⌊cores/(\d+)⌋ − (\d+),? \(?at least (\d+)\)?")
    monkeypatch.delenv(workers.WORKERS_ENV, raising=False)
    for cores in (1, 2, 3, 4, 16, 64):
        monkeypatch.setattr(workers.os, "sched_getaffinity", lambda _pid, n=cores: set(range(n)))
        assert workers.max_workers(None) == max(int(least), cores // int(divisor) - int(minus))


def test_shard_job_threads_are_its_chains():
    (each,) = claim("docs/memory.md", r"runs its chains side by side, (\w+) thread each")
    assert number(each) == resources.THREADS_PER_CHAIN


# NLSQ search and checks

def test_global_search_settings():
    spread, exponent, low, high, evaluations, points, refined = claim(
        "docs/fitting.md", r"within a factor (\d+), the exponents within ±([\d.]+), f0 over \(([\d.]+), ([\d.]+)\)\. "
        r"Each gets (\d+) evaluations on a seeded subsample of ([\d ]+?) points; the (\w+) best")
    assert number(spread) == starts.SCALE_SPREAD
    assert number(exponent) == starts.EXPONENT_SPREAD
    assert (number(low), number(high)) == starts.FRACTION_RANGE
    assert number(evaluations) == solve.COARSE_EVALUATIONS
    assert number(points) == solve.COARSE_POINTS
    assert number(refined) == solve.REFINED


@pytest.mark.parametrize("name", ["docs/fitting.md", "README.md"])
def test_convergence_checks(name):
    (alarm,) = claim(name, rf"false-alarm rate of {TEN_TO} per fit")
    assert number(alarm) == goodness.FALSE_ALARM
    (chi2,) = claim(name, r"χ²_red above (\d+)")
    assert number(chi2) == solve.CHI2_FAILURE


# The sandwich's block rules

def test_sandwich_block_rules():
    lags, thirds = claim("docs/uncertainty.md", r"m = (\d)ℓ frames, .*? at most N/(\d) frames")
    assert number(lags) == sandwich.BLOCK_LAGS
    assert number(thirds) == sandwich.MIN_BLOCKS
    (errors,) = claim("docs/uncertainty.md", r"correlated beyond (\d+) standard errors")
    assert number(errors) == sandwich.SHARED_SIGNIFICANCE
    rows, columns = claim("docs/uncertainty.md", r"block pairs of at most (\d+) × (\d+) base blocks per angle")
    assert number(rows) == number(columns) == projection.MAX_BLOCKS


# Memory formulas

def nlsq_formula() -> tuple[float, ...]:
    return tuple(map(number, claim(
        "docs/memory.md",
        r"mem = (\d+) MB \+ (\d+)·A·N² \+ max\((\d+)·P, (\d+)·P′\) \+ (\d+) · (\d+)·\(n \+ 1\) · chunk")))


def shard_formula(layout: str) -> tuple[float, ...]:
    """(base, window bytes, whole-window point bytes, shard point bytes, NUTS bytes per chain) of the
    documented shard formula for ``layout`` ("point by point" or "on tiles"), whose NUTS term is per
    shard point (S) or per pair (P)."""
    unit = "S" if layout == "point by point" else "P"
    return tuple(map(number, claim(
        "docs/memory.md", rf"mem = (\d+) MB \+ (\d+)·A·N² \+ (\d+)·P \+ (\d+)·S \+ p · (\d+)·{unit}\s+\({layout}")))


@pytest.mark.parametrize(("angles", "frames", "max_points"), [(3, 400, None), (7, 2000, None), (1, 2000, 100_000)])
def test_nlsq_memory_formula(angles, frames, max_points):
    base, value_bytes, full, fitted, copies, float_bytes = nlsq_formula()
    (physics,) = claim("docs/memory.md", r"n ≤ (\d+) \+ 2A free parameters")
    assert number(physics) == N_PHYSICS
    data = Selection(n_angles=angles, n_frames=frames)
    n = N_PHYSICS + 2 * angles
    used = data.n_points if max_points is None else min(data.n_points, max_points)
    chunk = resources.chunk_points(used)
    window = value_bytes * angles * frames**2
    documented = base + math.ceil((window + max(full * data.n_points, fitted * used)
                                   + copies * float_bytes * (n + 1) * chunk) / resources.MIB)
    assert resources.nlsq_mem_mb(data, n, max_points) == documented


@pytest.mark.parametrize(("angles", "frames", "shards", "chains"), [
    (3, 400, 5, 1), (7, 1000, 70, 4), (1, 2000, 40, 2), (3, 400, 1, 2), (7, 2000, 1, 4), (3, 1000, 4, 1)])
def test_shard_memory_formula(angles, frames, shards, chains):
    (per_point,) = claim("docs/memory.md", r"working arrays: point by point about (\d+) float64")
    (per_pair,) = claim("docs/memory.md", r"about (\d+) float64 per tile entry")
    (densest,) = claim("docs/memory.md", r"\(on tiles: S ≥ P / (\d+)\)")
    data = Selection(n_angles=angles, n_frames=frames)
    shard = math.ceil(data.n_points / shards)
    on_tiles = shard >= data.n_points / number(densest)
    assert on_tiles == (shards < 5)
    base, value_bytes, full, fitted, nuts = shard_formula("on tiles" if on_tiles else "point by point")
    assert nuts == 8 * number(per_pair if on_tiles else per_point)
    documented = base + math.ceil((value_bytes * angles * frames**2 + full * data.n_points + fitted * shard
                                   + chains * nuts * (data.n_points if on_tiles else shard)) / resources.MIB)
    assert resources.shard_mem_mb(data, shards, chains) == documented


def test_consensus_memory_and_data_window():
    base = shard_formula("point by point")[0]
    (times,) = claim("docs/memory.md", r"is charged the same base and (\w+) the data window")
    data = Selection(n_angles=3, n_frames=400)
    assert resources.combine_mem_mb(data) == base + math.ceil(number(times) * data.data_bytes / resources.MIB)
    (value_bytes,) = claim("docs/memory.md", r"(\d+)·A·N²: the data window as float64")
    assert number(value_bytes) == memory.BYTES_PER_VALUE
    assert data.data_bytes == number(value_bytes) * 3 * 400**2


# The arrays of the run files

def test_nlsq_npz_fields_named_in_the_docs_are_written_and_read():
    named = set(claim("docs/data-formats.md", r"nlsq.npz's `(\w+)` and `(\w+)`"))
    assert named <= set(NLSQ_ARRAYS)
    named |= set(claim("docs/data-formats.md", r"nlsq.npz holds the same matrices for notebooks: `(\w+)` \(A, N, N\) "
                       r"and `(\w+)` \(A, N, N\)"))
    named |= set(claim("docs/uncertainty.md",
                       r"nlsq.npz holds the same per free parameter \(`(\w+)`, `(\w+)`, `(\w+)`"))
    named |= set(claim("README.md", r"nlsq.npz holds the same matrices as `(\w+)` and `(\w+)`"))
    assert named <= NLSQ_WRITTEN, f"documented but not written: {named - NLSQ_WRITTEN}"
    assert set(NLSQ_ARRAYS) <= NLSQ_WRITTEN


def test_cmc_samples_fields_in_the_readme_are_what_is_written():
    (listing,) = claim("README.md", r"`cmc_samples.npz` \((`names`.*?)\)\. ")
    named = set(re.findall(r"`(\w+)`", listing))
    assert named == CMC_WRITTEN
    assert set(CMC_ARRAYS) <= named
    assert set(claim("docs/cmc.md", r"`(\w+)` / `(\w+)` in cmc_samples.npz")) <= CMC_WRITTEN
