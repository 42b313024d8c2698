"""A SIGINT that cannot be lost.

Python's default SIGINT handler raises KeyboardInterrupt in whatever the main thread runs at
that moment. When that is a garbage-collector callback (jax registers one), the interpreter
drops the exception, prints "Exception ignored" with its traceback, and the run carries on to
its end. The handler here raises KeyboardInterrupt as usual and also records the signal, and
:func:`raise_if_interrupted` raises it again at safe points (every solver iteration, and before
a finished file is moved into place), so an interrupt always ends the run with no result written.
The dropped KeyboardInterrupt is not printed (it is not lost, so there is nothing to report);
every other unraisable exception still goes to the previous ``sys.unraisablehook``.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_received = threading.Event()


def _record_and_raise(signum, frame) -> None:
    _received.set()
    raise KeyboardInterrupt


def _unless_recorded_interrupt(previous_hook):
    """An unraisable hook that drops a KeyboardInterrupt already recorded by the SIGINT handler."""
    def hook(unraisable) -> None:
        if not (isinstance(unraisable.exc_value, KeyboardInterrupt) and _received.is_set()):
            previous_hook(unraisable)

    return hook


@contextmanager
def sticky_interrupt() -> Iterator[None]:
    """Within the block, SIGINT is remembered until the block ends (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, _record_and_raise)
    previous_hook = sys.unraisablehook
    sys.unraisablehook = _unless_recorded_interrupt(previous_hook)
    _received.clear()
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        sys.unraisablehook = previous_hook
        _received.clear()


def raise_if_interrupted() -> None:
    """Raise KeyboardInterrupt if a SIGINT arrived inside :func:`sticky_interrupt` (even one whose
    first KeyboardInterrupt was swallowed)."""
    if _received.is_set():
        raise KeyboardInterrupt
