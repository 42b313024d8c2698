"""The HDF5 paths of each two-time file layout (docs/data-formats.md), defined once per layout.

One module per layout: :mod:`~heterodyne.layouts.aps_u` (boost_corr since 2025),
:mod:`~heterodyne.layouts.legacy` (Matlab / xpcs-eigen) and :mod:`~heterodyne.layouts.transitional`.
The readers (:mod:`heterodyne.data`), the writers of simulated files (:mod:`heterodyne.simulation`)
and the fit-viewer file (:mod:`heterodyne.sidecar`) take their paths from here. Each module names
its groups and every path a reader reads; a writer composes the paths only it writes (detector
geometry, correlator settings, region maps) from those groups.
"""

XPCS = "/xpcs"
"""The group under which both the APS-U and the legacy layout keep their XPCS results."""
