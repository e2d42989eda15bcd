"""Task 2: adaptive optimizers written as ``torch.optim.Optimizer`` subclasses.

Writing the update rules yourself shows what the "adaptive" in adaptive optimizers means: each
parameter gets its own effective step size from the history of its own gradients. Building on
``torch.optim.Optimizer`` means your classes work with any PyTorch training loop
(``zero_grad``, ``step``, ``state_dict``, ``load_state_dict``) without extra code.

Rules for every class below:

- keep per-parameter state (moments, sums, the step count) in ``self.state[p]``, a dict the
  base class creates for you; store only tensors and numbers there, so that ``state_dict()`` and
  ``load_state_dict()`` save and restore it;
- in ``step(closure=None)``: if a closure is given, call it under ``torch.enable_grad()`` and
  return its loss (return ``None`` otherwise);
- skip parameters whose ``.grad`` is ``None``, and never change ``.grad`` itself;
- count steps per parameter from 1 in ``self.state[p]["step"]``;
- raise ``ValueError`` for invalid hyper-parameters (a negative learning rate, ...) the way
  ``torch.optim`` does;
- do not use ``torch.optim.Adam``/``SGD``/``Adagrad``/``RMSprop`` or the functional updates of
  ``torch.optim``: the point is to write the rule.

In the formulas, ``g`` is the parameter's gradient and ``t`` its step count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch.optim import Optimizer

Params = Iterable[torch.Tensor] | Iterable[dict[str, Any]]
Closure = Callable[[], Any] | None


class Adam(Optimizer):
    """Adam: momentum on the gradient, scaled by a running average of its square.

    ::

        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)          # bias correction: m and v start at zero
        v_hat = v / (1 - beta2**t)
        p <- p - lr * m_hat / (sqrt(v_hat) + eps)

    Valid values: ``lr >= 0``, ``eps >= 0``, ``0 <= beta1 < 1``, ``0 <= beta2 < 1``.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        """Check the hyper-parameters and hand them to the base class as the group defaults."""
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})

    @torch.no_grad()
    def step(self, closure: Closure = None) -> Any:
        """Update every parameter that has a gradient once; return the closure's loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, eps = group["lr"], group["eps"]
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                t = state["step"]
                m, v = state["exp_avg"], state["exp_avg_sq"]
                m.mul_(beta1).add_(g, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                m_hat = m / (1 - beta1**t)
                v_hat = v / (1 - beta2**t)
                p.sub_(lr * m_hat / (v_hat.sqrt() + eps))
        return loss


class SGDMomentum(Optimizer):
    """Gradient descent with momentum: a velocity that accumulates past steps.

    ::

        u <- momentum * u - lr * g
        p <- p + u

    The velocity ``u`` starts at zero and is kept between steps. Valid values: ``lr >= 0``,
    ``momentum >= 0``.
    """

    def __init__(self, params: Params, lr: float = 1e-2, momentum: float = 0.9) -> None:
        """Check the hyper-parameters and hand them to the base class as the group defaults."""
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        super().__init__(params, {"lr": lr, "momentum": momentum})

    @torch.no_grad()
    def step(self, closure: Closure = None) -> Any:
        """Update every parameter that has a gradient once; return the closure's loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, momentum = group["lr"], group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["velocity"] = torch.zeros_like(p)
                state["step"] += 1
                u = state["velocity"]
                u.mul_(momentum).add_(p.grad, alpha=-lr)
                p.add_(u)
        return loss


class AdaGrad(Optimizer):
    """AdaGrad: divide each step by the root of the sum of all past squared gradients.

    ::

        G <- G + g**2
        p <- p - lr * g / (sqrt(G) + eps)

    ``eps`` keeps the division finite while ``G`` is still zero. Valid values: ``lr >= 0``,
    ``eps >= 0``.
    """

    def __init__(self, params: Params, lr: float = 1e-2, eps: float = 1e-10) -> None:
        """Check the hyper-parameters and hand them to the base class as the group defaults."""
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        super().__init__(params, {"lr": lr, "eps": eps})

    @torch.no_grad()
    def step(self, closure: Closure = None) -> Any:
        """Update every parameter that has a gradient once; return the closure's loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, eps = group["lr"], group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["sum"] = torch.full_like(p, 0.1)
                state["step"] += 1
                total = state["sum"]
                total.addcmul_(g, g)
                p.sub_(lr * g / (total.sqrt() + eps))
        return loss


class RMSprop(Optimizer):
    """RMSprop: like AdaGrad, but a running average of squared gradients replaces the sum.

    ::

        s <- alpha * s + (1 - alpha) * g**2
        p <- p - lr * g / (sqrt(s) + eps)

    Note the ``=``: ``s`` is replaced by the average, not increased by it. Valid values:
    ``lr >= 0``, ``eps >= 0``, ``alpha >= 0``.
    """

    def __init__(self, params: Params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8) -> None:
        """Check the hyper-parameters and hand them to the base class as the group defaults."""
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps})

    @torch.no_grad()
    def step(self, closure: Closure = None) -> Any:
        """Update every parameter that has a gradient once; return the closure's loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["square_avg"] = torch.zeros_like(p)
                state["step"] += 1
                s = state["square_avg"]
                s.mul_(alpha).addcmul_(g, g, value=1 - alpha)
                p.sub_(lr * g / (s.sqrt() + eps))
        return loss
