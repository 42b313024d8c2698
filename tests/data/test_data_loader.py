"""Loader round trips on simulated files: matrices, bin table, dt, frames, selection, provenance."""

from __future__ import annotations

import hashlib
from dataclasses import FrozenInstanceError
from pathlib import Path

import h5py
import numpy as np
import pytest
from helpers_h5 import (
    SMALL_FRAMES,
    edited_copy,
    heterodyne_warnings,
    rebuilt_full,
    replace_dataset,
    simulate_small,
    stored_half,
    to_transitional,
)

from heterodyne.data import file_sha256, load_file, scan_file
from heterodyne.simulation import SimulationSpec

DEFAULT_SPEC = SimulationSpec()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    """One small file per layout (same spec and seed), plus a noise-free file."""
    directory = tmp_path_factory.mktemp("loader")
    aps_u = simulate_small(directory, "aps_u.h5", frame_time=2e-3, stride_frame=3, avg_frame=5)
    legacy = simulate_small(directory, "legacy.h5", frame_time=2e-3, stride_frame=3, avg_frame=5, layout="legacy")
    transitional = (edited_copy(aps_u[0], directory / "transitional.h5", to_transitional), aps_u[1])
    exact = simulate_small(directory, "exact.h5", noise_sigma=0.0, diagonal_excess=0.0)
    return {"aps-u": aps_u, "legacy": legacy, "transitional": transitional, "exact": exact}


@pytest.mark.parametrize("layout", ["aps-u", "legacy", "transitional"])
def test_every_matrix_is_the_stored_half_rebuilt_in_float64(files, layout):
    path, truth = files[layout]
    data = load_file(path)
    group = scan_file(path).matrix_group
    assert data.c2.dtype == np.float64 and data.c2.shape == (len(truth["bins"]), SMALL_FRAMES, SMALL_FRAMES)
    for index, info in enumerate(scan_file(path).bins):
        expected = rebuilt_full(stored_half(path, f"{group}/{info.key}"))
        np.testing.assert_array_equal(data.c2[index], expected)
        np.testing.assert_array_equal(data.c2[index], data.c2[index].T)


def test_layouts_hold_identical_matrices(files):
    reference = load_file(files["aps-u"][0]).c2
    np.testing.assert_array_equal(load_file(files["legacy"][0]).c2, reference)
    np.testing.assert_array_equal(load_file(files["transitional"][0]).c2, reference)


def test_noise_free_file_matches_the_model_to_float32_precision(files):
    from heterodyne.jaxconfig import jax, jnp
    from heterodyne.model import c2_grid
    from heterodyne.parameters import PHYSICS_NAMES

    path, truth = files["exact"]
    data = load_file(path)
    model = np.asarray(
        jax.jit(c2_grid)(
            jnp.asarray([truth["params"][name] for name in PHYSICS_NAMES]),
            jnp.asarray([b["contrast"] for b in truth["bins"]]),
            jnp.asarray([b["offset"] for b in truth["bins"]]),
            t=jnp.asarray(data.times),
            q=jnp.asarray([b["q"] for b in truth["bins"]]),
            phi=jnp.asarray([b["phi"] for b in truth["bins"]]),
        )
    )
    np.testing.assert_allclose(data.c2, model, rtol=1.5e-7, atol=0)
    assert np.ptp(model) > 0.05, "the default truth should give a visibly decaying c2"


@pytest.mark.parametrize("layout", ["aps-u", "legacy", "transitional"])
def test_bin_table_matches_the_truth(files, layout):
    path, truth = files[layout]
    bins = scan_file(path).bins
    expected_prefix = "c2_" if layout == "aps-u" else "g2_"
    assert [b.key for b in bins] == [expected_prefix + t["key"][3:] for t in truth["bins"]]
    assert [(b.q, b.phi) for b in bins] == [(t["q"], t["phi"]) for t in truth["bins"]]
    if layout != "transitional":
        assert [b.label for b in bins] == [t["label"] for t in truth["bins"]]
    data = load_file(path)
    np.testing.assert_array_equal(data.q, [t["q"] for t in truth["bins"]])
    np.testing.assert_array_equal(data.phi, [t["phi"] for t in truth["bins"]])


def test_naive_label_arithmetic_would_mislabel_this_file(files):
    path, truth = files["aps-u"]
    with h5py.File(path, "r") as h5:
        labels = h5["/xpcs/twotime/processed_bins"][()]
        mapping = h5["/xpcs/qmap/dynamic_index_mapping"][()]
        n_q, n_phi = h5["/xpcs/qmap/dynamic_num_pts"][()]
        q_centres = h5["/xpcs/qmap/dynamic_v_list_dim0"][()]
        phi_centres = h5["/xpcs/qmap/dynamic_v_list_dim1"][()]
    empty_cells = sorted(set(range(n_q * n_phi)) - set(mapping.tolist()))
    assert empty_cells and min(empty_cells) < mapping[labels[0] - 1], "an empty cell precedes a processed bin"
    naive = [(q_centres[(label - 1) // n_phi], phi_centres[(label - 1) % n_phi]) for label in labels]
    truth_pairs = [(t["q"], t["phi"]) for t in truth["bins"]]
    assert sum(a != b for a, b in zip(naive, truth_pairs, strict=True)) == len(labels)
    assert [(b.q, b.phi) for b in scan_file(path).bins] == truth_pairs


@pytest.mark.parametrize("layout", ["aps-u", "legacy", "transitional"])
def test_dt_is_frame_time_times_stride_times_average(files, layout):
    path, truth = files[layout]
    data = load_file(path)
    assert truth["dt"] == pytest.approx(2e-3 * 3 * 5)
    assert data.dt == pytest.approx(truth["dt"], rel=1e-15)
    assert data.provenance["dt_source"] == "file"
    assert data.provenance["dt_file"] == pytest.approx(0.03, rel=1e-15)
    np.testing.assert_allclose(data.times, np.arange(1, SMALL_FRAMES + 1) * 0.03, rtol=1e-15)


def test_missing_stride_and_average_count_as_one(files, tmp_path):
    def drop_factors(h5: h5py.File) -> None:
        del h5["/xpcs/twotime/config/stride_frame"]
        del h5["/xpcs/twotime/config/avg_frame"]

    path = edited_copy(files["aps-u"][0], tmp_path / "no_factors.h5", drop_factors)
    assert load_file(path).dt == pytest.approx(2e-3, rel=1e-15)


def test_configured_dt_overrides_the_file_and_warns_when_far_off(files):
    path = files["aps-u"][0]
    with heterodyne_warnings() as warnings:
        close = load_file(path, dt=0.0301)
    assert close.dt == 0.0301 and close.provenance["dt_source"] == "config" and warnings == []
    with heterodyne_warnings() as warnings:
        far = load_file(path, dt=0.05)
    assert far.dt == 0.05 and far.provenance["dt_file"] == pytest.approx(0.03)
    assert len(warnings) == 1 and "differs" in warnings[0] and "0.05" in warnings[0]
    np.testing.assert_allclose(far.times, far.frames * 0.05)


def test_frame_sub_range_returns_the_sub_block_with_absolute_frame_numbers(files):
    path = files["aps-u"][0]
    full = load_file(path)
    block = load_file(path, start_frame=5, end_frame=30)
    np.testing.assert_array_equal(block.frames, np.arange(5, 31))
    assert block.frames.dtype == np.int64
    np.testing.assert_array_equal(block.c2, full.c2[:, 4:30, 4:30])
    np.testing.assert_allclose(block.times, np.arange(5, 31) * full.dt)
    assert (block.provenance["start_frame"], block.provenance["end_frame"]) == (5, 30)
    tail = load_file(path, start_frame=SMALL_FRAMES - 1)
    np.testing.assert_array_equal(tail.frames, [SMALL_FRAMES - 1, SMALL_FRAMES])


def test_q_selection_takes_the_nearest_stored_q_within_tolerance(files):
    path, truth = files["aps-u"]
    data = load_file(path, q=0.0093, q_tolerance=0.05)
    expected = [t for t in truth["bins"] if t["q"] == 0.009]
    assert data.q.tolist() == [0.009] * len(expected)
    assert data.phi.tolist() == [t["phi"] for t in expected]


def test_phi_selection_by_angles_and_by_ranges(files):
    path = files["aps-u"][0]
    by_angle = load_file(path, q=0.012, phi=[-22.0, 67.5], phi_tolerance=1.0)
    assert by_angle.phi.tolist() == [-22.5, 67.5]
    by_range = load_file(path, q=0.012, phi=[[-30, 30]])
    assert by_range.phi.tolist() == [-22.5, 22.5]
    across_180 = load_file(path, q=0.012, phi=[[150, 210]])
    assert sorted(across_180.phi.tolist()) == [-157.5, 157.5]
    by_wrapped_angle = load_file(path, q=0.012, phi=[202.5])
    assert by_wrapped_angle.phi.tolist() == [-157.5]
    assert load_file(path, q=0.012, phi=67.5).phi.tolist() == [67.5]
    mixed = load_file(path, q=0.009, phi=[[100, 180], -157.5])
    assert mixed.phi.tolist() == [-157.5, 112.5, 157.5], "file order is kept, no duplicates"


def test_selected_bins_are_read_from_their_own_matrices(files):
    path, truth = files["aps-u"]
    everything = load_file(path)
    picked = load_file(path, q=0.012, phi=[67.5])
    index = [t["phi"] for t in truth["bins"]].index(67.5)
    np.testing.assert_array_equal(picked.c2[0], everything.c2[index])
    assert picked.provenance["selected_bins"] == [
        {"key": truth["bins"][index]["key"], "label": truth["bins"][index]["label"], "q": 0.012, "phi": 67.5}
    ]


def test_provenance_records_file_hash_layout_config_and_energy(files):
    path = files["aps-u"][0]
    data = load_file(path)
    provenance = data.provenance
    assert provenance["file"] == str(path.resolve())
    assert provenance["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() == file_sha256(path)
    assert provenance["layout"] == "aps-u"
    config = provenance["correlator_config"]
    assert {name: config[name] for name in ("avg_frame", "begin_frame", "end_frame", "stride_frame")} == {
        "avg_frame": 5, "begin_frame": 0, "end_frame": -1, "stride_frame": 3}
    assert config["normalize_frame"] is True and config["analysis_type"] == "twotime"
    assert all(type(config[name]) is int for name in ("avg_frame", "begin_frame", "end_frame", "stride_frame"))
    assert provenance["incident_energy"] == 10.0
    assert provenance["n_frames_stored"] == SMALL_FRAMES
    legacy = load_file(files["legacy"][0]).provenance
    assert legacy["layout"] == "legacy" and legacy["correlator_config"]["stride_frames"] == 3
    assert legacy["incident_energy"] == 10.0


def test_returned_data_is_frozen_and_read_only(files):
    data = load_file(files["aps-u"][0], q=0.009)
    with pytest.raises(FrozenInstanceError):
        data.dt = 1.0  # type: ignore[misc]
    for array in (data.c2, data.q, data.phi, data.frames):
        with pytest.raises(ValueError):
            array[0] = 0


def test_lower_triangle_storage_gives_the_same_matrices(files, tmp_path):
    path = files["aps-u"][0]

    def transpose_all(h5: h5py.File) -> None:
        for key in h5["/xpcs/twotime/correlation_map"]:
            dataset = h5[f"/xpcs/twotime/correlation_map/{key}"]
            dataset[...] = dataset[()].T

    lower = edited_copy(path, tmp_path / "lower.h5", transpose_all)
    np.testing.assert_array_equal(load_file(lower).c2, load_file(path).c2)
    np.testing.assert_array_equal(
        load_file(lower, start_frame=3, end_frame=20).c2, load_file(path, start_frame=3, end_frame=20).c2
    )


def test_full_symmetric_storage_is_not_doubled(files, tmp_path):
    path = files["aps-u"][0]

    def store_full(h5: h5py.File) -> None:
        for key in h5["/xpcs/twotime/correlation_map"]:
            dataset = h5[f"/xpcs/twotime/correlation_map/{key}"]
            half = dataset[()]
            dataset[...] = half + half.T - np.diag(np.diag(half))

    full = edited_copy(path, tmp_path / "full.h5", store_full)
    np.testing.assert_array_equal(load_file(full).c2, load_file(path).c2)


def test_missing_index_mapping_warns_and_uses_the_identity(files, tmp_path):
    path = edited_copy(
        files["aps-u"][0], tmp_path / "old_qmap.h5", lambda h5: h5.__delitem__("/xpcs/qmap/dynamic_index_mapping")
    )
    with heterodyne_warnings() as warnings:
        bins = scan_file(path).bins
    assert any("dynamic_index_mapping" in message for message in warnings)
    q_centres, phi_centres = DEFAULT_SPEC.q_centres, DEFAULT_SPEC.phi_centres
    n_phi = len(phi_centres)
    assert [(b.q, b.phi) for b in bins] == [
        (q_centres[(b.label - 1) // n_phi], phi_centres[(b.label - 1) % n_phi]) for b in bins
    ]


def test_legacy_without_bin_list_warns_and_counts_keys(files, tmp_path):
    def drop_bin_list(h5: h5py.File) -> None:
        del h5["/xpcs/qphi_bin_to_process"]

    path = edited_copy(files["legacy"][0], tmp_path / "matlab.h5", drop_bin_list)
    with heterodyne_warnings() as warnings:
        bins = scan_file(path).bins
    assert any("qphi_bin_to_process" in message for message in warnings)
    assert [b.label for b in bins] == list(range(1, len(bins) + 1))
    assert bins[0].q == 0.006 and bins[0].phi == -157.5


def test_transitional_file_with_legacy_metadata(files, tmp_path):
    def legacy_to_transitional(h5: h5py.File) -> None:
        h5.move("/exchange/C2T_all", "/xpcs/C2T_all")
        del h5["/xpcs/output_data"]

    path = edited_copy(files["legacy"][0], tmp_path / "transitional_legacy.h5", legacy_to_transitional)
    summary = scan_file(path)
    assert summary.layout == "transitional" and summary.matrix_group == "/xpcs/C2T_all"
    assert [(b.q, b.phi) for b in summary.bins] == [(t["q"], t["phi"]) for t in files["legacy"][1]["bins"]]
    assert summary.dt_file == pytest.approx(0.03)
    np.testing.assert_array_equal(load_file(path).c2, load_file(files["legacy"][0]).c2)


def test_missing_map_names_warns_and_assumes_q_and_phi(files, tmp_path):
    path = edited_copy(files["aps-u"][0], tmp_path / "unnamed.h5", lambda h5: h5.__delitem__("/xpcs/qmap/map_names"))
    with heterodyne_warnings() as warnings:
        bins = scan_file(path).bins
    assert any("map_names" in message for message in warnings)
    assert bins == scan_file(files["aps-u"][0]).bins


def test_legacy_pointer_to_another_result_group_is_followed(files, tmp_path):
    def move_results(h5: h5py.File) -> None:
        h5.move("/exchange", "/results_v2")
        replace_dataset(h5, "/xpcs/output_data", np.bytes_(b"/results_v2"))

    path = edited_copy(files["legacy"][0], tmp_path / "moved.h5", move_results)
    summary = scan_file(path)
    assert summary.layout == "legacy" and summary.matrix_group == "/results_v2/C2T_all"
    np.testing.assert_array_equal(load_file(path).c2, load_file(files["legacy"][0]).c2)


def test_scan_file_summarises_without_selection(files):
    summary = scan_file(files["legacy"][0])
    assert summary.layout == "legacy"
    assert summary.n_frames == SMALL_FRAMES
    assert summary.dt_file == pytest.approx(0.03)
    assert summary.time_step.sources["frame_time"] == "/measurement/instrument/detector/exposure_period"
    assert summary.incident_energy == 10.0
    assert len(summary.bins) == 15


def test_loading_leaves_the_file_untouched(files):
    path = files["aps-u"][0]
    before = (file_sha256(path), path.stat().st_mtime_ns)
    load_file(path, q=0.009, start_frame=2)
    scan_file(path)
    assert (file_sha256(path), path.stat().st_mtime_ns) == before
