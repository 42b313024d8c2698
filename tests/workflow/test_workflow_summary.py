"""`heterodyne summarize` and heterodyne.run_tables on hand-made result.json documents (no fitting)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from heterodyne.cli import main
from heterodyne.config import resolve_config
from heterodyne.parameters import PHYSICS_NAMES
from heterodyne.run_tables import summary_columns

VARIED = ["D0_ref", "v0"]
SWEEP_KEY = "analyzer_parameters.start_frame"


def nlsq_section(values: dict[str, float], stderr: dict[str, float]) -> dict:
    section = {name: values.get(name, 0.0) for name in PHYSICS_NAMES}
    section.update(stderr={name: stderr.get(name) for name in PHYSICS_NAMES}, varied=VARIED, chi2_reduced=1.02,
                   converged=True)
    return section


def cmc_section(means: dict[str, float], sds: dict[str, float]) -> dict:
    section = {name: means.get(name, 0.0) for name in PHYSICS_NAMES}
    section.update(
        sd={name: sds.get(name) for name in PHYSICS_NAMES},
        q05={name: (means[name] - 1.645 * sds[name] if name in sds else None) for name in PHYSICS_NAMES},
        q95={name: (means[name] + 1.645 * sds[name] if name in sds else None) for name in PHYSICS_NAMES},
        varied=VARIED, max_r_hat=1.01, min_ess_bulk=350.0, n_shards=2,
    )
    return section


def write_result(root: Path, dataset: str, run: str, seed: int, method: str, start_frame: int,
                 nlsq: dict, cmc: dict | None = None, warning: str | None = None) -> Path:
    path = root / dataset / run / f"seed{seed}" / method / "result.json"
    path.parent.mkdir(parents=True)
    document = {
        "run_id": "0123abcd", "heterodyne_version": "0.1.0", "git_commit": "abc123",
        "data_sha256": f"sha-{dataset}",
        "config": resolve_config({"analyzer_parameters": {"start_frame": start_frame}}).as_dict(),
        "method": method, "status": "convergence_warning" if warning else "converged",
        "convergence_warning": warning, "nlsq": nlsq, "cmc": cmc,
    }
    path.write_text(json.dumps(document))
    return path


@pytest.fixture
def results(tmp_path) -> tuple[Path, list[Path]]:
    """Two seeds of one run point, NLSQ and CMC each; the second seed's NLSQ did not converge."""
    root = tmp_path / "results"
    paths = []
    for seed, shift in ((1, 0.0), (2, 100.0)):
        nlsq = nlsq_section({"D0_ref": 2e4 + shift, "v0": 1200.0}, {"D0_ref": 500.0, "v0": 20.0})
        cmc = cmc_section({"D0_ref": 2.01e4 + shift, "v0": 1190.0}, {"D0_ref": 600.0, "v0": 25.0})
        warning = "iteration limit reached" if seed == 2 else None
        paths.append(write_result(root, "demo", "start_frame=11", seed, "nlsq", 11, nlsq, warning=warning))
        paths.append(write_result(root, "demo", "start_frame=11", seed, "cmc", 11, nlsq, cmc))
    return root, paths


def summarize(root: Path, paths: list[Path], *extra: str) -> int:
    out = root.parent
    return main(["summarize", *map(str, paths), "--root", str(root), "--sweep-key", SWEEP_KEY,
                 "--summary", str(out / "summary.csv"), "--comparison", str(out / "comparison.csv"), *extra])


def test_summary_has_one_row_per_run_and_method_with_the_contract_columns(results):
    root, paths = results
    assert summarize(root, paths) == 0
    table = pd.read_csv(root.parent / "summary.csv")
    assert list(table.columns) == summary_columns([SWEEP_KEY])
    assert [c for c in table.columns if "." in c] == [SWEEP_KEY]
    assert list(zip(table["seed"], table["method"], strict=True)) == [(1, "cmc"), (1, "nlsq"), (2, "cmc"), (2, "nlsq")]
    nlsq = table[(table["method"] == "nlsq") & (table["seed"] == 2)].iloc[0]
    assert (nlsq["dataset"], nlsq["run"], nlsq[SWEEP_KEY]) == ("demo", "start_frame=11", 11)
    assert (nlsq["D0_ref"], nlsq["D0_ref_err"], nlsq["varied"]) == (20100.0, 500.0, "D0_ref;v0")
    assert pd.isna(nlsq["D0_ref_q05"]) and pd.isna(nlsq["max_r_hat"]) and pd.isna(nlsq["alpha_ref_err"])
    assert (nlsq["status"], nlsq["convergence_warning"]) == ("convergence_warning", "iteration limit reached")
    cmc = table[(table["method"] == "cmc") & (table["seed"] == 1)].iloc[0]
    assert (cmc["D0_ref"], cmc["D0_ref_err"]) == (20100.0, 600.0)
    assert cmc["D0_ref_q05"] == pytest.approx(20100.0 - 1.645 * 600.0)
    assert (cmc["max_r_hat"], cmc["min_ess_bulk"], cmc["data_sha256"]) == (1.01, 350.0, "sha-demo")
    assert cmc["result"] == str(root / "demo/start_frame=11/seed1/cmc/result.json")


def test_comparison_gives_nlsq_against_cmc_per_run_and_sampled_parameter(results):
    root, paths = results
    assert summarize(root, paths) == 0
    table = pd.read_csv(root.parent / "comparison.csv")
    assert len(table) == 2 * len(VARIED)
    row = table[(table["seed"] == 1) & (table["parameter"] == "D0_ref")].iloc[0]
    assert row["difference"] == pytest.approx(100.0)
    assert row["difference_in_sd"] == pytest.approx(100.0 / 600.0)
    assert row["sd_difference"] == pytest.approx(100.0)
    assert row["sd_ratio"] == pytest.approx(1.2)
    assert row[SWEEP_KEY] == 11


def test_stability_gives_the_spread_across_seeds_relative_to_the_uncertainty(results):
    root, paths = results
    assert summarize(root, paths, "--stability", str(root.parent / "stability.csv")) == 0
    table = pd.read_csv(root.parent / "stability.csv")
    assert len(table) == 2 * len(VARIED)  # two methods
    row = table[(table["method"] == "cmc") & (table["parameter"] == "D0_ref")].iloc[0]
    spread = pd.Series([2.01e4, 2.02e4]).std(ddof=1)
    assert (row["n_seeds"], row["mean"]) == (2, pytest.approx(20150.0))
    assert row["spread"] == pytest.approx(spread)
    assert row["relative_spread"] == pytest.approx(spread / 600.0)
    v0 = table[(table["method"] == "nlsq") & (table["parameter"] == "v0")].iloc[0]
    assert (v0["spread"], v0["relative_spread"]) == (0.0, 0.0)


@pytest.mark.parametrize("relative, message", [
    ("demo/start_frame=11/1/nlsq/result.json", "'1' is not seed<integer>"),
    ("demo/start_frame=11/seed1/mcmc/result.json", "method directory 'mcmc' is not one of nlsq, cmc"),
    ("demo/seed1/nlsq/result.json", "expected"),
])
def test_paths_outside_the_layout_are_one_line_errors_and_nothing_is_written(tmp_path, capsys, relative, message):
    root = tmp_path / "results"
    path = root / relative
    path.parent.mkdir(parents=True)
    path.write_text("{}")
    assert summarize(root, [path]) == 1
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1
    assert not (tmp_path / "summary.csv").exists()


def test_a_result_without_its_method_section_is_an_error_naming_the_file(results, capsys):
    root, paths = results
    broken = json.loads(paths[1].read_text())
    broken["cmc"] = None
    paths[1].write_text(json.dumps(broken))
    assert summarize(root, paths) == 1
    assert f"{paths[1]}: no cmc section in the result" in capsys.readouterr().err
    assert not (root.parent / "summary.csv").exists()
