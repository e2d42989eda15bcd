"""The state a check could leave behind in a copy of the loaded task, as one fingerprint.

Each check runs on a copy of the task as it was once loaded (``worker.Zygote``), so that
nothing the code keeps between calls (class attributes, module globals, dicts keyed by
``id(p)``, the random generators) reaches the next check. Forking a copy per check costs a
fork of a process holding torch; most checks leave nothing behind, so a copy whose state is
still exactly the loaded state serves the next check too, and only a copy that changed
something is replaced.

What is compared: everything reachable from the task's namespace through the objects the
code defined (module globals, classes defined in the submission and their attributes,
functions' defaults and closures, instances, containers, arrays and tensors by their bytes),
the state of Python's, numpy's and torch's random generators, and that the copy runs no other
thread and has no child. Modules and classes the submission did not define (torch, numpy) are
not walked: a submission that changes those at call time changes only its own later checks.
State past ``MAX_OBJECTS`` objects or ``MAX_ARRAY_BYTES`` of arrays is not compared: such a
copy is always replaced. Nothing here calls the submission's own methods.
"""

from __future__ import annotations

import builtins
import gc
import hashlib
import os
import random
import sys
import types
from typing import Any

MAX_OBJECTS = 50_000
MAX_ARRAY_BYTES = 32 << 20
PRIMITIVES = (int, float, complex, str, bytes, bool, type(None))
NOT_WALKED = (types.CodeType, types.BuiltinFunctionType, types.FrameType, types.MethodWrapperType,
              types.WrapperDescriptorType, types.GetSetDescriptorType, types.MemberDescriptorType)


def student_modules(namespace: dict, student_dir: str) -> set[str]:
    """The names of the modules the submission's own files became (and the namespace's);
    found once, after loading (it reads every module's path)."""
    names = {str(namespace.get("__name__"))}
    prefix = os.path.join(os.path.realpath(student_dir), "")
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and os.path.realpath(path).startswith(prefix):
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
    ``student_modules``) as one digest, or None when it is too large to compare."""
    import numpy
    import torch

    hasher = hashlib.sha256()
    real_id = getattr(builtins.id, "real_id", builtins.id)  # the address, not the task's numbering
    skipped = {real_id(vars(builtins)), real_id(builtins.id)}  # the kit's numbering is not the code's
    seen: set[int] = set()
    stack: list[Any] = [namespace]
    array_total = 0
    while stack:
        value = stack.pop()
        kind = type(value)
        if kind in PRIMITIVES:
            hasher.update(repr(value).encode() + b"\0")
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
        if isinstance(value, NOT_WALKED):
            continue
        if isinstance(value, types.FunctionType) and value.__module__ not in own:
            hasher.update(f"{value.__module__}.{value.__qualname__}".encode())
            continue  # not the submission's: its globals are a library's
        stack.extend(reversed(gc.get_referents(value)))
    hasher.update(repr(random.getstate()).encode())
    hasher.update(numpy.random.get_state()[1].tobytes())
    hasher.update(torch.get_rng_state().numpy().tobytes())
    return hasher.hexdigest()


def alone() -> bool:
    """True when this process runs no other thread and has no child left."""
    try:
        tasks = os.listdir("/proc/self/task")
        children = "".join(open(f"/proc/self/task/{t}/children").read() for t in tasks)
    except OSError:
        return False
    return len(tasks) == 1 and not children.strip()
