"""The truth in the labelling of a fit, for benchmarks that compare estimates with a known truth.

Swapping the two components leaves c2 unchanged (docs/model.md), and a fit reports the labelling
its rule prefers: the reference is the component with the smaller mean transport rate over the
window (heterodyne/nlsq/labelling.py). When the two mean rates are close, the noise decides which
component the rule calls the reference, so a replicate's fit may describe the truth's mirror
image. Its error is then its distance to that image, not to the truth as written. The image used
is the one nearer to the estimate in units of its standard errors.
"""

from __future__ import annotations

import numpy as np


def truth_image(truth: np.ndarray, estimate: np.ndarray, stderr: np.ndarray, vary: np.ndarray, lower: np.ndarray,
                upper: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, bool]:
    """(the image of the 14 physics ``truth`` nearer to the physics ``estimate``, whether it is the
    mirror): distances Σ ((estimate − image) / stderr)² over the varying parameters with a finite
    ``stderr``; the mirror from :func:`heterodyne.nlsq.labelling.mirror_image`."""
    from heterodyne.nlsq.labelling import mirror_image

    mirror = mirror_image(truth, vary, lower, upper, t)
    if mirror is None:
        return truth, False
    usable = vary & np.isfinite(stderr) & (stderr > 0)

    def distance(image):
        return float(np.sum(((estimate - image)[usable] / stderr[usable]) ** 2))

    return (mirror, True) if distance(mirror) < distance(truth) else (truth, False)
