"""SIGTERM to the pipeline command (`kill PID`, a scheduler's time limit) ends it like Ctrl-C does:
the running stage saves its last.ckpt and marks its run KILLED, then the pipeline's own run is marked
KILLED, so that the same command resumes where it stopped."""

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the main thread is, like Ctrl-C's KeyboardInterrupt. Unlike Ctrl-C, which
    the whole process group gets, SIGTERM reaches the pipeline alone: the runner passes it on to the child."""


def raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated(f"signal {signal.Signals(signum).name}")


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block SIGTERM raises Terminated; the previous handler is restored after."""
    previous = signal.signal(signal.SIGTERM, raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def interrupted_from_the_terminal() -> bool:
    """Whether a SIGINT here is the terminal's Ctrl-C, which every process of the foreground job (a running
    stage with it) gets: this process is in the terminal's foreground process group. Without a terminal
    (nohup, a scheduler, `kill -INT PID`) the signal reached this process alone."""
    try:
        return os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except (OSError, ValueError):  # stdin is no terminal, or closed
        return False
