"""Every caption of ``snakemake --report`` renders without a docutils warning or error.

Snakemake renders a caption in two steps (snakemake/report/__init__.py, ``FileRecord.render``):
Jinja2 with ``trim_blocks`` and ``lstrip_blocks`` and a ``snakemake`` object carrying the job's
wildcards and the config, then ``docutils.core.publish_parts(..., writer_name="html")``. The test
does the same with docutils halting at warnings, so an RST slip (an unescaped ``|…|`` read as a
substitution, a broken table) fails here instead of printing in the report.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from docutils.core import publish_parts
from jinja2 import Environment, StrictUndefined

REPORT = Path(__file__).resolve().parents[2] / "workflow" / "report"
CAPTIONS = sorted(REPORT.glob("*.rst"))
# The figure kinds of one run's plots/ (heterodyne/plots/run_plots.py), as the `figure` wildcard.
RUN_FIGURES = ["c2_fit_00", "c2_fit_11", "c2_cuts", "rates", "cmc_trace_shard_00", "cmc_corner"]
# What snakemake appends to every caption before rendering: link targets per category and file.
RST_LINKS = """

.. _Workflow: javascript:show_panel('workflow')
.. _Statistics: javascript:show_panel('statistics')
"""


def render(caption: Path, figure: str | None = None) -> str:
    """The caption's HTML body as snakemake renders it; raises on any docutils warning or error."""
    environment = Environment(trim_blocks=True, lstrip_blocks=True, undefined=StrictUndefined)
    snakemake = SimpleNamespace(wildcards=SimpleNamespace(figure=figure), config={})
    text = environment.from_string(caption.read_text(encoding="utf-8") + RST_LINKS).render(
        snakemake=snakemake, categories={}, files=[])
    settings = {"halt_level": 2, "report_level": 2, "warning_stream": False}
    return publish_parts(text, writer_name="html", settings_overrides=settings)["body"]


def test_the_report_has_captions():
    assert {path.name for path in CAPTIONS} >= {"agreement.rst", "run_figures.rst", "workflow.rst"}


@pytest.mark.parametrize("caption", [path for path in CAPTIONS if path.name != "run_figures.rst"],
                         ids=lambda path: path.stem)
def test_caption_renders_without_docutils_messages(caption):
    assert render(caption).strip()


@pytest.mark.parametrize("figure", RUN_FIGURES)
def test_every_run_figure_has_a_caption_that_renders(figure):
    assert render(REPORT / "run_figures.rst", figure).strip()


def test_a_substitution_slip_is_caught(tmp_path):
    """The check itself fails on the RST mistake it is there for."""
    slip = tmp_path / "slip.rst"
    slip.write_text("The median of |CMC − NLSQ| is 1.\n", encoding="utf-8")
    with pytest.raises(Exception, match="Undefined substitution"):
        render(slip)
