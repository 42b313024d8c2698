"""fit_viewer.h5: the fit in the APS correlator's layout, read back with h5py on the paths the APS
viewer reads (``/xpcs/twotime/correlation_map``, ``processed_bins``, ``/xpcs/qmap``, the clock),
compared with the data file and with the model evaluated independently at the fitted values."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml
from nlsq_helpers import FIT_PHI, FIT_Q, simulate
from plot_helpers import add_cmc_samples, hand_made_run

from heterodyne.cli import main
from heterodyne.data import load_file
from heterodyne.model import c2_points, sample_fraction, transport_rate, velocity
from heterodyne.parameters import N_PHYSICS, PHYSICS_NAMES
from heterodyne.sidecar import SIDECAR, write_sidecar

START_FRAME = 4


def viewer_bins(path: Path) -> list[tuple[int, float, float]]:
    """(label, q, φ) of every matrix key, in key order, as the viewer maps them."""
    with h5py.File(path, "r") as h5:
        keys = sorted(h5["/xpcs/twotime/correlation_map"])
        labels = h5["/xpcs/twotime/processed_bins"][()]
        mapping = h5["/xpcs/qmap/dynamic_index_mapping"][()]
        q_list, phi_list = h5["/xpcs/qmap/dynamic_v_list_dim0"][()], h5["/xpcs/qmap/dynamic_v_list_dim1"][()]
        assert [name.decode() for name in h5["/xpcs/qmap/map_names"][()]] == ["q", "phi"]
    assert len(keys) == len(labels)
    cells = [divmod(int(mapping[label - 1]), phi_list.size) for label in labels]
    return [(int(label), float(q_list[qi]), float(phi_list[pi])) for label, (qi, pi) in zip(labels, cells, strict=True)]


def viewer_matrix(path: Path, key: str) -> np.ndarray:
    """The full matrix from a stored half, as the viewer rebuilds it: h + hᵀ with the diagonal halved."""
    with h5py.File(path, "r") as h5:
        half = h5[f"/xpcs/twotime/correlation_map/{key}"][()].astype(float)
    full = half + half.T
    full[np.diag_indices_from(full)] /= 2
    return full


def viewer_times(path: Path, n_frames: int) -> np.ndarray:
    """Stored frame k' = 1 … N at begin_frame · frame_time + k' · frame_time · stride · avg."""
    with h5py.File(path, "r") as h5:
        frame_time = float(h5["/entry/instrument/detector_1/frame_time"][()])
        config = h5["/xpcs/twotime/config"]
        stride, average, begin = (float(config[name][()]) for name in ("stride_frame", "avg_frame", "begin_frame"))
    return begin * frame_time + np.arange(1, n_frames + 1) * frame_time * stride * average


def model_at_fit(nlsq, points: int = 400, seed: int = 0):
    """(angle, i, j, c2) at random points, through heterodyne.model.c2_points at the fitted values."""
    rng = np.random.default_rng(seed)
    n_angles, n_frames = nlsq["q"].size, nlsq["t"].size
    angle = rng.integers(n_angles, size=points)
    i, j = rng.integers(n_frames, size=(2, points))
    values = c2_points(nlsq["values"][:N_PHYSICS], nlsq["contrast"], nlsq["offset"], t=nlsq["t"], q=nlsq["q"],
                       phi=nlsq["phi"], angle_index=angle, i=i, j=j)
    return angle, i, j, np.asarray(values)


def run_config(directory: Path, **output) -> Path:
    parameters = {name: {"vary": False} for name in PHYSICS_NAMES}
    parameters.update(D0_ref={"initial": 3e4}, v0={"initial": 1100.0})
    config = {
        "experimental_data": {"q": FIT_Q, "phi": FIT_PHI},
        "analyzer_parameters": {"start_frame": START_FRAME},
        "parameters": parameters,
        "optimization": {"nlsq": {"noise_sigma": 0.002}},
        "output": {"plots": False, **output},
        "compute": {"jax_cache_dir": str(directory / "jax-cache")},
    }
    path = directory / f"run_{output.get('viewer_file')}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def fitted_run(tmp_path_factory):
    directory = tmp_path_factory.mktemp("sidecar")
    data, _ = simulate(directory, dict(D0_ref=2e4, v0=1200.0), n_frames=30, processed_q_rows=(1,), begin_frame=6,
                       seed=2)
    run_dir = directory / "run"
    assert main(["--config", str(run_config(directory, viewer_file=True)), "--data", str(data),
                 "--run-dir", str(run_dir)]) == 0
    return data, run_dir


def test_a_run_writes_the_viewer_file_with_the_input_bins_and_frames(fitted_run):
    data_file, run_dir = fitted_run
    sidecar = run_dir / SIDECAR
    selected = load_file(data_file, q=FIT_Q, phi=FIT_PHI, start_frame=START_FRAME)
    labels = [info["label"] for info in selected.provenance["selected_bins"]]
    input_bins = {label: (q, phi) for label, q, phi in viewer_bins(data_file)}
    bins = viewer_bins(sidecar)
    assert [label for label, _, _ in bins] == labels
    assert [(q, phi) for _, q, phi in bins] == [input_bins[label] for label in labels]
    assert np.allclose(viewer_times(sidecar, selected.n_frames), selected.times, rtol=1e-12, atol=1e-12)
    reread = load_file(sidecar)
    assert reread.c2.shape == selected.c2.shape
    assert np.allclose(reread.times, selected.times, rtol=1e-12, atol=1e-12)
    assert np.allclose(reread.q, selected.q) and np.allclose(reread.phi, selected.phi)


def test_the_viewer_file_holds_the_model_at_the_fit_and_the_residuals(fitted_run):
    data_file, run_dir = fitted_run
    with np.load(run_dir / "nlsq.npz") as npz:
        nlsq = {name: npz[name] for name in npz.files}
    angle, i, j, expected = model_at_fit(nlsq)
    matrices = [viewer_matrix(run_dir / SIDECAR, f"c2_{a + 1:05d}") for a in range(nlsq["q"].size)]
    stored = np.array([matrices[a][i_, j_] for a, i_, j_ in zip(angle, i, j, strict=True)])
    assert np.allclose(stored, expected, rtol=2e-7, atol=0)
    assert np.allclose(nlsq["c2_fitted"][angle, i, j], expected, rtol=2e-7, atol=0)
    # batch-processing guide: the npz arrays are plain float64 (numbers), no pickle
    assert {array.dtype.kind for array in nlsq.values()} <= {"f", "i", "b", "U"}
    assert all(array.dtype == np.float64 for array in nlsq.values() if array.dtype.kind == "f")

    data = load_file(data_file, q=FIT_Q, phi=FIT_PHI, start_frame=START_FRAME).c2
    with h5py.File(run_dir / SIDECAR, "r") as h5:
        residual = h5["/xpcs/twotime/residual_map/c2_00002"][()]
    upper = np.triu_indices(data.shape[1], k=1)
    by_hand = (data[1] - nlsq["c2_fitted"][1].astype(float))[upper] / 0.002
    assert np.allclose(residual[upper], by_hand, rtol=1e-4, atol=1e-4)
    assert np.isnan(np.diagonal(residual)).all()
    fitted_points = np.isfinite(nlsq["c2_residual"])
    assert fitted_points.sum() == 2 * nlsq["n_points"]  # each point at (i, j) and (j, i)
    assert np.allclose(nlsq["c2_residual"][1][upper], by_hand, rtol=1e-4, atol=1e-4)


def test_the_rate_curves_and_provenance(fitted_run):
    _, run_dir = fitted_run
    with np.load(run_dir / "nlsq.npz") as npz:
        values, t = npz["values"], npz["t"]
    p = dict(zip(PHYSICS_NAMES, values[:N_PHYSICS], strict=True))
    expected = {
        "J_ref": transport_rate(t, p["D0_ref"], p["alpha_ref"], p["D_offset_ref"]),
        "J_sample": transport_rate(t, p["D0_sample"], p["alpha_sample"], p["D_offset_sample"]),
        "v": velocity(t, p["v0"], p["beta"], p["v_offset"]),
        "f_s": sample_fraction(t, p["f0"], p["f1"], p["f2"], p["f3"]),
    }
    with h5py.File(run_dir / SIDECAR, "r") as h5:
        own = h5["/heterodyne"]
        assert own.attrs["run_id"] == json.loads((run_dir / "result.json").read_text())["run_id"]
        assert len(own.attrs["data_sha256"]) == 64
        assert np.allclose(own["rates/t"][()], t)
        for name, curve in expected.items():
            assert np.allclose(own[f"rates/{name}"][()], curve, rtol=1e-10)
            low, high = own[f"rates/{name}_nlsq_band"][()]
            assert np.all(low <= high)
            assert f"rates/{name}_cmc_band" not in own


def test_off_by_default_and_plot_writes_it(fitted_run, tmp_path, capsys):
    data_file, _ = fitted_run
    run_dir = tmp_path / "default"
    assert main(["--config", str(run_config(tmp_path)), "--data", str(data_file), "--run-dir", str(run_dir)]) == 0
    assert sorted(p.name for p in run_dir.iterdir()) == ["nlsq.npz", "result.json"]
    assert main(["plot", str(run_dir)]) == 0
    assert viewer_bins(run_dir / SIDECAR) == viewer_bins(fitted_run[1] / SIDECAR)


def test_cmc_bands_and_a_legacy_input(tmp_path):
    run_dir = hand_made_run(tmp_path, n_frames=20)
    add_cmc_samples(run_dir)
    (tmp_path / "legacy").mkdir()
    legacy, _ = simulate(tmp_path / "legacy", {}, n_frames=20, processed_q_rows=(1,), seed=3, layout="legacy")
    data = load_file(legacy, q=FIT_Q, phi=FIT_PHI)
    sidecar = write_sidecar(run_dir, data=data)
    labels = [info["label"] for info in data.provenance["selected_bins"]]
    assert [(label, q, phi) for label, q, phi in viewer_bins(sidecar)] == \
        [(label, FIT_Q, phi) for label, phi in zip(labels, FIT_PHI, strict=True)]
    with h5py.File(sidecar, "r") as h5:
        low, median, high = h5["/heterodyne/rates/v_cmc_band"][()]
        assert np.all(low <= median) and np.all(median <= high)
        assert "/exchange/C2T_all" not in h5
