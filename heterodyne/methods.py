"""The analysis methods, named once.

``nlsq`` writes nlsq.npz, ``cmc`` writes cmc_samples.npz (after an NLSQ warm start); in the
workflow each has its own ``<method>/`` directory. A run may also ask for ``all``: both, in order.
"""

METHODS = ("nlsq", "cmc")
"""The methods a result belongs to, in the order a run performs them."""
RUN_CHOICES = (*METHODS, "all")
"""What a run accepts (``--method``, :func:`heterodyne.analysis.run_analysis`): one method, or all."""
