"""Each dataset's windows along the age (heterodyne/batch/windows.py), without snakemake: the sheet's
cells, the workflow's windows as the default overridden key by key, off, and the one-line errors
naming the dataset and the column or key."""

from __future__ import annotations

from pathlib import Path

import pytest

from heterodyne.batch.datasets import collect_datasets, from_sheet
from heterodyne.batch.windows import parameter_names, resolve_windows
from heterodyne.errors import HeterodyneError

WORKFLOW = {"width": 40, "step": 20, "free": ["D0_ref", "D0_sample", "v0", "f0"], "inherit": []}
"""A default-filled workflow ``windows``."""


def write_sheet(directory: Path, header: str, *rows: str) -> str:
    """A sheet of ``rows`` (tab-separated, name first) whose data files exist (empty)."""
    lines = [f"name\tpath\t{header}"]
    for row in rows:
        name, cells = row.split("\t", 1)
        (directory / f"{name}.h5").touch()
        lines.append(f"{name}\t{directory / name}.h5\t{cells}")
    path = directory / "datasets.tsv"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.mark.parametrize("text, names", [
    ("D0_ref, v0", ["D0_ref", "v0"]), ("D0_ref v0", ["D0_ref", "v0"]), ("[D0_ref, v0]", ["D0_ref", "v0"]),
    (" phi0,scaling ", ["phi0", "scaling"]), ("[]", []),
])
def test_a_cell_lists_parameter_names_separated_by_commas_or_spaces(text, names):
    assert parameter_names(text) == names


def test_sheet_cells_become_the_datasets_own_windows_and_leave_the_analysis_overrides_alone(tmp_path):
    sheet = write_sheet(tmp_path, "analyzer_parameters.start_frame\twindows\twindows.width\twindows.step\t"
                        "windows.free\twindows.inherit",
                        "fast\t5\t\t100\t50\tD0_ref v0\tphi0, scaling",
                        "reset\t\t\t\tnull\t\t[]",
                        "off\t\toff\t\t\t\t",
                        "plain\t\t\t\t\t\t")
    fast, reset, off, plain = from_sheet(sheet)
    assert dict(fast.overrides) == {"analyzer_parameters.start_frame": 5}
    assert fast.windows == {"width": 100, "step": 50, "free": ["D0_ref", "v0"], "inherit": ["phi0", "scaling"]}
    assert reset.windows == {"step": None, "inherit": []}
    assert (off.windows, plain.windows) == (False, None)
    assert all(dict(dataset.overrides) == {} for dataset in (reset, off, plain))


def test_the_workflows_windows_are_the_default_and_a_dataset_overrides_them_key_by_key():
    assert resolve_windows(WORKFLOW, None, "a") == WORKFLOW
    assert resolve_windows(WORKFLOW, {"width": 30}, "a") == {**WORKFLOW, "width": 30}
    assert resolve_windows(WORKFLOW, {"step": None, "inherit": ["phi0"]}, "a") == {
        **WORKFLOW, "step": None, "inherit": ["phi0"]}
    assert resolve_windows(WORKFLOW, False, "a") is None


def test_without_workflow_windows_a_dataset_sets_its_own_with_the_keys_defaults():
    assert resolve_windows(None, None, "a") is None
    assert resolve_windows(None, False, "a") is None
    settings = resolve_windows(None, {"width": 60}, "a")
    assert settings is not None
    assert (settings["width"], settings["step"], list(settings["free"]), list(settings["inherit"])) == (
        60, None, ["D0_ref", "D0_sample", "v0", "f0"], ["phi0"])


def test_a_simulated_datasets_windows_are_its_own_not_simulation_settings():
    [dataset] = collect_datasets({"simulate": {"a": {"frames": 90, "windows": {"width": 30}}}}, "sim")
    assert dataset.windows == {"width": 30}
    assert dict(dataset.simulation or {}) == {"frames": 90}


def one_line_error(call) -> str:
    with pytest.raises(HeterodyneError) as raised:
        call()
    message = str(raised.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("header, cells, message", [
    ("windows.width", "abc", "dataset a: column windows.width: expected an integer >= 2, got 'abc'"),
    ("windows.width", "2.5", "dataset a: column windows.width: expected an integer >= 2, got 2.5"),
    ("windows.width", "1", "dataset a: column windows.width: expected an integer >= 2, got 1"),
    ("windows.step", "0", "dataset a: column windows.step: expected an integer >= 1 or null, got 0"),
    ("windows.widht", "40", "dataset a: column windows.widht: unknown key (did you mean 'width'?)"),
    ("windows.free", "v0 D0_reff", "dataset a: column windows.free: unknown parameter 'D0_reff' (known: "),
    ("windows.free", "[]", "dataset a: column windows.free: no parameter to fit"),
    ("windows.inherit", "phi0 phi0", "dataset a: column windows.inherit: a parameter is listed twice"),
    ("windows", "on", "dataset a: column windows: expected off (or an empty cell: the workflow's windows), got true"),
    ("windows\twindows.width", "off\t40", "dataset a: column windows is off, but windows.width is set too"),
])
def test_a_bad_sheet_cell_is_one_line_naming_the_row_dataset_and_column(tmp_path, header, cells, message):
    sheet = write_sheet(tmp_path, header, f"a\t{cells}")
    error = one_line_error(lambda: from_sheet(sheet))
    assert error.startswith(f"datasets.sheet {sheet}:2: ") and message in error


@pytest.mark.parametrize("windows, message", [
    (True, "datasets.simulate.a.windows: expected off (false) or a mapping of width, step, free, inherit, got true"),
    ({"width": 40, "stp": 2}, "datasets.simulate.a.windows.stp: unknown key (did you mean 'step'?)"),
    ({"width": "40"}, "datasets.simulate.a.windows.width: expected an integer >= 2, got '40'"),
    ({"inherit": "phi0"}, "datasets.simulate.a.windows.inherit: expected a list of parameter names, got 'phi0'"),
    ({"inherit": ["v1"]}, "datasets.simulate.a.windows.inherit: unknown parameter 'v1' (known: "),
])
def test_a_bad_simulated_datasets_windows_is_one_line_naming_the_dataset_and_key(windows, message):
    section = {"simulate": {"a": {"frames": 90, "windows": windows}}}
    assert one_line_error(lambda: collect_datasets(section, "sim")).startswith(message)


@pytest.mark.parametrize("workflow, own, message", [
    (None, {"step": 10}, "dataset a: windows.width: required, as the workflow config has no windows to take it from"),
    (WORKFLOW, {"inherit": ["v0"]}, "dataset a: windows: v0 both free and inherited"),
])
def test_a_datasets_windows_that_clash_with_the_workflows_are_one_line(workflow, own, message):
    assert one_line_error(lambda: resolve_windows(workflow, own, "a")) == message
