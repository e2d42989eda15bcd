"""Reading a ``result.json``: what its fields mean, in one place for the writer and the
reports (the schema is ``schemas/result.schema.json``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def manual_pending(result: Mapping[str, Any]) -> bool:
    """Whether some task graded by hand has no score yet."""
    tasks = result.get("tasks")
    return any(isinstance(t, Mapping) and t.get("manual") is True and t.get("score") is None
               for t in (tasks if isinstance(tasks, list) else []))


def total_score(result: Mapping[str, Any]) -> float:
    """The points of every task scored so far, automatic and manual."""
    return round(sum(t.get("score") or 0.0 for t in result.get("tasks", [])), 6)
