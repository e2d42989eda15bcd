"""Each check starts from the task as it was loaded: a copy that a check left unchanged serves
the next check too (no fork), and a copy a check changed in any way the next check could see
(a global, a class attribute, a generator's state, a thread or a child) is replaced."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Iterator

import pytest
from conftest import start_sandbox

from autograder.sandbox import Sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    sandbox = start_sandbox("bwrap")
    yield sandbox
    sandbox.shutdown()


def checks(sandbox: Sandbox, source: str, count: int = 3, calls: int = 2) -> list[list[object]]:
    """``calls`` calls of ``f`` in each of ``count`` checks; the values, check by check."""
    loaded = sandbox.open_task({"student.py": textwrap.dedent(source).encode()}, "student.py")
    assert loaded.ok, loaded.error
    values = []
    for _ in range(count):
        sandbox.fresh_state()
        values.append([sandbox.call("call_f").value for _ in range(calls)])
    sandbox.close_task()
    return values


def test_a_copy_a_check_left_unchanged_serves_the_next_check(sandbox):
    values = checks(sandbox, """
        def f():
            import os
            return os.getpid()
    """)
    assert len({pid for check in values for pid in check}) == 1


@pytest.mark.parametrize("source", [
    "count = [0]\ndef f():\n    count[0] += 1\n    return count[0]\n",  # a module global
    "class Keeper:\n    seen = {}\ndef f():\n    Keeper.seen[len(Keeper.seen)] = 1\n"
    "    return len(Keeper.seen)\n",  # a class attribute
    "import random\ndef f():\n    return random.random()\n",  # Python's generator, unseeded
    "import numpy\ndef f():\n    return float(numpy.random.rand())\n",  # numpy's
    "import torch\ndef f():\n    return float(torch.rand(1))\n",  # torch's
])
def test_what_a_check_changes_never_reaches_the_next(sandbox, source):
    values = checks(sandbox, source)
    assert values[0] == values[1] == values[2]  # every check starts from the loaded state
    assert values[0][0] != values[0][1]  # while the calls of one check share their copy


def test_a_thread_a_check_started_does_not_run_into_the_next(sandbox):
    values = checks(sandbox, """
        import threading, time
        ticks = [0]
        def f():
            def tick():
                while True:
                    ticks[0] += 1
                    time.sleep(0.001)
            if threading.active_count() == 1:
                threading.Thread(target=tick, daemon=True).start()
                time.sleep(0.05)
            return threading.active_count()
    """, calls=1)
    assert values == [[2], [2], [2]]  # each check's copy is new: one thread of its own


@pytest.mark.parametrize("source", [
    "import itertools\ncounter = itertools.count()\ndef f():\n    return next(counter)\n",  # C state
    "def _gen():\n    n = 0\n    while True:\n        n += 1\n        yield n\nticks = _gen()\n"
    "def f():\n    return next(ticks)\n",  # a generator's frame
    "import random\nrng = random.Random(1)\ndef f():\n    return rng.random()\n",  # its own generators
    "import numpy\nrng = numpy.random.default_rng(1)\ndef f():\n    return float(rng.random())\n",
    "import numpy\nrng = numpy.random.RandomState(1)\ndef f():\n    return float(rng.rand())\n",
    "import torch\ng = torch.Generator().manual_seed(1)\n"
    "def f():\n    return float(torch.rand(1, generator=g))\n",
    # numpy's global generator, drawn from while loading: a draw moves only its position
    "import numpy\nnumpy.random.rand()\ndef f():\n    return float(numpy.random.rand())\n",
])
def test_state_out_of_the_walks_sight_never_reaches_the_next_check(sandbox, source):
    values = checks(sandbox, source)
    assert values[0] == values[1] == values[2]
    assert values[0][0] != values[0][1]


@pytest.mark.parametrize("source", [
    # an int past the 4,300 digits that repr writes out
    "huge = 10 ** 5000\ncount = [0]\ndef f():\n    count[0] += 1\n    return count[0]\n",
    # a name that will not encode
    "Odd = type('Odd', (), {})\nOdd.__qualname__ = '\\ud800'\ncount = [0]\n"
    "def f():\n    count[0] += 1\n    return count[0]\n",
])
def test_state_the_walk_cannot_write_down_still_never_reaches_the_next_check(sandbox, source):
    """Loading such code once stopped every call of the task; now it is compared, or (when it
    cannot be) every check gets a new copy."""
    assert checks(sandbox, source) == [[1, 2], [1, 2], [1, 2]]


def pids(sandbox: Sandbox, source: str) -> set[object]:
    """The processes that served three checks of ``f`` (each returns its pid)."""
    return {pid for check in checks(sandbox, source, calls=1) for pid in check}


@pytest.mark.parametrize("draw", ["random.random()", "numpy.random.rand()", "torch.rand(1)"])
def test_a_copy_whose_only_change_is_a_draw_is_reused_with_its_generators_back(sandbox, draw):
    assert len(pids(sandbox, f"""
        import os, random, numpy, torch
        def f():
            {draw}
            return os.getpid()
    """)) == 1


def test_building_a_torch_optimizer_costs_no_new_copy(sandbox):
    """torch hooks a subclass's ``step`` the first time one is built; a fresh copy would
    hook it again, so the copy gets its loaded ``step`` back and is reused."""
    assert len(pids(sandbox, """
        import os, torch
        class Descent(torch.optim.Optimizer):
            def __init__(self, params, lr=0.1):
                super().__init__(params, {"lr": lr})
            def step(self, closure=None):
                for group in self.param_groups:
                    for p in group["params"]:
                        p.data -= group["lr"] * p.grad
        class Slower(Descent):
            pass
        def f():
            for kind in (Descent, Slower):
                p = torch.ones(2, requires_grad=True)
                p.grad = torch.ones(2)
                kind([p]).step()
            return os.getpid()
    """)) == 1


def test_ids_are_numbered_in_each_check_as_in_a_fresh_copy(sandbox):
    values = checks(sandbox, """
        def f():
            return id(object.__new__(type("Fresh", (), {})))
    """, calls=2)
    assert values[0] == values[1] == values[2]
    assert values[0][0] != values[0][1]


def test_a_huge_int_is_compared_and_its_copy_reused(sandbox):
    assert len(pids(sandbox, "import os\nhuge = 10 ** 5000\ndef f():\n    return os.getpid()\n")) == 1


def test_a_copy_that_ends_between_checks_costs_the_next_check_nothing(sandbox):
    """A thread the last check started may end its copy after the call returned; the next
    check's first call then runs in a new copy (writing to the dead one must not end the
    loaded task)."""
    source = textwrap.dedent("""
        import os, threading, time
        def f():
            threading.Thread(target=lambda: (time.sleep(0.05), os._exit(3)), daemon=True).start()
            return os.getpid()
    """)
    assert sandbox.open_task({"student.py": source.encode()}, "student.py").ok
    served = []
    for _ in range(3):
        sandbox.fresh_state()
        served.append(sandbox.call("call_f"))
        time.sleep(0.5)  # the copy is gone before the next check begins
    sandbox.close_task()
    assert [call.status for call in served] == ["ok"] * 3
    assert len({call.value for call in served}) == 3  # a new copy each time
