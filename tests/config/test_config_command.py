"""``heterodyne config``: the template to stdout or to a file, never clobbering without --force."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from heterodyne.commands import config as command
from heterodyne.config import read_config, resolve_config, template_text
from heterodyne.errors import HeterodyneError


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="heterodyne")
    subparsers = parser.add_subparsers(dest="command", required=True)
    command.add_parser(subparsers).set_defaults(run=command.run)
    args = parser.parse_args(["config", *argv])
    return args.run(args)


def test_writes_the_template_to_stdout(capsys: pytest.CaptureFixture[str]):
    assert _run([]) == 0
    assert capsys.readouterr().out == template_text()


def test_writes_a_file_that_loads_to_the_defaults(tmp_path: Path):
    path = tmp_path / "run.yaml"
    assert _run(["-o", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == template_text()
    assert read_config(path) == resolve_config(None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.yaml"]  # no temporary left


def test_refuses_to_overwrite_without_force(tmp_path: Path):
    path = tmp_path / "run.yaml"
    path.write_text("mine\n")
    with pytest.raises(HeterodyneError, match=r"run\.yaml: already exists \(use --force to overwrite\)"):
        _run(["-o", str(path)])
    assert path.read_text() == "mine\n"
    assert _run(["--output", str(path), "--force"]) == 0
    assert path.read_text(encoding="utf-8") == template_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.yaml"]


def test_creates_a_missing_directory(tmp_path: Path):
    path = tmp_path / "new" / "run.yaml"
    assert _run(["-o", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == template_text()


def test_unwritable_location_is_a_one_line_error(tmp_path: Path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a directory\n")
    with pytest.raises(HeterodyneError, match=r"cannot write .*run\.yaml: ") as caught:
        _run(["-o", str(blocker / "run.yaml")])
    assert "\n" not in str(caught.value)


def test_directory_as_output_is_refused(tmp_path: Path):
    with pytest.raises(HeterodyneError, match="is a directory"):
        _run(["-o", str(tmp_path), "--force"])
