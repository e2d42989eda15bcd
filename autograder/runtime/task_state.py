"""The state a check could leave behind in a copy of the loaded task, as one fingerprint.

Each check runs on a copy of the task as it was once loaded (``worker.Zygote``), so that
nothing the code keeps between calls (class attributes, module globals, dicts keyed by
``id(p)``, the random generators) reaches the next check. Forking a copy per check costs a
fork of a process holding torch; most checks leave nothing behind, so a copy whose state is
still exactly the loaded state serves the next check too, and only a copy that changed
something is replaced.

What is compared: everything reachable from the task's namespace through the objects the
code defined (module globals, classes defined in the submission and their attributes,
functions' defaults and closures, instances, containers, arrays and tensors by their bytes,
random generators by their state), the state of Python's, numpy's and torch's global random
generators, and that the copy runs no other thread and has no child. Modules and classes the
submission did not define (torch, numpy) are not walked: a submission that changes those at
call time changes only its own later checks. An object whose state the walk cannot read (an
iterator, a generator, an open file, a lock: C state that no Python object shows), state past
``MAX_OBJECTS`` objects or ``MAX_ARRAY_BYTES`` of arrays: such a copy is always replaced.
Nothing here calls the submission's own methods.

Changes that many checks make and that a fresh copy would make again are undone before the
comparison (``restore``), since each would otherwise cost a new copy for nothing: the global
generators' draws (they go back to their loaded state), the numbers ``id`` gave out (see
``determinism.StableIds``: the next check numbers from where a fresh copy would) and the
profiling hook torch puts on an ``Optimizer`` subclass's ``step`` the first time one is built
(the class gets its loaded ``step`` back; a fresh copy hooks it again on its first
construction).
"""

from __future__ import annotations

import builtins
import collections
import contextlib
import functools
import gc
import hashlib
import os
import random
import sys
import types
import weakref
from dataclasses import dataclass, field
from typing import Any

from . import determinism

MAX_OBJECTS = 50_000
MAX_ARRAY_BYTES = 32 << 20
PRIMITIVES = (int, float, complex, str, bytes, bool, type(None))
NOT_WALKED = (types.CodeType, types.BuiltinFunctionType, types.FrameType, types.MethodWrapperType,
              types.WrapperDescriptorType, types.GetSetDescriptorType, types.MemberDescriptorType,
              types.MethodDescriptorType, types.ClassMethodDescriptorType)
# Built-in types whose whole state ``gc.get_referents`` shows (their items, their attributes).
SEEN_THROUGH = (object, list, tuple, dict, set, frozenset, types.CellType, types.FunctionType,
                types.MethodType, types.SimpleNamespace, types.MappingProxyType, types.GenericAlias,
                types.UnionType, property, staticmethod, classmethod, functools.partial,
                type(functools.lru_cache(None)(len)), collections.deque, collections.OrderedDict,
                collections.defaultdict)
_MISSING = object()


@dataclass
class LoadedState:
    """What a copy is compared with, taken in the zygote once the code has loaded."""

    own: set[str]
    generators: tuple[Any, Any, Any] | None  # None when they could not be read
    ids: Any  # determinism.StableIds' snapshot, if ``id`` is one
    steps: dict[type, Any] = field(default_factory=dict)  # Optimizer subclasses' own ``step``
    digest: str | None = None


def capture(namespace: dict, student_dir: str) -> LoadedState:
    """The loaded state of the task whose namespace is ``namespace``; if the loaded code broke
    what reading it needs, one with no digest, so that every check gets a new copy."""
    try:
        return _capture(namespace, student_dir)
    except Exception:
        return LoadedState(set(), None, None)


def _capture(namespace: dict, student_dir: str) -> LoadedState:
    own = student_modules(namespace, student_dir)
    stable_ids = builtins.id if isinstance(builtins.id, determinism.StableIds) else None
    steps = {cls: vars(cls).get("step", _MISSING) for cls in _optimizer_classes(namespace, own)}
    for step in steps.values():  # torch's hook reads these with functools.wraps, and a
        for name in (*functools.WRAPPER_ASSIGNMENTS, "__dict__"):  # function makes some on
            getattr(step, name, None)  # first read: read them now, so the loaded state has them
    loaded = LoadedState(own, _generators(), stable_ids and stable_ids.snapshot(), steps)
    loaded.digest = fingerprint(namespace, own)
    return loaded


def restore(loaded: LoadedState) -> None:
    """In a copy: undo what every check does and a fresh copy would do again (see above).
    What the task's code broke stays undone: the comparison then tells the copy apart."""
    with contextlib.suppress(Exception):
        _restore(loaded)


def _restore(loaded: LoadedState) -> None:
    import numpy
    import torch

    if loaded.generators is None:
        return
    random.setstate(loaded.generators[0])
    numpy.random.set_state(loaded.generators[1])
    torch.set_rng_state(loaded.generators[2])
    if loaded.ids is not None and isinstance(builtins.id, determinism.StableIds):
        builtins.id.restore(loaded.ids)
    for cls, step in loaded.steps.items():
        current = vars(cls).get("step", _MISSING)
        if current is step or not _is_step_hook(current):
            continue
        if step is _MISSING:
            delattr(cls, "step")
        elif current.__wrapped__ is step:
            cls.step = step


def _generators() -> tuple[Any, Any, Any]:
    import numpy
    import torch

    return random.getstate(), numpy.random.get_state(), torch.get_rng_state()


def _optimizer_classes(namespace: dict, own: set[str]) -> list[type]:
    """The ``torch.optim.Optimizer`` subclasses the submission defined, found from its modules."""
    import torch

    real_id = determinism.real_id()
    modules = [sys.modules[name] for name in own if name in sys.modules]
    candidates = [value for module in modules for value in vars(module).values()]
    candidates += list(namespace.values())
    found: dict[int, type] = {}
    while candidates:
        value = candidates.pop()
        if (isinstance(value, type) and issubclass(value, torch.optim.Optimizer)
                and value.__module__ in own and real_id(value) not in found):
            found[real_id(value)] = value
            candidates.extend(type.__subclasses__(value))
    return list(found.values())


@functools.cache
def _step_hook_code() -> Any:
    """The code of the wrapper torch's ``Optimizer`` puts around a subclass's ``step``."""
    import torch

    hook = getattr(torch.optim.Optimizer, "profile_hook_step", None)
    return getattr(hook(lambda self: None), "__code__", None) if hook else None


def _is_step_hook(value: Any) -> bool:
    return (getattr(value, "hooked", False) is True and hasattr(value, "__wrapped__")
            and getattr(value, "__code__", None) is _step_hook_code())


def student_modules(namespace: dict, student_dir: str) -> set[str]:
    """The names of the modules the submission's own files became (and the namespace's);
    found once, after loading. Only a relative path is resolved: a thousand modules' real
    paths would cost tens of milliseconds of system calls per task."""
    names = {str(namespace.get("__name__"))}
    real_prefix = os.path.join(os.path.realpath(student_dir), "")
    prefixes = (os.path.join(student_dir, ""), real_prefix)
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if not isinstance(path, str):
            continue
        if path.startswith(prefixes) or (not os.path.isabs(path)
                                         and os.path.realpath(path).startswith(real_prefix)):
            names.add(name)
    return names


def _array_bytes(value: Any) -> bytes | None:
    """An array's or a tensor's dtype, shape and data, or None if it cannot be read plainly."""
    import numpy
    import torch

    try:
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().resolve_conj().resolve_neg().numpy()
        if isinstance(value, numpy.ndarray) and value.dtype != object:
            header = f"{value.dtype.str}{value.shape}".encode()
            return header + numpy.ascontiguousarray(value).tobytes()
    except (RuntimeError, TypeError, ValueError):
        return None
    return None


def fingerprint(namespace: dict, own: set[str]) -> str | None:
    """The state reachable from ``namespace`` through the modules named in ``own`` (see
    ``student_modules``) as one digest, or None when it is too large to compare or cannot be
    read (a name, say, that will not encode): such a copy is always replaced, never trusted."""
    try:
        return _digest(namespace, own)
    except Exception:
        return None


def _digest(namespace: dict, own: set[str]) -> str | None:
    import numpy
    import torch

    hasher = hashlib.sha256()
    real_id = determinism.real_id()
    skipped = {real_id(vars(builtins)), real_id(builtins.id)}  # the kit's numbering is not the code's
    seen: set[int] = set()
    stack: list[Any] = [namespace]
    array_total = 0
    while stack:
        value = stack.pop()
        kind = type(value)
        if kind in PRIMITIVES:  # an int in hex: its decimal repr stops at 4,300 digits
            hasher.update((hex(value) if kind is int else repr(value)).encode() + b"\0")
            continue
        if real_id(value) in seen or real_id(value) in skipped:
            hasher.update(b"@seen\0")
            continue
        seen.add(real_id(value))
        if len(seen) > MAX_OBJECTS:
            return None
        hasher.update(kind.__name__.encode() + b"\0")
        if isinstance(value, (numpy.ndarray, torch.Tensor)):
            data = _array_bytes(value)
            if data is None:
                return None
            array_total += len(data)
            if array_total > MAX_ARRAY_BYTES:
                return None
            hasher.update(hashlib.sha256(data).digest())
            if isinstance(value, torch.Tensor):
                stack.append(value.grad)
                hasher.update(b"grad" if value.requires_grad else b"nograd")
            continue
        if isinstance(value, types.ModuleType):
            hasher.update(value.__name__.encode())
            if value.__name__ in own or value is namespace:
                stack.append(vars(value))
            continue
        if isinstance(value, type):
            hasher.update(value.__qualname__.encode())
            if value.__module__ in own:
                stack.extend(reversed(list(vars(value).items())))
            continue
        if isinstance(value, dict):
            for key, item in dict.items(value):
                stack.extend((item, key))
            continue
        if isinstance(value, NOT_WALKED) or isinstance(value, _unchanging()):
            continue
        if isinstance(value, types.FunctionType) and value.__module__ not in own:
            hasher.update(f"{value.__module__}.{value.__qualname__}".encode())
            continue  # not the submission's: its globals are a library's
        state = _generator_state(value)
        if state is not None:
            _hash_state(hasher, state)
            continue
        if not _seen_through(kind):
            return None  # its state is out of the walk's sight: always a new copy
        stack.extend(reversed(gc.get_referents(value)))
    _hash_state(hasher, _generators())
    return hasher.hexdigest()


@functools.cache
def _unchanging() -> tuple[type, ...]:
    """Types whose values hold nothing a check could change."""
    import datetime
    import decimal
    import re

    import numpy
    import torch

    return (slice, range, type(Ellipsis), type(NotImplemented), weakref.ref, re.Pattern,
            decimal.Decimal, datetime.date, datetime.time, datetime.timedelta, datetime.tzinfo,
            numpy.dtype, numpy.generic, torch.dtype, torch.device, torch.layout, torch.memory_format)


def _generator_state(value: Any) -> Any:
    """A random generator's state (Python's, numpy's or torch's), or None for anything else."""
    import numpy
    import torch

    try:
        if isinstance(value, random.Random) and not isinstance(value, random.SystemRandom):
            return value.getstate()
        if isinstance(value, numpy.random.RandomState):
            return value.get_state(legacy=False)
        if isinstance(value, numpy.random.Generator):
            value = value.bit_generator
        if isinstance(value, numpy.random.BitGenerator):
            return value.state, getattr(getattr(value, "seed_seq", None), "n_children_spawned", None)
        if isinstance(value, torch.Generator):
            return value.get_state()
    except (TypeError, ValueError, RuntimeError, NotImplementedError):
        return None
    return None


def _hash_state(hasher: Any, state: Any) -> None:
    """Hash a generator's state: nested dicts, tuples and lists of numbers and arrays."""
    import numpy
    import torch

    if isinstance(state, torch.Tensor):
        state = state.numpy()
    if isinstance(state, numpy.ndarray):
        hasher.update(state.dtype.str.encode() + state.tobytes())
    elif isinstance(state, dict):
        for key in sorted(state, key=str):
            hasher.update(f"{key}:".encode())
            _hash_state(hasher, state[key])
    elif isinstance(state, (tuple, list)) and all(type(item) in PRIMITIVES for item in state):
        hasher.update(repr(state).encode())  # Python's generator: 625 numbers in one go
    elif isinstance(state, (tuple, list)):
        hasher.update(f"({len(state)}".encode())
        for item in state:
            _hash_state(hasher, item)
    else:
        hasher.update(repr(state).encode() + b"\0")


_HEAP_TYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class written in Python


@functools.cache
def _seen_through(kind: type) -> bool:
    """Whether ``gc.get_referents`` shows all of an instance's state: a class written in
    Python over built-in bases that keep nothing out of sight."""
    return all(base.__flags__ & _HEAP_TYPE or base in SEEN_THROUGH or base in PRIMITIVES
               or issubclass(base, BaseException) for base in kind.__mro__)


def alone() -> bool:
    """True when this process runs no other thread and has no child left."""
    try:
        tasks = os.listdir("/proc/self/task")
        children = "".join(open(f"/proc/self/task/{t}/children").read() for t in tasks)
    except OSError:
        return False
    return len(tasks) == 1 and not children.strip()
