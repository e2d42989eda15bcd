"""The sandbox keeps its promises in every layer: data back, limits enforced, nothing left
running, and (in the isolating layers) no secrets and no network."""

from __future__ import annotations

import dataclasses
import os
import socket
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import FAST_LIMITS, start_sandbox

from autograder.sandbox import Sandbox

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def run(sandbox: Sandbox, source: str, probe: str = "call_f", timeout: float | None = None, **args):
    loaded = sandbox.open_task({"student.py": textwrap.dedent(source).encode()}, "student.py")
    result = sandbox.call(probe, timeout=timeout, **args) if loaded.ok else None
    output = sandbox.close_task()
    return loaded, result, output


def processes_with(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmdline:
                found.append(int(entry))
    return found


def test_plain_data_comes_back(any_sandbox):
    loaded, result, output = run(any_sandbox, """
        import numpy as np
        def f(n):
            print("working")
            return {"values": [1, 2.5, None, True], "array": np.arange(n) * 0.5, "nan": float("nan")}
    """, n=4)
    assert loaded.ok and result.ok
    assert result.value["values"] == [1, 2.5, None, True]
    np.testing.assert_array_equal(result.value["array"], np.arange(4) * 0.5)
    assert np.isnan(result.value["nan"])
    assert output.stdout == "working\n"


def test_student_exception_and_missing_name(any_sandbox):
    _, raised, _ = run(any_sandbox, "def f():\n    raise ValueError('lr must be positive')\n")
    assert raised.status == "raised" and raised.error_type == "ValueError"
    assert "lr must be positive" in raised.error
    _, missing, _ = run(any_sandbox, "def g():\n    pass\n")
    assert missing.status == "missing" and "does not define f" in missing.error


def test_unsendable_value_is_a_failed_call_not_a_crash(any_sandbox):
    _, result, _ = run(any_sandbox, "def f():\n    return object()\n")
    assert result.status in ("bad_answer", "raised")
    loaded, again, _ = run(any_sandbox, "def f():\n    return 1\n")
    assert again.ok and again.value == 1


def test_endless_loop_times_out_and_the_next_task_runs(any_sandbox):
    started = time.monotonic()
    _, result, _ = run(any_sandbox, "def f():\n    while True:\n        pass\n")
    assert result.status == "timeout"
    assert time.monotonic() - started < 15
    loaded, result, _ = run(any_sandbox, "import time\ntime.sleep(10**6)\n")
    assert loaded.status == "timeout"
    _, result, _ = run(any_sandbox, "def f():\n    return 'fine'\n")
    assert result.ok and result.value == "fine"


def test_exit_at_import_and_in_a_call(any_sandbox):
    loaded, _, _ = run(any_sandbox, "import os\nos._exit(0)\n")
    assert loaded.status == "crashed"
    loaded, _, _ = run(any_sandbox, "import sys\nsys.exit(0)\n")
    assert loaded.status == "load_failed" and "exit" in loaded.error
    _, result, _ = run(any_sandbox, "import os\ndef f():\n    os._exit(0)\n")
    assert result.status == "crashed"


def test_memory_bomb_is_stopped(any_sandbox):
    _, result, _ = run(any_sandbox, "def f():\n    return len(bytearray(8 << 30))\n")
    assert not result.ok
    assert result.status == "crashed" or result.error_type == "MemoryError"


def test_output_flood_is_capped(any_sandbox):
    """64 MiB on each stream, four thousand times the cap: the capture keeps the cap and drains
    the rest without blocking the writer. The call gets a minute, far more than it needs even
    on a busy machine, so the outcome does not depend on the load."""
    _, result, output = run(any_sandbox, """
        import sys
        def f():
            block = "x" * (1 << 20)
            for _ in range(64):
                sys.stdout.write(block)
                sys.stderr.write(block)
            return "done"
    """, timeout=60)
    assert result.ok and result.value == "done"
    assert output.truncated and len(output.stdout) <= 16 * 1024 and len(output.stderr) <= 16 * 1024


def test_children_and_setsid_daemons_are_killed(any_sandbox):
    marker = f"{os.getpid()}{time.monotonic_ns() % 100000}"
    _, result, _ = run(any_sandbox, f"""
        import os, subprocess
        def f():
            for _ in range(5):
                subprocess.Popen(["sleep", "{marker}"], start_new_session=True)
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    os.execvp("sleep", ["sleep", "{marker}"])
                os._exit(0)
            return "spawned"
    """)
    assert result.ok
    deadline = time.monotonic() + 5
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_with(marker) == []


def test_fork_bomb_is_limited(any_sandbox):
    _, result, _ = run(any_sandbox, """
        import os, time
        def f():
            made = 0
            try:
                for _ in range(200):
                    if os.fork() == 0:
                        time.sleep(60)
                        os._exit(0)
                    made += 1
            except OSError:
                pass
            return made
    """)
    assert result.ok
    if any_sandbox.layer != "none":  # root is exempt from RLIMIT_NPROC
        assert result.value < 200


def test_huge_file_is_stopped(any_sandbox):
    _, result, _ = run(any_sandbox, """
        def f():
            with open("big.bin", "wb") as out:
                for _ in range(2048):
                    out.write(b"\\0" * (1 << 20))
            return "wrote 2 GB"
    """)
    assert not result.ok


def test_secrets_and_grader_files_are_invisible(isolating_sandbox):
    secret = str(PROJECT_ROOT / "solutions" / "hw1" / "optimizer.py")
    _, result, _ = run(isolating_sandbox, f"""
        import os
        def f():
            seen = {{}}
            for path in [{secret!r}, {str(PROJECT_ROOT)!r}, "/root", "/home", "/etc/passwd"]:
                seen[path] = os.path.exists(path)
            seen["pid1"] = open("/proc/1/cmdline", "rb").read().decode(errors="replace")
            return seen
    """)
    assert result.ok, result.error
    seen = result.value
    assert not seen[secret] and not seen[str(PROJECT_ROOT)], "only /usr and the environment are visible"
    assert not seen["/root"] and not seen["/home"] and not seen["/etc/passwd"]
    assert "pytest" not in seen["pid1"]


def test_no_network(isolating_sandbox):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(1.0)
    port = listener.getsockname()[1]
    _, result, _ = run(isolating_sandbox, f"""
        import socket
        def f():
            try:
                socket.create_connection(("127.0.0.1", {port}), timeout=2).sendall(b"hidden tests")
                return "connected"
            except OSError as exc:
                return type(exc).__name__
    """)
    with pytest.raises(TimeoutError):
        listener.accept()
    listener.close()
    assert result.ok and result.value != "connected"


def descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        children = [p for p, parent in parents.items() if parent == current]
        found += children
        frontier += children
    return found


def host_uid(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])


@pytest.mark.skipif(os.geteuid() != 0, reason="the uid drop is only needed when grading as root")
def test_student_code_runs_as_nobody_on_the_host(uid_dropping_sandbox):
    """Seen from the host, every process under the worker runs as uid nobody (not root)."""
    any_sandbox = uid_dropping_sandbox
    loaded = any_sandbox.open_task({"student.py": b"def f():\n    return 1\n"}, "student.py")
    assert loaded.ok
    tree = descendants(any_sandbox._process.pid)
    any_sandbox.close_task()
    assert tree and all(host_uid(pid) == 65534 for pid in tree if Path(f"/proc/{pid}").exists())


def test_a_task_leaves_nothing_for_the_next_one(isolating_sandbox):
    """Only the work folder is writable, and it is emptied between tasks."""
    _, result, _ = run(isolating_sandbox, """
        import os
        def f():
            wrote = []
            for path in ["/opt/kit/pdb.py", "/planted.py", "/tmp/planted.txt", "/dev/shm/big", "/dev/x"]:
                try:
                    with open(path, "w") as out:
                        out.write("x" * (2 << 20) if "shm" in path else "raise ImportError")
                    wrote.append(path)
                except OSError:
                    pass
            os.makedirs("/tmp/planted-dir", exist_ok=True)
            return wrote
    """)
    # /tmp and /dev/shm (where the layer has one) are the task's own, empty, and gone with it.
    assert result.ok and "/tmp/planted.txt" in result.value
    assert set(result.value) <= {"/tmp/planted.txt", "/dev/shm/big"}
    _, result, _ = run(isolating_sandbox, """
        import os
        def f():
            import pdb  # noqa: F401
            shm = sorted(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else []
            return sorted(os.listdir("/tmp")) + shm
    """)
    assert result.ok and result.value == ["submission"]


def test_the_grader_environment_is_not_visible(isolating_sandbox, monkeypatch):
    _, result, _ = run(isolating_sandbox, """
        import os
        def f():
            found = []
            for pid in os.listdir("/proc"):
                if pid.isdigit():
                    try:
                        found.append(open(f"/proc/{pid}/environ", "rb").read().decode(errors="replace"))
                    except OSError:
                        pass
            return "\\n".join(found)
    """)
    assert result.ok
    for name in ("HOME=/root", "PYTEST_CURRENT_TEST", "VIRTUAL_ENV"):
        assert name not in result.value


@pytest.mark.parametrize("layer", ["bwrap", "rlimits"])
def test_memory_is_capped_for_the_task_as_a_whole(layer):
    """Under an address-space limit that would let it through, a task is still stopped by
    the cgroup: one process over the cap is killed and reported as using too much memory;
    processes that are each small but together over the cap are killed too. The sandbox
    then grades the next task."""
    if os.geteuid() != 0:
        pytest.skip("making a cgroup needs root (or a delegated cgroup v2 subtree)")
    limits = dataclasses.replace(FAST_LIMITS, address_space_mib=8192, memory_mib=1024)
    sandbox = start_sandbox(layer, limits=limits)
    try:
        assert sandbox.cgroup is not None, sandbox.cgroup_note
        # Filling memory takes seconds on a loaded machine: the calls get time enough to reach
        # the cap, so only the cap can end them.
        _, one, _ = run(sandbox, """
            def f():
                return len([b"x" * (128 << 20) for _ in range(16)])  # 2 GiB, touched
        """, timeout=60)
        assert one.status == "crashed" and "too much memory" in one.error
        _, many, _ = run(sandbox, """
            import os, time
            def f():
                children = []
                for _ in range(4):
                    pid = os.fork()
                    if pid == 0:
                        kept = [b"x" * (64 << 20) for _ in range(6)]  # 384 MiB each
                        time.sleep(2)  # all four hold theirs at once, however fast they were
                        os._exit(len(kept))
                    children.append(pid)
                return [os.waitpid(pid, 0)[1] for pid in children]
        """, timeout=60)
        assert many.ok and 9 in [status & 0x7F for status in many.value], many.value
        _, again, _ = run(sandbox, "def f():\n    return len(b'x' * (64 << 20))\n")
        assert again.ok and again.value == 64 << 20
    finally:
        sandbox.shutdown()
