"""Progress of a fit: one rewritten line on a terminal, a log line every ``LOG_EVERY`` iterations
(and at the end of each start) otherwise."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TextIO

import numpy as np

from heterodyne.interrupt import raise_if_interrupted

log = logging.getLogger("heterodyne")

LOG_EVERY = 10


class Progress:
    """Counts iterations (Jacobian evaluations) and reports the latest cost ½Σr²."""

    def __init__(self, enabled: bool = True, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.interactive = enabled and self.stream.isatty()
        self.label = ""
        self.iteration = 0
        self.cost = float("nan")

    def begin(self, label: str) -> None:
        self.label, self.iteration, self.cost = label, 0, float("nan")

    def _report(self, final: bool = False) -> None:
        text = f"nlsq {self.label + ' ' if self.label else ''}iteration {self.iteration:4d}  cost {self.cost:.6e}"
        if self.interactive:
            self.stream.write("\r" + text)
            self.stream.flush()
        elif self.enabled and (final or self.iteration % LOG_EVERY == 0):
            log.info(text)

    def end(self) -> None:
        self._report(final=True)
        if self.interactive:
            self.stream.write("\n")
            self.stream.flush()

    def wrap_residuals(self, residuals: Callable[[np.ndarray], np.ndarray]) -> Callable:
        def wrapped(x):
            raise_if_interrupted()
            r = residuals(x)
            self.cost = 0.5 * float(r @ r)
            return r

        return wrapped

    def wrap_jacobian(self, jacobian: Callable[[np.ndarray], np.ndarray]) -> Callable:
        def wrapped(x):
            raise_if_interrupted()
            self.iteration += 1
            self._report()
            return jacobian(x)

        return wrapped
