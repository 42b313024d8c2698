"""The package's numerical floors and cut-offs, each named once: what it guards and why its value.

All are relative (a fraction of the largest eigenvalue, or of a scale the caller names) except
``RATE_FLOOR``. Float64 rounds at ε ≈ 2.2e-16; every floor lies well above it.

Numerical rank of a column-scaled symmetric matrix (eigenvalue λ against λ_max):

- ``RANK_RATIO`` (1e-10): the information and covariance matrices of the parameters. The NLSQ
  covariance drops directions below it and names their parameters degenerate
  (:mod:`heterodyne.nlsq.uncertainty`, :mod:`heterodyne.nlsq.sandwich`); the CMC whitening of the
  NLSQ covariance and the calibration's matrix powers raise eigenvalues to it
  (:mod:`heterodyne.cmc.geometry`, :mod:`heterodyne.cmc.calibration`). One concept, one value:
  a direction known 10⁵ times less precisely (in sd) than the best one carries no usable information.
- ``LINEAR_RANK_RATIO`` (1e-12): the normal matrices of linear least-squares solves — the scaling
  coefficients solved linearly (:mod:`heterodyne.nlsq.projection`, eigenvalue cut and ``pinv``
  rcond) and the decay amplitudes of the starting estimate (:mod:`heterodyne.nlsq.start_estimate`).
  Differs from ``RANK_RATIO``: these solves only need a stable projection, not an uncertainty, and
  keep directions 100 times weaker; it is kept at the value the fits were validated with.

Regularisation of matrices estimated from draws (:mod:`heterodyne.cmc.shard_covariance`):

- ``DRAWS_CORRELATION_FLOOR`` (1e-8): eigenvalues of a shard's sample correlation matrix are raised
  to this fraction of the largest. Differs from ``RANK_RATIO``: a correlation estimated from a few
  thousand draws is noisy at 1/√draws, far above 1e-10, and its inverse weights the consensus; the
  larger floor keeps those weights bounded when a shard's draws are nearly collinear.
- ``STILL_SD_RATIO`` (1e-8): a parameter whose sd within a shard is below this × max(|mean|, 1)
  did not move; it gets that sd. Same value as the floor above, a different quantity (an sd, not
  an eigenvalue).

Round-off:

- ``ROUND_OFF_RATIO`` (1e-15, about 5 ε): eigenvalues below this fraction of the largest are
  rounding error of a matrix that is positive definite in exact arithmetic; they are raised to it
  so its fractional powers stay real (:mod:`heterodyne.cmc.barycenter`).

Floors before a logarithm or a division (:mod:`heterodyne.nlsq.start_estimate`):

- ``NEGLIGIBLE_RATIO`` (1e-12): a positive quantity below this fraction of its scale (a bound's
  upper end, the total variance of a profile) is treated as that fraction, so its logarithm or
  reciprocal stays finite. Same value as ``LINEAR_RANK_RATIO``, a different role.
- ``RATE_FLOOR`` (1e-12, absolute): the components' rates compared on a log scale when a fit's
  labelling is chosen are floored here, far below any rate a fit tells apart from zero.

``np.finfo(float).tiny`` and ``eps`` are used where they appear as the smallest representable
guards against division by zero; they are properties of float64, not choices.
"""

RANK_RATIO = 1e-10
LINEAR_RANK_RATIO = 1e-12
DRAWS_CORRELATION_FLOOR = 1e-8
STILL_SD_RATIO = 1e-8
ROUND_OFF_RATIO = 1e-15
NEGLIGIBLE_RATIO = 1e-12
RATE_FLOOR = 1e-12
