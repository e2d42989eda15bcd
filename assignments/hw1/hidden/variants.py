"""The trusted arithmetic hw1's checks share: reference runs, torch's twins, hyper-parameters,
the roots' closed forms and drawn inputs, plot helpers.

Known mistakes recognised by their output are searched for in ``deviations.py`` (the spaces of
deviations) with ``autograder.diagnosis``. Everything in this file runs in the trusted process,
on inputs the checks generated, and never touches data that came from a submission except to
compare with it.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import torch

from autograder.reference import run_probe, trusted_probes

SUITE_DIR = Path(__file__).resolve().parent
PROBES_FILE = SUITE_DIR.parent / "probes.py"
OPTIMIZERS = ("Adam", "SGDMomentum", "AdaGrad", "RMSprop")
DEFAULTS: dict[str, dict[str, Any]] = {
    "Adam": {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8},
    "SGDMomentum": {"lr": 1e-2, "momentum": 0.9},
    "AdaGrad": {"lr": 1e-2, "eps": 1e-10},
    "RMSprop": {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8},
}
SEED_COEFFICIENTS = (1.0, -6.0, 4.0)  # x**2 - 6x + 4, the seed notebook's equation
SEED_ROOTS = (3.0 - 5.0**0.5, 3.0 + 5.0**0.5)


def probes() -> ModuleType:
    """The assignment's probes as the trusted side runs them (torch's trap left off)."""
    return trusted_probes(PROBES_FILE)


def run_reference_probe(probe: str, namespace: dict[str, Any], **args: Any) -> Any:
    """One probe run on the given names (the reference's, or a torch twin's) in this process."""
    return run_probe(probes(), probe, namespace, **args)


def solve_settings(kind: str) -> list[dict[str, Any]]:
    """The teacher's settings for minimising the seed's squared equation: ``"minimise"`` with
    the student's optimizers, ``"solve"`` for the student's solve() with torch's."""
    path = SUITE_DIR / "solve_settings.toml"
    return list(tomllib.loads(path.read_text(encoding="utf-8"))[kind])


def solve_case(kind: str, optimizer: str) -> dict[str, Any]:
    """The one case of ``kind`` for ``optimizer``."""
    return next(c for c in solve_settings(kind) if c["optimizer"] == optimizer)


# --------------------------------------------------------------------------------------------
# Task 1: the network


def reference_state(reference: Any, sizes: Sequence[int], seed: int) -> dict[str, np.ndarray]:
    """Weights of the reference network ``MyModelNN(*sizes)`` built under ``seed``."""
    torch.manual_seed(seed)
    model = reference.deep_net.MyModelNN(*sizes)
    return {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}


# --------------------------------------------------------------------------------------------
# Task 2: the optimizers


def hyper_parameters(
    cls: str, count: int, kwargs: Mapping[str, Any] | None, groups: Sequence[Mapping] | None
) -> list[dict[str, Any]]:
    """Each parameter's hyper-parameters: the defaults, then ``kwargs``, then its group's."""
    base = {**DEFAULTS[cls], **(kwargs or {})}
    if not groups:
        return [dict(base) for _ in range(count)]
    per_param: list[dict[str, Any]] = [dict(base) for _ in range(count)]
    for group in groups:
        for index in group["params"]:
            per_param[index].update({k: v for k, v in group.items() if k != "params"})
    return per_param


# torch's own optimizer for each homework class, and the ways torch can run its update: one
# tensor at a time, all tensors at once (foreach), and the fused kernel.
TORCH_TWINS = {"Adam": "Adam", "SGDMomentum": "SGD", "AdaGrad": "Adagrad", "RMSprop": "RMSprop"}
TORCH_IMPLEMENTATIONS: tuple[dict[str, bool], ...] = ({"foreach": False}, {"foreach": True}, {"fused": True})


def torch_twin_class(cls: str, implementation: Mapping[str, bool] | None = None) -> type:
    """torch's optimizer under the homework's name, with the homework's defaults."""
    base = getattr(torch.optim, TORCH_TWINS[cls])
    chosen = dict(implementation or {})

    class Twin(base):  # type: ignore[misc, valid-type]
        def __init__(self, params: Any, **kwargs: Any) -> None:
            super().__init__(params, **{**DEFAULTS[cls], **kwargs, **chosen})

    # A module-level name that finds it again, so the grader may keep its runs on disk
    # (autograder.reference keeps only runs whose every name it can find again).
    Twin.__name__ = Twin.__qualname__ = "_".join(["TorchTwin", cls, *(f"{k}_{v}" for k, v in chosen.items())])
    globals()[Twin.__qualname__] = Twin
    return Twin


_TWINS = {(cls, i): torch_twin_class(cls, implementation) for cls in OPTIMIZERS
          for i, implementation in enumerate(TORCH_IMPLEMENTATIONS)}


def torch_twin_runs(cls: str, probe: str, **args: Any) -> list[dict[str, Any]]:
    """The probe run with torch's own optimizer in place of ``cls``, once per implementation
    torch has for it (an implementation it lacks is left out)."""
    runs = []
    for i in range(len(TORCH_IMPLEMENTATIONS)):
        try:
            runs.append(run_reference_probe(probe, {cls: _TWINS[cls, i]}, cls=cls, **args))
        except (RuntimeError, TypeError, ValueError):
            continue
    return runs


def run_reference_optimizer(reference: Any, cls: str, probe: str, **args: Any) -> dict[str, Any]:
    """A probe run with the reference optimizer classes in place of the student's."""
    namespace = {name: getattr(reference.optimizer, name) for name in OPTIMIZERS}
    return run_reference_probe(probe, namespace, cls=cls, **args)


# --------------------------------------------------------------------------------------------
# Task 3: roots


def quadratic_roots(a: float, b: float, c: float) -> list[float]:
    """The real roots, ascending, by the closed form (trusted side only)."""
    disc = b * b - 4 * a * c
    if disc < 0:
        return []
    q = -0.5 * (b + np.copysign(np.sqrt(disc), b))
    roots = [q / a, c / q] if q != 0 else [0.0, 0.0]
    return sorted(float(r) for r in roots)


def squared_loss_gradient(a: float, b: float, c: float) -> list[float]:
    """Coefficients of F'(x) for F = (a x² + b x + c)²: 2 f f' = 4a²x³ + 6ab x² + (2b² + 4ac) x
    + 2bc, highest power first."""
    return [4 * a * a, 6 * a * b, 2 * b * b + 4 * a * c, 2 * b * c]


def drawn_rng(files: Mapping[str, bytes], rng: np.random.Generator) -> np.random.Generator:
    """A generator for inputs drawn per submission: from the check's seed and a digest of the
    submission's files, so inputs differ between submissions and a re-grade draws the same."""
    digest = hashlib.sha256()
    for name, data in sorted(files.items()):
        digest.update(hashlib.sha256(name.encode()).digest() + hashlib.sha256(data).digest())
    return np.random.default_rng([int(rng.integers(1 << 32)), int.from_bytes(digest.digest()[:8], "little")])


def rule_path(coefficients: Sequence[float], x0: float, lr: float, steps: int) -> tuple[list[float], bool]:
    """x0, x1, ... by x ← x − lr·grad(x) with grad evaluated as the probe does (Horner's rule on
    Python floats), until a step is below 1e-10 or ``steps`` were taken; and whether it stopped."""
    grad = probes()._polynomial(list(coefficients))
    path = [float(x0)]
    for _ in range(steps):
        step = lr * grad(path[-1])
        path.append(path[-1] - step)
        if not np.isfinite(path[-1]):
            return path, False
        if abs(step) < 1e-10:
            return path, True
    return path, False


def descent_path_error(coefficients: Sequence[float], x0: float, lr: float, got: dict) -> str | None:
    """Where the points grad was called at leave the rule x ← x − lr·grad(x) (None if they
    never do): the first must be x0, each next one (repeats aside: a second call at the same x
    is allowed) the step from the one before, and the result the last point or one step on."""
    grad = probes()._polynomial(list(coefficients))
    visited = np.asarray(got.get("visited"), dtype=np.float64).ravel()
    points = [float(v) for i, v in enumerate(visited) if i == 0 or v != visited[i - 1]]

    def near(actual: float, expected: float, step: float) -> bool:
        return bool(abs(actual - expected) <= 1e-5 * abs(step) + 4e-7 * (1 + abs(expected)))

    if not points:
        return "grad was never called"
    if not near(points[0], x0, 0.0):
        return f"the first call of grad was at x = {points[0]:.10g}, not at x0 = {x0:g}"
    for before, after in zip(points, points[1:], strict=False):
        step = lr * grad(before)
        if not near(after, before - step, step):
            return (f"after grad({before:.10g}) the next call was at x = {after:.10g}, but "
                    f"x − lr·grad(x) = {before - step:.10g}")
    result = returned_number(got.get("result"))
    last = points[-1]
    if int(got.get("calls", 0)) <= visited.size and result is not None and not (
        near(result, last, 0.0) or near(result, last - lr * grad(last), lr * grad(last))
    ):
        return (f"it returned {result:.10g}, but the last call of grad was at x = {last:.10g} "
                f"(one more step gives {last - lr * grad(last):.10g})")
    return None


def returned_number(result: Any) -> float | None:
    """The number a probe says a call returned, or None."""
    if isinstance(result, dict) and result.get("kind") == "number":
        value = result.get("value")
        return float(value) if isinstance(value, int | float) else None
    return None


def drawn_parabola(rng: np.random.Generator, slow: bool = False) -> tuple[list[float], float, float, float]:
    """grad of k·(x − r)² with k and r drawn, a start 2 to 8 away, and an lr under which each
    step shrinks x − r by a factor 1 − 2·k·lr of 0.1 to 0.5, or with ``slow`` of 0.9 to 0.95
    (some hundreds of steps: a descent cut short fails on every draw, not on some):
    (coefficients, x0, lr, the minimum)."""
    k, r = float(rng.uniform(0.5, 3.0)), float(rng.uniform(-5.0, 5.0))
    x0 = r + float(rng.choice([-1.0, 1.0]) * rng.uniform(2.0, 8.0))
    lr = float(rng.uniform(0.025, 0.05) if slow else rng.uniform(0.25, 0.45)) / k
    return [2.0 * k, -2.0 * k * r], x0, lr, r


def drawn_squared_quadratic(rng: np.random.Generator) -> tuple[list[float], float, float, float]:
    """grad of (a·(x − r1)·(x − r2))², a non-linear grad, from a start beyond one root, with an
    lr under which the rule, run here, settles on that root: (coefficients, x0, lr, the root)."""
    while True:
        a = float(rng.choice([-1.0, 1.0]) * rng.uniform(0.3, 2.0))
        low = float(rng.uniform(-4.0, 3.0))
        high = low + float(rng.uniform(1.0, 4.0))
        outside_high = bool(rng.random() < 0.5)
        root = high if outside_high else low
        x0 = root + (1.0 if outside_high else -1.0) * float(rng.uniform(0.3, 2.0))
        coefficients = squared_loss_gradient(a, -a * (low + high), a * low * high)
        curvature = 2 * (a * (high - low)) ** 2  # F''(root) = 2·f'(root)²
        lr = float(rng.uniform(0.2, 0.8)) / curvature
        path, settled = rule_path(coefficients, x0, lr, 20_000)
        if settled and abs(path[-1] - root) <= 1e-7:
            return coefficients, x0, lr, root


def grad_looks_like(samples: Sequence[Any], points: Sequence[float], target: Callable) -> bool:
    """Whether sampled grad values are a positive multiple of ``target`` at the points."""
    values = np.array([np.nan if v is None else v for v in samples], dtype=np.float64)
    wanted = np.array([target(x) for x in points], dtype=np.float64)
    if values.shape != wanted.shape or not np.all(np.isfinite(values)):
        return False
    scale = float(np.dot(values, wanted) / np.dot(wanted, wanted)) if np.any(wanted) else 0.0
    return scale > 0 and bool(np.allclose(values, scale * wanted, rtol=1e-6, atol=1e-9))


def framed(series: dict[str, Any], student_label: str) -> dict[str, Any]:
    """Fit a path plot's y-axis to the reference run, the start and the target, so a student's
    path that diverges to 1e100 does not flatten everything else; the student's line says
    so when it leaves the frame."""
    values = [y for line in series["lines"] if line["label"] != student_label
              for y in line["y"] if y is not None and np.isfinite(y)]
    if not values:
        return series
    low, high = min(values), max(values)
    pad = 0.25 * (high - low) + 0.5
    low, high = low - pad, high + pad
    for line in series["lines"]:
        if line["label"] == student_label and any(
            y is None or not low <= y <= high for y in line["y"]
        ):
            line["label"] += " (leaves the frame)"
    return {**series, "ylim": [low, high]}


def thin(values: np.ndarray, keep: int = 400) -> tuple[list[int], list[float | None]]:
    """At most ``keep`` evenly spread points of a long path: their positions and values
    (None where not finite), so a plot stays small whatever the run's length."""
    if values.size == 0:
        return [], []
    picks = np.unique(np.linspace(0, values.size - 1, min(keep, values.size)).astype(int))
    return [int(i) for i in picks], [float(values[i]) if np.isfinite(values[i]) else None
                                     for i in picks]


def shown_options(kwargs: Mapping[str, Any] | None) -> str:
    """Keyword arguments as a student would write them: ``lr=0.3, betas=(0.5, 0.99)``."""
    return ", ".join(f"{k}={tuple(v) if isinstance(v, list) else v}" for k, v in (kwargs or {}).items())
