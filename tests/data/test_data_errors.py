"""Bad inputs: each raises a one-line HeterodyneError saying what and where, and leaves the file alone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest
from helpers_h5 import SMALL_FRAMES, edited_copy, replace_dataset, simulate_small

from heterodyne.data import file_sha256, load_file, scan_file
from heterodyne.errors import HeterodyneError

C2_GROUP = "/xpcs/twotime/correlation_map"


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulate_small(tmp_path_factory.mktemp("errors"))[0]


def refused(path: Path, load: Callable[[Path], object] = load_file) -> str:
    """Run ``load(path)``, which must raise HeterodyneError without changing the file; return the message."""
    before = file_sha256(path) if path.is_file() else None
    with pytest.raises(HeterodyneError) as caught:
        load(path)
    message = str(caught.value)
    assert "\n" not in message and message.strip() == message
    if before is not None:
        assert file_sha256(path) == before
    return message


def edited(source: Path, tmp_path: Path, edit: Callable[[h5py.File], None]) -> Path:
    return edited_copy(source, tmp_path / "edited.h5", edit)


def test_missing_file(tmp_path):
    missing = tmp_path / "nowhere" / "data.h5"
    message = refused(missing)
    assert "not found" in message and str(missing) in message
    assert str(missing) in refused(missing, scan_file)
    assert str(missing) in refused(missing, file_sha256)


def test_not_an_hdf5_file(tmp_path):
    text_file = tmp_path / "notes.h5"
    text_file.write_text("this is not HDF5\n")
    message = refused(text_file)
    assert "not a readable HDF5 file" in message and str(text_file) in message


def test_directory_instead_of_file(tmp_path):
    assert "not a regular file" in refused(tmp_path)


def test_hdf5_without_a_known_layout(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as h5:
        h5["/entry/data"] = np.zeros(3)
    message = refused(path)
    for looked_for in ("/xpcs/twotime/correlation_map", "/xpcs/output_data", "/exchange/C2T_all", "/xpcs/C2T_all"):
        assert looked_for in message
    assert str(path) in message


def test_legacy_pointer_to_a_group_without_matrices(tmp_path):
    path = tmp_path / "multitau.h5"
    with h5py.File(path, "w") as h5:
        h5["/xpcs/output_data"] = np.bytes_(b"/exchange")
        h5["/exchange/g2avg"] = np.zeros(3)
    message = refused(path)
    assert "'/exchange' has no C2T_all" in message


def test_processed_bins_and_keys_of_different_lengths(source, tmp_path):
    path = edited(source, tmp_path, lambda h5: replace_dataset(h5, "/xpcs/twotime/processed_bins", np.arange(1, 5)))
    message = refused(path)
    assert "/xpcs/twotime/processed_bins lists 4 bins" in message and "15 matrices" in message
    assert str(path) in message


def test_non_square_matrix(source, tmp_path):
    key = f"{C2_GROUP}/c2_00003"
    rectangle = np.zeros((SMALL_FRAMES, SMALL_FRAMES - 1), np.float32)
    path = edited(source, tmp_path, lambda h5: replace_dataset(h5, key, rectangle))
    message = refused(path)
    assert "not square" in message and key in message and f"({SMALL_FRAMES}, {SMALL_FRAMES - 1})" in message
    assert key in refused(path, scan_file)


def put_nans(h5: h5py.File) -> None:
    dataset = h5[f"{C2_GROUP}/c2_00002"]
    values = dataset[()]
    values[10, 20] = np.nan
    values[12, 30] = np.nan
    values[2, 3] = np.inf
    dataset[...] = values


def test_nan_in_the_selected_region(source, tmp_path):
    path = edited(source, tmp_path, put_nans)
    message = refused(path)
    assert "3 non-finite values" in message and f"{C2_GROUP}/c2_00002" in message
    assert "2 non-finite" in refused(path, lambda p: load_file(p, start_frame=5))


def test_nan_outside_the_selected_region_is_not_read(source, tmp_path):
    path = edited(source, tmp_path, put_nans)
    data = load_file(path, start_frame=14, end_frame=SMALL_FRAMES)
    assert np.isfinite(data.c2).all()
    assert np.isfinite(load_file(path, q=0.009, phi=[-157.5]).c2).all()


def test_start_frame_after_end_frame(source):
    message = refused(source, lambda p: load_file(p, start_frame=20, end_frame=10))
    assert "start_frame = 20 is after end_frame = 10" in message and str(source) in message


def test_end_frame_beyond_the_data(source):
    message = refused(source, lambda p: load_file(p, end_frame=SMALL_FRAMES + 1))
    assert f"end_frame = {SMALL_FRAMES + 1} is beyond the data" in message
    assert f"has {SMALL_FRAMES} frames" in message


def test_start_frame_beyond_the_data(source):
    assert f"has {SMALL_FRAMES} frames" in refused(source, lambda p: load_file(p, start_frame=SMALL_FRAMES + 5))


def test_fewer_than_two_frames(source):
    assert "at least 2" in refused(source, lambda p: load_file(p, start_frame=7, end_frame=7))


def test_frame_numbers_start_at_one(source):
    assert "must be >= 1" in refused(source, lambda p: load_file(p, start_frame=0))


def test_non_integer_frame(source):
    assert "integer" in refused(source, lambda p: load_file(p, start_frame=2.5))


def test_no_bin_within_the_q_tolerance(source):
    message = refused(source, lambda p: load_file(p, q=0.02))
    assert "no bin with q within 5% of 0.02" in message
    assert "q=0.009 φ=[-157.5, -112.5, -67.5, -22.5, 22.5, 112.5, 157.5]" in message
    assert "q=0.012 φ=[" in message


def test_no_bin_at_the_requested_angle(source):
    message = refused(source, lambda p: load_file(p, q=0.009, phi=[67.5]))
    assert "no bin with phi within 1° of 67.5°" in message and "q=0.009 φ=[" in message


def test_phi_range_matching_nothing(source):
    message = refused(source, lambda p: load_file(p, q=0.009, phi=[[50, 80]]))
    assert "no bin matches" in message and "q=0.012 φ=[" in message


@pytest.mark.parametrize("bad_dt", [0.0, -0.006, float("nan")])
def test_configured_dt_must_be_positive(source, bad_dt):
    message = refused(source, lambda p: load_file(p, dt=bad_dt))
    assert "dt must be a positive number" in message and str(source) in message


def test_file_dt_must_be_positive(source, tmp_path):
    frame_time = "/entry/instrument/detector_1/frame_time"
    path = edited(source, tmp_path, lambda h5: replace_dataset(h5, frame_time, np.float64(0.0)))
    assert frame_time in refused(path)
    assert load_file(path, dt=0.01).dt == 0.01


def test_file_without_frame_time_needs_a_configured_dt(source, tmp_path):
    path = edited(source, tmp_path, lambda h5: h5.__delitem__("/entry/instrument/detector_1/frame_time"))
    message = refused(path)
    assert "no frame time" in message and "give dt in the configuration" in message
    assert scan_file(path).dt_file is None
    assert load_file(path, dt=0.006).provenance["dt_file"] is None


def test_map_names_other_than_q_and_phi(source, tmp_path):
    path = edited(source, tmp_path, lambda h5: replace_dataset(h5, "/xpcs/qmap/map_names", np.array([b"phi", b"q"])))
    message = refused(path)
    assert "q-map axes are ['phi', 'q'], expected ['q', 'phi']" in message and "/xpcs/qmap/map_names" in message


def test_label_beyond_the_index_mapping(source, tmp_path):
    path = edited(source, tmp_path, lambda h5: h5["/xpcs/twotime/processed_bins"].__setitem__(0, 99))
    assert "label 99 is beyond" in refused(path)


def test_full_matrix_that_is_not_symmetric(source, tmp_path):
    def fill_lower_triangle(h5: h5py.File) -> None:
        dataset = h5[f"{C2_GROUP}/c2_00001"]
        values = dataset[()]
        dataset[...] = values + np.tril(np.full_like(values, 0.5), -1)

    path = edited(source, tmp_path, fill_lower_triangle)
    message = refused(path)
    assert "not symmetric" in message and f"{C2_GROUP}/c2_00001" in message


def test_memory_limit(source):
    needed = 15 * SMALL_FRAMES**2 * 8
    message = refused(source, lambda p: load_file(p, memory_limit_bytes=needed - 1))
    assert "15 bins" in message and "memory limit" in message and "select fewer bins" in message
    assert load_file(source, memory_limit_bytes=needed).n_angles == 15
    assert load_file(source, q=0.009, memory_limit_bytes=7 * SMALL_FRAMES**2 * 8).n_angles == 7


def test_memory_check_sizes_the_selected_frame_window_not_the_stored_matrices(source):
    window = SMALL_FRAMES // 2
    limit = 15 * window**2 * 8
    assert "select fewer bins or frames" in refused(source, lambda p: load_file(p, memory_limit_bytes=limit))
    data = load_file(source, start_frame=SMALL_FRAMES - window + 1, memory_limit_bytes=limit)
    assert data.c2.shape == (15, window, window)
    message = refused(source, lambda p: load_file(p, start_frame=SMALL_FRAMES - window, memory_limit_bytes=limit))
    assert f"15 bins x {window + 1}² frames" in message
