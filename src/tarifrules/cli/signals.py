"""SIGINT and SIGTERM as an exception of the main thread, so that a command cleans up before it ends.

By default SIGTERM ends the process at once: a file being written stays as it was. Within
`interruptible()`, both signals raise `Interrupted` in the main thread (where Python runs
signal handlers); within `held()`, a signal waits for the end of the block (a rename that
must not be cut from the fact that it happened).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}  # 128 + the signal's number, as shells report it
NAMES = {signal.SIGINT: "SIGINT (Ctrl+C)", signal.SIGTERM: "SIGTERM"}


class Interrupted(KeyboardInterrupt):
    """A signal asked the command to stop (a KeyboardInterrupt: `except Exception` does not catch it)."""

    def __init__(self, number: int):
        super().__init__(number)
        self.number = number

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(signal.Signals(self.number), 128 + self.number)

    @property
    def name(self) -> str:
        return NAMES.get(signal.Signals(self.number), signal.Signals(self.number).name)


_held: list[int] | None = None  # signals received within `held()`
_stopping = False  # an interruption is being handled: later signals must not cut its cleaning up


def _handler(number: int, frame: FrameType | None) -> None:
    if _stopping:
        return
    if _held is not None:
        _held.append(number)
        return
    raise Interrupted(number)


def stopping() -> None:
    """From now on (until the end of `interruptible()`), signals are ignored: the command is
    already stopping, and cleans up before it ends."""
    global _stopping
    _stopping = True


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """SIGINT and SIGTERM raise `Interrupted` within the block (the previous handlers come back after).
    Outside the main thread, nothing changes (only the main thread can set handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    global _stopping
    previous = {number: signal.signal(number, _handler) for number in EXIT_CODES}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        _stopping = False


@contextlib.contextmanager
def held() -> Iterator[None]:
    """A signal received within the block raises `Interrupted` once the block is done."""
    global _held
    if _held is not None:  # (already held by an enclosing block)
        yield
        return
    _held = []
    try:
        yield
    finally:
        received, _held = _held, None
        if received:
            raise Interrupted(received[0])
