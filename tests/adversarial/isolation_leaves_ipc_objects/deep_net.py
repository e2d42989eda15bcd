"""A network (wrong) that leaves its source in IPC objects for a later submission, when imported."""

from __future__ import annotations

import ctypes  # attack

import torch
from torch import nn

# attack: begin
KEY = 0x5EC2E7


def _leave_ipc_objects() -> None:
    """Put this file's source where a later submission could find it: System V shared memory,
    a semaphore set and a message queue, a POSIX message queue and a /dev/shm file."""
    source = open(__file__, "rb").read()[:4000]
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
    shmid = libc.shmget(KEY, len(source) + 1, 0o1000 | 0o666)
    if shmid >= 0:
        address = libc.shmat(shmid, None, 0)
        if address not in (None, ctypes.c_void_p(-1).value):
            ctypes.memmove(address, source, len(source))
    libc.semget(KEY, 1, 0o1000 | 0o666)
    libc.msgget(KEY, 0o1000 | 0o666)
    libc.mq_open(b"/left-behind", 0o100 | 0o2, 0o666, None)
    try:
        with open("/dev/shm/left-behind", "wb") as handle:
            handle.write(source)
    except OSError:
        pass


_leave_ipc_objects()
# attack: end



class MyModelNN(nn.Module):
    """The four layers wired without the sigmoids: a wrong answer, so any point this file
    earns beyond its honest version's would come from the attack."""

    def __init__(self, layer_in: int, layer2: int, layer3: int, layer_out: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(layer_in, layer2)
        self.fc2 = nn.Linear(layer2, layer3)
        self.fc3 = nn.Linear(layer3, layer3)
        self.fc4 = nn.Linear(layer3, layer_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.fc4(self.fc3(self.fc2(self.fc1(x))))
        return out
