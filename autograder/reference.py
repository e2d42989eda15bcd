"""The reference solutions, imported in the trusted process, and the assignment's probes run
on them there: what a check compares a submission's data with.

The reference is the teacher's code, so importing it here is safe; the probes are the same
file the sandbox runs, loaded privately with ``SANDBOXED = False`` so that whatever they do
only to guard against student code (traps, turning torch's optimizers off) stays off here.
"""

from __future__ import annotations

import base64
import builtins
import contextlib
import copy
import dataclasses
import functools
import hashlib
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from .assignment import Assignment
from .cache import DiskCache
from .checks import import_file

_RUNS: dict[str, Any] = {}
MAX_RUNS = 1024  # kept in memory (for one session), least recently used dropped first: inputs
# drawn per submission never repeat, while the runs every submission shares are used again
_DISK: DiskCache | None = None  # the graded assignment's cache of runs, while one is graded
SECONDS = {"computed": 0.0, "read": 0.0}  # this process's time in reference runs (the benchmark's)


def trusted_probes(path: Path) -> ModuleType:
    """The probes file at ``path``, loaded once per process for the trusted side."""
    path, name = _trusted_name(Path(path))
    if name not in sys.modules:
        module = import_file(path, name)
        module.SANDBOXED = False  # type: ignore[attr-defined]
    return sys.modules[name]


@functools.cache
def _trusted_name(path: Path) -> tuple[Path, str]:
    """The probes file's real path and its module's name (asked for on every reference run)."""
    path = path.resolve()
    return path, f"_trusted_probes_{hashlib.sha256(str(path).encode()).hexdigest()[:12]}"


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
    process and handed out as a copy a check may change; a run that raises one of Python's
    own exceptions about its inputs raises it again each time. While an assignment is graded (``cache_runs``),
    a run whose names and inputs can be described exactly is also kept on disk, so that the
    next process grading it does not compute it again.
    """
    key = repr((id(probes), probe, sorted((k, id(v)) for k, v in namespace.items()), _fingerprint(args)))
    if key in _RUNS:
        _RUNS[key] = _RUNS.pop(key)  # the most recently used, so dropped last
    else:
        started = time.perf_counter()
        stored = _stored_name(probes, probe, namespace, args)
        cached = _DISK.get(stored) if _DISK is not None and stored is not None else None
        if cached is not None:
            _RUNS[key] = decode_value(cached)
            SECONDS["read"] += time.perf_counter() - started
        else:
            try:
                _RUNS[key] = probes.PROBES[probe](dict(namespace), **args)
            except (ArithmeticError, LookupError, RuntimeError, TypeError, ValueError) as exc:
                if type(exc).__module__ != "builtins" or isinstance(exc, RecursionError):
                    raise  # only what the inputs decide, not the machine's state
                _RUNS[key] = Raised(type(exc).__name__, str(exc))
            if _DISK is not None and stored is not None:
                with contextlib.suppress(Uncacheable):
                    _DISK.put(stored, encode_value(_RUNS[key]))
            SECONDS["computed"] += time.perf_counter() - started
        while len(_RUNS) > MAX_RUNS:
            del _RUNS[next(iter(_RUNS))]
    if isinstance(_RUNS[key], Raised):
        raise _RUNS[key].exception()
    return copy.deepcopy(_RUNS[key])


@dataclasses.dataclass(frozen=True)
class Raised:
    """A reference run that raised one of Python's own exceptions (a probe the reference, or
    torch, cannot run with those inputs), kept so that it raises the same again."""

    name: str
    message: str

    def exception(self) -> Exception:
        kind = getattr(builtins, self.name, None)
        if not (isinstance(kind, type) and issubclass(kind, Exception)):
            kind = RuntimeError
        return kind(self.message)


@contextlib.contextmanager
def cache_runs(assignment: Assignment) -> Iterator[None]:
    """Keep the reference's probe runs on disk while ``assignment`` is graded (see cache.py),
    and in memory for one grading session only. Each session imports the reference again, so
    runs kept under the ids of the last session's objects would never be found again (they
    only held memory), or worse, be found under a new object that happens to get a dead one's
    id. The runs every submission shares come back from disk."""
    global _DISK
    previous, _DISK = _DISK, DiskCache("reference-runs", assignment)
    _RUNS.clear()
    try:
        yield
    finally:
        _DISK = previous
        _RUNS.clear()


def _stored_name(probes: ModuleType, probe: str, namespace: Mapping[str, Any], args: Any) -> str | None:
    """The run's name on disk: the probes file, the probe, every name's exact origin and the
    inputs; None when a name or input cannot be described exactly (a class made inside a
    function, an object whose repr is its address), so such a run is never stored."""
    names = []
    for name, value in sorted(namespace.items()):
        origin = _origin(value)
        if origin is None:
            return None
        names.append((name, origin))
    described = repr((Path(probes.__file__ or "").name, probe, names, _fingerprint(args)))
    return None if " at 0x" in described else described


def _origin(value: Any) -> str | None:
    """Where ``value`` comes from, exactly: a module by name, a class or function by the
    module and qualified name that find it again, a plain constant by its repr."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    if isinstance(value, ModuleType):
        return f"module {value.__name__}"
    module, qualname = getattr(value, "__module__", None), getattr(value, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str):
        return None
    found: Any = sys.modules.get(module)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return f"{module}:{qualname}" if found is value else None


class Uncacheable(ValueError):
    """A probe's result holds something ``encode_value`` cannot write down exactly."""


def encode_value(value: Any) -> Any:
    """A probe result as JSON data that ``decode_value`` turns back into an equal value (arrays
    with their dtype and shape, tuples as tuples); anything else raises ``Uncacheable``."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Raised):
        return {"raised": value.name, "message": value.message}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return {"ndarray": value.dtype.str, "shape": list(value.shape),
                "data": base64.b64encode(np.ascontiguousarray(value).tobytes()).decode()}
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return {"scalar": value.dtype.str, "data": base64.b64encode(value.tobytes()).decode()}
    if isinstance(value, (list, tuple)):
        items = [encode_value(item) for item in value]
        return items if isinstance(value, list) else {"tuple": items}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": {k: encode_value(v) for k, v in value.items()}}
    raise Uncacheable(type(value).__name__)


def decode_value(data: Any) -> Any:
    """The value ``encode_value`` wrote down."""
    if isinstance(data, list):
        return [decode_value(item) for item in data]
    if not isinstance(data, dict):
        return data
    if "ndarray" in data:
        raw = base64.b64decode(data["data"])
        return np.frombuffer(raw, dtype=np.dtype(data["ndarray"])).reshape(data["shape"]).copy()
    if "scalar" in data:
        return np.frombuffer(base64.b64decode(data["data"]), dtype=np.dtype(data["scalar"]))[0]
    if "tuple" in data:
        return tuple(decode_value(item) for item in data["tuple"])
    if "raised" in data:
        return Raised(str(data["raised"]), str(data["message"]))
    return {k: decode_value(v) for k, v in data["dict"].items()}


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
