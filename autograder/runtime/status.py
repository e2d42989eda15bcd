"""The statuses the sandbox replies with, defined once for both sides of the boundary.

Every answer of the worker and of a task child carries one in its ``status`` field. They are
``StrEnum`` members, so on the wire and in a result they are the same plain strings.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ProbeStatus(StrEnum):
    """How a probe call went; also the worker's answer to a request that loads nothing."""

    OK = "ok"
    MISSING = "missing"  # a name the probe needs is not defined
    RAISED = "raised"  # the student's code raised
    TIMEOUT = "timeout"
    CRASHED = "crashed"
    BAD_ANSWER = "bad_answer"  # data the grader cannot read
    ERROR = "error"  # the sandbox itself failed

    @classmethod
    def read(cls, value: Any) -> ProbeStatus:
        """The status an answer claims; one this side does not know is a bad answer."""
        try:
            return cls(value)
        except ValueError:
            return cls.BAD_ANSWER


class LoadStatus(StrEnum):
    """Whether a task's code loaded in its child."""

    LOADED = "loaded"
    CELLS_FAILED = "cells_failed"  # a notebook loaded, but some of its cells raised
    LOAD_FAILED = "load_failed"  # importing it raised, or called exit()
    MISSING_FILE = "missing_file"  # the submission has no file for the task
    TIMEOUT = "timeout"
    CRASHED = "crashed"
    BAD_ANSWER = "bad_answer"
    ERROR = "error"

    @classmethod
    def read(cls, value: Any) -> LoadStatus:
        """The status an answer claims; one this side does not know is a bad answer."""
        try:
            return cls(value)
        except ValueError:
            return cls.BAD_ANSWER


class WorkerStatus(StrEnum):
    """The worker's first message, once it is ready to serve."""

    READY = "ready"
