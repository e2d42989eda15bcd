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
        # YOUR CODE HERE
        raise NotImplementedError()

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``x @ W.T + b`` for a batch ``x`` of shape (N, in_features); remembers ``x``."""
        # YOUR CODE HERE
        raise NotImplementedError()

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """Gradient with respect to the input, of shape (N, in_features); sets ``grad_W`` and
        ``grad_b`` (summed over the batch)."""
        # YOUR CODE HERE
        raise NotImplementedError()


class Sigmoid:
    """The logistic function ``s(x) = 1 / (1 + exp(-x))``, element by element."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``s(x)``; remembers the output, which is all the derivative needs."""
        # YOUR CODE HERE
        raise NotImplementedError()

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """``grad_out * s'(x)``, with ``s'(x) = s(x) * (1 - s(x))``."""
        # YOUR CODE HERE
        raise NotImplementedError()


class MSELoss:
    """Mean squared error, averaged over every element of ``pred``."""

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        """``mean((pred - target) ** 2)`` as a Python float; remembers the difference."""
        # YOUR CODE HERE
        raise NotImplementedError()

    def backward(self) -> np.ndarray:
        """d loss / d pred, of the shape of ``pred``."""
        # YOUR CODE HERE
        raise NotImplementedError()


class Sequential:
    """Layers applied one after the other; backward runs them in reverse order."""

    def __init__(self, *layers: object) -> None:
        """Keep the layers, in order, in ``self.layers``."""
        # YOUR CODE HERE
        raise NotImplementedError()

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Each layer's forward on the previous one's output."""
        # YOUR CODE HERE
        raise NotImplementedError()

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """Each layer's backward, last layer first; returns d loss / d (the network's input)."""
        # YOUR CODE HERE
        raise NotImplementedError()

    def parameters(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(param, grad)`` for every weight and bias of every ``Linear``: the layer's own
        arrays (not copies), so that changing ``param`` in place changes the layer."""
        # YOUR CODE HERE
        raise NotImplementedError()


def train_step(model: Sequential, loss: MSELoss, x: np.ndarray, y: np.ndarray, lr: float) -> float:
    """One step of gradient descent on ``loss(model(x), y)``: forward, backward, then
    ``param -= lr * grad`` in place for every parameter. Returns the loss before the step."""
    # YOUR CODE HERE
    raise NotImplementedError()
