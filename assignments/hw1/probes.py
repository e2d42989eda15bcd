"""Probes for hw1: small functions that call a student's code on given inputs and return data.

They run in the sandboxed child next to the student's code, so they hold no secrets and no
solution: every hidden input (batches, weights, gradient sequences, polynomials) arrives as an
argument from the grading side, and everything they return is plain data (JSON scalars, lists,
dicts with string keys, numpy arrays). The grading side judges that data; nothing here decides
whether an answer is right. Students may read this file.

Each probe is ``probe(namespace, **args)``, where ``namespace`` holds the names the task's file
(or the notebook) defined; the contract is in ``autograder/runtime/probing.py``.
"""

from __future__ import annotations

import cmath
import importlib
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from autograder.runtime.probing import need, need_class

MAX_RECORDED = 20_000  # points of a trajectory or visited x's sent back, at most
GRAD_PROBE_CALLS = 8  # gradient_descent calls inside find_roots whose grad is sampled
TORCH_SOLVE_OPTIMIZERS = ("Adam", "SGD", "Adagrad", "RMSprop")


def _array(value: Any) -> np.ndarray:
    """A tensor (or array, or number) as a float64 numpy array, detached from any graph; a
    complex tensor as its real and imaginary parts along a last axis of 2."""
    if isinstance(value, torch.Tensor):
        value = value.detach().to("cpu")
        if value.is_complex():
            value = torch.view_as_real(value)
        return value.to(torch.float64).numpy().copy()
    return np.array(value, dtype=np.float64)


def _tensor(value: Any, dtype: torch.dtype = torch.float64, grad: bool = False) -> torch.Tensor:
    """A new tensor from numbers; for a complex dtype, from pairs (real, imaginary) along the
    last axis."""
    array = np.asarray(value, dtype=np.float64)
    if dtype.is_complex:
        tensor = torch.view_as_complex(torch.tensor(array)).to(dtype).clone()
    else:
        tensor = torch.tensor(array, dtype=dtype)
    return tensor.requires_grad_(grad)


def _number(value: Any) -> float | None:
    """``float(value)`` for anything number-like (float, numpy scalar, 1-element tensor)."""
    try:
        number = float(value)
    except (TypeError, ValueError, RuntimeError, OverflowError):
        return None
    return number


def _returned(value: Any) -> dict[str, Any]:
    """What a call returned: nothing, a number, or something else (named by its type)."""
    if value is None:
        return {"kind": "none"}
    number = _number(value)
    if number is None:
        return {"kind": "other", "type": type(value).__name__}
    return {"kind": "number", "value": number, "type": type(value).__name__}


def _output(value: Any) -> dict[str, Any]:
    """A network's output described: its type, shape, dtype and values."""
    info: dict[str, Any] = {"type": type(value).__name__}
    if isinstance(value, torch.Tensor):
        info["shape"] = list(value.shape)
        info["dtype"] = str(value.dtype).removeprefix("torch.")
        info["values"] = _array(value) if value.is_floating_point() else None
    else:
        info["shape"] = None
        info["dtype"] = None
        info["values"] = None
    return info


def _polynomial(coefficients: list[float]) -> Callable[[Any], Any]:
    """p(x) by Horner's rule, highest power first; multiplications only, so a huge x gives inf
    instead of an OverflowError."""
    coefficients = [float(c) for c in coefficients]

    def value(x: Any) -> Any:
        total: Any = coefficients[0]
        for coefficient in coefficients[1:]:
            total = total * x + coefficient
        return total

    return value


# --------------------------------------------------------------------------------------------
# Task 1: MyModelNN


def _model(
    namespace: dict,
    sizes: list[int],
    state: dict[str, Any] | None = None,
    seed: int = 0,
    dtype: str = "float32",
) -> torch.nn.Module:
    """Build the student's network; load the given weights (names as in ``state_dict``)."""
    cls = need_class(namespace, "MyModelNN")
    torch.manual_seed(seed)
    model = cls(*[int(s) for s in sizes])
    if state is not None:
        weights = {k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in state.items()}
        model.load_state_dict(weights)
    if dtype == "float64":
        model = model.double()
    return model


def _batch(x: Any, dtype: str) -> torch.Tensor:
    return _tensor(x, torch.float64 if dtype == "float64" else torch.float32)


def probe_construct(namespace: dict, sizes: list[int]) -> dict[str, Any]:
    """Construct ``MyModelNN(*sizes)``: its parameters, buffers and sub-modules by name."""
    model = _model(namespace, sizes)
    is_module = isinstance(model, torch.nn.Module)
    return {
        "is_module": is_module,
        "parameters": {n: list(p.shape) for n, p in model.named_parameters()} if is_module else {},
        "buffers": {n: list(b.shape) for n, b in model.named_buffers()} if is_module else {},
        "children": [n for n, _ in model.named_children()] if is_module else [],
    }


def probe_forward(
    namespace: dict,
    sizes: list[int],
    x: np.ndarray,
    state: dict[str, Any] | None = None,
    seed: int = 0,
    dtype: str = "float32",
) -> dict[str, Any]:
    """``model(x)`` with the given weights (or the model's own seeded initialisation)."""
    model = _model(namespace, sizes, state, seed, dtype)
    return _output(model(_batch(x, dtype)))


def probe_rows(
    namespace: dict,
    sizes: list[int],
    x: np.ndarray,
    order: list[int],
    pieces: list[list[int]],
    seed: int = 0,
) -> dict[str, Any]:
    """Outputs for the whole batch, for its rows reordered, and for slices of it; each row's
    output should not depend on the other rows."""
    model = _model(namespace, sizes, seed=seed, dtype="float64")
    batch = _batch(x, "float64")
    with torch.no_grad():
        whole = _output(model(batch))
        reordered = _output(model(batch[torch.tensor(order, dtype=torch.long)]))
        sliced = [_output(model(batch[start:stop])) for start, stop in pieces]
    return {"whole": whole, "reordered": reordered, "pieces": sliced}


def probe_backward(
    namespace: dict,
    sizes: list[int],
    x: np.ndarray,
    weights: np.ndarray,
    seed: int = 0,
) -> dict[str, Any]:
    """Gradients of ``sum(weights * model(x))`` for every named parameter (None if none)."""
    model = _model(namespace, sizes, seed=seed, dtype="float64")
    out = model(_batch(x, "float64"))
    w = _tensor(weights)
    loss = (out * w).sum() if tuple(out.shape) == tuple(w.shape) else out.sum()
    loss.backward()
    return {
        "grads": {
            n: None if p.grad is None else _array(p.grad) for n, p in model.named_parameters()
        },
        "output_shape": list(out.shape),
    }


def probe_forward_keeps_parameters(
    namespace: dict, sizes: list[int], x: np.ndarray, seed: int = 0
) -> dict[str, Any]:
    """Parameters and buffers before and after two forward passes."""
    model = _model(namespace, sizes, seed=seed)
    before = {n: _array(t) for n, t in model.state_dict().items()}
    batch = _batch(x, "float32")
    model(batch)
    model(batch)
    after = {n: _array(t) for n, t in model.state_dict().items()}
    return {"before": before, "after": after}


# --------------------------------------------------------------------------------------------
# Task 2: the optimizers. A trap records calls of torch's own optimizers while a probe runs.

SANDBOXED = True  # the grading side turns it off in its own copy of this module (the trap)
_trap_calls: set[str] | None = None
_trap_installed: list[tuple[Any, str, Any]] = []
FUNCTIONAL_MODULES = (
    "adam", "adamw", "sgd", "adagrad", "rmsprop", "adamax", "nadam", "radam", "asgd",
    "adadelta", "rprop", "_functional",
)


def _torch_optimizer_classes() -> dict[str, type]:
    """torch.optim's concrete optimizers (every Optimizer subclass it exports, not the base)."""
    found = {}
    for name in dir(torch.optim):
        value = getattr(torch.optim, name)
        if (
            isinstance(value, type)
            and issubclass(value, torch.optim.Optimizer)
            and value is not torch.optim.Optimizer
        ):
            found[name] = value
    return found


def _recording(original: Callable, label: str) -> Callable:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _trap_calls is not None:
            _trap_calls.add(label)
        return original(*args, **kwargs)

    wrapper.__name__ = getattr(original, "__name__", "wrapper")
    wrapper.__qualname__ = getattr(original, "__qualname__", "wrapper")
    wrapper.__doc__ = getattr(original, "__doc__", None)
    return wrapper


def _functional_targets() -> Iterator[tuple[Any, str, str]]:
    """torch.optim's update functions: ``adam``, ``_single_tensor_adam``, ``F.sgd`` and so on."""
    for short in FUNCTIONAL_MODULES:
        try:
            module = importlib.import_module(f"torch.optim.{short}")
        except ImportError:
            continue
        base = short.lstrip("_")
        for name, value in list(vars(module).items()):
            if not callable(value) or isinstance(value, type):
                continue
            if short == "_functional" or name.lstrip("_").endswith(base):
                yield module, name, f"{module.__name__}.{name}"


def _install_trap() -> None:
    """Wrap torch's optimizers once per process; the wrappers record only while armed."""
    if _trap_installed or not SANDBOXED:
        return
    for name, cls in _torch_optimizer_classes().items():
        for attr in ("step", "__init__"):
            if attr in vars(cls):
                original = vars(cls)[attr]
                _trap_installed.append((cls, attr, original))
                setattr(cls, attr, _recording(original, f"torch.optim.{name}.{attr}"))
    for module, name, label in _functional_targets():
        original = getattr(module, name)
        _trap_installed.append((module, name, original))
        setattr(module, name, _recording(original, label))


FUSED_KERNELS = ("_fused_adam_", "_fused_adamw_", "_fused_sgd_", "_fused_adagrad_")
TURNED_OFF = ("torch's own optimizers are turned off while your optimizer classes are checked: "
              "write each update rule yourself (only torch.optim.Optimizer, the base class, is "
              "there to use)")


def _turned_off(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError(TURNED_OFF)


class _TurnedOffKernel:
    """Stands in for one of torch.ops.aten's fused optimizer kernels: calling it, or any of its
    overloads, raises."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(TURNED_OFF)

    def __getattr__(self, name: str) -> _TurnedOffKernel:
        return self


def _turn_off_torch_optimizers() -> None:
    """In the optimizer task's process only, before the student's code loads: torch's
    optimizer classes, their update functions and the fused kernels raise when used, so no
    disguise (a name built at run time, a class smuggled in through a container) can make
    them do the student's work. The reading of the source forbids the ways back to the
    originals (sys.modules, gc, frames, torch._C)."""
    for cls in _torch_optimizer_classes().values():
        for attr in ("__init__", "step"):
            setattr(cls, attr, _turned_off)
    for module, name, _ in list(_functional_targets()):
        setattr(module, name, _turned_off)
    # The trap keeps torch's originals to put back; what it would put back is turned off too.
    _trap_installed[:] = [(owner, name, _turned_off) for owner, name, _ in _trap_installed]
    # torch._C cannot be changed (the reading of the source forbids it); torch.ops.aten's
    # kernels get a stand-in whose every overload (.default, .out) raises. torch._dynamo reads
    # those kernels when it is first imported (by Optimizer's first param group), so it is
    # imported before (the worker's warm-up has done so already).
    importlib.import_module("torch._dynamo")
    for name in FUSED_KERNELS:
        setattr(torch, name, _turned_off)
        setattr(torch.ops.aten, name, _TurnedOffKernel())


def prepare(task: str) -> None:
    """Runs in a task's process before the student's code loads (see the worker)."""
    if task == "optimizer":
        _turn_off_torch_optimizers()


@contextmanager
def _torch_optimizer_trap() -> Iterator[set[str]]:
    """Record which of torch's optimizer classes or update functions run inside the block."""
    global _trap_calls
    _install_trap()
    calls: set[str] = set()
    previous, _trap_calls = _trap_calls, calls
    try:
        yield calls
    finally:
        _trap_calls = previous


def _kwargs(options: dict[str, Any] | None) -> dict[str, Any]:
    """Keyword arguments as torch.optim takes them: lists (``betas``) become tuples."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in (options or {}).items()}


def _groups(tensors: list[torch.Tensor], groups: list[dict[str, Any]] | None) -> list[Any]:
    if not groups:
        return tensors
    built = []
    for group in groups:
        options = _kwargs({k: v for k, v in group.items() if k != "params"})
        built.append({"params": [tensors[i] for i in group["params"]], **options})
    return built


def _set_grads(tensors: list[torch.Tensor], grads: list[Any], dtype: torch.dtype,
               keep_copies: bool) -> list[Any]:
    """Set ``p.grad`` for this step (None stays None); returns copies to compare with later
    when ``keep_copies``."""
    copies = []
    for tensor, grad in zip(tensors, grads, strict=True):
        if grad is None:
            tensor.grad = None
            copies.append(None)
        else:
            tensor.grad = _tensor(grad, dtype).reshape(tensor.shape)
            copies.append(tensor.grad.clone() if keep_copies else None)
    return copies


def _grad_changed(tensors: list[torch.Tensor], copies: list[Any]) -> list[bool]:
    changed = []
    for tensor, copy in zip(tensors, copies, strict=True):
        if copy is None:
            changed.append(tensor.grad is not None)
        else:
            grad = tensor.grad
            changed.append(
                not isinstance(grad, torch.Tensor)
                or grad.shape != copy.shape
                or not torch.equal(grad.detach().to(copy.dtype), copy)
            )
    return changed


def _steps(
    optimizer: Any,
    tensors: list[torch.Tensor],
    grads: list[list[Any]],
    losses: list[float] | None,
    dtype: torch.dtype,
    record: dict[str, list],
    watch_grads: bool = False,
) -> None:
    """Run one ``step`` per entry of ``grads`` and record what each step did; with
    ``watch_grads`` also whether, and to what, ``step`` changed each ``.grad``."""
    for index, step_grads in enumerate(grads):
        copies = _set_grads(tensors, step_grads, dtype, keep_copies=watch_grads)
        if losses is None:
            returned = optimizer.step()
            calls = 0
        else:
            counter = [0]
            loss = float(losses[index])

            def closure(counter: list[int] = counter, loss: float = loss) -> torch.Tensor:
                counter[0] += 1
                return torch.tensor(loss, dtype=torch.float64)

            returned = optimizer.step(closure)
            calls = counter[0]
        record["returned"].append(_returned(returned))
        record["closure_calls"].append(calls)
        if watch_grads:
            record["grad_changed"].append(_grad_changed(tensors, copies))
            record["grads_after"].append(
                [None if t.grad is None else t.grad.detach().double().numpy().copy() for t in tensors]
            )
        for j, tensor in enumerate(tensors):
            record["trajectory"][j].append(_array(tensor))


def _state_keys(optimizer: Any, tensors: list[torch.Tensor]) -> list[list[str]]:
    state = getattr(optimizer, "state", None)
    keys = []
    for tensor in tensors:
        try:
            entry = state[tensor] if state is not None and tensor in state else {}
            keys.append(sorted(str(k) for k in entry) if isinstance(entry, dict) else [])
        except Exception:  # an odd ``state`` object is evidence, not a crash
            keys.append([])
    return keys


def _new_record(count: int) -> dict[str, list]:
    return {
        "trajectory": [[] for _ in range(count)],
        "returned": [],
        "closure_calls": [],
        "grad_changed": [],
        "grads_after": [],
    }


def _finish(record: dict[str, list], calls: set[str], state_keys: list[list[str]]) -> dict:
    return {
        "trajectory": [np.stack(steps) if steps else np.zeros(0) for steps in record["trajectory"]],
        "returned": record["returned"],
        "closure_calls": record["closure_calls"],
        "grad_changed": record["grad_changed"],
        "grads_after": record["grads_after"],
        "state_keys": state_keys,
        "torch_calls": sorted(calls),
    }


def probe_run_steps(
    namespace: dict,
    cls: str,
    params: list[np.ndarray],
    grads: list[list[Any]],
    kwargs: dict[str, Any] | None = None,
    groups: list[dict[str, Any]] | None = None,
    losses: list[float] | None = None,
    dtype: str = "float64",
    watch_grads: bool = False,
) -> dict[str, Any]:
    """Run ``cls(params, **kwargs)`` for ``len(grads)`` steps with the given gradients.

    ``grads[i][j]`` is parameter j's gradient before step i (None: no gradient). ``groups``
    lists parameter groups as ``{"params": [indices], option: value}``. With ``losses`` every
    step gets a closure returning ``losses[i]``. Records each step's parameters, what ``step``
    returned, how often the closure ran, the keys of ``optimizer.state`` per parameter, any of
    torch's own optimizers that ran, and with ``watch_grads`` each ``.grad`` after the step.
    With ``dtype="complex128"`` each parameter and gradient is given, and recorded, as pairs
    (real, imaginary) along a last axis of 2.
    """
    optimizer_class = need_class(namespace, cls)
    torch_dtype = {"float64": torch.float64, "float32": torch.float32,
                   "complex128": torch.complex128}[dtype]
    tensors = [_tensor(p, torch_dtype, grad=True) for p in params]
    record = _new_record(len(tensors))
    with _torch_optimizer_trap() as calls:
        optimizer = optimizer_class(_groups(tensors, groups), **_kwargs(kwargs))
        _steps(optimizer, tensors, grads, losses, torch_dtype, record, watch_grads)
    return _finish(record, calls, _state_keys(optimizer, tensors))


def probe_state_dict_roundtrip(
    namespace: dict,
    cls: str,
    params: list[np.ndarray],
    grads: list[list[Any]],
    split: int,
    kwargs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run ``split`` steps, save ``state_dict()``, build a fresh optimizer on fresh tensors
    holding the same values, ``load_state_dict`` and run the remaining steps with it."""
    optimizer_class = need_class(namespace, cls)
    tensors = [_tensor(p, grad=True) for p in params]
    record = _new_record(len(tensors))
    with _torch_optimizer_trap() as calls:
        first = optimizer_class(tensors, **_kwargs(kwargs))
        _steps(first, tensors, grads[:split], None, torch.float64, record)
        saved = first.state_dict()
        saved_entries = len(saved.get("state", {})) if isinstance(saved, dict) else -1
        fresh = [t.detach().clone().requires_grad_(True) for t in tensors]
        second = optimizer_class(fresh, **_kwargs(kwargs))
        second.load_state_dict(saved)
        _steps(second, fresh, grads[split:], None, torch.float64, record)
    result = _finish(record, calls, _state_keys(second, fresh))
    result["saved_state_entries"] = saved_entries
    return result


def probe_inspect_classes(namespace: dict, names: list[str]) -> dict[str, Any]:
    """For each name: whether it is a class, a torch.optim.Optimizer subclass, and its MRO."""
    torch_classes = set(_torch_optimizer_classes().values())
    found = {}
    for name in names:
        value = namespace.get(name)
        info: dict[str, Any] = {"defined": name in namespace, "is_class": isinstance(value, type)}
        if isinstance(value, type):
            mro = value.__mro__
            info["is_optimizer"] = issubclass(value, torch.optim.Optimizer)
            info["mro"] = [f"{c.__module__}.{c.__qualname__}" for c in mro]
            info["torch_bases"] = [f"torch.optim.{c.__name__}" for c in mro if c in torch_classes]
        found[name] = info
    return found


def _network(layers: list[list[Any]]) -> tuple[Callable, list[torch.Tensor]]:
    """A network given as data: ``["linear", W, b]``, ``["sigmoid"]``, ``["relu"]``,
    ``["tanh"]``, built from torch.nn.functional calls; returns it and its parameters."""
    params: list[torch.Tensor] = []
    plan: list[tuple[str, tuple[torch.Tensor, ...]]] = []
    for layer in layers:
        kind = layer[0]
        if kind == "linear":
            weight, bias = _tensor(layer[1], grad=True), _tensor(layer[2], grad=True)
            params += [weight, bias]
            plan.append((kind, (weight, bias)))
        elif kind in ("sigmoid", "relu", "tanh"):
            plan.append((kind, ()))
        else:
            raise ValueError(f"unknown layer {kind!r}")

    def forward(x: torch.Tensor) -> torch.Tensor:
        for kind, tensors in plan:
            if kind == "linear":
                x = F.linear(x, *tensors)
            else:
                x = getattr(torch, kind)(x)
        return x

    return forward, params


def probe_train(
    namespace: dict,
    cls: str,
    network: list[list[Any]],
    x: np.ndarray,
    y: np.ndarray,
    steps: int,
    kwargs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train the network given as data on ``(x, y)`` with the mean squared error for
    ``steps`` steps of ``cls``; returns the loss before each step and after the last."""
    optimizer_class = need_class(namespace, cls)
    forward, params = _network(network)
    inputs, targets = _tensor(x), _tensor(y)
    losses = []
    with _torch_optimizer_trap() as calls:
        optimizer = optimizer_class(params, **_kwargs(kwargs))
        for _ in range(int(steps)):
            optimizer.zero_grad()
            loss = F.mse_loss(forward(inputs), targets)
            losses.append(float(loss.detach()))
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            losses.append(float(F.mse_loss(forward(inputs), targets)))
    return {"losses": np.array(losses), "torch_calls": sorted(calls)}


def probe_descend_2d(
    namespace: dict,
    cls: str,
    start: list[float],
    scales: list[float],
    steps: int,
    kwargs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Minimise the bowl ``(a·x² + b·y²)/2`` from ``start`` with ``cls`` for ``steps`` steps and
    return the path, for a picture of the optimizer against the reference."""
    optimizer_class = need_class(namespace, cls)
    point = _tensor(start, grad=True)
    weights = _tensor(scales)
    path = [point.detach().numpy().copy()]
    with _torch_optimizer_trap() as calls:
        optimizer = optimizer_class([point], **_kwargs(kwargs))
        for _ in range(int(steps)):
            optimizer.zero_grad()
            loss = 0.5 * (weights * point * point).sum()
            loss.backward()
            optimizer.step()
            path.append(point.detach().numpy().copy())
    return {"path": np.stack(path), "torch_calls": sorted(calls)}


def probe_minimise(
    namespace: dict,
    cls: str,
    coefficients: list[float],
    x0: float,
    max_iter: int,
    kwargs: dict[str, Any] | None = None,
    stop_loss: float = 1e-24,
) -> dict[str, Any]:
    """Minimise ``p(x)**2`` (p given by its coefficients, highest power first) from ``x0``
    with ``cls`` and the usual loop; stops once the loss is below ``stop_loss``."""
    optimizer_class = need_class(namespace, cls)
    polynomial = _polynomial(coefficients)
    x = _tensor(x0, grad=True)
    path = []
    with _torch_optimizer_trap() as calls:
        optimizer = optimizer_class([x], **_kwargs(kwargs))
        for _ in range(int(max_iter)):
            optimizer.zero_grad()
            loss = polynomial(x) ** 2
            loss.backward()
            optimizer.step()
            path.append(float(x.detach()))
            if float(loss.detach()) < stop_loss:
                break
    return {
        "x": float(x.detach()),
        "path": np.array(path[:MAX_RECORDED]),
        "steps": len(path),
        "torch_calls": sorted(calls),
    }


# --------------------------------------------------------------------------------------------
# Task 3: roots


def probe_gradient_descent(
    namespace: dict,
    coefficients: list[float],
    x0: float,
    lr: float,
    tol: float | None = None,
    max_iter: int | None = None,
) -> dict[str, Any]:
    """``gradient_descent(grad, x0, lr, ...)`` with ``grad`` the polynomial given by its
    coefficients; records how often grad was called and the x's it was called at."""
    function = need(namespace, "gradient_descent")
    polynomial = _polynomial(coefficients)
    visited: list[float] = []
    count = [0]

    def grad(x: Any) -> Any:
        count[0] += 1
        if len(visited) < MAX_RECORDED:
            visited.append(_number(x) if _number(x) is not None else math.nan)
        return polynomial(x)

    options = {k: v for k, v in (("tol", tol), ("max_iter", max_iter)) if v is not None}
    result = function(grad, x0, lr, **options)
    return {"result": _returned(result), "calls": count[0], "visited": np.array(visited)}


SQRT_LIKE = {
    "math.sqrt": (math, "sqrt"),
    "cmath.sqrt": (cmath, "sqrt"),
    "numpy.sqrt": (np, "sqrt"),
    "numpy.roots": (np, "roots"),
    "numpy.emath.sqrt": (np.emath, "sqrt"),
    "torch.sqrt": (torch, "sqrt"),
}


@contextmanager
def _counting(namespace: dict, targets: dict[str, tuple[Any, str]]) -> Iterator[dict[str, int]]:
    """Count calls of the given functions, also where the submission bound them to its own
    names (``from math import sqrt``); restores everything afterwards."""
    counts = {label: 0 for label in targets}
    saved: list[tuple[Any, str, Any]] = []

    def counter(label: str, original: Callable) -> Callable:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            counts[label] += 1
            return original(*args, **kwargs)

        return wrapper

    try:
        for label, (owner, name) in targets.items():
            original = getattr(owner, name)
            for key, value in list(namespace.items()):
                if value is original:
                    saved.append((namespace, key, value))
                    namespace[key] = counter(label, original)
            saved.append((owner, name, original))
            setattr(owner, name, counter(label, original))
        yield counts
    finally:
        for owner, name, original in reversed(saved):
            if isinstance(owner, dict):
                owner[name] = original
            else:
                setattr(owner, name, original)


def probe_find_roots(
    namespace: dict, a: float, b: float, c: float, grad_points: list[float] | None = None
) -> dict[str, Any]:
    """``find_roots(a, b, c)``, recording every call of the submission's ``gradient_descent``
    made meanwhile (its x0, lr and what it returned) and, afterwards, the values of the grad
    it was given at ``grad_points``; also counts calls of square roots and ``numpy.roots``."""
    function = need(namespace, "find_roots")
    descent = namespace.get("gradient_descent")
    calls: list[dict[str, Any]] = []
    grads: list[Callable] = []

    def recorded(*args: Any, **kwargs: Any) -> Any:
        """Forwards the call unchanged; notes grad, x0 and lr wherever they were passed."""
        grad = args[0] if args else kwargs.get("grad")
        x0 = args[1] if len(args) > 1 else kwargs.get("x0")
        lr = args[2] if len(args) > 2 else kwargs.get("lr")
        entry: dict[str, Any] = {"x0": _number(x0), "lr": _number(lr)}
        calls.append(entry)
        if len(grads) < GRAD_PROBE_CALLS and callable(grad):
            grads.append(grad)
        try:
            value = descent(*args, **kwargs)
        except BaseException as exc:
            entry["raised"] = type(exc).__name__
            raise
        entry["returned"] = _returned(value)
        return value

    if callable(descent):
        namespace["gradient_descent"] = recorded
    try:
        with _counting(namespace, SQRT_LIKE) as sqrt_calls:
            roots = function(a, b, c)
    finally:
        if callable(descent):
            namespace["gradient_descent"] = descent
    sampled = []
    for grad in grads:
        values = []
        for point in grad_points or []:
            try:
                values.append(_number(grad(float(point))))
            except Exception:
                values.append(None)
        sampled.append(values)
    return {
        "roots": _root_list(roots),
        "type": type(roots).__name__,
        "descent_calls": calls[:200],
        "descent_call_count": len(calls),
        "grad_samples": sampled,
        "sqrt_calls": sqrt_calls,
    }


def _root_list(value: Any) -> list[float | None] | None:
    if isinstance(value, torch.Tensor | np.ndarray):
        value = value.tolist() if value.ndim == 1 else None
    if not isinstance(value, list | tuple):
        return None
    return [_number(v) for v in list(value)[:100]]


def probe_solve(
    namespace: dict,
    optimizer: str,
    x0: float,
    kwargs: dict[str, Any] | None = None,
    max_iter: int | None = None,
) -> dict[str, Any]:
    """``solve(x0, optimizer_cls, **kwargs)`` with one of torch's optimizers (allowed here);
    records x after every step."""
    function = need(namespace, "solve")
    if optimizer not in TORCH_SOLVE_OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}")
    base = getattr(torch.optim, optimizer)
    path: list[float] = []
    built = [0]

    class Recorded(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **options: Any) -> None:
            built[0] += 1
            super().__init__(*args, **options)

        def step(self, closure: Any = None) -> Any:
            loss = super().step(closure)
            if len(path) < MAX_RECORDED and self.param_groups[0]["params"]:
                first = self.param_groups[0]["params"][0]
                path.append(float(first.detach().reshape(-1)[0]) if first.numel() else math.nan)
            return loss

    Recorded.__name__ = Recorded.__qualname__ = optimizer
    options = dict(_kwargs(kwargs))
    if max_iter is not None:
        options["max_iter"] = int(max_iter)
    result = function(x0, Recorded, **options)
    return {"result": _returned(result), "path": np.array(path), "optimizers_built": built[0]}


# --------------------------------------------------------------------------------------------


PROBES: dict[str, Callable[..., Any]] = {
    "construct": probe_construct,
    "forward": probe_forward,
    "rows": probe_rows,
    "backward": probe_backward,
    "forward_keeps_parameters": probe_forward_keeps_parameters,
    "run_steps": probe_run_steps,
    "state_dict_roundtrip": probe_state_dict_roundtrip,
    "inspect_classes": probe_inspect_classes,
    "train": probe_train,
    "minimise": probe_minimise,
    "descend_2d": probe_descend_2d,
    "gradient_descent": probe_gradient_descent,
    "find_roots": probe_find_roots,
    "solve": probe_solve,
}


class _WarmUpOptimizer(torch.optim.Optimizer):
    """A minimal Optimizer subclass: its first step goes through the base class's step
    wrapper, which imports torch._dynamo on first use."""

    def __init__(self, params: Any, lr: float = 0.1) -> None:
        super().__init__(params, {"lr": lr})

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    state = self.state[p]
                    state["step"] = state.get("step", 0) + 1
                    p.add_(p.grad, alpha=-group["lr"])
        return loss


class _WarmUpNet(torch.nn.Module):
    def __init__(self, size_in: int, hidden: int, _: int, size_out: int) -> None:
        super().__init__()
        self.fc1 = torch.nn.Linear(size_in, hidden)
        self.fc2 = torch.nn.Linear(hidden, size_out)
        self.sigmoid = torch.nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.sigmoid(self.fc1(x)))


def warm_up() -> None:
    """Run every path the probes use once, before any student code, so that a task's child
    does not pay for first-use imports and initialisation inside its time limit. Only an
    optimisation: a failure here must not stop the worker from starting."""
    try:
        _warm_up()
    except Exception as exc:  # pragma: no cover - depends on the torch version
        print(f"probes.warm_up: {type(exc).__name__}: {exc}", file=sys.stderr)


def _warm_up() -> None:
    _install_trap()
    sizes = [4, 5, 7, 4]
    namespace: dict[str, Any] = {"MyModelNN": _WarmUpNet}
    x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)
    probe_construct(namespace, sizes)
    state = {k: v.numpy() for k, v in _WarmUpNet(*sizes).state_dict().items()}
    probe_forward(namespace, sizes, x, state=state)
    probe_forward(namespace, sizes, x, dtype="float64")
    probe_rows(namespace, sizes, x, order=[1, 0], pieces=[[0, 1]])
    probe_backward(namespace, sizes, x, np.ones((2, 4)))
    probe_forward_keeps_parameters(namespace, sizes, x)
    optimizers: dict[str, Any] = {"Opt": _WarmUpOptimizer}
    params = [np.ones((2, 2)), np.array(1.0)]
    grads = [[np.full((2, 2), 0.5), None], [np.zeros((2, 2)), np.array(2.0)]]
    probe_run_steps(optimizers, "Opt", params, grads, losses=[1.0, 0.5], watch_grads=True)
    probe_run_steps(optimizers, "Opt", params, grads, groups=[{"params": [0]}, {"params": [1]}])
    probe_state_dict_roundtrip(optimizers, "Opt", params, grads, split=1)
    probe_inspect_classes(optimizers, ["Opt", "Nope"])
    network = [
        ["linear", np.ones((3, 2)), np.zeros(3)],
        ["sigmoid"],
        ["linear", np.ones((1, 3)), np.zeros(1)],
    ]
    probe_train(optimizers, "Opt", network, np.ones((4, 2)), np.zeros((4, 1)), steps=2)
    probe_minimise(optimizers, "Opt", [1.0, -6.0, 4.0], 0.0, max_iter=2, kwargs={"lr": 0.01})
    for name in TORCH_SOLVE_OPTIMIZERS:  # the first step of each of torch's optimizers
        optimizers[name] = getattr(torch.optim, name)
        probe_minimise(optimizers, name, [1.0, -6.0, 4.0], 0.0, max_iter=2, kwargs={"lr": 0.01})

    def gradient_descent(grad: Callable, x0: float, lr: float, **_: Any) -> float:
        return x0 - lr * grad(x0)

    def find_roots(a: float, b: float, c: float) -> list[float]:
        return [gradient_descent(lambda x: 2 * a * x + b, 0.0, 0.1), math.sqrt(4.0)]

    def solve(x0: float, optimizer_cls: type, max_iter: int = 2, **options: Any) -> float:
        x = torch.tensor(float(x0), dtype=torch.float64, requires_grad=True)
        optimizer = optimizer_cls([x], **options)
        for _ in range(max_iter):
            optimizer.zero_grad()
            ((x**2 - 6 * x + 4) ** 2).backward()
            optimizer.step()
        return float(x.detach())

    roots_namespace = {"gradient_descent": gradient_descent, "find_roots": find_roots}
    roots_namespace["solve"] = solve
    probe_gradient_descent(roots_namespace, [2.0, -4.0], 0.0, 0.1)
    probe_find_roots(roots_namespace, 1.0, -6.0, 4.0, grad_points=[0.0, 1.0])
    for name in TORCH_SOLVE_OPTIMIZERS:
        probe_solve(roots_namespace, name, 0.0, kwargs={"lr": 0.01}, max_iter=2)
