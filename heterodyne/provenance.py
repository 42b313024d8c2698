"""Where a result came from: package version, git commit, and the run's identity hash."""

from __future__ import annotations

import hashlib
import json
import subprocess
from functools import cache
from pathlib import Path

from heterodyne import __version__
from heterodyne.config.tree import AnalysisConfig

# Keys that say where things are, not what is computed: they do not change a run's identity.
LOCATION_KEYS = (("experimental_data", "file_path"), ("output", "output_dir"), ("output", "plots"),
                 ("output", "viewer_file"), ("compute", "jax_cache_dir"))
"""Keys that say where things are (or whether pictures or the viewer file are written), not what
is computed."""


@cache
def git_commit() -> str:
    """The commit of the heterodyne source tree, or "unknown" outside a git checkout."""
    source = Path(__file__).resolve().parent
    try:
        completed = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return completed.stdout.strip() if completed.returncode == 0 else "unknown"


def identity_config(config: AnalysisConfig) -> dict:
    """The config's resolved dict without its ``LOCATION_KEYS``."""
    identity = config.as_dict()
    for section, key in LOCATION_KEYS:
        identity.get(section, {}).pop(key, None)
    return identity


def run_id(config: AnalysisConfig, data_sha256: str) -> str:
    """8 hex digits of SHA-256 over version, commit, the config's identity and the data hash.

    The method is not part of it: NLSQ and CMC of the same inputs share a directory, so a CMC
    run finds the NLSQ result it warm-starts from.
    """
    payload = json.dumps(
        {"version": __version__, "commit": git_commit(),
         "config": identity_config(config), "data_sha256": data_sha256},
        sort_keys=True, separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:8]
