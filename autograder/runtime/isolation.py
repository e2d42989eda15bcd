"""Keep each task out of reach of the worker it was forked from and of the tasks after it.

A task's child is forked from the warm worker, under the same uid. Without more, it could
lower the worker's resource limits (``prlimit``), stop or renice it, signal it, or leave System
V or POSIX IPC objects, ``/dev/shm`` files and ``/tmp`` files for the next submission to find.
So before any student code runs, the child enters new user, pid, IPC, mount, network and UTS
namespaces (``enter``), forks once more so that the task runs as pid 1 of the new pid namespace,
and there (``seal``):

- mounts a ``/proc`` of its own pid namespace: the worker and every other process outside have
  no pid the task can name, so ``kill``, ``prlimit``, ``setpriority`` (``PRIO_USER`` included),
  ``ptrace`` and pidfds cannot reach them;
- mounts fresh, size-capped tmpfs over the world-writable folders (``/tmp``, ``/var/tmp``,
  ``/dev/shm``, ...) and binds the submission folder back at ``/tmp/submission``, so whatever a
  task writes outside it vanishes with the task (the worker empties the submission folder);
- leaves System V objects and POSIX message queues in an IPC namespace that dies with the task;
- drops every capability the new user namespace gave it and sets ``no_new_privs``, so the task
  cannot undo any of this.

The one process left outside (the relay that waits for the task and passes on how it ended)
runs only this module's code and holds no descriptor the task could use.

Where the kernel refuses unprivileged user namespaces (a container's seccomp profile, a
sysctl), ``available`` says why, and the worker instead checks its own state after every task
(``WorkerHealth``) and asks to be replaced when anything changed. Everything here is stdlib and
Linux system calls through ctypes: it runs inside the sandbox.
"""

from __future__ import annotations

import ctypes
import os
import platform
import resource
import signal
import sys
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
TASK_NAMESPACES = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS

MS_NOSUID, MS_NODEV, MS_NOEXEC = 2, 4, 8
MS_RDONLY, MS_REMOUNT = 1, 32
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
LAST_CAPABILITY = 63
LINUX_CAPABILITY_VERSION_3 = 0x20080522
SYS_KEYCTL = {"x86_64": 250, "aarch64": 219}.get(platform.machine())
KEYCTL_JOIN_SESSION_KEYRING = 1

# Folders any user may write to on a usual system; a task gets an empty tmpfs over each.
SHARED_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm", "/run/shm", "/run/lock", "/var/lock")
TASK_DIR = "/tmp/submission"

_libc = ctypes.CDLL(None, use_errno=True)


class IsolationError(OSError):
    """The kernel refused a step of the task's isolation."""


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise IsolationError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(
        _libc.mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"mount {target}",
    )


def enter() -> None:
    """Enter new namespaces (in a single-threaded, freshly forked child); the next fork's
    child is pid 1 of the new pid namespace. The uid and gid stay what they were."""
    uid, gid = os.getuid(), os.getgid()
    # The worker is not dumpable, which makes /proc/self root's; the maps below need it ours.
    _check(_libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), "dumpable")
    _check(_libc.unshare(ctypes.c_int(TASK_NAMESPACES)), "unshare")
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
    Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")


def relay_exit(pid: int) -> None:
    """Wait for the task (pid 1 of its namespace) and end the same way; never returns.

    This process stays outside the task's namespaces, so it keeps no descriptor at all."""
    os.closerange(0, 65536)
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        while True:
            try:
                _, status = os.waitpid(pid, 0)
                break
            except InterruptedError:
                continue
        if os.WIFSIGNALED(status):
            number = os.WTERMSIG(status)
            signal.signal(number, signal.SIG_DFL)
            os.kill(os.getpid(), number)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    finally:
        os._exit(70)


def seal(workdir: Path, tmpfs_bytes: int) -> Path:
    """Inside the new namespaces, as their pid 1: a private /proc, empty shared folders,
    the submission folder at ``TASK_DIR``, and no capabilities left. Returns the folder."""
    folder = os.open(workdir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        _mount(None, "/", None, MS_REC | MS_PRIVATE)
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        for shared in SHARED_WRITABLE:
            if os.path.isdir(shared) and not os.path.islink(shared):
                kept = _open_needed_under(shared)
                _mount("tmpfs", shared, "tmpfs", MS_NOSUID | MS_NODEV,
                       f"size={tmpfs_bytes},mode=1777")
                _bind_back(kept)
        os.mkdir(TASK_DIR, 0o700)
        _mount(f"/proc/self/fd/{folder}", TASK_DIR, None, MS_BIND)
    finally:
        os.close(folder)
    # A session keyring of its own: one inherited from the worker would be shared by every
    # task (user keyrings already belong to the new user namespace). Where keyctl is
    # forbidden (a seccomp profile), there is no keyring to share either.
    if SYS_KEYCTL is not None:
        _libc.syscall(SYS_KEYCTL, KEYCTL_JOIN_SESSION_KEYRING, None, 0, 0, 0)
    _drop_capabilities()
    os.chdir(TASK_DIR)
    return Path(TASK_DIR)


def _open_needed_under(shared: str) -> list[tuple[str, int]]:
    """The interpreter's own folders (its environment, every sys.path entry) that lie under
    ``shared``, opened before an empty tmpfs hides them: a virtual environment made under
    /tmp (a checkout there, say) must stay importable for the task."""
    needed = {os.path.realpath(p) for p in [sys.prefix, sys.base_prefix, *sys.path] if p}
    kept = []
    for path in sorted(needed):
        if path.startswith(shared.rstrip("/") + "/") and os.path.isdir(path):
            kept.append((path, os.open(path, os.O_RDONLY | os.O_DIRECTORY)))
    return kept


def _bind_back(kept: list[tuple[str, int]]) -> None:
    """Bind each kept folder, read-only, at its own path inside the new tmpfs."""
    for path, fd in kept:
        try:
            os.makedirs(path, exist_ok=True)
            _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
            _mount(None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY)
        finally:
            os.close(fd)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _drop_capabilities() -> None:
    """No capability in the bounding set, none held, and no way to gain one by exec."""
    for capability in range(LAST_CAPABILITY + 1):
        if _libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0 and ctypes.get_errno() != 22:
            _check(-1, f"drop capability {capability}")  # EINVAL: not a capability here
    header = _CapHeader(LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def available(tmpfs_bytes: int = 1 << 20) -> str | None:
    """None when a task can be isolated here, else why not (tried in a throwaway child)."""
    scratch = Path(f"/tmp/.isolation-check-{os.getpid()}")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        try:
            scratch.mkdir(mode=0o700, exist_ok=True)
            enter()
            inner = os.fork()
            if inner == 0:
                seal(scratch, tmpfs_bytes)
                os._exit(0)
            _, status = os.waitpid(inner, 0)
            if status != 0:
                raise IsolationError(0, f"the sealed task ended with status {status}")
            os._exit(0)
        except BaseException as exc:  # the reason is the answer
            os.write(write_end, str(exc).encode()[:500])
            os._exit(1)
    os.close(write_end)
    reason = b""
    while chunk := os.read(read_end, 4096):
        reason += chunk
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    try:
        scratch.rmdir()
    except OSError:
        pass
    if status == 0:
        return None
    return reason.decode(errors="replace") or f"the check ended with status {status}"


class WorkerHealth:
    """What a task could change of the worker when it is not isolated: its resource limits,
    priority, scheduling and CPU affinity, and IPC objects or /dev/shm files of its uid.

    ``changes`` compares with the snapshot taken when the worker was ready."""

    LIMITS = tuple(
        getattr(resource, name) for name in dir(resource) if name.startswith("RLIMIT_")
    )

    def __init__(self) -> None:
        self.baseline = self._snapshot()

    def _snapshot(self) -> dict[str, object]:
        state: dict[str, object] = {}
        for which in self.LIMITS:
            try:
                state[f"rlimit {which}"] = resource.getrlimit(which)
            except (ValueError, OSError):
                pass
        state["priority"] = os.getpriority(os.PRIO_PROCESS, 0)
        state["scheduler"] = os.sched_getscheduler(0)
        state["affinity"] = sorted(os.sched_getaffinity(0))
        state["ipc objects"] = _own_ipc_objects()
        try:
            state["/dev/shm"] = sorted(os.listdir("/dev/shm"))
        except OSError:
            state["/dev/shm"] = None
        return state

    def changes(self) -> list[str]:
        now = self._snapshot()
        return [name for name, value in self.baseline.items() if now.get(name) != value]


def _own_ipc_objects() -> list[str]:
    """System V shared memory, semaphores and message queues owned by this uid."""
    uid = str(os.getuid())
    found = []
    for kind in ("shm", "sem", "msg"):
        try:
            header, *lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
        except (OSError, ValueError):
            continue
        column = header.split().index("uid") if "uid" in header.split() else None
        for line in lines:
            fields = line.split()
            if column is not None and len(fields) > column and fields[column] == uid:
                found.append(f"{kind} {fields[1] if len(fields) > 1 else '?'}")
    return sorted(found)
