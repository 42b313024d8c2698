"""The pre-commit hooks run exactly the commands of `make lint`."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def make_lint_commands() -> list[str]:
    """The recipe lines of the Makefile's lint target, $(VENV) written out as .venv."""
    makefile = (ROOT / "Makefile").read_text()
    venv = re.search(r"^VENV := (\S+)$", makefile, re.MULTILINE).group(1)
    recipe = re.search(r"^lint:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE).group(1)
    return [line.strip().replace("$(VENV)", venv) for line in recipe.splitlines()]


def test_pre_commit_runs_the_commands_of_make_lint_on_the_whole_tree():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    [repository] = config["repos"]
    assert repository["repo"] == "local"
    hooks = repository["hooks"]
    assert [hook["entry"] for hook in hooks] == make_lint_commands()
    assert len(hooks) == 3
    assert all(hook["language"] == "system" and hook["pass_filenames"] is False for hook in hooks)
