"""Solution regions: the teacher's reference files mark what students must write, and the
release replaces each region by the stub nbgrader itself would write, so a notebook released by
the kit and one released by ``nbgrader generate_assignment`` are the same.

Python files use ``### BEGIN SOLUTION`` / ``### END SOLUTION`` and Markdown files
``<!-- BEGIN SOLUTION -->`` / ``<!-- END SOLUTION -->``, each alone on its line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

Kind = Literal["python", "markdown"]

MARKERS: dict[str, tuple[str, str, str]] = {
    # kind: (begin marker, end marker, what the region becomes in the release: nbgrader's
    # default ClearSolutions stubs)
    "python": ("### BEGIN SOLUTION", "### END SOLUTION", "# YOUR CODE HERE\nraise NotImplementedError()"),
    "markdown": ("<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->", "YOUR ANSWER HERE"),
}
# Marker text that must never reach a student, whatever file it is in.
FORBIDDEN_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def kind_of(path: str | Path) -> Kind:
    """Which marker syntax a file uses, from its suffix."""
    suffix = Path(path).suffix
    if suffix == ".py":
        return "python"
    if suffix == ".md":
        return "markdown"
    raise ValueError(f"{path}: no solution-marker syntax for {suffix or 'files without suffix'}")


def _region_spans(text: str, kind: Kind, source: str) -> list[tuple[int, int]]:
    """(begin, end) 0-based line indexes of each region's markers; malformed markers raise."""
    begin, end, _ = MARKERS[kind]
    spans: list[tuple[int, int]] = []
    opened: int | None = None
    for index, line in enumerate(text.splitlines()):
        stripped = line.strip()
        where = f"{source}:{index + 1}"
        if stripped == begin:
            if opened is not None:
                raise ValueError(
                    f"{where}: {begin!r} inside the region opened on line {opened + 1} (regions cannot nest)"
                )
            opened = index
        elif stripped == end:
            if opened is None:
                raise ValueError(f"{where}: {end!r} without a {begin!r} before it")
            spans.append((opened, index))
            opened = None
        elif any(marker in line for marker in FORBIDDEN_MARKERS):
            raise ValueError(
                f"{where}: marker text that is not {begin!r} or {end!r} alone on its line "
                f"(the {kind} form, which must stand alone)"
            )
    if opened is not None:
        raise ValueError(f"{source}:{opened + 1}: {begin!r} is never closed by {end!r}")
    return spans


def strip_solution_regions(text: str, kind: Kind, *, source: str = "<text>") -> str:
    """The student's version of a reference file: each region replaced by its stub.

    Python regions become ``# YOUR CODE HERE`` and ``raise NotImplementedError()`` at the
    indentation of the region's ``### BEGIN SOLUTION`` line, so the stub still parses and fails
    loudly when called; Markdown regions become ``YOUR ANSWER HERE``: what nbgrader writes.
    ``source`` names the file in error messages.
    """
    spans = _region_spans(text, kind, source)
    lines = text.splitlines(keepends=True)
    for first, last in reversed(spans):
        marker = lines[first]
        indent = marker[: len(marker) - len(marker.lstrip())]
        closing = lines[last]  # its line ending, or none at the end of the text
        ending = closing[len(closing.rstrip("\r\n")) :]
        newline = ending or "\n"
        stub = [f"{indent}{line}" for line in MARKERS[kind][2].split("\n")]
        lines[first : last + 1] = [newline.join(stub) + ending]
    return "".join(lines)


def solution_text(text: str, kind: Kind, *, source: str = "<text>") -> str:
    """Only the inside of the solution regions; every other line blanked, numbering kept.

    This is the secret part of a reference file, laid out so that a line number in it is the
    line number in the reference file.
    """
    lines = text.splitlines()
    inside = {i for first, last in _region_spans(text, kind, source) for i in range(first + 1, last)}
    return "\n".join(line if i in inside else "" for i, line in enumerate(lines)) + "\n"
