"""An NLSQ fit as the package returns, writes and reads it back: :class:`NlsqResult`.

The record is exactly what a run directory holds of the fit (:mod:`heterodyne.run_directory`):
``section`` is result.json's ``nlsq`` section and ``arrays`` the arrays of nlsq.npz; ``seconds``
is how long the fit took in this process (0 for a fit read back from a run directory).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class NlsqResult:
    """An NLSQ fit: the ``nlsq`` section of result.json, the arrays of nlsq.npz, and the seconds it
    took (0 when read back)."""

    section: dict
    arrays: dict
    seconds: float = 0.0

    @property
    def values(self) -> dict[str, float]:
        """Every parameter (physics, then scaling coefficients) at the optimum."""
        return {str(name): float(value) for name, value in zip(self.arrays["names"], self.arrays["values"],
                                                                strict=True)}

    @property
    def stderr(self) -> dict[str, float | None]:
        """Standard error of every physics parameter and scaling coefficient (None: fixed or not
        reportable, see ``section["parameter_status"]``)."""
        return {**self.section["stderr"], **self.section["scaling"]["stderr"]}

    @property
    def free_names(self) -> tuple[str, ...]:
        """The fitted parameters, in the order of :attr:`covariance`."""
        return tuple(str(name) for name in self.arrays["free_names"])

    @property
    def covariance(self) -> np.ndarray:
        """Covariance of the fitted parameters (NaN rows and columns where not reportable)."""
        return self.arrays["covariance"]

    @property
    def chi2_reduced(self) -> float:
        return self.section["chi2_reduced"]

    @property
    def converged(self) -> bool:
        return self.section["converged"]

    @property
    def warning(self) -> str | None:
        """The convergence warning (None when the fit converged cleanly)."""
        return self.section["convergence_warning"]
