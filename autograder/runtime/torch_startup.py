"""Keep torch's compiler out of a process that never compiles.

The first ``torch.optim.Optimizer`` a process builds imports ``torch._dynamo`` (about a second,
as much again as ``import torch``) only to mark four base-class methods (``add_param_group``,
``zero_grad``, ``state_dict``, ``load_state_dict``) "never compile": torch wraps them with
``torch._compile._disable_dynamo``, whose wrapper imports the compiler on its first call and
caches the marked function on the original. Outside ``torch.compile`` that marked function
behaves exactly as the original, so filling the cache with the original itself gives the same
behaviour without the import.

Used by the sandbox worker, where every class a student builds on ``Optimizer`` pays it, and torch's
own optimizers are turned off by the probes. Should a torch version wrap these methods some
other way, nothing is changed and the only cost is the import.
"""

from __future__ import annotations

from typing import Any

# The name torch's wrapper looks the marked function up by, on the original function.
_MARK = "__dynamo_disable"


def _wrapper_code() -> Any:
    """The code object every ``_disable_dynamo`` wrapper shares, or None if torch has none."""
    try:
        from torch._compile import _disable_dynamo
    except ImportError:
        return None
    return getattr(_disable_dynamo(lambda: None), "__code__", None)


def skip_compiler_import() -> list[str]:
    """Mark ``Optimizer``'s wrapped methods as torch would, without importing the compiler;
    return the names of the methods marked (empty when torch wraps them differently)."""
    import torch

    code = _wrapper_code()
    marked = []
    for name, method in vars(torch.optim.Optimizer).items():
        original = getattr(method, "__wrapped__", None)
        if code is None or getattr(method, "__code__", None) is not code or original is None:
            continue
        if getattr(original, _MARK, None) is None:
            setattr(original, _MARK, original)
        marked.append(name)
    return marked
