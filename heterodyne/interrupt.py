"""A SIGINT that cannot be lost.

Python's default SIGINT handler raises KeyboardInterrupt in whatever the main thread runs at
that moment. When that is a garbage-collector callback (jax registers one), the interpreter
prints "Exception ignored" and drops the exception, and the run carries on to its end. The
handler here raises KeyboardInterrupt as usual and also records the signal, and
:func:`raise_if_interrupted` raises it again at safe points (every solver iteration, and before
a finished file is moved into place), so an interrupt always ends the run with no result written.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_received = threading.Event()


def _record_and_raise(signum, frame) -> None:
    _received.set()
    raise KeyboardInterrupt


@contextmanager
def sticky_interrupt() -> Iterator[None]:
    """Within the block, SIGINT is remembered until the block ends (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, _record_and_raise)
    _received.clear()
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _received.clear()


def raise_if_interrupted() -> None:
    """Raise KeyboardInterrupt if a SIGINT arrived inside :func:`sticky_interrupt` (even one whose
    first KeyboardInterrupt was swallowed)."""
    if _received.is_set():
        raise KeyboardInterrupt
