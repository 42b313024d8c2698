"""A SIGINT whose KeyboardInterrupt is swallowed (as in a garbage-collector callback) is raised
again at the next safe point, and only inside the block that asked for it."""

import contextlib
import gc
import os
import signal
import sys

import pytest

from heterodyne.interrupt import raise_if_interrupted, sticky_interrupt


def swallowed_interrupt() -> None:
    """Deliver SIGINT to this process and drop the KeyboardInterrupt, as Python does for an
    exception raised inside a gc callback."""
    with contextlib.suppress(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)  # os.kill runs pending handlers before it returns


def test_a_swallowed_interrupt_is_raised_at_the_next_safe_point():
    with sticky_interrupt():
        raise_if_interrupted()  # nothing received yet
        swallowed_interrupt()
        with pytest.raises(KeyboardInterrupt):
            raise_if_interrupted()


def test_outside_the_block_the_previous_handler_is_back_and_nothing_is_remembered():
    previous = signal.getsignal(signal.SIGINT)
    with sticky_interrupt():
        swallowed_interrupt()
    assert signal.getsignal(signal.SIGINT) is previous
    raise_if_interrupted()


def test_a_result_file_is_not_moved_into_place_after_an_interrupt(tmp_path):
    from heterodyne.results import atomic_write_bytes

    target = tmp_path / "result.json"
    with sticky_interrupt():
        swallowed_interrupt()
        with pytest.raises(KeyboardInterrupt):
            atomic_write_bytes(target, b"{}")
    assert list(tmp_path.iterdir()) == []


class RaisesWhenCollected:
    """An object whose finaliser raises, as a gc callback interrupted by SIGINT does: Python
    reports such an exception through sys.unraisablehook instead of raising it."""

    def __init__(self, exception: BaseException):
        self.exception = exception

    def __del__(self):
        raise self.exception


def test_a_recorded_interrupt_is_not_reported_as_unraisable_but_other_errors_are(monkeypatch):
    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    with sticky_interrupt():
        RaisesWhenCollected(ValueError("kept"))
        gc.collect()
        swallowed_interrupt()
        RaisesWhenCollected(KeyboardInterrupt())
        gc.collect()
    assert [type(unraisable.exc_value) for unraisable in reported] == [ValueError]
    assert sys.unraisablehook == reported.append
