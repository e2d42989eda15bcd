"""The catalogue of known mistakes, kept as data beside an assignment's hidden suite.

Checks recognise a mistake (in the trusted process, by comparing the student's output with a
known-wrong variant of the reference) and name it by id; this module turns the id into the
title, explanation and fix the feedback shows.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

REQUIRED_FIELDS = ("task", "title", "explanation", "fix", "recognise")


@dataclass(frozen=True)
class Mistake:
    """A mistake students make, how it shows, and how to fix it."""

    id: str
    task: str
    title: str
    explanation: str
    fix: str
    recognise: str

    def for_feedback(self) -> dict[str, str]:
        entry = asdict(self)
        return {k: entry[k] for k in ("id", "title", "explanation", "fix")}


def load_catalogue(path: Path) -> dict[str, Mistake]:
    """Read ``mistakes.toml``; an entry missing a field is an error in the assignment."""
    if not path.is_file():
        return {}
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    catalogue = {}
    for mistake_id, entry in raw.items():
        missing = [f for f in REQUIRED_FIELDS if not entry.get(f)]
        if missing:
            raise ValueError(f"{path}: mistake {mistake_id!r} lacks {', '.join(missing)}")
        catalogue[mistake_id] = Mistake(id=mistake_id, **{f: entry[f] for f in REQUIRED_FIELDS})
    return catalogue
