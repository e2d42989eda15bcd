""""Written by hand" cannot be forged and answers cannot be hard-coded: the parts of hw1's checks
that the adversarial corpus cannot test one by one.

The static reading of the optimizers' code (``handwritten.py``) is run here on small sources,
one way of hiding torch's optimizer code at a time, and on honest code that must not be
suspected; the inputs drawn per submission for the roots checks are checked for being
reproducible, different between submissions, and fair to the reference.
"""

from __future__ import annotations

import textwrap
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from course import COURSE, HW1_SAMPLES

from autograder import assignment
from autograder.checks import suite_module
from autograder.reference import Reference
from autograder.static import MAX_PARSE_CHARS, NotebookCode

HW1 = assignment.load("hw1", COURSE)
H = suite_module(str(HW1.hidden_dir / "test_optimizer.py"), "handwritten.py")
V = suite_module(str(HW1.hidden_dir / "test_optimizer.py"), "variants.py")
SAMPLES = HW1_SAMPLES
CLASSES = ("Adam", "SGDMomentum", "AdaGrad", "RMSprop")
HONEST_CLASSES = textwrap.dedent("""
    import torch
    from torch.optim import Optimizer


    class Adam(Optimizer):
        def __init__(self, params, lr=1e-3):
            super().__init__(params, {"lr": lr})

        @torch.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.add_(p.grad, alpha=-group["lr"])


    class SGDMomentum(Adam):
        pass


    class AdaGrad(Adam):
        pass


    class RMSprop(Adam):
        pass
""")


def based_on(base: str) -> str:
    """The honest classes with Adam deriving from ``base``."""
    return HONEST_CLASSES.replace("class Adam(Optimizer)", f"class Adam({base})")


def updating_with(call: str) -> str:
    """The honest classes with the update made by ``call``."""
    return HONEST_CLASSES.replace('p.add_(p.grad, alpha=-group["lr"])', call)


def read(files: dict[str, Any], entry: str = "optimizer.py") -> list[str]:
    return H.findings(files, entry, CLASSES)


# A notebook as the grader reads it: each cell is run on its own, so a cell holding only `"""`
# never runs, and the cell between two of them does; joined, it would look like a string.
H_NOTEBOOK = NotebookCode([HONEST_CLASSES, '"""', "Adam = torch.optim.Adam", '"""'])


# Each: the files, and a piece of the finding that must be reported.
HIDDEN = {
    "subclass in a sibling file": (
        {"optimizer.py": "from helpers import Base\n" + based_on("Base"),
         "helpers.py": "import torch.optim\n\nclass Base(torch.optim.Adam):\n    pass\n"},
        "helpers.py line 3: uses torch's optimizer code torch.optim.Adam",
    ),
    "sibling module by attribute": (
        {"optimizer.py": "import helpers\n" + based_on("helpers.Base"),
         "helpers.py": "from torch.optim import SGD as Base\n"},
        "optimizer.py line",
    ),
    "the classes from a sibling with import *": (
        {"optimizer.py": "from roots import *\n",
         "roots.py": based_on("torch.optim.Adam")},
        "takes Adam from roots with `import *`",
    ),
    "getattr on a concatenated name": (
        {"optimizer.py": HONEST_CLASSES + "\n_Base = getattr(torch.optim, 'Ad' + 'am')\n"
         "class Other(_Base):\n    pass\nSGDMomentum = Other\n"},
        "getattr() with a name computed at run time",
    ),
    "getattr with a constant name": (
        {"optimizer.py": based_on("getattr(torch.optim, 'Adam')")},
        "uses torch's optimizer code torch.optim.Adam",
    ),
    "getattr handed to functools.reduce": (
        {"optimizer.py": "import functools\n"
         + based_on("functools.reduce(getattr, ['optim', 'Adam'], torch)")},
        "hands getattr on as a value",
    ),
    "operator.attrgetter": (
        {"optimizer.py": "import operator\n" + based_on("operator.attrgetter('optim.Adam')(torch)")},
        "uses operator.attrgetter",
    ),
    "vars(torch)": (
        {"optimizer.py": based_on("vars(torch)['optim'].Adam")},
        "calls vars()",
    ),
    "a module's __dict__": (
        {"optimizer.py": based_on("torch.optim.__dict__['Adam']")},
        "reads .__dict__",
    ),
    "__import__": (
        {"optimizer.py": based_on("__import__('torch.optim').optim.Adam")},
        "calls __import__()",
    ),
    "importlib in a method": (
        {"optimizer.py": HONEST_CLASSES.replace(
            "        for group in self.param_groups:",
            "        import importlib\n        importlib.import_module('torch.optim')\n"
            "        for group in self.param_groups:")},
        "importlib",
    ),
    "sys.modules at import time": (
        {"optimizer.py": "import sys\n" + HONEST_CLASSES + "\nsys.modules['torch'].optim.Adam.__init__\n"},
        "uses sys.modules",
    ),
    "eval": (
        {"optimizer.py": based_on("eval('torch.optim.Adam')")},
        "calls eval()",
    ),
    "a fused kernel": (
        {"optimizer.py": updating_with("torch._fused_sgd_([p], [p.grad], [])")},
        "torch._fused_sgd_",
    ),
    "a fused kernel through torch.ops.aten": (
        {"optimizer.py": updating_with("torch.ops.aten._fused_adam_.default([p])")},
        "torch.ops.aten._fused_adam_",
    ),
    "a functional update": (
        {"optimizer.py": "from torch.optim.adam import adam\n"
         + updating_with("adam([p], [p.grad], [], [], [], [])")},
        "torch.optim.adam.adam",
    ),
    "everything from torch.optim": (
        {"optimizer.py": "from torch.optim import *\n" + based_on("SGD")},
        "torch.optim.SGD",
    ),
    "a name bound by assignment": (
        {"optimizer.py": HONEST_CLASSES + "\nRMSprop = torch.optim.RMSprop\n"},
        "binds RMSprop without a class statement",
    ),
    "a later notebook cell importing over a class": (
        {"hw1.ipynb": HONEST_CLASSES + "\n\nfrom torch.optim import Adam\n"},
        "binds Adam without a class statement",
    ),
    "bases changed at import time": (
        {"optimizer.py": HONEST_CLASSES + "\nAdaGrad.__bases__ = (torch.optim.Adagrad,)\n"},
        "changes AdaGrad after it was defined",
    ),
    "a method replaced with setattr in a function called at import time": (
        {"optimizer.py": HONEST_CLASSES
         + "\ndef patch(cls, name):\n    setattr(cls, name, torch.optim.Adam.step)\n\npatch(Adam, 'step')\n"},
        "setattr() on",
    ),
    "bases swapped through a loop variable": (
        {"optimizer.py": HONEST_CLASSES + "\nfor mine in (Adam,):\n    mine.__bases__ = (torch.optim.Adam,)"},
        "changes mine after it was defined",
    ),
    "a method of torch's stored through a loop variable": (
        {"optimizer.py": HONEST_CLASSES + "\nfor mine in (Adam,):\n    mine.step = torch.optim.Adam.step\n"},
        "stores torch's optimizer code in mine",
    ),
    "global rebinding in a function": (
        {"optimizer.py": HONEST_CLASSES
         + "\ndef swap():\n    global Adam\n    Adam = torch.optim.Adam\n\nswap()\n"},
        "rebinds Adam with `global Adam`",
    ),
    "a decorator that swaps the class": (
        {"optimizer.py": "def disguise(cls):\n    import torch\n    return torch.optim.Adam\n\n"
         + based_on("Optimizer").replace("class Adam", "@disguise\nclass Adam")},
        "uses torch's optimizer code torch.optim.Adam",
    ),
    "a hook function handed on at import time": (
        {"optimizer.py": HONEST_CLASSES + "\ndef hook(opt, args, kwargs):\n    torch.optim.Adam.step(opt)\n"
         "\nhooks = [hook]\n"},
        "uses torch's optimizer code torch.optim.Adam.step",
    ),
    "the class rebound in a notebook's __main__ block (a notebook runs as __main__)": (
        {"hw1.ipynb": HONEST_CLASSES + "\nif __name__ == '__main__':\n    Adam = torch.optim.Adam\n"},
        "Adam",
    ),
    "__name__ rebound so that a file's own __main__ block runs": (
        {"optimizer.py": HONEST_CLASSES + "\n__name__ = '__main__'\nif __name__ == '__main__':\n"
         "    Adam = torch.optim.Adam\n"},
        "Adam",
    ),
    "__name__ bound by an import so that a file's own __main__ block runs": (
        {"optimizer.py": "import __main__ as __name__\n" + HONEST_CLASSES
         + "\nif __name__ == '__main__':\n    Adam = torch.optim.Adam\n"},
        "Adam",
    ),
    "torch under another name, for a private kernel": (
        {"optimizer.py": "_T = torch\n" + updating_with("_T._fused_sgd_([p], [p.grad], [])")
         .replace("import torch\n", "import torch\n\n_T = torch\n", 1)},
        "uses the module torch as a value",
    ),
    "torch.optim under another name at module level": (
        {"optimizer.py": based_on("O.Adam").replace("import torch\n",
                                                    "import torch\n\nO = torch.optim\n", 1)},
        "uses torch's optimizer code torch.optim",
    ),
    "torch.optim inside a list": (
        {"optimizer.py": based_on("[torch.optim][0].Adam")},
        "uses torch's optimizer code torch.optim",
    ),
    "torch.optim through a walrus in step": (
        {"optimizer.py": updating_with("(o := torch.optim).SGD([p], lr=0.1).step()")},
        "uses torch's optimizer code torch.optim",
    ),
    "torch.optim returned by a helper": (
        {"optimizer.py": updating_with("helper().SGD([p], lr=0.1).step()")
         + "\n\ndef helper():\n    return torch.optim\n"},
        "uses torch's optimizer code torch.optim",
    ),
    "torch.optim as a default argument": (
        {"optimizer.py": updating_with("o.SGD([p], lr=0.1).step()").replace(
            "def step(self, closure=None):", "def step(self, closure=None, o=torch.optim):")},
        "uses torch's optimizer code torch.optim",
    ),
    "torch.optim through tuple unpacking in a forked helper": (
        {"optimizer.py": updating_with("run_elsewhere(p)")
         + "\n\ndef run_elsewhere(p):\n    o, _ = torch.optim, 1\n    o.SGD([p], lr=0.1).step()\n"},
        "uses torch's optimizer code torch.optim",
    ),
    "the distributed copy of Adam": (
        {"optimizer.py": based_on("torch.distributed.optim.functional_adam._FunctionalAdam")},
        "uses torch's optimizer code torch.distributed",
    ),
    "the testing copy of the optimizers": (
        {"optimizer.py": based_on("torch.testing._internal.common_optimizers.Adam")},
        "uses torch's optimizer code torch.testing",
    ),
    "torch reached again through a submodule's globals": (
        {"optimizer.py": based_on("torch.nn.modules.module.torch.optim.Adam")},
        "uses torch's optimizer code torch.nn.modules.module.torch",
    ),
    "a module the code writes at run time, then imports": (
        {"optimizer.py": "with open('helpers_written.py', 'w') as f:\n    f.write(CODE)\n"
         "import helpers_written\n" + based_on("helpers_written.Base")},
        "imports helpers_written, which was not submitted and is not installed",
    ),
    "a notebook cell hidden in a string made of two cells that do not run": (
        {"hw1.ipynb": H_NOTEBOOK},
        "binds Adam without a class statement",
    ),
    "a server forked at import time, running torch's optimizer out of sight": (
        {"optimizer.py": HONEST_CLASSES + "\nimport os\n\nif os.fork() == 0:\n"
         "    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)\n    os._exit(0)\n"},
        "uses os.fork",
    ),
    "a worker process from multiprocessing": (
        {"optimizer.py": "from multiprocessing import Process\n" + HONEST_CLASSES},
        "imports multiprocessing",
    ),
    "torch reached through functorch, for a fused kernel": (
        {"optimizer.py": "import functorch\n"
         + updating_with("functorch.torch._fused_sgd_([p], [p.grad], [])")},
        "uses torch's optimizer code functorch.torch",
    ),
    "torch's own dynamic import helper": (
        {"optimizer.py": updating_with("torch._utils._import_dotted_name('torch._fu' + 'sed_sgd_')(p)")},
        "uses torch's optimizer code torch._utils",
    ),
    "builtins taken from an exception's frame": (
        {"optimizer.py": updating_with("B = frame_builtins(); B['getattr'](torch, 'x')(p)")
         + "\n\ndef frame_builtins():\n    try:\n        raise ValueError\n"
         "    except ValueError as error:\n        return error.__traceback__.tb_frame.f_builtins\n"},
        "reads .__traceback__",
    ),
    "builtins reached through a builtin function's __self__": (
        {"optimizer.py": updating_with("print.__self__.getattr(torch, 'x')(p)")},
        "reads .__self__",
    ),
    "the probes named": (
        {"optimizer.py": HONEST_CLASSES + "\nTARGET = '_trap_installed'\n"},
        "names '_trap_installed'",
    ),
}


@pytest.mark.parametrize("case", sorted(HIDDEN))
def test_hidden_torch_code_is_found(case):
    files, finding = HIDDEN[case]
    entry = "hw1.ipynb" if "hw1.ipynb" in files else "optimizer.py"
    found = read(files, entry)
    assert any(finding in f for f in found), found


HONEST = {
    "plain classes": {"optimizer.py": HONEST_CLASSES},
    "torch.optim.optimizer's public names (ParamsT, required) and torch._foreach_* ops": {
        "optimizer.py": HONEST_CLASSES.replace(
            "from torch.optim import Optimizer",
            "from torch.optim.optimizer import Optimizer, ParamsT, required")
        .replace("def __init__(self, params, lr=1e-3):", "def __init__(self, params: ParamsT, lr=1e-3):")
        .replace('p.add_(p.grad, alpha=-group["lr"])',
                 'torch._foreach_add_([p], [p.grad], alpha=-group["lr"])')},
    "a demo in a __main__ block": {
        "optimizer.py": HONEST_CLASSES + "\nif __name__ == '__main__':\n    opt = torch.optim.Adam([])\n"},
    "a notebook demo handing torch's optimizers to solve": {
        "hw1.ipynb": HONEST_CLASSES + "\n\ndef solve(x0, optimizer_cls, max_iter=100, **kw):\n"
        "    return x0\n\n\nprint(solve(7.0, torch.optim.Adam, lr=0.3))\n"
        "for cls in (torch.optim.SGD, SGDMomentum):\n    print(solve(-1.0, cls, lr=0.01))\n"
        "reference = torch.optim.Adam([torch.zeros(1, requires_grad=True)])\n"},
    "getattr on self, and hasattr with a constant": {
        "optimizer.py": HONEST_CLASSES.replace(
            "        for group in self.param_groups:",
            "        getattr(self, 'state')\n        hasattr(torch, 'float64')\n"
            "        for group in self.param_groups:")},
    "a sibling helper the classes do not use": {
        "optimizer.py": "import deep_net\n" + HONEST_CLASSES,
        "deep_net.py": "import torch\n\ndef act(name):\n    return getattr(torch.nn, name)()\n"},
    "a method's variable named like a demo's global": {
        "hw1.ipynb": HONEST_CLASSES.replace("        for group in self.param_groups:",
                                            "        loss = closure\n        for group in self.param_groups:")
        + "\n\ndef train(cls):\n    return cls\n\n\nloss = train(torch.optim.Adam)\n"},
    "an unreadable file nothing imports": {"optimizer.py": HONEST_CLASSES, "roots.py": "def broken(:\n"},
}


@pytest.mark.parametrize("case", sorted(HONEST))
def test_honest_code_is_not_suspected(case):
    files = HONEST[case]
    entry = "hw1.ipynb" if "hw1.ipynb" in files else "optimizer.py"
    assert read(files, entry) == []


WITH_FILES = [p.name for p in SAMPLES.iterdir()
              if (p / "optimizer.py").is_file() and p.name != "syntax_error"]


@pytest.mark.parametrize("sample", sorted(WITH_FILES))
def test_samples_are_not_suspected(sample):
    files = {p.name: p.read_text() for p in (SAMPLES / sample).glob("*.py")}
    assert H.findings(files, "optimizer.py", CLASSES) == []


def test_unreadable_code_the_optimizers_import_is_a_finding():
    files = {"optimizer.py": "import helpers\n" + HONEST_CLASSES, "helpers.py": "x = ("}
    assert any("helpers.py could not be read (not valid Python)" in f
               for f in H.findings(files, "optimizer.py", CLASSES))
    padded = HONEST_CLASSES + "\n" + "#" * MAX_PARSE_CHARS  # too long to parse in the grader
    found = H.findings({"optimizer.py": padded}, "optimizer.py", CLASSES)
    assert len(found) == 1 and found[0].startswith("optimizer.py could not be read: the code is"), found


# --------------------------------------------------------------------------------------------
# Behaviour: a review flag where updates are bit-identical to torch's


class InProcess:
    """A stand-in for a submission under test whose classes run here, in this process."""

    def __init__(self, namespace: dict[str, Any]):
        self.namespace = namespace
        self.review: list[str] = []

    def call(self, task: str, probe: str, **args: Any) -> SimpleNamespace:
        try:
            return SimpleNamespace(ok=True, value=V.probes().PROBES[probe](dict(self.namespace), **args))
        except (RuntimeError, TypeError, ValueError) as exc:
            return SimpleNamespace(ok=False, value=None, error=str(exc))

    def flag(self, note: str) -> None:
        self.review.append(note)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")  # the checks' own mark
@pytest.mark.parametrize("cls", CLASSES)
def test_torch_under_the_homework_name_is_flagged(cls):
    """torch's own optimizer, which no reading of the code found, still gets a review flag:
    for AdaGrad and RMSprop, whose natural hand-written rule is bit-identical to torch's on real
    parameters, through the run on complex ones."""
    checks = suite_module(str(HW1.hidden_dir / "test_optimizer.py"), "test_optimizer.py")
    reference = Reference(HW1)
    disguised = InProcess({cls: V.torch_twin_class(cls)})
    checks._flag_torch_twin(disguised, reference, cls, [], np.random.default_rng(HW1.seed))
    assert disguised.review and f"bit-identical to torch.optim.{V.TORCH_TWINS[cls]}" in disguised.review[0]
    honest = InProcess({cls: getattr(reference.optimizer, cls)})
    checks._flag_torch_twin(honest, reference, cls, [], np.random.default_rng(HW1.seed))
    assert honest.review == []


# --------------------------------------------------------------------------------------------
# Inputs drawn per submission


def test_draws_are_reproducible_and_differ_between_submissions():
    def draw(files: dict[str, bytes]) -> tuple:
        rng = V.drawn_rng(files, np.random.default_rng([HW1.seed, 1]))
        return (tuple(V.drawn_parabola(rng)[0]), tuple(V.drawn_squared_quadratic(rng)[0]))

    one, other = {"roots.py": b"def f(): pass\n"}, {"roots.py": b"def f(): pass  # mine\n"}
    assert draw(one) == draw(dict(one))
    assert draw(one) != draw(other)


def test_reference_follows_the_rule_on_drawn_functions():
    """Whatever is drawn, the reference's gradient_descent passes: each draw converges under
    the rule, and the reference's path is the rule's."""
    reference = {"gradient_descent": Reference(HW1).roots.gradient_descent}
    rng = np.random.default_rng(HW1.seed)
    for index in range(40):
        drawn = V.drawn_rng({"roots.py": str(index).encode()}, rng)
        draws = [V.drawn_parabola(drawn), V.drawn_parabola(drawn, slow=True)]
        draws.append(V.drawn_squared_quadratic(drawn))
        for coefficients, x0, lr, target in draws:
            got = V.run_reference_probe("gradient_descent", reference, coefficients=coefficients,
                                        x0=x0, lr=lr)
            assert V.descent_path_error(coefficients, x0, lr, got) is None
            assert abs(got["result"]["value"] - target) <= 1e-6


def test_a_descent_cut_short_fails_every_slow_draw():
    """A fixed hundred steps never reaches a slow parabola's minimum, whatever the draw, so such
    a mistake scores the same for every submission."""
    rng = np.random.default_rng(HW1.seed)
    for index in range(40):
        drawn = V.drawn_rng({"roots.py": bytes([index])}, rng)
        coefficients, x0, lr, minimum = V.drawn_parabola(drawn, slow=True)
        path, _ = V.rule_path(coefficients, x0, lr, 100)
        assert abs(path[-1] - minimum) > 1e-8


def test_a_shortcut_is_off_the_rule():
    """A descent that samples grad elsewhere, or returns a point it never stepped to, is caught."""
    coefficients, x0, lr = [2.0, -4.0], -5.0, 0.1
    path, _ = V.rule_path(coefficients, x0, lr, 1000)
    def run(visited: list[float], result: float) -> dict:
        returned = {"kind": "number", "value": result}
        return {"visited": np.array(visited), "calls": len(visited), "result": returned}

    honest = run(path[:-1], path[-1])
    assert V.descent_path_error(coefficients, x0, lr, honest) is None
    assert "next call" in V.descent_path_error(coefficients, x0, lr, run([x0, x0 + 1.0, x0 + 2.0], 2.0))
    assert "returned" in V.descent_path_error(coefficients, x0, lr, run([x0], 2.0))


# --------------------------------------------------------------------------------------------
# find_roots must descend on F = f²


QUADRATICS = [(1.0, -6.0, 4.0), (2.0, 3.0, -4.0), (0.5, 0.0, -7.0)]  # those the check solves


def find_roots_with(grad_of: Any) -> dict[str, Any]:
    """The namespace of a find_roots that knows the roots r and hands ``grad_of(a, b, c, r)`` to
    a gradient_descent that returns r, so that each root is a value gradient_descent returned
    (the probe finds gradient_descent in the module's globals, as in a submission)."""
    exact = {abc: V.quadratic_roots(*abc) for abc in QUADRATICS}
    namespace = {"grad_of": grad_of, "exact": exact}
    exec(textwrap.dedent("""
        def gradient_descent(grad, x0, lr, tol=1e-10):
            return x0 - 0.5

        def find_roots(a, b, c):
            return [gradient_descent(grad_of(a, b, c, r), r + 0.5, 0.1) for r in exact[a, b, c]]
    """), namespace)
    return namespace


class Probed:
    """A stand-in for a submission under test whose probes run here, on ``namespace``."""

    def __init__(self, namespace: dict[str, Any]):
        self.namespace = namespace

    def require(self, task: str, probe: str, what: str, **args: Any) -> dict[str, Any]:
        return V.probes().PROBES[probe](self.namespace, **args)


def _fake(a: float, b: float, c: float, r: float) -> Any:
    return lambda x: x - r


def _f_squared(a: float, b: float, c: float, r: float) -> Any:
    return lambda x: 2 * (a * x * x + b * x + c) * (2 * a * x + b)


def _over_a_squared(a: float, b: float, c: float, r: float) -> Any:
    return lambda x: 2 * (x * x + b / a * x + c / a) * (2 * x + b / a)


def _finite_difference(a: float, b: float, c: float, r: float) -> Any:
    def loss(x: float) -> float:
        return (a * x * x + b * x + c) ** 2

    return lambda x: (loss(x + 1e-6) - loss(x - 1e-6)) / 2e-6


def _f_prime(a: float, b: float, c: float, r: float) -> Any:
    return lambda x: 2 * a * x + b


@pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")  # the checks' own mark
@pytest.mark.parametrize("grad_of", [_f_squared, _over_a_squared, _finite_difference, _f_prime])
def test_find_roots_descending_on_f_squared_passes(grad_of):
    """F' up to a positive factor, or its finite difference, passes uses_descent (f' is
    descends_on_f, a mistake the root checks name)."""
    checks = suite_module(str(HW1.hidden_dir / "test_roots.py"), "test_roots.py")
    checks.test_find_roots_uses_descent(Probed(find_roots_with(grad_of)))


@pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")  # the checks' own mark
def test_find_roots_with_a_fake_descent_fails():
    """Roots found otherwise, then handed to a descent on x − r, did not come from descending
    on F = f², though gradient_descent returned each of them."""
    checks = suite_module(str(HW1.hidden_dir / "test_roots.py"), "test_roots.py")
    with pytest.raises(checks.CheckFailed, match="not the derivative of") as failure:
        checks.test_find_roots_uses_descent(Probed(find_roots_with(_fake)))
    assert "at x = -2 it gave -2.763932023, expected a positive multiple of -400" in str(failure.value)


def test_reading_cost_grows_with_the_code_not_its_square():
    """Thousands of statements rebinding one name, nested ten deep, read in well under a
    second here (they took minutes when every use looked at every binding); past the node
    cap, the code is not read and that is a finding. The 30 s bound only catches a return of
    the quadratic cost on a busy machine."""
    import time

    nested = "x = 0\n" + "".join("    " * d + "if x:\n" for d in range(10))
    nested += "    " * 10 + "y = 0;" + "y = y;" * 4000 + "\n"
    started = time.monotonic()
    assert read({"optimizer.py": HONEST_CLASSES + nested}) == []
    assert time.monotonic() - started < 30
    flat = HONEST_CLASSES + "y=0;" + "y=y;" * 35_000 + "\n"
    assert len(flat) < MAX_PARSE_CHARS
    found = read({"optimizer.py": flat})
    assert any("syntax nodes, more than this check reads" in f for f in found), found


def test_torch_optimizers_are_turned_off_in_the_optimizer_task():
    """In the optimizer task's process, torch's optimizer classes, update functions and fused
    kernels raise, however they were reached; the base class still works. Run in a forked
    child, so that this process keeps torch's optimizers."""
    import os

    probes = V.probes()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            import torch
            import torch.optim.adam as adam_module

            probes.prepare("optimizer")
            p = torch.zeros(2, requires_grad=True)
            p.grad = torch.ones(2)
            blocked = 0
            for use in (lambda: torch.optim.Adam([p]), lambda: type("X", (torch.optim.SGD,), {})([p], lr=0.1),
                        lambda: adam_module.adam([p], [p.grad], [], [], [], []),
                        lambda: torch._fused_sgd_([p], [p.grad], []),
                        lambda: torch.ops.aten._fused_adam_.default([p])):
                try:
                    use()
                except RuntimeError as error:
                    blocked += "turned off" in str(error)
            base = type("Mine", (torch.optim.Optimizer,), {"step": lambda self, closure=None: None})
            base([p], {"lr": 0.1}).step()
            code = 0 if blocked == 5 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
