"""Read a student's code without running it, in the trusted process, at a bounded cost.

Static checks parse what a student wrote; parsing is the one thing done to it on the trusted
side, and its memory grows with the code, so every parse here is capped. A notebook is read as
the loader runs it: cell by cell.
"""

from __future__ import annotations

import ast
import functools

from .runtime.loader import notebook_code_cells
from .submission import MAX_NOTEBOOK_BYTES

# ast.parse holds about 750 bytes per character of literal-heavy code at its peak (measured
# on Python 3.11: "x = (a, a, ...)", "(a,b),", "a[b],"; plain code takes far less). 150,000
# characters, about nine times the reference solution, costs at most ~110 MiB per parse.
MAX_PARSE_CHARS = 150_000


class SourceTooLarge(Exception):
    """The code is longer than static checks read (``MAX_PARSE_CHARS``): a static check
    cannot vouch for it, so it must fail (or flag), never pass by default."""


def parse_python(source: str) -> ast.AST | None:
    """Parse untrusted source for static checks; None when it is not valid Python.

    Raises ``SourceTooLarge`` for code over ``MAX_PARSE_CHARS`` characters: parsing is the
    one thing done to a student's code in the trusted process, and its memory grows with
    the code (hundreds of bytes per character of literals), so it is bounded here. Several
    checks read the same file, so the last few trees are kept (callers only read them).
    """
    _within_cap(source)
    return _parse(source)


def _within_cap(source: str) -> None:
    if len(source) > MAX_PARSE_CHARS:
        raise SourceTooLarge(
            f"the code is {len(source):,} characters long, more than the {MAX_PARSE_CHARS:,} "
            "the static checks read; they cannot vouch for it"
        )


def parse_code(source: str) -> ast.Module | None:
    """``parse_python``, except that a notebook's cells are parsed one by one, as the loader
    runs them: a cell that is not valid Python is left out (it never runs), and the others
    form one module whose line numbers are those of the joined text. None when nothing
    parses."""
    if not isinstance(source, NotebookCode):
        tree = parse_python(source)
        return tree if isinstance(tree, ast.Module) else None
    _within_cap(source)
    body: list[ast.stmt] = []
    line = 0
    for cell in source.cells:
        tree = _parse.__wrapped__(cell)  # not kept: the merged module is what the caller reads
        if isinstance(tree, ast.Module):
            ast.increment_lineno(tree, line)
            body += tree.body
        line += cell.count("\n") + 2
    return ast.Module(body=body, type_ignores=[]) if body or not source.cells else None


@functools.lru_cache(maxsize=4)
def _parse(source: str) -> ast.AST | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


class NotebookCode(str):
    """A notebook's code cells joined into one text, which keeps the cells: the loader
    compiles and runs each cell on its own (one that is not valid Python is skipped, and
    the cells around it still run), so a static reading must parse them one by one too."""

    cells: tuple[str, ...]

    def __new__(cls, cells: list[str]) -> NotebookCode:
        text = super().__new__(cls, "\n\n".join(cells))
        text.cells = tuple(cells)
        return text


@functools.lru_cache(maxsize=1)
def notebook_code(raw: bytes) -> NotebookCode | None:
    """A notebook's code cells, read here with the submission's size caps (never run); None
    when it is not a readable notebook. Static checks ask for it several times (a
    submission has one notebook, so only the last is kept)."""
    try:
        return NotebookCode(notebook_code_cells(raw, max_bytes=MAX_NOTEBOOK_BYTES))
    except (ValueError, RecursionError, MemoryError):
        return None
