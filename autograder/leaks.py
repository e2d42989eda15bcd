"""Looking for secrets in what students get: every non-trivial line of a solution region or a
hidden file, found anywhere in a bundle (notebooks cell by cell), is a leak."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .regions import FORBIDDEN_MARKERS

MIN_SECRET_CHARS = 12
IMPORT_LINE = re.compile(r"^(from\s+\S+\s+)?import\s+\S")
QUOTES_ONLY = re.compile(r"^[rRbBuUfF]*(\"\"\"|\'\'\')$")
# Left behind by running the public checks in a bundle; never part of a release.
CACHE_NAMES = frozenset({"__pycache__", ".pytest_cache", ".ipynb_checkpoints"})


class ReleaseLeakError(Exception):
    """The bundle would show students part of a solution or of a hidden check."""

    def __init__(self, leaks: Sequence[Leak]) -> None:
        self.leaks = list(leaks)
        listing = "\n".join(f"  {leak}" for leak in self.leaks)
        super().__init__(f"the release would leak {len(self.leaks)} secret line(s):\n{listing}")


@dataclass(frozen=True)
class Leak:
    """One bundle line that repeats a secret line (or carries a solution marker)."""

    file: str  # bundle-relative path; notebook cells read "<notebook>.ipynb (cell 3)"
    line: int  # 1-based, within the file or the cell
    secret: str  # where the secret comes from, "path:line", or "solution marker"
    text: str  # the secret line, whitespace collapsed

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.text!r} (from {self.secret})"


def _normal(line: str) -> str:
    return " ".join(line.split())


def is_trivial(line: str) -> bool:
    """Lines too common to count as a secret: short, blank, comments, bare quotes, imports."""
    stripped = line.strip()
    return (
        len("".join(stripped.split())) < MIN_SECRET_CHARS
        or stripped.startswith("#")
        or bool(QUOTES_ONLY.match(stripped))
        or bool(IMPORT_LINE.match(stripped))
    )


def secret_lines(secret_texts: Mapping[str, str]) -> list[tuple[str, int, str]]:
    """``(source, line, normalised text)`` for every non-trivial line of every secret text."""
    found = []
    for source, text in secret_texts.items():
        for number, line in enumerate(text.splitlines(), start=1):
            if not is_trivial(line):
                found.append((source, number, _normal(line)))
    return found


def _bundle_lines(bundle_dir: Path) -> Iterable[tuple[str, int, str]]:
    """``(location, line, normalised text)`` for every line of every file; notebooks by cell."""
    for path in sorted(p for p in bundle_dir.rglob("*") if p.is_file()):
        relative = path.relative_to(bundle_dir).as_posix()
        if CACHE_NAMES.intersection(path.relative_to(bundle_dir).parts):
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        chunks: list[tuple[str, str]] = [(relative, text)]
        if path.suffix == ".ipynb":
            try:
                notebook = nbformat.reads(text, as_version=4)
                chunks = [
                    (f"{relative} (cell {number})", cell.source)
                    for number, cell in enumerate(notebook.cells, start=1)
                ] + [(f"{relative} (metadata)", json.dumps(notebook.metadata))]
            except Exception:  # unreadable as a notebook: scan the raw text instead
                pass
        for location, chunk in chunks:
            for number, line in enumerate(chunk.splitlines(), start=1):
                yield location, number, _normal(line)


def find_leaks(
    bundle_dir: Path, secret_texts: Mapping[str, str], *, public_texts: Iterable[str] = ()
) -> list[Leak]:
    """Every place in the bundle that repeats a non-trivial secret line, or a solution marker.

    ``secret_texts`` maps a source name to secret text (a hidden check file, or a reference file
    with everything outside its solution regions blanked). A secret line counts as found when it
    appears inside a bundle line, whitespace runs collapsed. A secret line that already appears
    in one of ``public_texts`` (the stubs, the public checks) is public by design and skipped.
    """
    public = [_normal(line) for text in public_texts for line in text.splitlines()]
    first_source: dict[str, tuple[str, int]] = {}  # one report per line, however often repeated
    for source, number, text in secret_lines(secret_texts):
        first_source.setdefault(text, (source, number))
    secrets = [
        (source, number, text)
        for text, (source, number) in first_source.items()
        if not any(text in line for line in public)
    ]
    leaks = []
    for location, number, line in _bundle_lines(bundle_dir):
        for marker in FORBIDDEN_MARKERS:
            if marker in line:
                leaks.append(Leak(location, number, "solution marker", marker))
        for source, secret_number, text in secrets:
            if text in line:
                leaks.append(Leak(location, number, f"{source}:{secret_number}", text))
    return leaks
