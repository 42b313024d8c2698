"""The reference pages docs/reference/*.md are the docstrings as they are now (make docs), and
every relative link of the documentation leads to a file."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_generator():
    spec = importlib.util.spec_from_file_location("docs_reference", ROOT / "docs" / "reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_checked_in_reference_equals_a_fresh_rendering(tmp_path):
    load_generator().write(tmp_path)
    fresh = {path.name: path.read_text(encoding="utf-8") for path in sorted(tmp_path.glob("*.md"))}
    checked_in = {path.name: path.read_text(encoding="utf-8")
                  for path in sorted((ROOT / "docs" / "reference").glob("*.md"))}
    assert sorted(checked_in) == sorted(fresh), "run make docs: the reference pages differ in name"
    stale = [name for name in fresh if checked_in[name] != fresh[name]]
    assert not stale, f"run make docs: {', '.join(stale)} differ from the docstrings"
    assert not [name for name, text in fresh.items() if " at 0x" in text], "a page holds an object address"


def test_every_relative_link_of_the_documentation_resolves():
    link = load_generator().LINK
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    dead = [f"{page.relative_to(ROOT)}: {target}" for page in pages
            for target in link.findall(page.read_text(encoding="utf-8"))
            if not (page.parent / target).exists()]
    assert not dead, f"dead links: {dead}"
