"""Load a student's task into a namespace, inside the sandboxed child.

A folder submission's task file is imported as a module under its own name, so that
``from layers import Linear`` between the student's files keeps working. A notebook is
run cell by cell: IPython magics and shell lines are dropped, and a cell that raises is
recorded and skipped, so one broken cell does not stop the names after it from loading.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import linecache
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


MAX_DEFINED = 50  # names listed per failed cell
MAX_FRAMES = 5  # the last student frames shown: where it went wrong, not the whole path
MAX_ERROR_LINE = 600  # the error's own message
MAX_SOURCE_LINE = 200  # one quoted line of the student's code
_CELL_FILE = re.compile(r"^(?P<notebook>.*\.ipynb)#cell(?P<cell>\d+)$")


def _where(filename: str, student_dir: str) -> str:
    """A frame's file as the student knows it: ``"task.py"`` or ``"homework.ipynb", cell 7``,
    never a sandbox path."""
    name = filename.removeprefix(student_dir.rstrip("/") + "/")
    cell = _CELL_FILE.match(name)
    if cell:
        return f'"{Path(cell["notebook"]).name}", cell {cell["cell"]}'
    return f'"{name}"'


def _is_students(filename: str, student_dir: str) -> bool:
    return filename.startswith(student_dir.rstrip("/") + "/")


def _one_line(text: str | None) -> str:
    line = (text or "").strip()
    return line if len(line) <= MAX_SOURCE_LINE else line[:MAX_SOURCE_LINE] + "…"


def _exception_lines(exc: BaseException, student_dir: str) -> list[str]:
    """The exception itself; a SyntaxError with its file (or cell), line and source line."""
    try:
        if isinstance(exc, SyntaxError) and exc.filename and _is_students(exc.filename, student_dir):
            lines = [f"  File {_where(exc.filename, student_dir)}, line {exc.lineno}"]
            if exc.text:
                lines.append(f"    {_one_line(exc.text)}")
            return [*lines, f"{type(exc).__name__}: {_one_line(exc.msg)}"]
        text = "".join(traceback.format_exception_only(exc)).strip()
        text = text if len(text) <= MAX_ERROR_LINE else text[:MAX_ERROR_LINE] + "…"
    except Exception:  # a student's exception whose __str__ fails is named by its type
        text = type(exc).__name__
    return [text.replace(student_dir.rstrip("/") + "/", "")]


def short_traceback(exc: BaseException, student_dir: str) -> str:
    """The traceback cut to the student's own frames (the last ``MAX_FRAMES``), each with its
    file or notebook cell, line and source line, then the error itself on the last line(s).

    Probe, engine and library frames are left out, and no sandbox path is kept. Plain text,
    capped: it crosses into the grader, which shows it to the student."""
    try:
        frames = [f for f in traceback.extract_tb(exc.__traceback__)
                  if _is_students(f.filename, student_dir)][-MAX_FRAMES:]
    except Exception:  # linecache reading a file the student's code replaced, say
        frames = []
    lines = []
    if frames:
        lines.append("Traceback of your code (most recent call last):")
    for frame in frames:
        lines.append(f"  File {_where(frame.filename, student_dir)}, line {frame.lineno}, in {frame.name}")
        if frame.line:
            lines.append(f"    {_one_line(frame.line)}")
    text = "\n".join(lines + _exception_lines(exc, student_dir)) + "\n"
    return text if len(text) <= MAX_MESSAGE else "…" + text[-MAX_MESSAGE:]


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
    namespace, failures = run_notebook(path)
    return namespace, [f"cell {f['cell']} raised: {f['error']}" for f in failures]


def run_notebook(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run every code cell in one namespace, as Jupyter would from the top; a cell that raises
    is recorded (its number, the error, the names it would have defined) and the next one
    runs, so one broken cell does not hide the names after it."""
    namespace: dict[str, Any] = {"__name__": "__main__"}
    failures: list[dict[str, Any]] = []
    student_dir = str(path.parent)
    for number, source in enumerate(notebook_code_cells(path.read_bytes()), start=1):
        filename = f"{path}#cell{number}"
        # The cell's lines, for the source lines of tracebacks through it (no file holds them).
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        try:
            code = compile(source, filename, "exec")
            exec(code, namespace)  # noqa: S102 - this is the sandboxed child's whole purpose
        except Exception as exc:  # a raising cell must not stop the rest
            failures.append({
                "cell": number,
                "type": type(exc).__name__,
                "line": _failing_line(exc, filename),
                "error": short_traceback(exc, student_dir),
                "defines": sorted(defined_names(source))[:MAX_DEFINED],
            })
    return namespace, failures


def _failing_line(exc: BaseException, filename: str) -> int | None:
    """The line of the cell where it failed (the last frame in that cell)."""
    if isinstance(exc, SyntaxError) and exc.filename == filename:
        return exc.lineno
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename:
            line = frame.lineno
    return line


_TOP_LEVEL_NAME = re.compile(
    r"^(?:async\s+def|def|class)\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*(?::[^=]*)?=(?!=)", re.MULTILINE)


def defined_names(source: str) -> set[str]:
    """The names a cell defines at its top level (classes, functions, assignments, imports);
    for a cell that does not parse, those its lines look like they define. Only to say which
    cell failed to define a name a check then misses."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {a or b for a, b in _TOP_LEVEL_NAME.findall(source)}
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names
