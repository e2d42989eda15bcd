"""A check's verdict on one submission, as the grading session records it and ``result.json``
holds it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .checks import DETAIL_FIELDS

GRADER_FAILED = "the grader failed on this submission"


class CheckStatus(StrEnum):
    """A check's verdict; ``result.json`` and the reports hold the plain string."""

    PASSED = "passed"
    FAILED = "failed"  # the submission's answer is wrong
    ERROR = "error"  # the check could not judge it (or the grader failed)
    SKIPPED = "skipped"  # a check it depends on did not pass


@dataclass
class CheckOutcome:
    """The verdict of one check on one submission, with what the feedback needs."""

    id: str
    task: str
    title: str
    status: CheckStatus
    score: float
    max_score: float
    message: str
    hint: str | None = None
    visibility: str = "visible"
    called: str | None = None
    expected: str | None = None
    actual: str | None = None
    deviation: dict[str, Any] | None = None
    mistakes: list[dict[str, str]] = field(default_factory=list)
    series: list[dict[str, Any]] = field(default_factory=list)
    depends: list[str] = field(default_factory=list)
    show: tuple[str, ...] = ()

    def as_dict(self, reveal: bool, due_passed: bool) -> dict[str, Any]:
        """The outcome as ``result.json`` holds it: a check that is not yet revealed keeps
        only the detail fields its ``show`` allows, and lists what it withheld. A field whose
        text the message already quotes word for word is dropped but not listed: nothing of
        it was kept back, and the feedback must not say it was."""
        data = dict(self.__dict__)
        del data["show"]
        revealed = (reveal or self.visibility == "visible"
                    or (self.visibility == "after_due_date" and due_passed))
        message = " ".join(str(self.message or "").split())
        withheld = []
        for name in () if revealed else DETAIL_FIELDS:
            if name not in self.show:
                value = data[name]
                quoted = isinstance(value, str) and " ".join(value.split()) in message
                if value and not quoted:
                    withheld.append(name)
                data[name] = [] if name == "series" else None
        data["withheld"] = withheld
        return data

