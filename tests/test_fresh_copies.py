"""Each check starts from the task as it was loaded: a copy that a check left unchanged serves
the next check too (no fork), and a copy a check changed in any way the next check could see
(a global, a class attribute, a generator's state, a thread or a child) is replaced."""

from __future__ import annotations

import textwrap
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
