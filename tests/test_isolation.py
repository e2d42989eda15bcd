"""Submissions never meet: nothing a task does reaches the worker it was forked from or the
task after it, in every sandbox layer. Each test has one task attempt the harm and the next
one look for it; the worker must come out as it went in (same process, same limits, same
priority, running), and a worker that stops answering is replaced within the call limit."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from conftest import start_sandbox
from test_sandbox import descendants, run

from autograder.runtime import isolation
from autograder.sandbox import WORKER_MARGIN_SECONDS, Sandbox

SYSV = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
IPC_CREAT = 0o1000
KEY = 0x5EC2E7

def f(secret=None):
    if secret is not None:  # leave a segment, a semaphore set and a queue behind
        shmid = libc.shmget(KEY, 4096, IPC_CREAT | 0o666)
        address = libc.shmat(shmid, None, 0)
        ctypes.memmove(address, secret.encode(), len(secret))
        libc.semget(KEY, 1, IPC_CREAT | 0o666)
        libc.msgget(KEY, IPC_CREAT | 0o666)
        queue = libc.mq_open(b"/left-behind", 0o100 | 0o2, 0o666, None)
        return [shmid, queue]
    found = []
    shmid = libc.shmget(KEY, 0, 0)
    if shmid >= 0:
        address = libc.shmat(shmid, None, 0)
        found.append("shm: " + ctypes.string_at(address, 40).split(b"\\0")[0].decode())
    if libc.semget(KEY, 0, 0) >= 0:
        found.append("semaphores")
    if libc.msgget(KEY, 0, 0) >= 0:
        found.append("message queue")
    if libc.mq_open(b"/left-behind", 0, 0, None) >= 0:
        found.append("posix queue")
    return found
"""

HARM_THE_WORKER = """
import os, resource, signal

def f():
    reached = []
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        pid = int(entry)
        for name, harm in (
            ("prlimit", lambda: resource.prlimit(pid, resource.RLIMIT_NPROC, (1, 1))),
            ("renice", lambda: os.setpriority(os.PRIO_PROCESS, pid, 19)),
            ("stop", lambda: os.kill(pid, signal.SIGSTOP)),
        ):
            try:
                harm()
                reached.append(f"{name} {pid}")
            except OSError:
                pass
    for pid in (os.getppid(), 1):
        if pid not in (0, me):
            try:
                os.kill(pid, signal.SIGSTOP)
                reached.append(f"stop {pid}")
            except OSError:
                pass
    if me == 1:  # only in a pid namespace of its own may a test try every process of its uid
        try:
            os.setpriority(os.PRIO_USER, os.getuid(), 19)
        except OSError:
            pass
        try:
            os.kill(-1, signal.SIGSTOP)
        except OSError:
            pass
    return {"pid": me, "parent": os.getppid(), "reached": reached}
"""


def worker_pid(sandbox: Sandbox) -> int:
    """The worker's host pid: the first-started Python process under the sandbox (the
    launchers before it, bwrap or unshare, carry the same command line but are not Python)."""
    assert sandbox._process is not None
    found = []
    for pid in [sandbox._process.pid, *descendants(sandbox._process.pid)]:
        try:
            comm = Path(f"/proc/{pid}/comm").read_text()
            started = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
        except OSError:
            continue
        if comm.startswith("python"):
            found.append((started, pid))
    assert found, "no worker process found"
    return min(found)[1]


def worker_state(pid: int) -> tuple[bool, str, str]:
    """Whether it is stopped, its nice value and its resource limits, as the host sees them."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return fields[0] in ("T", "t"), fields[16], Path(f"/proc/{pid}/limits").read_text()


@pytest.fixture(scope="module", params=("bwrap", "unshare", "rlimits", "none"))
def sandbox(request: pytest.FixtureRequest):
    started = start_sandbox(request.param)
    yield started
    started.shutdown()


def test_every_layer_isolates_its_tasks(sandbox):
    """Where the kernel allows it (it does here), each task has namespaces of its own."""
    assert sandbox.isolation == "namespaces", sandbox.isolation
    _, result, _ = run(sandbox, "import os\ndef f():\n    return [os.getpid(), os.getppid()]\n")
    # The task is pid 1 of its own pid namespace; each check's calls run in a fresh copy of it.
    assert result.ok and result.value == [2, 1]


def test_a_task_cannot_touch_the_worker(sandbox):
    pid = worker_pid(sandbox)
    before = worker_state(pid)
    _, result, _ = run(sandbox, HARM_THE_WORKER, timeout=10)
    assert result.ok, result
    # Only the task's own loaded process (pid 1 there, which forked the call's copy) is in reach.
    assert all(harm.endswith(" 1") for harm in result.value["reached"]), result.value
    time.sleep(0.2)
    assert worker_state(pid) == before
    _, after, _ = run(sandbox, "def f():\n    return 'still served'\n")
    assert after.ok and after.value == "still served"
    assert worker_pid(sandbox) == pid and sandbox.replacements == []


def test_ipc_objects_die_with_the_task(sandbox):
    secret = f"another student's code {os.getpid()}"
    _, left, _ = run(sandbox, SYSV, secret=secret)
    assert left.ok and left.value[0] >= 0, left
    _, found, _ = run(sandbox, SYSV)
    assert found.ok and found.value == []


def test_files_outside_the_task_folder_die_with_the_task(sandbox):
    _, wrote, _ = run(sandbox, """
        import os
        def f():
            wrote = []
            for folder in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock"):
                try:
                    with open(os.path.join(folder, "note-for-the-next-task"), "w") as out:
                        out.write("hello")
                    wrote.append(folder)
                except OSError:
                    pass
            return wrote
    """)
    assert wrote.ok and "/tmp" in wrote.value
    _, found, _ = run(sandbox, """
        import os
        def f():
            return [folder for folder in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")
                    if os.path.exists(os.path.join(folder, "note-for-the-next-task"))]
    """)
    assert found.ok and found.value == []


def test_a_stopped_worker_is_replaced_within_the_call_limit():
    """A worker that stops answering (stopped here from outside, as no task can) costs the
    call that was waiting at most its limit and the margin, and the next task gets a new one."""
    sandbox = start_sandbox("bwrap")
    try:
        loaded = sandbox.open_task({"student.py": b"def f():\n    return 1\n"}, "student.py")
        assert loaded.ok
        old = worker_pid(sandbox)
        os.kill(old, signal.SIGSTOP)
        started = time.monotonic()
        result = sandbox.call("call_f", timeout=2)
        waited = time.monotonic() - started
        assert not result.ok and "stopped answering" in (result.error or "")
        assert waited < 2 + WORKER_MARGIN_SECONDS + 10  # generous: the machine may be busy
        assert sandbox.replacements
        sandbox.close_task()
        sandbox.ready()
        _, after, _ = run(sandbox, "def f():\n    return 'new worker'\n")
        assert after.ok and after.value == "new worker"
        assert worker_pid(sandbox) != old
    finally:
        sandbox.shutdown()


def test_worker_health_notices_what_a_task_could_change():
    """Where tasks cannot have namespaces, the worker compares its own state after each task;
    this is what it would notice (checked in a throwaway child of this test)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        health = isolation.WorkerHealth()
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, 64), hard))
        os.setpriority(os.PRIO_PROCESS, 0, os.getpriority(os.PRIO_PROCESS, 0) + 1)
        os.write(write_end, "\n".join(health.changes()).encode())
        os._exit(0)
    os.close(write_end)
    changes = os.read(read_end, 4096).decode().splitlines()
    os.waitpid(pid, 0)
    assert f"rlimit {int(__import__('resource').RLIMIT_NOFILE)}" in changes
    assert "priority" in changes


def test_a_locked_task_folder_does_not_block_the_next_task(sandbox):
    """Folders a task made unreadable (its own folder included) are still emptied."""
    _, locked, _ = run(sandbox, """
        import os
        def f():
            os.makedirs("deep/deeper")
            with open("deep/deeper/note", "w") as out:
                out.write("left behind")
            os.chmod("deep/deeper", 0)
            os.chmod("deep", 0)
            os.chmod(".", 0o100)
            return "locked"
    """)
    assert locked.ok and locked.value == "locked"
    _, found, _ = run(sandbox, "import os\ndef f():\n    return sorted(os.listdir('.'))\n")
    assert found.ok and [name for name in found.value if name != "__pycache__"] == ["student.py"]
    assert sandbox.replacements == []


def test_keys_die_with_the_task(sandbox):
    """Kernel keyrings (session, user, user-session) hold nothing from an earlier task."""
    source = """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        RINGS = (-3, -4, -5)  # session, user, user-session
        def f(put=False):
            if put:
                return [libc.syscall({add_key}, b"user", b"left-behind", b"source", 6, ring)
                        for ring in RINGS]
            return [libc.syscall({keyctl}, 10, ring, b"user", b"left-behind", 0) for ring in RINGS]
    """
    numbers = {"x86_64": (248, 250), "aarch64": (217, 219)}.get(os.uname().machine)
    if numbers is None:
        pytest.skip("system call numbers known for x86_64 and aarch64 only")
    source = source.format(add_key=numbers[0], keyctl=numbers[1])
    _, put, _ = run(sandbox, source, put=True)
    assert put.ok and all(key > 0 for key in put.value), put
    _, found, _ = run(sandbox, source)
    assert found.ok and found.value == [-1, -1, -1]


def test_a_deep_folder_tree_is_emptied_without_replacing_the_worker(sandbox):
    """5000 nested folders (deeper than any recursion and than PATH_MAX), an unreadable one and a
    link out among them, are removed by the worker itself."""
    _, deep, _ = run(sandbox, """
        import os
        def f():
            folder = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
            for depth in range(5000):
                os.mkdir("d", dir_fd=folder)
                if depth == 2500:
                    os.symlink("/", "link", dir_fd=folder)
                    os.chmod("d", 0o300, dir_fd=folder)  # unreadable
                inner = os.open("d", os.O_RDONLY | os.O_DIRECTORY | os.O_PATH, dir_fd=folder)
                os.close(folder)
                folder = inner
            os.close(folder)
            return "deep"
    """, timeout=30)
    assert deep.ok and deep.value == "deep", deep
    _, found, _ = run(sandbox, "import os\ndef f():\n    return sorted(os.listdir('.'))\n")
    assert found.ok and [name for name in found.value if name != "__pycache__"] == ["student.py"]
    assert sandbox.replacements == []


def test_a_file_written_under_an_installed_name_is_not_what_imports_find(sandbox):
    """The task's folder comes after the installed packages on sys.path: a module the code
    writes at run time under an installed package's name (one the worker has not imported)
    does not replace that package."""
    _, result, _ = run(sandbox, """
        def f():
            with open("jinja2.py", "w") as out:
                out.write("PLANTED = True\\n")
            import jinja2
            return hasattr(jinja2, "PLANTED")
    """)
    assert result.ok and result.value is False


def test_the_probes_prepare_each_task_before_its_code_loads(sandbox):
    """``prepare(task)`` runs in the task's own process, before the student's code, once."""
    loaded = sandbox.open_task({"student.py": b"def f():\n    return 1\n"}, "student.py", task="roots")
    assert loaded.ok
    assert sandbox.call("prepared").value == ["roots"]
    sandbox.close_task()
    loaded = sandbox.open_task({"student.py": b"def f():\n    return 1\n"}, "student.py")
    assert loaded.ok and sandbox.call("prepared").value == []
    sandbox.close_task()
