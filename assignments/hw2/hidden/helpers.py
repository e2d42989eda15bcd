"""Trusted arithmetic for the hw2 checks: what the right answers are (torch autograd on the
same inputs) and what known-wrong versions of the layers give (numpy re-implementations with
exactly one thing wrong, run through the same probes).

Everything here runs in the trusted process, on inputs the checks generated; data that came
back from a submission is only ever compared with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import torch

from autograder.checks import CheckFailed, as_float_array, close, describe, largest_deviation
from autograder.reference import trusted_probes

SUITE_DIR = Path(__file__).resolve().parent.parent
RTOL, ATOL = 1e-6, 1e-9  # float64 on both sides: the tolerance measures formulas, not rounding

# Known mistakes (ids of mistakes.toml) that a numpy variant below reproduces.
GRAD_W_TRANSPOSED = "grad_w_transposed"
GRAD_B_NOT_SUMMED = "grad_b_not_summed"
GRAD_B_MEAN = "grad_b_mean"  # a second form of grad_b_not_summed
SIGMOID_AT_OUTPUT = "sigmoid_derivative_at_output"
MSE_NO_SCALE = "mse_grad_without_2_over_n"
MSE_NO_TWO = "mse_grad_without_2"  # partial forms of mse_grad_without_2_over_n
MSE_NO_MEAN = "mse_grad_without_1_over_n"
MSE_ROWS = "mse_mean_over_rows"
FORWARD_ORDER = "backward_in_forward_order"
NOT_IN_PLACE = "update_not_in_place"
LOSS_AFTER = "loss_after_step"
VARIANT_OF = {GRAD_B_MEAN: GRAD_B_NOT_SUMMED, MSE_NO_TWO: MSE_NO_SCALE, MSE_NO_MEAN: MSE_NO_SCALE}


# -- the right answers, by autograd -------------------------------------------------------------


def _t(value: Any, grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.asarray(value, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


def _n(tensor: torch.Tensor | None) -> np.ndarray:
    assert tensor is not None
    return tensor.detach().numpy().copy()


def torch_linear(W: np.ndarray, b: np.ndarray, x: np.ndarray, grad_out: np.ndarray) -> dict[str, Any]:
    """Output of ``x @ W.T + b`` and the gradients of ``sum(out * grad_out)``."""
    tw, tb, tx = _t(W, True), _t(b, True), _t(x, True)
    out = tx @ tw.T + tb
    out.backward(_t(grad_out))
    return {"out": _n(out), "grad_x": _n(tx.grad), "grad_W": _n(tw.grad), "grad_b": _n(tb.grad)}


def torch_sigmoid(x: np.ndarray, grad_out: np.ndarray) -> dict[str, Any]:
    tx = _t(x, True)
    out = torch.sigmoid(tx)
    out.backward(_t(grad_out))
    return {"out": _n(out), "grad_x": _n(tx.grad)}


def torch_mse(pred: np.ndarray, target: np.ndarray) -> dict[str, Any]:
    tp = _t(pred, True)
    loss = torch.nn.functional.mse_loss(tp, _t(target), reduction="mean")
    loss.backward()
    return {"loss": float(loss.detach()), "grad": _n(tp.grad)}


def _torch_model(layers: list[list[Any]]) -> tuple[Callable[[torch.Tensor], torch.Tensor], list]:
    params = [[_t(entry[1], True), _t(entry[2], True)] for entry in layers if entry[0] == "linear"]

    def forward(x: torch.Tensor) -> torch.Tensor:
        weights = iter(params)
        for entry in layers:
            if entry[0] == "linear":
                W, b = next(weights)
                x = x @ W.T + b
            else:
                x = torch.sigmoid(x)
        return x

    return forward, params


def torch_network(layers: list[list[Any]], x: np.ndarray, grad_out: np.ndarray) -> dict[str, Any]:
    """The network's output, the gradient for its input and each Linear's gradients."""
    forward, params = _torch_model(layers)
    tx = _t(x, True)
    out = forward(tx)
    out.backward(_t(grad_out))
    grads = [{"grad_W": _n(W.grad), "grad_b": _n(b.grad)} for W, b in params]
    return {"out": _n(out), "grad_x": _n(tx.grad), "grads": grads}


def torch_train(
    layers: list[list[Any]], x: np.ndarray, y: np.ndarray, lr: float, steps: int
) -> dict[str, Any]:
    """Plain gradient descent on the mean squared error: the loss before each step and every
    Linear's W and b after it."""
    forward, params = _torch_model(layers)
    tx, ty = _t(x), _t(y)
    losses, weights = [], []
    for _ in range(steps):
        loss = torch.nn.functional.mse_loss(forward(tx), ty)
        for pair in params:
            for p in pair:
                p.grad = None
        loss.backward()
        with torch.no_grad():
            for pair in params:
                for p in pair:
                    p -= lr * p.grad
        losses.append(float(loss.detach()))
        weights.append([{"W": _n(W), "b": _n(b)} for W, b in params])
    return {"returned": losses, "weights": weights}


# -- known-wrong versions, run through the probes ------------------------------------------------


def probes() -> ModuleType:
    """The suite's probes as the grader runs them, to run them on the variants in this process."""
    return trusted_probes(SUITE_DIR / "probes.py")


def namespace(mistake: str | None = None) -> dict[str, Any]:
    """``Linear``, ``Sigmoid``, ``MSELoss``, ``Sequential`` and ``train_step`` as the contract
    asks, except for the one ``mistake`` (None: no mistake)."""

    class Linear:
        def __init__(self, in_features: int, out_features: int) -> None:
            self.W = np.zeros((out_features, in_features))
            self.b = np.zeros(out_features)
            self.grad_W, self.grad_b = np.zeros_like(self.W), np.zeros_like(self.b)

        def forward(self, x: np.ndarray) -> np.ndarray:
            self.x = x
            return x @ self.W.T + self.b

        def backward(self, grad_out: np.ndarray) -> np.ndarray:
            self.grad_W = self.x.T @ grad_out if mistake == GRAD_W_TRANSPOSED else grad_out.T @ self.x
            if mistake == GRAD_B_NOT_SUMMED:
                self.grad_b = grad_out.copy()
            elif mistake == GRAD_B_MEAN:
                self.grad_b = grad_out.mean(axis=0)
            else:
                self.grad_b = grad_out.sum(axis=0)
            return grad_out @ self.W

    class Sigmoid:
        def forward(self, x: np.ndarray) -> np.ndarray:
            self.out = 1.0 / (1.0 + np.exp(-x))
            return self.out

        def backward(self, grad_out: np.ndarray) -> np.ndarray:
            s = 1.0 / (1.0 + np.exp(-self.out)) if mistake == SIGMOID_AT_OUTPUT else self.out
            return grad_out * s * (1.0 - s)

    class MSELoss:
        def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
            self.diff = pred - target
            if mistake == MSE_ROWS:
                return float(np.sum(self.diff**2) / len(self.diff))
            return float(np.mean(self.diff**2))

        def backward(self) -> np.ndarray:
            rows = len(self.diff)
            scale = {
                MSE_NO_SCALE: 1.0,
                MSE_NO_TWO: 1.0 / self.diff.size,
                MSE_NO_MEAN: 2.0,
                MSE_ROWS: 2.0 / rows,
            }
            return scale.get(mistake or "", 2.0 / self.diff.size) * self.diff

    class Sequential:
        def __init__(self, *layers: Any) -> None:
            self.layers = list(layers)

        def forward(self, x: np.ndarray) -> np.ndarray:
            for layer in self.layers:
                x = layer.forward(x)
            return x

        def backward(self, grad_out: np.ndarray) -> np.ndarray:
            for layer in self.layers if mistake == FORWARD_ORDER else self.layers[::-1]:
                grad_out = layer.backward(grad_out)
            return grad_out

        def parameters(self) -> Any:
            for layer in self.layers:
                if isinstance(layer, Linear):
                    yield layer.W, layer.grad_W
                    yield layer.b, layer.grad_b

    def train_step(model: Sequential, loss: MSELoss, x: np.ndarray, y: np.ndarray, lr: float) -> float:
        value = loss.forward(model.forward(x), y)
        model.backward(loss.backward())
        for param, grad in model.parameters():
            if mistake == NOT_IN_PLACE:
                param = param - lr * grad  # the mistake: a new array; the layer keeps its own
            else:
                param -= lr * grad
        if mistake == LOSS_AFTER:
            return loss.forward(model.forward(x), y)
        return value

    return {"Linear": Linear, "Sigmoid": Sigmoid, "MSELoss": MSELoss, "Sequential": Sequential,
            "train_step": train_step}  # fmt: skip


def run_variant(mistake: str | None, probe: str, **args: Any) -> Any:
    """What ``probe`` returns on the variant with ``mistake``; None when that variant raises
    (its output then matches nothing)."""
    try:
        with np.errstate(all="ignore"):
            return probes().PROBES[probe](namespace(mistake), **args)
    except Exception:
        return None


def variants_of(
    mistakes: tuple[str, ...], probe: str, pick: Callable[[Any], Any], **args: Any
) -> Callable[[], dict]:
    """A function giving ``{catalogue id: (value, ...)}``: ``pick`` applied to each variant's
    probe result (one id can have several forms). Run only when a comparison fails."""

    def compute() -> dict[str, tuple]:
        found: dict[str, tuple] = {}
        for mistake in mistakes:
            result = run_variant(mistake, probe, **args)
            try:
                value = None if result is None else pick(result)
            except (KeyError, IndexError, TypeError):
                value = None
            if isinstance(value, np.ndarray | float | list):
                key = VARIANT_OF.get(mistake, mistake)
                found[key] = (*found.get(key, ()), value)
        return found

    return compute


# -- judging -------------------------------------------------------------------------------------


def array_of(value: Any, *, what: str, called: str) -> np.ndarray:
    """Data from a probe as a float64 array, or a failure saying what came back instead."""
    if isinstance(value, dict):
        kind = value.get("kind")
        said = {"none": "None", "missing": f"nothing: the {value.get('type')} has no such attribute"}
        shown = said.get(str(kind), f"a {value.get('type')}")
        raise CheckFailed(f"{what} is {shown}, expected an array of numbers", called=called,
                          expected="a numpy array of floats", actual=shown)  # fmt: skip
    return as_float_array(value, what=what)


def named(got: np.ndarray, variants: Mapping[str, Any]) -> list[str]:
    """Ids whose variant value (or one of its forms, a tuple) ``got`` matches."""
    found = []
    for mistake_id, forms in variants.items():
        for form in forms if isinstance(forms, tuple) else (forms,):
            if form is not None and close(got, np.asarray(form, dtype=np.float64), RTOL, ATOL):
                found.append(mistake_id)
                break
    return found


def judge(
    actual: Any,
    expected: Any,
    *,
    what: str,
    called: str,
    hint: str | None = None,
    variants: Callable[[], Mapping[str, Any]] | None = None,
) -> np.ndarray:
    """Fail unless ``actual`` has the expected shape and values; a failure names each known
    mistake whose output ``actual`` reproduces (shape included, so a transposed result is
    recognised as such). ``variants`` computes the known-wrong outputs, only when needed."""
    want = np.asarray(expected, dtype=np.float64)
    got = array_of(actual, what=what, called=called)
    if close(got, want, RTOL, ATOL):
        return got
    mistakes = named(got, variants() if variants is not None else {})
    if got.shape != want.shape:
        raise CheckFailed(f"{what} has shape {got.shape}, expected {want.shape}", called=called,
                          expected=f"shape {want.shape}", actual=f"shape {got.shape}", hint=hint,
                          mistakes=mistakes)  # fmt: skip
    raise CheckFailed(f"{what} differs from the expected values", called=called, expected=describe(want),
                      actual=describe(got), hint=hint, deviation=largest_deviation(got, want),
                      mistakes=mistakes)  # fmt: skip


def network_spec(rng: np.random.Generator, sizes: tuple[int, ...]) -> list[list[Any]]:
    """Linear layers of the given widths with a Sigmoid between each two."""
    layers: list[list[Any]] = []
    for index, (width_in, width_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        if index:
            layers.append(["sigmoid"])
        layers.append(["linear", rng.normal(size=(width_out, width_in)), rng.normal(size=width_out)])
    return layers


def describe_network(sizes: tuple[int, ...]) -> str:
    parts = [f"Linear({a}, {b})" for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    return "Sequential(" + ", Sigmoid(), ".join(parts) + ")"
