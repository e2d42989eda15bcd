"""Load a student's task into a namespace, inside the sandboxed child.

A folder submission's task file is imported as a module under its own name, so that
``from layers import Linear`` between the student's files keeps working. A notebook is
run cell by cell: IPython magics and shell lines are dropped, and a cell that raises is
recorded and skipped, so one broken cell does not stop the names after it from loading.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

MAX_MESSAGE = 2000
# A real notebook holds a few thousand values (cells, lines of source, outputs); a million
# of the costliest kind (small nested objects) parse into about 100 MiB (measured).
MAX_JSON_ITEMS = 1_000_000
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')  # one string, escapes included


def short_traceback(exc: BaseException, student_dir: str) -> str:
    """The traceback lines that point into the student's files, and the error itself."""
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(student_dir)
    ]
    lines = traceback.format_list(frames[-5:]) + traceback.format_exception_only(exc)
    text = "".join(lines).replace(student_dir.rstrip("/") + "/", "")
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + "…"


def load_module(path: Path) -> dict[str, Any]:
    """Import one ``.py`` file as the module named after it and return its namespace."""
    name = path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path.name} cannot be imported")
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return vars(module)


def check_json_cost(raw: bytes, max_bytes: int, max_items: int = MAX_JSON_ITEMS) -> None:
    """Refuse JSON whose parse would cost more than its size suggests.

    ``json.loads`` builds an object per value, so memory follows the number of values, not
    the bytes: ``[{},{},...]`` holds ~64 bytes per 3 bytes of file. Every value but the
    first follows a comma or opens a container, so counting those outside strings (code
    in a cell is full of commas) bounds it, in C and in well under a second at the size cap.
    """
    if len(raw) > max_bytes:
        raise ValueError(f"it is {len(raw):,} bytes, over the {max_bytes:,} read here")
    structure = _JSON_STRING.sub(b'""', raw)
    items = structure.count(b",") + structure.count(b"[") + structure.count(b"{")
    if items > max_items:
        raise ValueError(f"it holds about {items:,} JSON values, over the {max_items:,} read here")


def notebook_code_cells(raw: bytes, max_bytes: int | None = None) -> list[str]:
    """The source of each code cell of an ``.ipynb`` file, magics and shell lines removed,
    nbgrader's autograder cells left out.

    With ``max_bytes`` (the trusted side, which must bound its cost) a notebook over that
    size or with too many JSON values is refused with ValueError before it is parsed.
    """
    if max_bytes is not None:
        check_json_cost(raw, max_bytes)
    notebook = json.loads(raw.decode("utf-8", errors="replace"))
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise ValueError("the notebook has no list of cells")
    sources = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code" or is_autograder_cell(cell):
            continue
        sources.append(strip_ipython(cell_source(cell)))
    return sources


def is_autograder_cell(cell: dict) -> bool:
    """An nbgrader autograder cell (``grade`` without ``solution``): in a released notebook it
    only carries a task's points for the gradebook, and checks nothing the kit relies on. It is
    neither run nor read: marking a cell so only takes its code out of the submission."""
    metadata = cell.get("metadata")
    nbgrader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return (isinstance(nbgrader, dict) and nbgrader.get("grade") is True
            and nbgrader.get("solution") is not True)


def cell_source(cell: dict) -> str:
    """A cell's text: nbformat stores a string or a list of strings; anything else is none."""
    source = cell.get("source", "")
    if isinstance(source, list):
        return "".join(part for part in source if isinstance(part, str))
    return source if isinstance(source, str) else ""


def strip_ipython(source: str) -> str:
    """Blank out lines IPython would treat as magics or shell commands (keeps line numbers)."""
    if source.lstrip().startswith("%%"):
        return ""
    kept = []
    for line in source.splitlines():
        stripped = line.lstrip()
        is_magic = stripped.startswith(("%", "!"))
        is_shell_assign = "= !" in line and stripped.split("=", 1)[0].strip().isidentifier()
        kept.append("" if is_magic or is_shell_assign else line)
    return "\n".join(kept)


def load_notebook(path: Path) -> tuple[dict[str, Any], list[str]]:
    """Run every code cell in one namespace; returns it and a note per cell that raised."""
    namespace: dict[str, Any] = {"__name__": "__main__"}
    notes = []
    for number, source in enumerate(notebook_code_cells(path.read_bytes()), start=1):
        try:
            code = compile(source, f"{path}#cell{number}", "exec")
            exec(code, namespace)  # noqa: S102 - this is the sandboxed child's whole purpose
        except Exception as exc:  # a raising cell must not stop the rest
            notes.append(f"cell {number} raised: {short_traceback(exc, str(path))}")
    return namespace, notes
