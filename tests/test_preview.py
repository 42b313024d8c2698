"""``heterodyne preview``: fringes found where the simulation put them, at the frequency
|q cos(φ + φ0) v| / 2π (docs/model.md), none where there are none, aliasing flagged, the
shared correlator file read, the data-driven start of the suggested selection near the truth, and bad
input refused cleanly."""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from heterodyne.cli import main
from heterodyne.data import load_file
from heterodyne.preview import MIN_CYCLES, preview_bins
from heterodyne.simulation import SimulationSpec, simulate_dataset

N_FRAMES = 400
START = "data-driven start (optimization.nlsq.start: auto) for the suggested selection"
FIGURES = sorted(["preview_bins.png", "preview_cuts.png", "preview_maps.png", "preview_spectra.png", "preview.txt"])


def simulated(directory: Path, name: str, **fields) -> tuple[Path, dict]:
    params = fields.pop("params")
    spec = replace(SimulationSpec(), n_frames=N_FRAMES, params=params, seed=fields.pop("seed", 1), **fields)
    truth = simulate_dataset(directory / f"{name}.h5", spec)
    return directory / f"{name}.h5", json.loads(truth.read_text())


def previews_of(path: Path):
    data = load_file(path)
    return data, preview_bins(np.asarray(data.c2), data.dt, data.provenance["selected_bins"])


def printed_start(printed: str) -> dict[str, float]:
    """The data-driven start's values, by name, from the printed summary."""
    section = printed.split(f"{START}:\n", 1)[1]
    return {name: float(value) for name, value in re.findall(r"^ +(\w+) = (\S+)", section, flags=re.MULTILINE)}


def fringe_frequency(q: float, phi: float, phi0: float, velocity: float) -> float:
    return abs(q * math.cos(math.radians(phi + phi0)) * velocity) / (2 * math.pi)


def test_fringes_at_the_simulated_frequency(tmp_path):
    path, truth = simulated(tmp_path, "fringes", params=dict(v0=3000.0, beta=0.0, v_offset=0.0, f0=0.5))
    data, previews = previews_of(path)
    resolution = 1.0 / (N_FRAMES // 2 * data.dt)
    resolvable = 0
    for preview in previews:
        expected = fringe_frequency(preview.q, preview.phi, truth["params"]["phi0"], 3000.0)
        if expected >= (MIN_CYCLES + 1) * resolution:
            resolvable += 1
            assert preview.fringes.present, (preview.key, expected)
            assert abs(preview.fringes.peak_frequency - expected) <= resolution / 2, (preview.key, expected)
            assert not preview.fringes.aliasing
    assert resolvable == 8  # the four angles nearest the flow at each q


@pytest.mark.parametrize("params", [dict(v0=1e-6, beta=0.0, v_offset=0.0, f0=0.5),
                                    dict(v0=3000.0, beta=0.0, v_offset=0.0, f0=0.0, f3=0.0)],
                         ids=["no velocity", "no sample field"])
def test_no_fringes_without_velocity_or_without_the_sample_field(tmp_path, params, capsys):
    path, _ = simulated(tmp_path, "plain", params=params)
    _, previews = previews_of(path)
    assert not [p.key for p in previews if p.fringes.present]
    assert all(p.usable and p.contrast > 0.1 for p in previews)
    assert main(["preview", str(path), "--output-dir", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "heterodyne: no (fringes in 0 of 15 bins" in printed
    assert f"{START}: none (the data do not look heterodyne)" in printed


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_data_driven_start_of_the_suggested_selection_near_the_truth(tmp_path, seed, capsys):
    # Equal decay rates: J_ref ↔ J_sample with f ↔ 1 − f leaves c2 unchanged when f1 = 0 (docs/model.md),
    # so only a truth symmetric under the swap can be read off the data; away from the configured
    # start (D0 = 1e4, v0 = 1e3), so the estimate is not the configured start handed back.
    truth = dict(D0_ref=3000.0, D0_sample=3000.0, v0=3000.0, beta=0.0, v_offset=0.0, f0=0.5)
    path, _ = simulated(tmp_path, "fringes", params=truth, seed=seed)
    output = tmp_path / "out"
    assert main(["preview", str(path), "--output-dir", str(output)]) == 0
    printed = capsys.readouterr().out
    assert printed.count(START) == 1 and f"{START}:\n" in (output / "preview.txt").read_text()
    start = printed_start(printed)
    assert {"D0_ref", "D0_sample", "v0", "f0", "phi0"} <= set(start)
    assert "f2" not in start  # held by default: only the varied parameters are shown
    assert 1 / 1.5 <= start["v0"] / truth["v0"] <= 1.5, start
    assert 1 / 3 <= start["D0_sample"] / truth["D0_sample"] <= 3, start


def test_no_data_driven_start_without_a_suggested_selection(tmp_path, capsys):
    path, _ = simulated(tmp_path, "faint", contrast=0.001, params=dict(v0=3000.0))
    assert main(["preview", str(path), "--output-dir", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "suggested selection: none" in printed
    assert f"{START}: none (no selection suggested)" in printed


def test_fringes_near_the_frame_rate_are_flagged_as_aliasing(tmp_path, capsys):
    path, truth = simulated(tmp_path, "alias", frame_time=0.01,
                            params=dict(v0=3966.0, beta=0.0, v_offset=0.0, f0=0.5, D0_ref=100.0, D0_sample=100.0))
    data, previews = previews_of(path)
    nyquist = 1 / (2 * data.dt)
    flagged = {p.key for p in previews if p.fringes.aliasing}
    near = {p.key for p in previews if fringe_frequency(p.q, p.phi, truth["params"]["phi0"], 3966.0) > 0.8 * nyquist}
    assert flagged == near and len(near) == 4
    assert main(["preview", str(path), "--output-dir", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out.count("may alias between frames") == 4


def test_shared_correlator_file(tmp_path, correlator_file, capsys):
    truth = json.loads(correlator_file.with_name("hetflow_a0001_truth.json").read_text())["params"]
    output = tmp_path / "preview"
    assert main(["preview", str(correlator_file), "--output-dir", str(output)]) == 0
    printed = capsys.readouterr().out
    assert "heterodyne: yes" in printed and "suggested selection: q = " in printed
    assert sorted(p.name for p in output.iterdir()) == FIGURES
    data, previews = previews_of(correlator_file)
    resolution = 1.0 / (data.n_frames // 2 * data.dt)
    v = truth["v0"] * data.times ** truth["beta"] + truth["v_offset"]  # v(t) over the window
    detected = [p for p in previews if p.fringes.present]
    assert len(detected) >= 4
    for preview in detected:
        span = [fringe_frequency(preview.q, preview.phi, truth["phi0"], value) for value in (v.min(), v.max())]
        assert min(span) - resolution <= preview.fringes.peak_frequency <= max(span) + resolution, preview.key


def test_bad_input_fails_cleanly_and_writes_nothing(tmp_path, capsys):
    missing = tmp_path / "missing.h5"
    output = tmp_path / "out"
    assert main(["preview", str(missing), "--output-dir", str(output)]) == 1
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("heterodyne: error: ") and "missing.h5" in error[0]
    assert not output.exists()
    not_hdf5 = tmp_path / "text.h5"
    not_hdf5.write_text("not a two-time file")
    assert main(["preview", str(not_hdf5), "--output-dir", str(output)]) == 1
    assert "text.h5" in capsys.readouterr().err and not output.exists()
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    path, _ = simulated(tmp_path, "fine", params=dict(v0=3000.0))
    assert main(["preview", str(path), "--output-dir", str(blocked / "sub")]) == 1
    assert "a-file" in capsys.readouterr().err
    assert main(["preview", str(path), "--q", "0.5", "--output-dir", str(output)]) == 1
    assert "0.5" in capsys.readouterr().err and not output.exists()
