"""The simulator: file layouts as in docs/data-formats.md, truth JSON, noise, determinism, CLI."""

from __future__ import annotations

import json
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from helpers_h5 import SMALL_FRAMES, simulate_small

from heterodyne.data import file_sha256
from heterodyne.errors import HeterodyneError
from heterodyne.parameters import PHYSICS_PARAMETERS
from heterodyne.simulation import SimulationSpec, model_matrices, simulate_dataset

C2_GROUP = "/xpcs/twotime/correlation_map"


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    directory = tmp_path_factory.mktemp("simulate")
    return {
        "aps-u": simulate_small(directory, "aps_u.h5", seed=11),
        "legacy": simulate_small(directory, "legacy.h5", seed=11, layout="legacy"),
    }


def test_aps_u_file_has_every_documented_path(simulated):
    path, truth = simulated["aps-u"]
    spec = SimulationSpec(n_frames=SMALL_FRAMES)
    with h5py.File(path, "r") as h5:
        keys = sorted(h5[C2_GROUP])
        assert keys == [f"c2_{k:05d}" for k in range(1, len(truth["bins"]) + 1)]
        for key in keys:
            dataset = h5[f"{C2_GROUP}/{key}"]
            assert dataset.dtype == np.float32 and dataset.shape == (SMALL_FRAMES, SMALL_FRAMES)
            assert dataset.compression == "lzf" and dataset.chunks == dataset.shape
            values = dataset[()]
            assert not np.tril(values, -1).any() and np.all(np.diag(values) > 1.0)
        np.testing.assert_array_equal(h5["/xpcs/twotime/processed_bins"][()], [b["label"] for b in truth["bins"]])
        config = {name: h5[f"/xpcs/twotime/config/{name}"][()] for name in ("avg_frame", "stride_frame",
                                                                            "begin_frame", "end_frame")}
        assert config == {"avg_frame": 3, "stride_frame": 2, "begin_frame": 0, "end_frame": -1}
        assert h5["/xpcs/twotime/normalized_g2"].shape == (SMALL_FRAMES, len(keys))
        assert h5["/xpcs/twotime/normalized_g2"].dtype == np.float32
        np.testing.assert_array_equal(h5["/xpcs/qmap/dynamic_v_list_dim0"][()], spec.q_centres)
        np.testing.assert_array_equal(h5["/xpcs/qmap/dynamic_v_list_dim1"][()], spec.phi_centres)
        np.testing.assert_array_equal(h5["/xpcs/qmap/dynamic_num_pts"][()], [3, 8])
        mapping = h5["/xpcs/qmap/dynamic_index_mapping"][()]
        assert mapping.size == 24 - len(spec.empty_cells)
        assert set(range(24)) - set(mapping.tolist()) == {q * 8 + p for q, p in spec.empty_cells}
        assert h5["/xpcs/qmap/map_names"][()].tolist() == [b"q", b"phi"]
        assert h5["/xpcs/qmap/map_units"][()].tolist() == [b"1/A", b"deg"]
        assert h5["/entry/instrument/detector_1/frame_time"][()] == 1e-3
        assert h5["/entry/instrument/incident_beam/incident_energy"][()] == 10.0


def test_normalized_g2_is_the_diagonal_average(simulated):
    path, _ = simulated["aps-u"]
    with h5py.File(path, "r") as h5:
        g2 = h5["/xpcs/twotime/normalized_g2"][()]
        first = h5[f"{C2_GROUP}/c2_00001"][()].astype(np.float64)
    for lag in (0, 1, 17, SMALL_FRAMES - 1):
        assert g2[lag, 0] == pytest.approx(np.diagonal(first, lag).mean(), rel=1e-6)


def test_legacy_file_has_the_legacy_paths(simulated):
    path, truth = simulated["legacy"]
    with h5py.File(path, "r") as h5:
        assert h5["/xpcs/output_data"][()] == b"/exchange"
        keys = sorted(h5["/exchange/C2T_all"])
        assert keys == [f"g2_{k:05d}" for k in range(1, len(truth["bins"]) + 1)]
        assert h5[f"/exchange/C2T_all/{keys[0]}"].compression == "gzip"
        assert h5["/xpcs/dqlist"].shape == (1, 24) and h5["/xpcs/dphilist"].shape == (1, 24)
        assert h5["/xpcs/avg_frames"].shape == (1, 1) and h5["/xpcs/avg_frames"][0, 0] == 3
        assert h5["/xpcs/stride_frames"].shape == (1, 1) and h5["/xpcs/stride_frames"][0, 0] == 2
        assert h5["/measurement/instrument/detector/exposure_period"][0, 0] == 1e-3
        np.testing.assert_array_equal(h5["/xpcs/qphi_bin_to_process"][()].ravel(), [b["label"] for b in truth["bins"]])


def test_truth_json_records_parameters_bins_and_noise(simulated, tmp_path):
    _, truth = simulated["aps-u"]
    assert list(truth["params"]) == [p.name for p in PHYSICS_PARAMETERS]
    assert truth["params"] == {p.name: p.default for p in PHYSICS_PARAMETERS}
    assert truth["dt"] == pytest.approx(6e-3) and truth["seed"] == 11 and truth["noise_sigma"] == 0.002
    assert truth["spec"]["n_frames"] == SMALL_FRAMES and truth["data_file"] == "aps_u.h5"
    contrasts = {round(b["contrast"], 12) for b in truth["bins"]}
    assert len(contrasts) > 1, "contrast differs between angles"
    _, overridden = simulate_small(tmp_path, params={"v0": 250.0, "alpha_ref": -0.5})
    assert overridden["params"]["v0"] == 250.0 and overridden["params"]["alpha_ref"] == -0.5
    assert overridden["params"]["D0_ref"] == 1e4


def test_explicit_truth_path(tmp_path):
    spec = SimulationSpec(n_frames=SMALL_FRAMES)
    truth_path = simulate_dataset(tmp_path / "a.h5", spec, truth_path=tmp_path / "t.json")
    assert truth_path == (tmp_path / "t.json").resolve()
    assert json.loads(truth_path.read_text())["layout"] == "aps-u"
    assert not (tmp_path / "a.h5.truth.json").exists()


def test_same_seed_gives_identical_matrices_and_another_seed_differs(tmp_path):
    first, _ = simulate_small(tmp_path, "first.h5", seed=5)
    second, _ = simulate_small(tmp_path, "second.h5", seed=5)
    other, _ = simulate_small(tmp_path, "other.h5", seed=6)
    with h5py.File(first, "r") as a, h5py.File(second, "r") as b, h5py.File(other, "r") as c:
        for key in a[C2_GROUP]:
            assert a[f"{C2_GROUP}/{key}"][()].tobytes() == b[f"{C2_GROUP}/{key}"][()].tobytes()
        assert not np.array_equal(a[f"{C2_GROUP}/c2_00001"][()], c[f"{C2_GROUP}/c2_00001"][()])


def test_same_seed_gives_a_byte_identical_legacy_file(tmp_path):
    first, _ = simulate_small(tmp_path, "first.h5", seed=5, layout="legacy")
    time.sleep(1.1)  # a timestamp written anywhere in the file would now differ
    second, _ = simulate_small(tmp_path, "second.h5", seed=5, layout="legacy")
    assert first.read_bytes() == second.read_bytes()


def test_noise_and_diagonal_excess_have_the_requested_size(tmp_path):
    spec = SimulationSpec(n_frames=SMALL_FRAMES, noise_sigma=0.01, diagonal_excess=0.05, seed=2)
    path, _ = simulate_small(tmp_path, noise_sigma=0.01, diagonal_excess=0.05, seed=2)
    model = model_matrices(spec)
    with h5py.File(path, "r") as h5:
        stored = np.stack([h5[f"{C2_GROUP}/{key}"][()].astype(np.float64) for key in sorted(h5[C2_GROUP])])
    upper = np.triu_indices(SMALL_FRAMES, 1)
    residual = (stored - model)[:, upper[0], upper[1]]
    assert residual.std() == pytest.approx(0.01, rel=0.05)
    assert abs(residual.mean()) < 0.001
    diagonal_residual = np.diagonal(stored - model, axis1=1, axis2=2)
    assert diagonal_residual.mean() == pytest.approx(0.05, abs=0.002)


def test_contrast_scatter_multiplies_each_bin_and_leaves_the_noise(tmp_path):
    anisotropy, scatter = 0.2, 0.3
    plain, plain_truth = simulate_small(tmp_path, "plain.h5", seed=4, contrast_anisotropy=anisotropy)
    explicit, _ = simulate_small(tmp_path, "zero.h5", seed=4, contrast_anisotropy=anisotropy, contrast_scatter=0.0)
    scattered, truth = simulate_small(tmp_path, "scattered.h5", seed=4, contrast_anisotropy=anisotropy,
                                      contrast_scatter=scatter)
    assert truth["spec"]["contrast_scatter"] == scatter
    regular = np.array([0.2 * (1 + anisotropy * np.cos(np.radians(2 * b["phi"]))) for b in plain_truth["bins"]])
    assert [b["contrast"] for b in plain_truth["bins"]] == pytest.approx(regular, rel=1e-15)
    draws = np.array([b["contrast"] for b in truth["bins"]]) / regular - 1.0
    assert np.all(np.abs(draws) <= scatter) and np.ptp(draws) > scatter, "one irregular factor per bin"
    other_seed = SimulationSpec(seed=5, contrast_anisotropy=anisotropy, contrast_scatter=scatter).processed_bins()
    assert all(info.contrast != b["contrast"] for info, b in zip(other_seed, truth["bins"], strict=True))
    with h5py.File(plain, "r") as a, h5py.File(explicit, "r") as b, h5py.File(scattered, "r") as c:
        for index, key in enumerate(sorted(a[C2_GROUP])):
            before = a[f"{C2_GROUP}/{key}"][()]
            assert before.tobytes() == b[f"{C2_GROUP}/{key}"][()].tobytes()
            # same noise: the matrices differ by the contrast change times the model's decay, whose
            # value on the diagonal is 1
            change = c[f"{C2_GROUP}/{key}"][()].astype(np.float64) - before
            expected = draws[index] * regular[index]
            np.testing.assert_allclose(np.diagonal(change), expected, atol=1e-6)
            assert np.all(np.abs(change) <= abs(expected) + 1e-6)


def test_cli_contrast_scatter(tmp_path):
    from heterodyne.cli import main

    out = tmp_path / "scatter.h5"
    assert main(["simulate", str(out), "--frames", str(SMALL_FRAMES), "--contrast-scatter", "0.25"]) == 0
    truth = json.loads((tmp_path / "scatter.h5.truth.json").read_text())
    assert truth["spec"]["contrast_scatter"] == 0.25
    expected = SimulationSpec(n_frames=SMALL_FRAMES, contrast_scatter=0.25).processed_bins()
    assert [b["contrast"] for b in truth["bins"]] == [info.contrast for info in expected]


def test_writes_leave_no_temporary_files(simulated):
    directory = simulated["aps-u"][0].parent
    assert not [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


def test_missing_output_directory_is_created(tmp_path):
    truth = simulate_dataset(tmp_path / "absent" / "a.h5", SimulationSpec(n_frames=SMALL_FRAMES))
    assert (tmp_path / "absent" / "a.h5").is_file() and truth.is_file()


def test_unwritable_output_is_refused(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(HeterodyneError, match="cannot write"):
        simulate_dataset(blocker / "a.h5", SimulationSpec(n_frames=SMALL_FRAMES))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"params": {"velocity": 1.0}}, "unknown physics parameter 'velocity'"),
        ({"params": {"v0": 1e9}}, "truth v0 = 1000000000.0 is outside its bounds"),
        ({"layout": "nexus"}, "layout must be one of"),
        ({"n_frames": 1}, "n_frames >= 2"),
        ({"frame_time": 0.0}, "frame_time must be positive"),
        ({"processed_q_rows": (5,)}, "processed_q_rows"),
        ({"empty_cells": ((0, 9),)}, "outside the 3x8 grid"),
        ({"noise_sigma": -1.0}, "must be >= 0"),
        ({"contrast": 2.0}, "contrast 2.0 outside"),
        ({"contrast_scatter": 1.0}, "contrast_scatter must be in"),
        ({"noise": "speckle", "contrast_scatter": 0.2}, "contrast_scatter: not used with noise 'speckle'"),
    ],
)
def test_bad_specs_are_refused(fields, message):
    with pytest.raises(HeterodyneError, match=message):
        SimulationSpec(**fields)


def test_spec_params_cannot_be_changed_after_creation():
    spec = SimulationSpec(params={"v0": 10.0})
    with pytest.raises(TypeError):
        spec.params["v0"] = 20.0  # type: ignore[index]
    assert hash(spec) == hash(SimulationSpec(params={"v0": 99.0}))


def test_cli_simulate_then_inspect(tmp_path, capsys):
    from heterodyne.cli import main

    out = tmp_path / "cli.h5"
    code = main(["simulate", str(out), "--frames", str(SMALL_FRAMES), "--layout", "legacy", "--stride", "4",
                 "--set", "v0=500", "--set", "contrast=0.1", "--seed", "3"])
    assert code == 0
    truth = json.loads((tmp_path / "cli.h5.truth.json").read_text())
    assert truth["params"]["v0"] == 500.0 and truth["layout"] == "legacy" and truth["stride_frame"] == 4
    assert truth["spec"]["contrast"] == 0.1
    capsys.readouterr()
    assert main(["inspect", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "layout: legacy" in printed and f"frames: {SMALL_FRAMES}" in printed
    assert "dt: 0.012 s = frame_time 0.001 s x stride 4 x avg 3" in printed
    assert file_sha256(out) in printed and "g2_00015" in printed
    assert main(["inspect", "--json", str(out)]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["bins"][0] == {"key": "g2_00001", "label": 9, "q": 0.009, "phi": -157.5}


def test_cli_refuses_unknown_parameters_and_existing_outputs(tmp_path, capsys):
    from heterodyne.cli import main

    out = tmp_path / "cli.h5"
    assert main(["simulate", str(out), "--frames", str(SMALL_FRAMES), "--set", "speed=3"]) == 1
    assert "unknown parameter 'speed'" in capsys.readouterr().err
    assert not out.exists()
    assert main(["simulate", str(out), "--frames", str(SMALL_FRAMES)]) == 0
    assert main(["simulate", str(out), "--frames", str(SMALL_FRAMES)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["simulate", str(out), "--frames", str(SMALL_FRAMES), "--force", "--seed", "1"]) == 0
    assert main(["inspect", str(tmp_path / "missing.h5")]) == 1
    assert "data file not found" in capsys.readouterr().err


KIND_CLASSES = {"i": "integer", "u": "integer", "f": "float", "b": "bool", "O": "text", "S": "text", "U": "text"}


def layout_tree(path: Path) -> dict[str, tuple]:
    """Every path of a file (the matrices but the first left out): (kind class, rank) of a dataset,
    the attribute names of a group."""
    tree = {}
    with h5py.File(path, "r") as h5:
        def visit(name: str, node) -> None:
            if name.startswith("xpcs/twotime/correlation_map/") and not name.endswith("c2_00001"):
                return
            if isinstance(node, h5py.Dataset):
                tree[name] = (KIND_CLASSES[node.dtype.kind], node.ndim)
            else:
                tree[name] = ("group", tuple(sorted(node.attrs)))
        h5.visititems(visit)
    return tree


@pytest.mark.parametrize("noise", ["independent", "speckle"])
def test_aps_u_file_has_every_path_the_apsu_correlator_writes(tmp_path, noise, correlator_file):
    spec = {"noise": noise, "pixels_per_bin": 40, "n_frames": 12} if noise == "speckle" else {}
    path, _ = simulate_small(tmp_path, **spec)
    reference, simulated = layout_tree(correlator_file), layout_tree(path)
    missing = sorted(set(reference) - set(simulated))
    assert missing == []
    differing = {name: (reference[name], simulated[name]) for name in reference if reference[name] != simulated[name]}
    assert differing == {}


def test_the_mean_intensities_agree_with_the_pixels_and_the_qmap(tmp_path):
    spec = SimulationSpec(noise="speckle", n_frames=20, pixels_per_bin=80, counts_per_pixel=5.0, seed=1)
    simulate_dataset(tmp_path / "s.h5", spec)
    with h5py.File(tmp_path / "s.h5", "r") as h5:
        qmap = {name: h5[f"/xpcs/qmap/{name}"][()] for name in h5["/xpcs/qmap"]}
        image = h5["/xpcs/temporal_mean/scattering_2d"][0]
        profile = h5["/xpcs/temporal_mean/scattering_1d"][0]
        segments = h5["/xpcs/temporal_mean/scattering_1d_segments"][()]
        intensity = h5["/xpcs/spatial_mean/intensity_vs_time"][()]
        stored = h5[f"{C2_GROUP}/c2_00002"][()]
        g2_segments = h5["/xpcs/twotime/normalized_g2_segments"][()]
    dynamic, static, mask = qmap["dynamic_roi_map"], qmap["static_roi_map"], qmap["mask"]
    assert dynamic.shape == static.shape == mask.shape == image.shape
    n_cells = len(spec.non_empty_cells())
    assert sorted(set(dynamic[dynamic > 0].tolist())) == list(range(1, n_cells + 1))
    assert [(dynamic == label).sum() for label in (1, n_cells)] == [80, 80]
    assert np.array_equal(mask == 1, dynamic > 0) and np.array_equal(mask == 1, static > 0)
    mapping = qmap["static_index_mapping"]
    assert mapping.size == static.max() == 4 * n_cells and np.all(np.diff(mapping) > 0)
    assert list(qmap["static_num_pts"]) == [6, 16] and qmap["static_v_list_dim0"].size == 6
    for label in (1, 17, static.max()):
        q_index, phi_index = divmod(int(mapping[label - 1]), 16)
        dynamic_label = set(dynamic[static == label].tolist())
        assert len(dynamic_label) == 1, "a static cell lies inside one dynamic cell"
        natural = qmap["dynamic_index_mapping"][dynamic_label.pop() - 1]
        assert divmod(int(natural), 8) == (q_index // 2, phi_index // 2)
        assert profile[label - 1] == pytest.approx(image[static == label].mean(), rel=1e-5)
    np.testing.assert_allclose(segments.mean(axis=0), profile, rtol=1e-5)
    np.testing.assert_array_equal(intensity[0], np.arange(20))
    assert intensity[1].mean() == pytest.approx(image[mask == 1].mean(), rel=1e-5)
    assert intensity[1].mean() == pytest.approx(5.0, rel=0.02)  # photons per pixel and raw frame
    assert g2_segments.shape == (4, 5, len(spec.processed_bins()))
    assert g2_segments[1, 2, 1] == pytest.approx(np.diagonal(stored[8:12, 8:12], 1).mean(), rel=1e-6)
