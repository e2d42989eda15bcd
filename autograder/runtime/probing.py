"""What every assignment's ``probes.py`` may use: the contract between probes and the worker.

A probes file is the assignment's code that runs in the sandbox next to the student's. It
defines:

- ``PROBES``: a dict of probe name to ``probe(namespace, **args)``. ``namespace`` holds the
  names the task's file (or the notebook) defined; ``args`` arrive from the grader over the
  pipe. A probe returns plain data only: None, bools, numbers, strings, lists, dicts with
  string keys and numpy arrays of an allowed dtype.
- optionally ``prepare(task)``: runs in the task's process before the student's code loads.
- optionally ``warm_up()``: runs once in the worker before any student code, so first-use
  costs are not paid inside a task's time limit.
- ``SANDBOXED``: ``True`` in the sandbox; the grader's own copy of the file (used to run the
  probes on the reference) has it set to ``False``, so guards against student code stay off.

A probe raises ``Missing`` when the submission does not define a name it needs; the feedback
then says so instead of reporting an error. Probes hold no secrets: students may read them.
"""

from __future__ import annotations

import os
import sys
from typing import Any


class Missing(Exception):
    """A name the task requires (a class or function) is not defined by the submission."""


# The notebook cells that raised while the task loaded (set by the worker in the task's
# process): a missing name is then explained by the cell that failed to define it.
FAILED_CELLS: list[dict[str, Any]] = []


def entry_name() -> str:
    """The file (or notebook) the task's code came from, as the student named it."""
    entry = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return entry or "the submission"


def need(namespace: dict, name: str) -> Any:
    """``namespace[name]``, or ``Missing`` saying which file does not define it."""
    if name not in namespace:
        raise Missing(f"{entry_name()} does not define {name}{_failed_cell_note(name)}")
    return namespace[name]


def _failed_cell_note(name: str) -> str:
    """Which notebook cell failed to define ``name`` (one that looks like it defines it),
    else which cells raised at all; empty when none did."""
    def said(failure: dict[str, Any]) -> str:
        lines = str(failure.get("error") or "").strip().splitlines()
        where = f" at line {failure['line']}" if failure.get("line") else ""
        message = lines[-1] if lines else str(failure.get("type"))
        return f"cell {failure.get('cell')} raised {failure.get('type')}{where} ({message[:300]})"

    for failure in FAILED_CELLS:
        if name in failure.get("defines", ()):
            return f": {said(failure)}, before it could define {name}"
    if FAILED_CELLS:
        cells = ", ".join(str(f.get("cell")) for f in FAILED_CELLS[:10])
        return f" (cells that raised: {cells}; see the task's loading check)"
    return ""


def need_class(namespace: dict, name: str) -> type:
    """The class ``name`` of the submission, or why there is none."""
    value = need(namespace, name)
    if not isinstance(value, type):
        raise TypeError(f"{name} is a {type(value).__name__}, not a class")
    return value


def need_callable(namespace: dict, name: str) -> Any:
    """The function ``name`` of the submission, or why there is none."""
    value = need(namespace, name)
    if not callable(value):
        raise TypeError(f"{name} is a {type(value).__name__}, not a function")
    return value
