"""Simulated two-time result files with known truth, in the correlator's layouts.

No public test data set exists, so the package writes its own. Entry point::

    simulate_dataset(path, SimulationSpec(...), truth_path=None) -> Path of the truth JSON

:class:`SimulationSpec` holds every setting (all have defaults); ``noise`` picks the noise model:

``"independent"`` (default): the model (:func:`heterodyne.model.c2_grid`) evaluated on the stored
frame times, plus per-bin contrast ``contrast · (1 + contrast_anisotropy · cos 2φ) · (1 + contrast_scatter · u)``,
a common ``offset``, a shot-noise excess ``diagonal_excess`` on the diagonal c2(t, t) and independent
Gaussian noise of standard deviation ``noise_sigma`` on the stored upper triangle (diagonal
included), drawn from ``numpy.random.Generator(PCG64(seed))`` bin after bin in key order. The irregular factor
``u`` is uniform in [−1, 1], one per processed bin in key order, from a stream of its own
(``PCG64(SeedSequence(seed).spawn(1)[0])``), so ``contrast_scatter`` = 0 (the default) leaves the
file as it was and the noise is the same whatever the scatter.

``"speckle"``: pixel-level speckle fields and Poisson photon counts (:mod:`heterodyne.simulation.speckle`),
``pixels_per_bin`` pixels of ``speckle_modes`` modes each (contrast 1/speckle_modes, offset 1) at
``counts_per_pixel`` mean photons per pixel and raw frame (about 10 is photon-rich, 0.05
photon-sparse), reduced to c2 as the APS correlator does. Its noise is that of measured data:
elements sharing a frame, or on nearby frames, are correlated. ``shared_speckle`` (default 0) is
the fraction of each bin's pixels whose speckle fields are common to all processed bins at the
same q: their frame effects, and so their noise, are then partly shared between angles, as when
bins overlap. Example (3 bins at one q)::

    spec = SimulationSpec(noise="speckle", n_frames=200, q_centres=(0.01,), phi_centres=(0, 45, 90),
                          empty_cells=(), processed_q_rows=(0,), pixels_per_bin=2000,
                          speckle_modes=4, counts_per_pixel=10.0, seed=7, params={"v0": 500.0})

Both modes have:

- the correlator's clock: stored frame k (1-based) of a run begun at raw frame ``begin_frame``
  (0-based) sits at t_k = begin_frame · frame_time + k · dt, dt = frame_time × stride_frame ×
  avg_frame;
- a natural q × φ grid with empty cells (beam stop, detector gaps), so the compressed q-map labels
  skip them and only ``dynamic_index_mapping`` recovers (q, φ) of a label;
- only a subset of the bins processed into two-time matrices;
- optionally a velocity that jumps at ``velocity_jump_time`` (s, the frames' clock) by
  ``velocity_jump_factor``, the displacement continuous (the yield of a fast band;
  :mod:`~heterodyne.simulation.velocity_jump`), recorded as ``velocity_jump`` in the truth;
- storage as float32 upper triangles (lower triangle 0), one chunk per matrix, LZF (APS-U) or
  gzip (legacy). The same spec gives byte-identical matrices (legacy files are byte-identical as
  a whole; h5py's LZF filter may encode the same data to different bytes, so APS-U files are
  identical only once decompressed).

The truth (parameters, per-bin (q, φ), contrast and offset, dt, clock, noise, seed and the whole
spec) goes to ``<file>.truth.json``. Both files are written under a temporary name in the target
directory and moved into place with ``os.replace``.

Modules: :mod:`~heterodyne.simulation.spec` (the settings and their validation),
:mod:`~heterodyne.simulation.independent` (model and independent noise),
:mod:`~heterodyne.simulation.speckle` (speckle fields, photon counts, the correlator's c2),
:mod:`~heterodyne.simulation.velocity_jump` (the displacement of a velocity that jumps),
:mod:`~heterodyne.simulation.detector_maps` (the fictitious detector's maps),
:mod:`~heterodyne.simulation.g2` (one-time g2 of stored matrices),
:mod:`~heterodyne.simulation.aps_u_writer` and :mod:`~heterodyne.simulation.legacy_writer` (one per
layout), :mod:`~heterodyne.simulation.truth` (the truth JSON) and
:mod:`~heterodyne.simulation.dataset` (:func:`simulate_dataset`, which puts them together).
"""

from heterodyne.simulation.dataset import simulate_dataset, speckle_frames
from heterodyne.simulation.g2 import diagonal_average_g2, segment_g2
from heterodyne.simulation.independent import model_matrices, stored_matrices
from heterodyne.simulation.spec import NOISE_MODELS, SIMULATION_LAYOUTS, SimulatedBin, SimulationSpec
from heterodyne.simulation.truth import TRUTH_SUFFIX, default_truth_path, truth_document

__all__ = [
    "NOISE_MODELS",
    "SIMULATION_LAYOUTS",
    "TRUTH_SUFFIX",
    "SimulatedBin",
    "SimulationSpec",
    "default_truth_path",
    "diagonal_average_g2",
    "model_matrices",
    "segment_g2",
    "simulate_dataset",
    "speckle_frames",
    "stored_matrices",
    "truth_document",
]
