"""The reference solutions, imported in the trusted process, and the assignment's probes run
on them there: what a check compares a submission's data with.

The reference is the teacher's code, so importing it here is safe; the probes are the same
file the sandbox runs, loaded privately with ``SANDBOXED = False`` so that whatever they do
only to guard against student code (traps, turning torch's optimizers off) stays off here.
"""

from __future__ import annotations

import copy
import hashlib
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from .assignment import Assignment
from .checks import import_file

_RUNS: dict[str, Any] = {}


def trusted_probes(path: Path) -> ModuleType:
    """The probes file at ``path``, loaded once per process for the trusted side."""
    path = Path(path).resolve()
    name = f"_trusted_probes_{hashlib.sha256(str(path).encode()).hexdigest()[:12]}"
    if name not in sys.modules:
        module = import_file(path, name)
        module.SANDBOXED = False  # type: ignore[attr-defined]
    return sys.modules[name]


def _fingerprint(value: Any) -> Any:
    """A hashable, exact description of probe arguments (arrays by dtype, shape and bytes)."""
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, hashlib.sha256(value.tobytes()).hexdigest())
    if isinstance(value, dict):
        return tuple(sorted((k, _fingerprint(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_fingerprint(v) for v in value)
    return (type(value).__name__, repr(value))


def run_probe(probes: ModuleType, probe: str, namespace: Mapping[str, Any], **args: Any) -> Any:
    """Run one probe on ``namespace`` in this (trusted) process, as the sandbox would.

    Every submission gets the same inputs, so each distinct run is computed once per grading
    process and handed out as a copy a check may change.
    """
    key = repr((id(probes), probe, sorted((k, id(v)) for k, v in namespace.items()), _fingerprint(args)))
    if key not in _RUNS:
        _RUNS[key] = probes.PROBES[probe](dict(namespace), **args)
    return copy.deepcopy(_RUNS[key])


class Reference:
    """The ``reference`` fixture: each solution file as an attribute named after it
    (``reference.<stem>`` for ``<stem>.py``), and ``run`` to put a probe to the reference."""

    def __init__(self, assignment: Assignment) -> None:
        self._assignment = assignment
        self._modules = load_solutions(assignment)

    def __getattr__(self, name: str) -> ModuleType:
        try:
            return self._modules[name]
        except KeyError:
            raise AttributeError(f"{self._assignment.name}'s reference has no file {name}.py "
                                 f"(it has {', '.join(sorted(self._modules)) or 'none'})") from None

    @property
    def probes(self) -> ModuleType:
        return trusted_probes(self._assignment.probes)

    def run(self, probe: str, namespace: str | Mapping[str, Any], **args: Any) -> Any:
        """The probe's data for the reference: ``namespace`` is a solution file's name
        (its stem: everything it defines) or the names to run the probe on."""
        if isinstance(namespace, str):
            namespace = vars(getattr(self, namespace))
        return run_probe(self.probes, probe, namespace, **args)


def load_solutions(assignment: Assignment) -> dict[str, ModuleType]:
    """Import the automatic tasks' reference files (the teacher's code) by their stems; a
    solution may import its sibling files by name."""
    modules: dict[str, ModuleType] = {}
    solutions = str(assignment.solutions_dir)
    sys.path.insert(0, solutions)
    try:
        for task in assignment.automatic_tasks:
            for file_name in task.files:
                path = assignment.solutions_dir / file_name
                if path.suffix == ".py":
                    modules[path.stem] = import_file(path, f"_reference_{assignment.name}_{path.stem}")
    finally:
        sys.path.remove(solutions)
    return modules
