"""Probes for hw2: small functions that call a student's ``backprop.py`` on given inputs and
return data.

They run in the sandbox next to the student's code, so they hold no secrets and no solution:
every input (batches, weights, upstream gradients, learning rates) arrives as an argument from
the grading side, and everything they return is plain data (numbers, lists, dicts with string
keys, numpy arrays). The grading side judges that data; nothing here decides whether an answer
is right. Students may read this file.

Each probe is ``probe(namespace, **args)``, where ``namespace`` holds the names that
``backprop.py`` (or the notebook) defined. A network is described as a list of layers, each
``["linear", W, b]`` or ``["sigmoid"]``; the weights are set on the student's layers, so both
sides know them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from autograder.runtime.probing import Missing

MAX_STEPS = 200  # train steps one probe call may ask for


def _need(namespace: dict, name: str) -> Any:
    """``namespace[name]``, or ``Missing`` naming the file (or notebook) that lacks it."""
    if name not in namespace:
        entry = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
        raise Missing(f"{entry or 'backprop.py'} does not define {name}")
    return namespace[name]


def _data(value: Any) -> Any:
    """A returned value as a float64 array (a copy); ``None`` or something that is not an
    array of numbers as a dict naming what it was, so the checks can say so."""
    if value is None:
        return {"kind": "none"}
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError, RuntimeError):
        return {"kind": "other", "type": type(value).__name__}
    return array


def _attribute(layer: Any, name: str) -> Any:
    if not hasattr(layer, name):
        return {"kind": "missing", "type": type(layer).__name__}
    return _data(getattr(layer, name))


def _linear(namespace: dict, W: Any, b: Any) -> Any:
    """``Linear(in, out)`` from the student's class, its ``W`` and ``b`` set to copies of
    the given arrays."""
    weights = np.array(W, dtype=np.float64)
    layer = _need(namespace, "Linear")(int(weights.shape[1]), int(weights.shape[0]))
    layer.W = weights
    layer.b = np.array(b, dtype=np.float64)
    return layer


def _layers(namespace: dict, spec: list[list[Any]]) -> list[Any]:
    layers = []
    for entry in spec:
        if entry[0] == "linear":
            layers.append(_linear(namespace, entry[1], entry[2]))
        elif entry[0] == "sigmoid":
            layers.append(_need(namespace, "Sigmoid")())
        else:
            raise ValueError(f"unknown layer {entry[0]!r}")
    return layers


def _linears(layers: list[Any]) -> list[Any]:
    return [layer for layer, kind in layers if kind == "linear"]


def probe_construct(namespace: dict, in_features: int, out_features: int) -> dict[str, Any]:
    """``Linear(in_features, out_features)`` as built: type, shape and dtype of W and b."""
    layer = _need(namespace, "Linear")(int(in_features), int(out_features))
    found: dict[str, Any] = {}
    for name in ("W", "b"):
        value = getattr(layer, name, None)
        if isinstance(value, np.ndarray):
            found[name] = {"type": "ndarray", "shape": list(value.shape), "dtype": str(value.dtype)}
        else:
            found[name] = {"type": type(value).__name__, "shape": None, "dtype": None}
    return found


def probe_linear(
    namespace: dict, W: np.ndarray, b: np.ndarray, x: np.ndarray, grad_out: np.ndarray | None = None
) -> dict[str, Any]:
    """``forward(x)`` of a Linear with the given weights, then, if ``grad_out`` is given,
    ``backward(grad_out)`` and the ``grad_W`` and ``grad_b`` it set."""
    layer = _linear(namespace, W, b)
    result = {"out": _data(layer.forward(np.array(x, dtype=np.float64)))}
    if grad_out is not None:
        result["grad_x"] = _data(layer.backward(np.array(grad_out, dtype=np.float64)))
        result["grad_W"] = _attribute(layer, "grad_W")
        result["grad_b"] = _attribute(layer, "grad_b")
    return result


def probe_sigmoid(namespace: dict, x: np.ndarray, grad_out: np.ndarray | None = None) -> dict[str, Any]:
    """``Sigmoid().forward(x)``, then ``backward(grad_out)`` if given."""
    layer = _need(namespace, "Sigmoid")()
    result = {"out": _data(layer.forward(np.array(x, dtype=np.float64)))}
    if grad_out is not None:
        result["grad_x"] = _data(layer.backward(np.array(grad_out, dtype=np.float64)))
    return result


def probe_mse(namespace: dict, pred: np.ndarray, target: np.ndarray) -> dict[str, Any]:
    """``MSELoss().forward(pred, target)`` and then ``backward()``."""
    loss = _need(namespace, "MSELoss")()
    value = loss.forward(np.array(pred, dtype=np.float64), np.array(target, dtype=np.float64))
    return {"loss": _data(value), "grad": _data(loss.backward())}


def probe_network(
    namespace: dict, layers: list[list[Any]], x: np.ndarray, grad_out: np.ndarray | None = None
) -> dict[str, Any]:
    """``Sequential(*layers)``: forward(x); then, if ``grad_out`` is given, backward(grad_out),
    each Linear's gradients after it, and what ``parameters()`` yields: for each pair, which
    layer's W or b the param is (the same array object, or None) and the grad's values."""
    built = _layers(namespace, layers)
    kinds = [entry[0] for entry in layers]
    model = _need(namespace, "Sequential")(*built)
    out = _data(model.forward(np.array(x, dtype=np.float64)))
    if grad_out is None:
        return {"out": out}
    grad_x = _data(model.backward(np.array(grad_out, dtype=np.float64)))
    linears = _linears(list(zip(built, kinds, strict=True)))
    grads = [{"grad_W": _attribute(lin, "grad_W"), "grad_b": _attribute(lin, "grad_b")} for lin in linears]
    owners = {}
    for index, lin in enumerate(linears):
        for name in ("W", "b"):
            owners[id(getattr(lin, name, None))] = f"{index}.{name}"
    pairs = []
    for count, pair in enumerate(model.parameters()):
        if count >= 4 * len(linears) + 4:
            break
        param, grad = pair
        pairs.append({"param": owners.get(id(param)), "grad": _data(grad)})
    return {"out": out, "grad_x": grad_x, "grads": grads, "parameters": pairs}


def probe_train(
    namespace: dict, layers: list[list[Any]], x: np.ndarray, y: np.ndarray, lr: float, steps: int = 1
) -> dict[str, Any]:
    """``train_step(model, MSELoss(), x, y, lr)`` ``steps`` times on ``Sequential(*layers)``:
    what each call returned and every Linear's W and b after each step."""
    train_step = _need(namespace, "train_step")
    built = _layers(namespace, layers)
    linears = _linears(list(zip(built, [entry[0] for entry in layers], strict=True)))
    model = _need(namespace, "Sequential")(*built)
    loss = _need(namespace, "MSELoss")()
    inputs, targets = np.array(x, dtype=np.float64), np.array(y, dtype=np.float64)
    returned, weights = [], []
    for _ in range(min(int(steps), MAX_STEPS)):
        returned.append(_data(train_step(model, loss, inputs, targets, float(lr))))
        weights.append([{"W": _attribute(lin, "W"), "b": _attribute(lin, "b")} for lin in linears])
    return {"returned": returned, "weights": weights}


PROBES: dict[str, Callable[..., Any]] = {
    "construct": probe_construct,
    "linear": probe_linear,
    "sigmoid": probe_sigmoid,
    "mse": probe_mse,
    "network": probe_network,
    "train": probe_train,
}
