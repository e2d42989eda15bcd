import math

import torch


def gradient_descent(grad, x0, lr, tol=1e-10, max_iter=100_000):
    if lr <= 0:
        raise ValueError("lr must be positive")
    if max_iter < 1:
        raise ValueError("max_iter must be at least 1")
    x = x0
    for count in range(max_iter):
        step = lr * grad(x)
        x = x - step
        if math.isnan(x) or math.isinf(x):
            raise RuntimeError("diverged")
        if abs(step) < tol:
            return x
    raise RuntimeError("did not converge")


def find_roots(a, b, c):
    if a == 0:
        raise ValueError("a == 0")

    def f(x: float) -> float:
        # the given function
        return a * x**2 + b * x + c

    def grad(x: float) -> float:
        # derivative of the function
        return 2 * a * x + b

    def descend(x: float, lr: float = 1e-5, acc: float = 1e-5, max_iter: int = 200_000) -> float:
        # gradient descent method
        x1 = x
        x2 = x1 - lr * grad(x1)
        count = 1
        while f(x2) > acc and count < max_iter:
            x1 = x2
            x2 = x1 - lr * grad(x1)
            count += 1
        return x2

    return sorted([descend(-10.0), descend(10.0)])


def solve(x0, optimizer_cls, max_iter=10_000, **optimizer_kwargs):
    x = torch.tensor(float(x0), requires_grad=True)
    optimizer = optimizer_cls([x], **optimizer_kwargs)
    for i in range(max_iter):
        optimizer.zero_grad()
        loss = (x ** 2 - 6 * x + 4) ** 2
        loss.backward()
        optimizer.step()
        if loss.item() < 1e-12:
            break
    return float(x)
