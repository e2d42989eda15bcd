import torch
from torch.optim import Optimizer


class Adam(Optimizer):
    """
      Adam (adaptive moment estimation) is an optimization algorithm that combines the
    inertia of MomentumSGD with the adaptive parameter updates of AdaGrad and its modifications.
      It needs exponentially decaying running averages of the gradients of the objective
    and of their squares.
      To get rid of their bias without new hyper-parameters, the estimates of the first and
    second moments are corrected a little.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        if lr < 0:
            raise ValueError("Invalid learning rate: {}".format(lr))
        if eps < 0:
            raise ValueError("Invalid epsilon value: {}".format(eps))
        if not 0.0 <= betas[0] < 1.0 or not 0.0 <= betas[1] < 1.0:
            raise ValueError("Invalid beta parameters: {}".format(betas))
        defaults = dict(lr=lr, betas=betas, eps=eps)
        super(Adam, self).__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["v"] = torch.zeros_like(p)
                    state["s"] = torch.zeros_like(p)
                state["step"] += 1
                t = state["step"]
                # first moment estimate (mean of the gradients)
                state["v"] = beta1 * state["v"] + (1 - beta1) * grad
                v_corrected = state["v"] / (1 - beta1 ** t)
                # second moment estimate (uncentred variance of the gradients)
                state["s"] = beta2 * state["s"] + (1 - beta2) * grad ** 2
                # bias correction
                s_corrected = state["s"] / (1 - beta2 ** t)
                # update of the weights and biases
                p -= group["lr"] * v_corrected / torch.sqrt(s_corrected + group["eps"])
        return loss

# Its advantages:
#     Simple to implement.
#     Computationally efficient.
#     Small memory requirements.
#     Invariant to diagonal rescaling of the gradients.
#     Well suited to problems that are large in data and parameters.
#     Suitable for non-stationary objectives.
#     Suitable for problems with very noisy or sparse gradients.
#     Hyper-parameters have an intuitive interpretation and usually need little tuning.


class SGDMomentum(Optimizer):
    def __init__(self, params, lr=1e-2, momentum=0.9):
        if lr < 0:
            raise ValueError("Invalid learning rate: {}".format(lr))
        if momentum < 0:
            raise ValueError("Invalid momentum value: {}".format(momentum))
        super(SGDMomentum, self).__init__(params, dict(lr=lr, momentum=momentum))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["velocity"] = torch.zeros_like(p)
                state["step"] += 1
                state["velocity"] = group["momentum"] * state["velocity"] - group["lr"] * p.grad
                p += state["velocity"]
        return loss


class AdaGrad(Optimizer):
    def __init__(self, params, lr=1e-2, eps=1e-10):
        if lr < 0:
            raise ValueError("Invalid learning rate: {}".format(lr))
        if eps < 0:
            raise ValueError("Invalid epsilon value: {}".format(eps))
        super(AdaGrad, self).__init__(params, dict(lr=lr, eps=eps))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["accumulated"] = torch.zeros_like(p)
                state["step"] += 1
                state["accumulated"] += grad ** 2
                adapt_lr = group["lr"] / torch.sqrt(state["accumulated"])
                p -= adapt_lr * grad
        return loss


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8):
        if lr < 0:
            raise ValueError("Invalid learning rate: {}".format(lr))
        if eps < 0:
            raise ValueError("Invalid epsilon value: {}".format(eps))
        if alpha < 0:
            raise ValueError("Invalid alpha value: {}".format(alpha))
        super(RMSprop, self).__init__(params, dict(lr=lr, alpha=alpha, eps=eps))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            rho = group["alpha"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["accumulated"] = torch.zeros_like(p)
                state["step"] += 1
                state["accumulated"] += rho * state["accumulated"] + (1 - rho) * grad ** 2
                adapt_lr = group["lr"] / (torch.sqrt(state["accumulated"]) + group["eps"])
                p -= adapt_lr * grad
        return loss
