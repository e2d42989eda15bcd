"""Gradebook import CSVs for an LMS, from a graded batch and the LMS's own roster export.

Each student of the roster gets a row with the identity columns the LMS matches on (Canvas: its
user ``ID`` and SIS columns; Moodle: name, ``ID number`` and email, one of which the teacher maps
on import) and the score. A result is matched to a roster row by the identity its LMS download
gave it, else by its submission name (a login, an email, an id). Results that match no student
and students with no result are returned, to be listed: a grade is never dropped in silence.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..report.summary import csv_text_cell

CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE_IDENTITY = ("First name", "Surname", "ID number", "Email address")


@dataclass
class GradebookExport:
    """The CSV text, and what could not be matched."""

    text: str
    unmatched_results: list[str] = field(default_factory=list)
    students_without_result: list[str] = field(default_factory=list)


def read_roster(path: Path) -> list[dict[str, str]]:
    """The roster's rows (an LMS gradebook export, UTF-8 with or without BOM); Canvas's
    "Points Possible" and test-student rows are left out."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = [{k.strip(): v.strip() for k, v in row.items() if isinstance(k, str) and isinstance(v, str)}
                for row in csv.DictReader(handle)]
    return [r for r in rows if r.get("Student") not in ("Points Possible", "Student, Test")]


def _keys(row: Mapping[str, str], columns: Sequence[str]) -> set[str]:
    return {row[c].casefold() for c in columns if row.get(c)}


def _result_keys(result: Mapping[str, Any]) -> set[str]:
    identity = result.get("identity") or {}
    keys = {str(result.get("submission", "")).casefold()}
    keys |= {str(identity[k]).casefold() for k in ("id", "login", "name") if identity.get(k)}
    return keys - {""}


def match(results: Sequence[Mapping[str, Any]], roster: Sequence[Mapping[str, str]],
          columns: Sequence[str], full_name: tuple[str, str] | None = None
          ) -> tuple[dict[int, Mapping[str, Any]], list[str]]:
    """Roster row index -> its result, and the results no row claims (or two rows claim)."""
    def row_keys(row: Mapping[str, str]) -> set[str]:
        keys = _keys(row, columns)
        if full_name and row.get(full_name[0]) and row.get(full_name[1]):
            keys.add(f"{row[full_name[0]]} {row[full_name[1]]}".casefold())
        return keys

    keys = [row_keys(row) for row in roster]
    matched: dict[int, Mapping[str, Any]] = {}
    unmatched = []
    for result in results:
        rows = [i for i, k in enumerate(keys) if k & _result_keys(result)]
        if len(rows) == 1 and rows[0] not in matched:
            matched[rows[0]] = result
        else:
            why = "no roster row" if not rows else "several roster rows or another result"
            unmatched.append(f"{result.get('submission')} ({why})")
    return matched, unmatched


def _score(result: Mapping[str, Any]) -> str:
    return f"{float(result['score']):g}"


def canvas_csv(results: Sequence[Mapping[str, Any]], roster: Sequence[Mapping[str, str]], column: str
               ) -> GradebookExport:
    """Canvas's gradebook import: its five identity columns, then ``column`` (an existing
    assignment's header, "Name (id)", updates it; a new header adds a column)."""
    matched, unmatched = match(results, roster, ("ID", "SIS User ID", "SIS Login ID"))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*CANVAS_IDENTITY, column])
    top = max((float(r["max_score"]) for r in results), default=0.0)
    writer.writerow(["    Points Possible", "", "", "", "", f"{top:g}"])
    missing = []
    for index, row in enumerate(roster):
        result = matched.get(index)
        if result is None:
            missing.append(row.get("Student") or row.get("SIS Login ID") or row.get("ID", "?"))
        writer.writerow([csv_text_cell(row.get(c, "")) for c in CANVAS_IDENTITY]
                        + [_score(result) if result else ""])
    return GradebookExport(buffer.getvalue(), unmatched, missing)


def moodle_csv(results: Sequence[Mapping[str, Any]], roster: Sequence[Mapping[str, str]], assignment: str
               ) -> GradebookExport:
    """Moodle's grade import: name, ID number and email (map one of them on import), the grade
    and a short feedback."""
    matched, unmatched = match(results, roster, ("ID number", "Email address"), ("First name", "Surname"))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*MOODLE_IDENTITY, f"Assignment: {assignment}", f"Feedback: {assignment}"])
    missing = []
    for index, row in enumerate(roster):
        result = matched.get(index)
        if result is None:
            missing.append(f"{row.get('First name', '')} {row.get('Surname', '')}".strip() or "?")
        feedback = (f"Autograded: {_score(result)} / {float(result['max_score']):g}"
                    + (" (manual grading pending)" if result.get("manual_pending") else "")) if result else ""
        writer.writerow([csv_text_cell(row.get(c, "")) for c in MOODLE_IDENTITY]
                        + [_score(result) if result else "", feedback])
    return GradebookExport(buffer.getvalue(), unmatched, missing)
