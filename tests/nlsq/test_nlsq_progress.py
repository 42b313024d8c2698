"""Fit progress: one rewritten line on a terminal, periodic log lines otherwise."""

import io
import logging

import numpy as np

from heterodyne.nlsq.progress import LOG_EVERY, Progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def drive(progress: Progress, iterations: int) -> None:
    residuals = progress.wrap_residuals(lambda x: np.array([3.0, 4.0]))
    jacobian = progress.wrap_jacobian(lambda x: np.eye(2))
    progress.begin("")
    for _ in range(iterations):
        residuals(None)
        jacobian(None)
    progress.end()


def test_terminal_gets_one_rewritten_line():
    stream = Terminal()
    drive(Progress(stream=stream), 3)
    text = stream.getvalue()
    assert text.count("\r") == 4 and text.endswith("\n") and text.count("\n") == 1
    assert "iteration    3  cost 1.250000e+01" in text


def test_pipe_gets_periodic_log_lines():
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("heterodyne")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        stream = io.StringIO()
        drive(Progress(stream=stream), 2 * LOG_EVERY + 3)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert stream.getvalue() == ""
    messages = [record.getMessage() for record in records]
    assert [m.split()[2] for m in messages] == [str(LOG_EVERY), str(2 * LOG_EVERY), str(2 * LOG_EVERY + 3)]
