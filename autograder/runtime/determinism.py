"""What makes a re-grade of the same code identical, set up in the task's process before the
student's code loads.

- The random generators the code may use unseeded (Python's, numpy's global one, torch's) are
  seeded from the assignment's seed.
- String hashing is fixed (the worker runs with ``PYTHONHASHSEED=0``, see ``worker``), so the
  order of a set of strings is the same on every run.
- ``id()`` numbers objects in the order the code first asks for them, and never hands a
  number out twice, instead of giving their memory address. An address depends on what the
  process did before (the grader's worker serves many submissions), and a freed object's
  address is soon another's: state kept in a dict keyed by ``id(p)`` then reaches a new tensor
  on some runs and not on others. torch's ``Tensor.__hash__`` is ``id(self)``, so dicts and
  sets of tensors follow too. Objects that take no weak reference (ints, tuples, lists, dicts)
  keep their address: numbering them would mean keeping each alive for ever, and their ids
  are rarely kept. ``object.__hash__`` of other objects (C code) still follows the address.

Each check then runs on a fresh copy of the loaded task (``worker.Zygote``), so nothing the
code keeps between calls reaches the next check.
"""

from __future__ import annotations

import builtins
import ctypes
import os
import sys
import weakref
from typing import Any

ADDR_NO_RANDOMIZE = 0x0040000
QUERY_PERSONALITY = 0xFFFFFFFF
# Above any user-space address, so a number never equals a real id of another live object.
FIRST_ID = 1 << 60
ID_STEP = 16


class StableIds:
    """``id`` with numbers given in order of first use; see the module's docstring."""

    def __init__(self, real_id: Any = builtins.id) -> None:
        self.real_id = real_id
        self.numbers: dict[int, tuple[int, weakref.ref]] = {}
        self.next = FIRST_ID

    def __call__(self, obj: Any, /) -> int:
        address = self.real_id(obj)
        known = self.numbers.get(address)
        if known is not None and known[1]() is obj:
            return known[0]
        try:
            ref = weakref.ref(obj)
        except TypeError:  # no weak reference: the address it is
            return address
        number, self.next = self.next, self.next + ID_STEP
        self.numbers[address] = (number, ref)
        return number

    def snapshot(self) -> tuple[dict[int, tuple[int, weakref.ref]], int]:
        """The numbers given so far, to go back to with ``restore``."""
        return dict(self.numbers), self.next

    def restore(self, snapshot: tuple[dict[int, tuple[int, weakref.ref]], int]) -> None:
        """Number from here on as if nothing since ``snapshot`` had asked."""
        self.numbers, self.next = dict(snapshot[0]), snapshot[1]


def real_id() -> Any:
    """The interpreter's own ``id`` (an object's address), for the kit's code in the task's
    process: asking ``StableIds`` would hand out numbers the student's code then sees shifted."""
    return getattr(builtins.id, "real_id", builtins.id)


def seed_everything(seed: int) -> None:
    """Seed the generators student code may use without seeding them."""
    import random

    import numpy
    import torch

    random.seed(seed)
    numpy.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def install(seed: int) -> None:
    """In the task's process, before its code loads: seeds, and ``id`` numbered in order."""
    seed_everything(seed)
    builtins.id = StableIds(real_id())


def report(seed: int) -> dict[str, Any]:
    """What makes this task's run repeatable, as it holds in this process (for the result)."""
    try:
        personality = ctypes.CDLL(None, use_errno=True).personality(QUERY_PERSONALITY)
    except (OSError, AttributeError):
        personality = -1
    return {
        "seed": seed,
        "hash_seed": None if sys.flags.hash_randomization else os.environ.get("PYTHONHASHSEED", "0"),
        "address_randomisation": personality < 0 or not personality & ADDR_NO_RANDOMIZE,
        "stable_ids": isinstance(builtins.id, StableIds),
        "fresh_copy_per_check": True,
    }
