"""Shared test set-up: JAX on the CPU (64-bit mode is the package's own job: not set here), and the
APS correlator's reference file, which lives beside the repository in ../shared/data/boost_corr/."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("JAX_PLATFORMS", "cpu")

BOOST_CORR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "boost_corr"


@pytest.fixture(scope="session")
def correlator_file() -> Path:
    """The boost_corr result file (its README and truth.json beside it); skipped, with the path, when
    the repository is not checked out beside ../shared."""
    path = BOOST_CORR / "hetflow_a0001_results.hdf"
    if not path.is_file():
        pytest.skip(f"the APS correlator's reference file is not beside the repository ({path})")
    return path
