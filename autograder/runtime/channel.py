"""A pipe end that reads whole protocol messages before a deadline.

Both the grader (reading the worker) and the worker (reading a task child) must never block
forever on a peer that stopped talking, so every read waits with ``select`` for at most the
time left.
"""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable
from typing import Any, TypeVar

from .protocol import read_message, read_raw_message, write_message

T = TypeVar("T")


class DeadlineReader:
    """File-like ``read(n)`` over a raw fd that raises ``TimeoutError`` at the deadline."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.deadline: float | None = None

    def read(self, size: int) -> bytes:
        while True:
            timeout = None if self.deadline is None else self.deadline - time.monotonic()
            if timeout is not None and timeout <= 0:
                raise TimeoutError("no answer before the deadline")
            ready, _, _ = select.select([self.fd], [], [], timeout)
            if ready:
                return os.read(self.fd, min(size, 1 << 20))


class RawWriter:
    """File-like writer over a raw fd (no buffering to forget to flush)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]

    def flush(self) -> None:
        """Nothing is buffered."""


class Channel:
    """One side of a request/response pipe pair carrying protocol messages."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self.reader = DeadlineReader(read_fd)
        self.writer = RawWriter(write_fd)

    def send(self, message: dict[str, Any], blobs: dict[str, bytes] | None = None) -> None:
        write_message(self.writer, message, blobs)

    def receive(self, timeout: float | None) -> tuple[dict[str, Any], dict[str, bytes]]:
        return self._before_deadline(timeout, read_message)

    def send_raw(self, data: bytes) -> None:
        """Pass on a message read with ``receive_raw``, unchanged."""
        self.writer.write(data)

    def receive_raw(self, timeout: float | None) -> bytes:
        """One message as bytes (sizes checked, nothing decoded)."""
        return self._before_deadline(timeout, read_raw_message)

    def _before_deadline(self, timeout: float | None, read: Callable[[Any], T]) -> T:
        self.reader.deadline = None if timeout is None else time.monotonic() + timeout
        try:
            return read(self.reader)
        finally:
            self.reader.deadline = None

    def close(self) -> None:
        for fd in (self.reader.fd, self.writer.fd):
            try:
                os.close(fd)
            except OSError:
                pass
