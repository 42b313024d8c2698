"""Robustness of NLSQ fits started from the configuration template's defaults, as a user runs them.

For each of 44 simulated files (heterodyne.simulation, truth known) it runs, as subprocesses,

    heterodyne config -o run.yaml                      (once; the template, untouched)
    heterodyne --config run.yaml --data FILE --output-dir DIR --method nlsq --threads T    (T = 1, 2)

and a reference fit started at the truth (T = 1): the template with every physics ``initial`` set
to the truth (vary flags unchanged) and ``scaling.mode: individual`` with the true per-bin
contrasts and offsets as initial lists, in the fit's selection order (the bins' (q, φ) read from
the default run's result.json ``data`` section and matched to the truth's bins). A default fit
*reaches* the truth when cost_default <= 1.01 cost_truth (nlsq.cost of result.json). Prints one
row per file (frames, bins, q rows, contrast kind, noise, exit codes at T = 1/T = 2, reduced chi2
of the default and truth-start fits, relative cost difference, wall times) and the totals:

- the fraction of files whose T = 1 default fit reaches the truth-start cost (target >= 95 %);
- wrong default fits (T = 1 or T = 2 runs that do not reach it) that exit 0 (target 0);
- files whose T = 1 and T = 2 default costs differ by more than 1e-8 relative (target 0).

Files (``CASES``; dt = 6 ms, the simulator's default time base, window T_w = N·dt):

- 100-400 frames for 40 files, 1000 frames for 4 (one on the simulator's default grid: 15 bins
  over two q rows; the others 3 angles at one q);
- 3-16 angles per q, evenly spaced over 360° (φ_k = −180° + (k + ½)·360°/n), over one q or 2-3
  q rows (q_k = q_min·1.25^k, a few cells empty);
- contrast constant, cos 2φ (contrast_anisotropy U[0.1, 0.3]) or irregular per bin
  (contrast_scatter U[0.2, 0.4]); base contrast U[0.1, 0.4], offset 1, noise sigma 0.002
  (independent noise), or speckle noise (contrast 1/4, <= 400 frames, <= 6 bins,
  counts_per_pixel log-U[1, 10], 1000-2000 pixels per bin);

Truths, drawn per file from ``numpy.random.default_rng([seed, file index])`` (``--seed``,
default 2024), with W(x) = (T_w^(x+1) − dt^(x+1))/(x + 1) the integral of t^x over the window:

- q: one q log-U[0.006, 0.015] Å⁻¹, or q_min log-U[0.005, 0.009] Å⁻¹;
- alpha_ref, alpha_sample, beta U[−0.5, 0.5]; phi0 U[−5°, 5°]; f0 U[0.2, 0.8];
- D0_ref, D0_sample log-uniform over [1e3, 1e5] Å²/s^(α+1) cut to where the decay exponent
  q²·D0·W(α) lies in [0.3, 4] at every processed q (decay e^−0.3 … e^−4 over the window);
- v0 from a fringe count F log-U[0.5, 10] over the window at the bin of largest q|cos(φ + phi0)|
  (v0 = 2πF / (q|cos| W(β))), lowered where needed so that q|cos(φ + phi0)|·v(t)·dt <= 1 rad
  (< π/2: no aliasing) at every bin and frame, and to the bound 1e4;
- f1 U[−1/T_w, 1/T_w], narrowed so that f_s(t) = f0·e^(f1 t) stays in [0.1, 0.9];
- f2 = f3 = 0 and D_offset_ref = D_offset_sample = v_offset = 0.

A second mode measures the cost target: a default fit of N = 400 frames × 3 angles (one q) as a
whole process (``python -m heterodyne.cli``), with this tree's package and with the package at
BASELINE_SRC (PYTHONPATH=BASELINE_SRC, same interpreter; each with its own ``config`` template),
after one unrecorded warm-up each (the JAX compile cache), alternating; prints the medians and
their ratio. Create the baseline with ``git worktree add /tmp/baseline 06149a6``.

    .venv/bin/python benchmarks/bench_robustness.py [--quick | --files N] [--jobs J] [--keep DIR] [--seed S]
    .venv/bin/python benchmarks/bench_robustness.py --cost /tmp/baseline [--repeats 5] [--threads 1]

Wall time with the fit of commit 06149a6 on 2 shared cores, --jobs 1: --quick 4 min; the 40 files of
100-400 frames 20 min; the four of 1000 frames about 25 min, 21 of them for the 15-bin file, whose
default fits run up to the template's 200 evaluations at about 4 s each.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import yaml

from heterodyne.simulation import SimulationSpec, simulate_dataset

HETERODYNE = str(Path(sys.executable).with_name("heterodyne"))
REPOSITORY = Path(__file__).resolve().parents[1]
DEFAULT_SEED = 2024
REACHED = 1.01
"""A default fit reaches the truth when its cost is at most this times the truth-start cost."""
THREADS_TOLERANCE = 1e-8
"""Largest relative difference between the T = 1 and T = 2 default costs."""
DECAY = (0.3, 4.0)
FRINGES = (0.5, 10.0)
MAX_STEP_PHASE = 1.0
"""rad: largest phase advance of the cross term between frames (aliasing starts at π/2)."""
D0_RANGE = (1e3, 1e5)
V0_UPPER = 1e4


@dataclass(frozen=True)
class Case:
    """The shape of one simulated file; its truth is drawn from the seed (:func:`draw_spec`)."""

    n_frames: int
    q_rows: int
    angles: int
    contrast: str
    noise: str = "independent"
    empty: tuple[tuple[int, int], ...] = ()
    default_grid: bool = False
    quick: bool = False


CASES: tuple[Case, ...] = (
    # independent noise, 100-400 frames
    Case(100, 1, 3, "constant", quick=True),
    Case(100, 1, 6, "cos2phi", quick=True),
    Case(100, 1, 16, "irregular"),
    Case(100, 2, 4, "constant", quick=True),
    Case(100, 3, 4, "cos2phi", empty=((2, 1),)),
    Case(100, 1, 8, "irregular"),
    Case(120, 1, 10, "cos2phi", quick=True),
    Case(150, 1, 4, "cos2phi"),
    Case(150, 2, 6, "irregular", quick=True),
    Case(150, 1, 9, "constant"),
    Case(150, 2, 4, "constant", empty=((1, 2),)),
    Case(200, 1, 3, "irregular", quick=True),
    Case(200, 1, 5, "constant"),
    Case(200, 2, 3, "cos2phi"),
    Case(200, 1, 8, "cos2phi"),
    Case(150, 3, 3, "irregular", empty=((1, 0),)),
    Case(120, 1, 16, "constant"),
    Case(250, 1, 4, "irregular"),
    Case(250, 2, 3, "constant"),
    Case(250, 1, 6, "cos2phi"),
    Case(300, 1, 3, "cos2phi"),
    Case(300, 1, 4, "constant"),
    Case(300, 2, 3, "irregular"),
    Case(200, 1, 7, "irregular"),
    Case(350, 1, 3, "constant"),
    Case(350, 1, 6, "irregular"),
    Case(400, 1, 3, "irregular"),
    Case(400, 1, 4, "cos2phi"),
    Case(400, 2, 3, "constant"),
    Case(400, 1, 5, "constant"),
    # speckle noise
    Case(100, 1, 3, "constant", noise="speckle", quick=True),
    Case(150, 1, 4, "constant", noise="speckle"),
    Case(200, 1, 3, "constant", noise="speckle"),
    Case(200, 2, 2, "constant", noise="speckle", quick=True),
    Case(250, 1, 6, "constant", noise="speckle"),
    Case(300, 1, 3, "constant", noise="speckle"),
    Case(120, 2, 3, "constant", noise="speckle"),
    Case(400, 1, 3, "constant", noise="speckle"),
    # independent noise, odd angle counts
    Case(130, 1, 7, "irregular"),
    Case(170, 1, 3, "cos2phi"),
    # 1000 frames; the first on the simulator's default grid (15 bins over two q rows)
    Case(1000, 2, 8, "cos2phi", default_grid=True),
    Case(1000, 1, 3, "constant"),
    Case(1000, 1, 3, "irregular"),
    Case(1000, 1, 3, "cos2phi"),
)


def window_integral(exponent: float, dt: float, window: float) -> float:
    """W(x) = ∫ t^x dt from dt to the window's end T_w: (T_w^(x+1) − dt^(x+1))/(x + 1)."""
    return (window ** (exponent + 1) - dt ** (exponent + 1)) / (exponent + 1)


def log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(math.exp(rng.uniform(math.log(low), math.log(high))))


def draw_spec(case: Case, index: int, seed: int) -> SimulationSpec:
    """The SimulationSpec of file ``index``: the case's grid and scaling, a truth drawn from the seed."""
    rng = np.random.default_rng([seed, index])
    dt = SimulationSpec().dt
    window = case.n_frames * dt
    if case.default_grid:
        defaults = SimulationSpec()
        grid = {"q_centres": defaults.q_centres, "phi_centres": defaults.phi_centres,
                "empty_cells": defaults.empty_cells, "processed_q_rows": defaults.processed_q_rows}
    else:
        low = log_uniform(rng, 0.006, 0.015) if case.q_rows == 1 else log_uniform(rng, 0.005, 0.009)
        grid = {"q_centres": tuple(round(low * 1.25**k, 5) for k in range(case.q_rows)),
                "phi_centres": tuple(-180.0 + (k + 0.5) * 360.0 / case.angles for k in range(case.angles)),
                "empty_cells": case.empty, "processed_q_rows": tuple(range(case.q_rows))}
    probe = SimulationSpec(**grid)
    bins = probe.processed_bins()
    q = np.array([info.q for info in bins])
    phi = np.array([info.phi for info in bins])

    params = {"alpha_ref": rng.uniform(-0.5, 0.5), "alpha_sample": rng.uniform(-0.5, 0.5),
              "beta": rng.uniform(-0.5, 0.5), "phi0": rng.uniform(-5.0, 5.0), "f0": rng.uniform(0.2, 0.8)}
    for component in ("ref", "sample"):
        integral = window_integral(params[f"alpha_{component}"], dt, window)
        low = max(D0_RANGE[0], DECAY[0] / (q.min() ** 2 * integral))
        high = min(D0_RANGE[1], DECAY[1] / (q.max() ** 2 * integral))
        if low >= high:
            raise ValueError(f"file {index}: no D0 in {D0_RANGE} gives a decay in {DECAY} at q = {q}")
        params[f"D0_{component}"] = log_uniform(rng, low, high)
    projected = float(np.max(q * np.abs(np.cos(np.radians(phi + params["phi0"])))))
    beta = params["beta"]
    fringes_v0 = 2 * math.pi * log_uniform(rng, *FRINGES) / (projected * window_integral(beta, dt, window))
    fastest = max(dt**beta, window**beta)  # v(t)/v0 = t^beta is largest at an end of the window
    params["v0"] = min(fringes_v0, MAX_STEP_PHASE / (projected * fastest * dt), V0_UPPER)
    f1_low = max(-1.0 / window, math.log(0.1 / params["f0"]) / window)
    f1_high = min(1.0 / window, math.log(0.9 / params["f0"]) / window)
    params["f1"] = rng.uniform(f1_low, f1_high)

    scaling: dict[str, float] = {}
    if case.noise == "independent":
        scaling["contrast"] = rng.uniform(0.1, 0.4)
        scaling["contrast_anisotropy"] = rng.uniform(0.1, 0.3) if case.contrast == "cos2phi" else 0.0
        scaling["contrast_scatter"] = rng.uniform(0.2, 0.4) if case.contrast == "irregular" else 0.0
    else:
        scaling["counts_per_pixel"] = log_uniform(rng, 1.0, 10.0)
        scaling["pixels_per_bin"] = int(rng.choice([1000, 2000]))
    return SimulationSpec(n_frames=case.n_frames, noise=case.noise, seed=index + 1,
                          params={name: float(value) for name, value in params.items()}, **grid, **scaling)


@dataclass
class FitRun:
    """One ``heterodyne`` run: exit code, wall seconds, its result.json (None when it wrote none)."""

    code: int
    wall: float
    result: dict | None
    error: str

    @property
    def cost(self) -> float | None:
        return None if self.result is None else self.result["nlsq"]["cost"]

    @property
    def chi2(self) -> float | None:
        return None if self.result is None else self.result["nlsq"]["chi2_reduced"]

    @property
    def sigma(self) -> float | None:
        """The noise sigma of the weights (costs of two runs compare only when theirs agree)."""
        return None if self.result is None else self.result["nlsq"].get("noise", {}).get("sigma")


def run_fit(command_prefix: list[str], config: Path, data: Path, output: Path, threads: int,
            env: dict[str, str] | None = None) -> FitRun:
    """``heterodyne --config CONFIG --data DATA --output-dir OUTPUT --method nlsq --threads T``."""
    command = [*command_prefix, "--config", str(config), "--data", str(data), "--output-dir", str(output),
               "--method", "nlsq", "--threads", str(threads)]
    started = time.perf_counter()
    # cwd: the output's parent, so that ``python -m`` finds the package on PYTHONPATH, not in the working directory
    process = subprocess.run(command, capture_output=True, text=True, env=env, cwd=output.parent, check=False)
    wall = time.perf_counter() - started
    results = sorted(output.glob("het_*/result.json"))
    result = json.loads(results[-1].read_text()) if results else None
    lines = process.stderr.strip().splitlines()
    return FitRun(process.returncode, wall, result, lines[-1] if process.returncode == 1 and lines else "")


def truth_config(template: dict, truth: dict, result: dict) -> dict:
    """The template started at the truth: physics initials, individual scaling with the true per-bin
    contrast and offset of the bins the run selected (result.json ``data``), in its order."""
    config = copy.deepcopy(template)
    for name, value in truth["params"].items():
        config["parameters"][name]["initial"] = value
    contrasts, offsets = [], []
    for q, phi in zip(result["data"]["q"], result["data"]["phi"], strict=True):
        match = [b for b in truth["bins"] if math.isclose(b["q"], q, rel_tol=1e-9)
                 and abs((b["phi"] - phi + 180.0) % 360.0 - 180.0) < 1e-9]
        if len(match) != 1:
            raise ValueError(f"bin (q={q}, phi={phi}) matches {len(match)} truth bins")
        contrasts.append(match[0]["contrast"])
        offsets.append(match[0]["offset"])
    config["scaling"]["mode"] = "individual"
    config["scaling"]["contrast"]["initial"] = contrasts
    config["scaling"]["offset"]["initial"] = offsets
    return config


@dataclass
class FileReport:
    """Everything measured on one file."""

    index: int
    case: Case
    n_bins: int
    simulate_s: float
    default_t1: FitRun
    default_t2: FitRun
    truth_start: FitRun | None

    def relative_cost(self, run: FitRun) -> float | None:
        if run.cost is None or self.truth_start is None or self.truth_start.cost is None:
            return None
        return (run.cost - self.truth_start.cost) / self.truth_start.cost

    def reached(self, run: FitRun) -> bool:
        relative = self.relative_cost(run)
        return relative is not None and relative <= REACHED - 1.0

    @property
    def threads_differ(self) -> bool:
        one, two = self.default_t1.cost, self.default_t2.cost
        return one is None or two is None or abs(one - two) > THREADS_TOLERANCE * abs(one)


def fit_file(index: int, case: Case, directory: Path, template_path: Path, simulate_s: float) -> FileReport:
    """The default fits at T = 1 and 2 and the truth-start fit of file ``index`` in ``directory``."""
    data = directory / "data.h5"
    truth = json.loads((directory / "data.h5.truth.json").read_text())
    default_t1 = run_fit([HETERODYNE], template_path, data, directory / "default_t1", 1)
    default_t2 = run_fit([HETERODYNE], template_path, data, directory / "default_t2", 2)
    selection = default_t1.result or default_t2.result
    truth_start = None
    if selection is not None:
        template = yaml.safe_load(template_path.read_text())
        truth_path = directory / "truth_start.yaml"
        truth_path.write_text(yaml.safe_dump(truth_config(template, truth, selection), sort_keys=False))
        truth_start = run_fit([HETERODYNE], truth_path, data, directory / "truth_start", 1)
    report = FileReport(index, case, len(truth["bins"]), simulate_s, default_t1, default_t2, truth_start)
    print(f"  done {row(report)}", file=sys.stderr, flush=True)
    return report


def number(value: float | None, form: str) -> str:
    """``value`` in ``form`` (width first, e.g. "9.3g"), or a dash of that width."""
    return format("-", f">{form.split('.')[0]}") if value is None else format(value, form)


HEADER = (f"{'file':>4} {'frames':>6} {'bins':>4} {'q':>2} {'contrast':>9} {'noise':>11} {'exit':>4} "
          f"{'chi2 def':>9} {'chi2 truth':>10} {'dcost rel':>10} {'reach':>5} {'T1=T2':>5} "
          f"{'wall T1':>7} {'wall T2':>7} {'wall tr':>7}")


def row(report: FileReport) -> str:
    case, t1, t2, truth = report.case, report.default_t1, report.default_t2, report.truth_start
    return (f"{report.index:4d} {case.n_frames:6d} {report.n_bins:4d} {case.q_rows:2d} {case.contrast:>9} "
            f"{case.noise:>11} {t1.code:>2d}/{t2.code:<1d} {number(t1.chi2, '9.3g')} "
            f"{number(truth and truth.chi2, '10.3g')} {number(report.relative_cost(t1), '10.2e')} "
            f"{'yes' if report.reached(t1) else 'NO':>5} {'no' if report.threads_differ else 'yes':>5} "
            f"{t1.wall:7.1f} {t2.wall:7.1f} {number(truth and truth.wall, '7.1f')}")


def totals(reports: list[FileReport]) -> list[str]:
    """The three target lines."""
    reached = sum(report.reached(report.default_t1) for report in reports)
    wrong_exit_0 = sum(run.code == 0 and not report.reached(run)
                       for report in reports for run in (report.default_t1, report.default_t2))
    differ = sum(report.threads_differ for report in reports)
    no_reference = sum(report.truth_start is None or report.truth_start.cost is None for report in reports)
    other_sigma = sum(report.truth_start is not None and report.truth_start.sigma != report.default_t1.sigma
                      for report in reports)
    return [
        f"default fit reaches the truth-start cost (<= {REACHED:g} x): {reached}/{len(reports)} "
        f"= {100 * reached / len(reports):.0f} % (target >= 95 %)",
        f"wrong default fits (T=1 and T=2 runs, cost > {REACHED:g} x truth-start) that exit 0: "
        f"{wrong_exit_0} (target 0)",
        f"files whose T=1 and T=2 default costs differ by > {THREADS_TOLERANCE:g} relative: {differ} (target 0)",
        f"files without a truth-start cost (runs that failed): {no_reference}",
        f"files whose default and truth-start fits weigh by different noise sigma (costs not comparable): "
        f"{other_sigma}",
        "exit codes of the T=1 default fits: "
        + ", ".join(f"{code}: {sum(r.default_t1.code == code for r in reports)}"
                    for code in sorted({r.default_t1.code for r in reports})),
    ]


def summary_document(reports: list[FileReport]) -> list[dict]:
    """Per file: the case, exit codes, costs, chi2, status and physics values of every fit."""
    physics_names = None
    documents = []
    for report in reports:
        fits = {}
        for label, run in (("default_t1", report.default_t1), ("default_t2", report.default_t2),
                           ("truth_start", report.truth_start)):
            if run is None:
                continue
            entry = {"code": run.code, "wall_s": run.wall, "error": run.error}
            if run.result is not None:
                nlsq = run.result["nlsq"]
                physics_names = physics_names or list(run.result["config"]["parameters"])
                entry.update(status=run.result["status"], cost=nlsq["cost"], chi2_reduced=nlsq["chi2_reduced"],
                             converged=nlsq["converged"], evaluations=nlsq.get("function_evaluations"),
                             physics={n: nlsq[n] for n in physics_names})
            fits[label] = entry
        documents.append({"index": report.index, "case": asdict(report.case), "bins": report.n_bins,
                          "simulate_s": report.simulate_s, "reached": report.reached(report.default_t1),
                          "relative_cost": report.relative_cost(report.default_t1), "fits": fits})
    return documents


def robustness(args: argparse.Namespace, root: Path) -> None:
    """Simulate the chosen files, fit each three times, print the table and the totals."""
    chosen = [(i, c) for i, c in enumerate(CASES) if c.quick] if args.quick else list(enumerate(CASES))
    if args.files is not None:
        chosen = chosen[:args.files]
    started = time.perf_counter()
    template_path = root / "run.yaml"
    subprocess.run([HETERODYNE, "config", "-o", str(template_path), "--force"], check=True)
    simulated = []
    for index, case in chosen:
        directory = root / f"file_{index:02d}"
        begin = time.perf_counter()
        truth_path = simulate_dataset(directory / "data.h5", draw_spec(case, index, args.seed))
        params = json.loads(truth_path.read_text())["params"]
        simulated.append((index, case, directory, time.perf_counter() - begin))
        print(f"simulated {index:2d}: {case.n_frames} frames, {case.noise}, {case.contrast}, "
              + ", ".join(f"{name} {params[name]:.4g}" for name in ("D0_ref", "D0_sample", "v0", "beta", "f0", "f1")),
              file=sys.stderr, flush=True)
    simulate_total = time.perf_counter() - started
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        reports = list(pool.map(lambda item: fit_file(item[0], item[1], item[2], template_path, item[3]), simulated))
    print(HEADER)
    for report in reports:
        print(row(report))
    print()
    for line in totals(reports):
        print(line)
    errors = [f"  file {r.index} {label}: {run.error}" for r in reports
              for label, run in (("default T=1", r.default_t1), ("default T=2", r.default_t2),
                                 ("truth start", r.truth_start)) if run is not None and run.error]
    if errors:
        print("failed runs (exit 1):", *errors, sep="\n")
    fit_walls = sum(run.wall for r in reports for run in (r.default_t1, r.default_t2, r.truth_start) if run)
    print(f"wall: simulate {simulate_total:.0f} s, fits {fit_walls:.0f} s (sum over runs), "
          f"total {time.perf_counter() - started:.0f} s with --jobs {args.jobs}")
    (root / "summary.json").write_text(json.dumps(summary_document(reports), indent=1) + "\n")


def cost_target(args: argparse.Namespace, root: Path) -> None:
    """Whole-process default fits, N = 400 x 3 angles, this tree against ``args.cost``, alternating."""
    data = root / "cost.h5"
    simulate_dataset(data, draw_spec(Case(400, 1, 3, "constant"), 0, args.seed))
    trees = {"this tree": REPOSITORY, "baseline": Path(args.cost).resolve()}
    walls: dict[str, list[float]] = {label: [] for label in trees}
    environments, templates = {}, {}
    for label, source in trees.items():
        if not (source / "heterodyne" / "__init__.py").is_file():
            raise SystemExit(f"{source}: no heterodyne package there")
        environments[label] = {**os.environ, "PYTHONPATH": str(source)}
        templates[label] = root / f"run_{label.replace(' ', '_')}.yaml"
        subprocess.run([sys.executable, "-m", "heterodyne.cli", "config", "-o", str(templates[label]), "--force"],
                       check=True, env=environments[label], cwd=root)
        package = subprocess.run([sys.executable, "-c", "import heterodyne; print(heterodyne.__file__)"], check=True,
                                 env=environments[label], cwd=root, capture_output=True, text=True).stdout.strip()
        print(f"{label}: {package}")
    prefix = [sys.executable, "-m", "heterodyne.cli"]
    for repeat in range(args.repeats + 1):
        for label in trees:
            run = run_fit(prefix, templates[label], data, root / f"out_{repeat}_{label.replace(' ', '_')}",
                          args.threads, env=environments[label])
            if run.code == 1:
                raise SystemExit(f"{label}: exit 1: {run.error}")
            kind = "warm-up" if repeat == 0 else f"repeat {repeat}"
            print(f"{label:>9} {kind:>9}: wall {run.wall:6.2f} s, exit {run.code}, cost {run.cost:.6e}, "
                  f"chi2_red {run.chi2:.4g}", flush=True)
            if repeat:
                walls[label].append(run.wall)
    medians = {label: statistics.median(values) for label, values in walls.items()}
    print(f"median wall over {args.repeats} repeats (N=400 x 3 angles, --threads {args.threads}): "
          + ", ".join(f"{label} {value:.2f} s" for label, value in medians.items())
          + f"; ratio this tree / baseline = {medians['this tree'] / medians['baseline']:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"the {sum(c.quick for c in CASES)}-file subset")
    parser.add_argument("--files", type=int, help="only the first N files (of the subset chosen)")
    parser.add_argument("--jobs", type=int, default=1, help="files fitted at once (default 1)")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep files, runs and summary.json in DIR")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"truth seed (default {DEFAULT_SEED})")
    parser.add_argument("--cost", metavar="BASELINE_SRC", help="measure the cost target against this source tree")
    parser.add_argument("--repeats", type=int, default=5, help="--cost: repeats per tree (default 5)")
    parser.add_argument("--threads", type=int, default=1, help="--cost: --threads of the fits (default 1)")
    args = parser.parse_args()
    measure = cost_target if args.cost else robustness
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        measure(args, args.keep.resolve())
        return
    with tempfile.TemporaryDirectory() as scratch:
        measure(args, Path(scratch))


if __name__ == "__main__":
    main()
