"""Keep torch's compiler out of a process that never compiles.

Two places import ``torch._dynamo`` (about a second, as much again as ``import torch``) in a
process that only runs eager code; each is met here with exactly what the compiler would do
outside ``torch.compile``, and anything else still gets the real compiler.

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

The second is the ``step`` of each of torch's own optimizers: it runs ``import torch._dynamo``
only to call ``torch._dynamo.graph_break()``, which outside a compiled region does nothing.
``defer_compiler_import`` puts a stand-in module in its place that has that one function;
asking it for anything else imports the real compiler, which then takes the stand-in's place.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
import types
from pathlib import Path
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


COMPILER = "torch._dynamo"


def _graph_break(msg: str = "") -> None:
    """``torch._dynamo.graph_break`` outside a compiled region: nothing."""


def _real_compiler(name: str) -> Any:
    """The stand-in's ``__getattr__``: import the real compiler and answer from it."""
    if name.startswith("__") and name != "__path__":
        raise AttributeError(name)  # a module's own dunders: nothing to import for
    if getattr(sys.modules.get(COMPILER), "_stand_in", False):
        del sys.modules[COMPILER]
    return getattr(importlib.import_module(COMPILER), name)


def defer_compiler_import() -> bool:
    """Put the compiler's stand-in in place (see above); False if the compiler is loaded
    already or torch's own ``graph_break`` is not the no-op this stands in for."""
    import torch

    if COMPILER in sys.modules or not _graph_break_is_a_no_op():
        return False
    stand_in = types.ModuleType(COMPILER, "torch._dynamo until more than graph_break is asked of it")
    stand_in.graph_break = _graph_break
    stand_in.__getattr__ = _real_compiler
    stand_in._stand_in = True
    sys.modules[COMPILER] = stand_in
    torch._dynamo = stand_in
    return True


def _graph_break_is_a_no_op() -> bool:
    """Whether this torch's ``torch._dynamo.graph_break`` is a function with no body (read
    from its source, since importing it is what this avoids)."""
    spec = importlib.util.find_spec(COMPILER)
    folders = list(spec.submodule_search_locations or []) if spec else []
    try:
        source = (Path(folders[0]) / "decorators.py").read_text()
    except (IndexError, OSError):
        return False
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name == "graph_break":
            body = node.body[1:] if ast.get_docstring(node) is not None else node.body
            return all(isinstance(statement, ast.Pass) for statement in body)
    return False
