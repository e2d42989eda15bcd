"""Backpropagation by hand, with numpy only.

Each layer keeps what its forward pass saw and, in ``backward``, turns the gradient of the loss
with respect to its output into the gradient with respect to its input (and, for ``Linear``,
with respect to its weights). Chaining these by hand is what autograd does for you; writing it
once shows where every factor of the chain rule comes from.

Shapes: a batch ``x`` has one example per row, shape ``(N, in_features)``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


class Linear:
    """A fully connected layer: ``forward(x) = x @ W.T + b``.

    ``W`` has shape ``(out_features, in_features)`` and ``b`` shape ``(out_features,)``, both
    float64. ``backward(grad_out)`` returns d loss / d x and stores d loss / d W in ``grad_W``
    and d loss / d b in ``grad_b`` (same shapes as ``W`` and ``b``).
    """

    def __init__(self, in_features: int, out_features: int) -> None:
        """Random weights (uniform in ±1/sqrt(in_features)), zero bias, zero gradients."""
        bound = 1.0 / np.sqrt(in_features)
        self.W = np.random.default_rng().uniform(-bound, bound, size=(out_features, in_features))
        self.b = np.zeros(out_features)
        self.grad_W = np.zeros_like(self.W)
        self.grad_b = np.zeros_like(self.b)
        self.x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``x @ W.T + b`` for a batch ``x`` of shape (N, in_features); remembers ``x``."""
        self.x = np.asarray(x, dtype=np.float64)
        return self.x @ self.W.T + self.b

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """Gradient with respect to the input, of shape (N, in_features); sets ``grad_W`` and
        ``grad_b`` (summed over the batch)."""
        assert self.x is not None, "forward must run before backward"
        self.grad_W = grad_out.T @ self.x
        self.grad_b = grad_out.mean(axis=0)
        return grad_out @ self.W


class Sigmoid:
    """The logistic function ``s(x) = 1 / (1 + exp(-x))``, element by element."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``s(x)``; remembers the output, which is all the derivative needs."""
        self.out = 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))
        return self.out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """``grad_out * s'(x)``, with ``s'(x) = s(x) * (1 - s(x))``."""
        return grad_out * self.out * (1.0 - self.out)


class MSELoss:
    """Mean squared error, averaged over every element of ``pred``."""

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        """``mean((pred - target) ** 2)`` as a Python float; remembers the difference."""
        self.diff = np.asarray(pred, dtype=np.float64) - np.asarray(target, dtype=np.float64)
        return float(np.mean(self.diff**2))

    def backward(self) -> np.ndarray:
        """d loss / d pred, of the shape of ``pred``."""
        return 2.0 * self.diff / self.diff.size


class Sequential:
    """Layers applied one after the other; backward runs them in reverse order."""

    def __init__(self, *layers: object) -> None:
        """Keep the layers, in order, in ``self.layers``."""
        self.layers = list(layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Each layer's forward on the previous one's output."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """Each layer's backward, last layer first; returns d loss / d (the network's input)."""
        for layer in reversed(self.layers):
            grad_out = layer.backward(grad_out)
        return grad_out

    def parameters(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(param, grad)`` for every weight and bias of every ``Linear``: the layer's own
        arrays (not copies), so that changing ``param`` in place changes the layer."""
        for layer in self.layers:
            if isinstance(layer, Linear):
                yield layer.W, layer.grad_W
                yield layer.b, layer.grad_b


def train_step(model: Sequential, loss: MSELoss, x: np.ndarray, y: np.ndarray, lr: float) -> float:
    """One step of gradient descent on ``loss(model(x), y)``: forward, backward, then
    ``param -= lr * grad`` in place for every parameter. Returns the loss before the step."""
    value = loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    for param, grad in model.parameters():
        param -= lr * grad
    return value
