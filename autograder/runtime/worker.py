"""The pre-warmed worker: imports torch once, then forks one child per task.

Runs inside the sandbox and holds no secrets: it receives the submission's files and the
probes' inputs over its stdin, and replies on its stdout. Student code only ever runs in a
forked child, which loads one task, replies to probe calls with plain data, and is killed with
everything it started when the task is closed.

Requests (``op``): ``hello``, ``open`` (files as blobs, the task's entry file, limits),
``call`` (probe name and arguments), ``close``. Every answer has a ``status``.
"""

from __future__ import annotations

import ctypes
import fcntl
import gc
import importlib.util
import itertools
import os
import resource
import signal
import stat
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import determinism, isolation, probing, task_state
from .channel import Channel
from .loader import load_module, run_notebook, short_traceback
from .probing import Missing
from .protocol import ProtocolError, encode
from .status import LoadStatus, ProbeStatus, WorkerStatus
from .torch_startup import defer_compiler_import, skip_compiler_import

PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
SAFE_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


class OutputCapture:
    """Drains a pipe in a thread, keeping the first ``cap`` bytes and counting the rest."""

    def __init__(self, fd: int, cap: int) -> None:
        self.fd, self.cap = fd, cap
        self.kept = bytearray()
        self.dropped = 0
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            room = self.cap - len(self.kept)
            self.kept += chunk[:room]
            self.dropped += max(0, len(chunk) - room)
        os.close(self.fd)

    def text(self) -> str:
        self.thread.join(timeout=2)
        return self.kept.decode("utf-8", errors="replace")


class TaskChild:
    """One forked child holding one task of one submission.

    What it prints while its code loads and while probes run is captured apart (``load``
    and ``calls``): a notebook runs whole for every task, and its own output is then shown
    once, not once per task."""

    def __init__(self, pid: int, channel: Channel, load: tuple[OutputCapture, OutputCapture],
                 calls: tuple[OutputCapture, OutputCapture]) -> None:
        self.pid, self.channel = pid, channel
        self.load_stdout, self.load_stderr = load
        self.stdout, self.stderr = calls
        self.exit_status: int | None = None

    def captures(self) -> tuple[OutputCapture, ...]:
        return (self.load_stdout, self.load_stderr, self.stdout, self.stderr)


def _prctl(option: int, value: int) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _prefer_me_for_oom() -> None:
    """Should the sandbox's cgroup run out of memory, the kernel kills the task, not the worker
    (raising one's own score needs no privilege)."""
    try:
        with open("/proc/self/oom_score_adj", "w") as handle:
            handle.write("1000")
    except OSError:
        pass


def _set_limits(limits: dict[str, Any]) -> None:
    """Resource limits for the task child (address space, processes, file size, cpu, fds)."""
    mib = 1 << 20
    table = {
        resource.RLIMIT_AS: int(limits["address_space_mib"]) * mib,
        resource.RLIMIT_NPROC: int(limits["processes"]),
        resource.RLIMIT_FSIZE: int(limits["file_size_mib"]) * mib,
        resource.RLIMIT_CPU: int(limits["cpu_seconds"]),
        resource.RLIMIT_NOFILE: 256,
        resource.RLIMIT_CORE: 0,
    }
    for which, value in table.items():
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass


# In the task's child: fds 1 and 2 carry what loading prints, 3 and 4 the control channel,
# and 5 and 6 what the probe calls print, moved onto 1 and 2 once the code has loaded.
CALL_STDOUT_FD, CALL_STDERR_FD = 5, 6


def _output_to_calls() -> None:
    """From here on, what the task prints is the probe calls' output, not the load's."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os.dup2(CALL_STDOUT_FD, 1)
    os.dup2(CALL_STDERR_FD, 2)
    os.close(CALL_STDOUT_FD)
    os.close(CALL_STDERR_FD)


def _child_main(workdir: Path, entry: str, probes: Any, control: Channel, task: str | None,
                seed: int = 0) -> None:
    """Let the probes prepare for the task (``prepare(task)``, if they define it: it runs
    before any student code, so it can take away what the task may not use), seed the random
    generators, load the task, then serve probe calls (each check's in a fresh copy of the
    loaded task, see ``Zygote``) until the worker closes the channel."""
    determinism.install(seed)
    prepare = getattr(probes, "prepare", None)
    if task is not None and callable(prepare):
        prepare(task)
    os.chdir(workdir)
    # After the installed packages: a file the task writes at run time under an installed
    # module's name (or the standard library's) is never what an import finds.
    sys.path.append(str(workdir))
    sys.argv = [entry]
    entry_path = workdir / entry
    failed_cells: list[dict[str, Any]] = []
    try:
        if entry_path.suffix == ".ipynb":
            namespace, failed_cells = run_notebook(entry_path)
            probing.FAILED_CELLS[:] = failed_cells  # for ``need`` to say which cell failed
        else:
            namespace = load_module(entry_path)
        control.send({"status": LoadStatus.LOADED, "failed_cells": failed_cells,
                      "determinism": determinism.report(seed)})
    except SystemExit as exc:
        control.send({"status": LoadStatus.LOAD_FAILED, "error": f"the code called exit({exc.code!r})"})
        return
    except BaseException as exc:  # anything the student's import raises is feedback
        control.send({"status": LoadStatus.LOAD_FAILED, "error": short_traceback(exc, str(workdir))})
        return
    _output_to_calls()
    zygote = Zygote(probes, namespace, str(workdir))
    while True:
        try:
            request, _ = control.receive(timeout=None)
        except (EOFError, ProtocolError):
            zygote.discard()
            return
        control.send_raw(zygote.run(request))


# A copy's first word on a check's first call: it is still as loaded and runs the call, or the
# last check left state in it and it runs nothing (a new copy runs the call). A copy that says
# neither within STATE_SECONDS (a thread of the last check holding the interpreter, say) is
# replaced too.
KEPT, STALE = encode({"kept": True}), encode({"kept": False})
STATE_SECONDS = 2.0


class Zygote:
    """The loaded task, kept as it was after loading: each check gets a fresh copy of it.

    State a submission keeps between calls (class attributes, module globals, dicts keyed by
    ``id(p)``) would otherwise carry from one check into the next, and make a check's result
    depend on which checks ran before it (and, through ``id`` reuse, on the allocator). So
    this process, once the code has loaded, runs no student code again: it forks a copy
    that serves the calls of one check. The grader's ``fresh`` flag on the first call of the
    next check has the copy compare its state with the loaded state: one that changed is
    discarded (with, as pid 1 of the task's namespace, everything the copy started) and the
    call runs in a new copy. A copy costs a fork of a loaded process (a few ms); files a
    check writes in the task's folder do stay for the next one.

    Threads the student's code started while loading keep running here, in the zygote, so
    their effects can still reach later copies: nothing in a copy starts them again. A copy
    shares the task's uid and namespaces with the zygote, so code bent on it can renice or
    limit the zygote and so spoil its own later checks; it reaches nothing outside its task."""

    def __init__(self, probes: Any, namespace: dict, student_dir: str) -> None:
        self.probes, self.namespace, self.student_dir = probes, namespace, student_dir
        self.copy: tuple[int, Channel] | None = None
        # The loaded state: a copy still holding exactly this serves the next check too.
        self.loaded = task_state.capture(namespace, student_dir)
        # What is loaded now is never collected in a copy: the collector would otherwise walk
        # (and so write to, and copy) every page of it in each copy.
        gc.freeze()

    def run(self, request: dict[str, Any]) -> bytes:
        """The copy's answer to ``request``, as bytes; a copy that died is described.

        The first call of a check (the grader's ``fresh`` flag) keeps the current copy only
        if nothing the last check did stayed in it (see ``task_state``): the copy checks that
        itself and says so (``KEPT``) before it runs the call; otherwise the call runs in a
        new copy."""
        if request.get("fresh") and self.copy is not None:
            if self.loaded.digest is not None and self._send(request) and self._kept():
                return self._answer()
            self.discard()
        if self.copy is None:
            try:
                self.copy = self._fork()
            except OSError as exc:  # the task's process limit, say, lowered by its own code
                return encode({"status": ProbeStatus.CRASHED,
                               "error": f"no fresh copy of the loaded code could be started ({exc})"})
        self._send({**request, "fresh": False})  # a new copy is as loaded
        return self._answer()

    def _send(self, request: dict[str, Any]) -> bool:
        assert self.copy is not None
        try:
            self.copy[1].send(request)
        except (OSError, ProtocolError):
            return False  # the answer's read says how the copy ended
        return True

    def _kept(self) -> bool:
        assert self.copy is not None
        try:
            return self.copy[1].receive_raw(timeout=STATE_SECONDS) == KEPT
        except (EOFError, OSError, ProtocolError, TimeoutError):
            return False

    def _answer(self) -> bytes:
        assert self.copy is not None
        try:
            return self.copy[1].receive_raw(timeout=None)
        except (EOFError, OSError, ProtocolError):
            status = self.discard(wait=True)
            return encode({"status": ProbeStatus.CRASHED, "error": _describe_exit(status)})

    def _fork(self) -> tuple[int, Channel]:
        to_copy_r, to_copy_w = os.pipe()
        from_copy_r, from_copy_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the copy: never returns
            try:
                os.close(to_copy_w)
                os.close(from_copy_r)
                for fd in (3, 4):  # the worker's channel is the zygote's alone
                    os.close(fd)
                os.setpgid(0, 0)
                # Python reseeds its own generator in every forked child (random.py's at-fork
                # hook): each copy gets the loaded state back, so unseeded draws are the same.
                task_state.restore(self.loaded)
                _serve_probes(self.probes, self.namespace, Channel(to_copy_r, from_copy_w), self.student_dir,
                              self.loaded)
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(0)
        os.close(to_copy_r)
        os.close(from_copy_w)
        return pid, Channel(from_copy_r, to_copy_w)

    def discard(self, wait: bool = False) -> int | None:
        """Kill the current copy and everything it started. With ``wait``, wait for it and
        return its exit status; else it dies (and frees its memory) while the next check runs,
        and is reaped at a later discard."""
        if self.copy is None:
            return None
        pid, channel = self.copy
        self.copy = None
        channel.close()
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        if os.getpid() == 1:  # the task's own pid namespace: nothing else in it is ours to keep
            try:
                os.kill(-1, signal.SIGKILL)
            except OSError:
                pass
        status = None
        while True:
            try:
                reaped, code = os.waitpid(-1 if not wait else pid, 0 if wait else os.WNOHANG)
            except ChildProcessError:
                return status
            if reaped == 0:
                return status
            if reaped == pid:
                status = code
                if wait:
                    return status


def _serve_probes(probes: Any, namespace: dict, channel: Channel, student_dir: str,
                  loaded: task_state.LoadedState) -> None:
    """In a copy of the loaded task: answer probe calls until the zygote closes the channel."""
    while True:
        try:
            request, _ = channel.receive(timeout=None)
        except (EOFError, ProtocolError):
            return
        if request.get("fresh"):  # a new check: is this copy still as loaded? (Zygote.run)
            task_state.restore(loaded)
            kept = task_state.fingerprint(namespace, loaded.own) == loaded.digest and task_state.alone()
            channel.send_raw(KEPT if kept else STALE)
            if not kept:
                continue
        answer = _run_probe(probes, namespace, request, student_dir)
        try:
            channel.send(answer)
        except (ProtocolError, RecursionError, ValueError, TypeError) as exc:
            channel.send({"status": ProbeStatus.BAD_ANSWER, "error": f"the value cannot be sent back: {exc}"})


def _run_probe(probes: Any, namespace: dict, request: dict, student_dir: str) -> dict[str, Any]:
    probe = probes.PROBES.get(request.get("probe"))
    if probe is None:
        return {"status": ProbeStatus.ERROR, "error": f"unknown probe {request.get('probe')!r}"}
    try:
        value = probe(namespace, **request.get("args", {}))
    except Missing as exc:
        return {"status": ProbeStatus.MISSING, "error": str(exc)}
    except SystemExit as exc:
        return {"status": ProbeStatus.RAISED, "type": "SystemExit", "error": f"exit({exc.code!r}) called"}
    except BaseException as exc:  # the student's exception is the evidence
        return {
            "status": ProbeStatus.RAISED,
            "type": type(exc).__name__,
            "error": short_traceback(exc, student_dir),
        }
    return {"status": ProbeStatus.OK, "value": value}


class Worker:
    """Serves the grader's requests; at most one task child at a time."""

    def __init__(self, channel: Channel, probes: Any, workroot: Path, isolation_problem: str | None) -> None:
        self.channel, self.probes, self.workroot = channel, probes, workroot
        self.isolated = isolation_problem is None
        self.isolation_problem = isolation_problem
        self.health = isolation.WorkerHealth()
        self.child: TaskChild | None = None
        self.limits: dict[str, Any] = {}
        self.opened = 0
        self.workdir: Path | None = None

    def serve(self) -> None:
        while True:
            try:
                request, blobs = self.channel.receive(timeout=None)
            except EOFError:
                self._close_child()
                return
            handler = getattr(self, "op_" + str(request.get("op")), None)
            if handler is None:
                self.channel.send({"status": ProbeStatus.ERROR, "error": "unknown op"})
                continue
            try:
                answer = handler(request, blobs)
            except Exception as exc:  # e.g. a full tmpfs: fail this request, keep serving
                self._close_child()
                answer = {"status": ProbeStatus.ERROR, "error": f"the sandbox could not do that: {exc}"}
            if isinstance(answer, bytes):
                self.channel.send_raw(answer)
            else:
                self.channel.send(answer)

    def op_hello(self, request: dict, blobs: dict) -> dict[str, Any]:
        import numpy
        import torch

        return {
            "status": ProbeStatus.OK,
            "python": sys.version.split()[0],
            "torch": torch.__version__,
            "numpy": numpy.__version__,
            "uid": os.getuid(),
            "pid": os.getpid(),
            "isolation": "namespaces" if self.isolated else f"health checks ({self.isolation_problem})",
        }

    def op_open(self, request: dict, blobs: dict) -> dict[str, Any]:
        self._close_child()
        self.limits = request["limits"]
        self.opened += 1
        self._empty_workroot()
        # A fixed name keeps output (warnings, tracebacks) reproducible; nothing can be planted
        # in advance because the work root was just emptied.
        workdir = self.workroot / "submission"
        self.workdir = workdir
        workdir.mkdir(mode=0o700)
        for name, data in blobs.items():
            if not set(name) <= SAFE_NAME_CHARS or name.startswith("."):
                return {"status": ProbeStatus.ERROR, "error": f"refused file name {name!r}"}
            (workdir / name).write_bytes(data)
        entry = request["entry"]
        seed = request.get("seed")
        self.child = self._fork_child(workdir, entry, request.get("task"), seed if type(seed) is int else 0)
        return self._await(self.limits["load_seconds"])

    def op_call(self, request: dict, blobs: dict) -> dict[str, Any] | bytes:
        """Relay the probe call that follows this request to the child, and the child's answer
        back, as bytes: the grader and the child decode them, the worker need not."""
        call = self.channel.receive_raw(timeout=30)
        if self.child is None or self.child.exit_status is not None:
            return {"status": ProbeStatus.CRASHED, "error": "the task's process is not running"}
        try:
            self.child.channel.send_raw(call)
        except OSError:
            return self._crashed()
        return self._await(float(request.get("timeout") or self.limits["call_seconds"]), raw=True)

    def op_close(self, request: dict, blobs: dict) -> dict[str, Any]:
        child = self.child
        self._close_child()
        # Anything the task changed of this worker means it must not serve another one.
        changed = self.health.changes() + self._leftovers()
        if child is None:
            return {"status": ProbeStatus.OK, "stdout": "", "stderr": "", "truncated": False,
                    "changed": changed}
        return {
            "status": ProbeStatus.OK,
            "load_stdout": child.load_stdout.text(),
            "load_stderr": child.load_stderr.text(),
            "stdout": child.stdout.text(),
            "stderr": child.stderr.text(),
            "truncated": any(capture.dropped for capture in child.captures()),
            "exit_status": child.exit_status,
            "changed": changed,
        }

    def _await(self, timeout: float, raw: bool = False) -> dict[str, Any] | bytes:
        assert self.child is not None
        try:
            if raw:
                return self.child.channel.receive_raw(timeout=timeout)
            answer, _ = self.child.channel.receive(timeout=timeout)
        except TimeoutError:
            self._kill_tree()
            return {"status": ProbeStatus.TIMEOUT, "error": f"no answer within {timeout:g} s"}
        except (EOFError, OSError):
            return self._crashed()
        except ProtocolError as exc:
            self._kill_tree()
            return {"status": ProbeStatus.BAD_ANSWER, "error": str(exc)}
        return answer

    def _crashed(self) -> dict[str, Any]:
        self._kill_tree()
        status = self.child.exit_status if self.child else None
        return {"status": ProbeStatus.CRASHED, "error": _describe_exit(status)}

    def _fork_child(self, workdir: Path, entry: str, task: str | None, seed: int) -> TaskChild:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        streams = [os.pipe() for _ in range(4)]  # load stdout, load stderr, calls' stdout, stderr
        pid = os.fork()
        if pid == 0:  # the child: never returns
            try:
                os.setsid()
                # Moved above every fd in use first, so no dup2 below overwrites one still needed.
                high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 16)
                        for fd in (to_child_r, from_child_w, *(w for _, w in streams))]
                for target, fd in zip((3, 4, 1, 2, CALL_STDOUT_FD, CALL_STDERR_FD), high, strict=True):
                    os.dup2(fd, target)
                devnull = os.open(os.devnull, os.O_RDONLY)
                os.dup2(devnull, 0)
                os.closerange(CALL_STDERR_FD + 1, 65536)
                sys.stdout = os.fdopen(1, "w", buffering=1, errors="replace")
                sys.stderr = os.fdopen(2, "w", buffering=1, errors="replace")
                if self.isolated:
                    workdir = self._isolate(workdir)
                _prefer_me_for_oom()
                _set_limits(self.limits)
                _child_main(workdir, entry, self.probes, Channel(3, 4), task, seed)
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(0)
        for fd in (to_child_r, from_child_w, *(w for _, w in streams)):
            os.close(fd)
        cap = int(self.limits["output_kib"]) * 1024
        captures = [OutputCapture(r, cap) for r, _ in streams]
        return TaskChild(pid, Channel(from_child_r, to_child_w), (captures[0], captures[1]),
                         (captures[2], captures[3]))

    def _isolate(self, workdir: Path) -> Path:
        """In the task's child: enter its own namespaces; this process stays behind as the
        relay and the next one, pid 1 there, runs the task (see ``isolation``)."""
        isolation.enter()
        task = os.fork()
        if task != 0:
            isolation.relay_exit(task)
        return isolation.seal(workdir, int(self.limits["tmpfs_mib"]) << 20)

    def _kill_tree(self) -> None:
        """Kill the task child and every process it started, daemons included.

        The worker is a child subreaper, so anything the task's processes leave behind is
        re-parented here; killing our children until none are left gets all of them.
        """
        if self.child is not None:
            try:
                os.killpg(self.child.pid, signal.SIGKILL)
            except OSError:
                pass
        for _ in range(1000):
            children = _children_of(os.getpid())
            if not children:
                return
            for pid in children:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            for pid in children:
                self._reap(pid)

    def _reap(self, pid: int) -> None:
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            return
        if self.child is not None and pid == self.child.pid:
            self.child.exit_status = status

    def _close_child(self) -> None:
        if self.child is None:
            return
        self._kill_tree()
        self.child.channel.close()
        self._empty_workroot()
        self.child = None

    def _empty_workroot(self) -> None:
        """Remove everything a task left in the writable work root, so nothing a student
        wrote is seen by the next submission; folders the task made unreadable are opened
        up first. What still cannot be removed is reported by ``op_close`` as a change."""
        _empty_folder(self.workroot)

    def _leftovers(self) -> list[str]:
        try:
            return ["work folder"] if any(self.workroot.iterdir()) else []
        except OSError:
            return ["work folder"]


def _empty_folder(top: Path) -> None:
    """Remove what ``top`` holds, whatever its depth or path lengths, without recursion and with
    a few descriptors open at a time: each sub-folder is opened up (the task that locked it is
    dead), its children are moved up into ``top`` under fresh names, and the emptied folder is
    removed; files and symbolic links are unlinked, never followed. What cannot be moved or
    removed is left for ``_leftovers`` to report."""
    try:
        root = os.open(top, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return
    fresh = _fresh_names(root)
    try:
        pending = os.listdir(root)
        while pending:
            name = pending.pop()
            try:
                if not stat.S_ISDIR(os.lstat(name, dir_fd=root).st_mode):
                    os.unlink(name, dir_fd=root)
                    continue
                pending += _move_up(name, root, fresh)
                os.rmdir(name, dir_fd=root)
            except OSError:
                continue
    finally:
        os.close(root)


def _move_up(name: str, root: int, fresh: Iterator[str]) -> list[str]:
    """Move the children of the folder ``name`` in ``root`` up into ``root``; returns their new
    names. Each folder is made accessible (0o700) before it is opened or moved, since moving a
    folder rewrites its ``..`` entry."""
    os.chmod(name, 0o700, dir_fd=root)
    folder = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=root)
    moved = []
    try:
        for child in os.listdir(folder):
            try:
                if stat.S_ISDIR(os.lstat(child, dir_fd=folder).st_mode):
                    os.chmod(child, 0o700, dir_fd=folder)
                new_name = next(fresh)
                os.rename(child, new_name, src_dir_fd=folder, dst_dir_fd=root)
            except OSError:
                continue
            moved.append(new_name)
    finally:
        os.close(folder)
    return moved


def _fresh_names(root: int) -> Iterator[str]:
    """Names that nothing in the folder ``root`` has yet."""
    for number in itertools.count():
        name = f".removing-{number}"
        try:
            os.lstat(name, dir_fd=root)
        except FileNotFoundError:
            yield name


def _children_of(pid: int) -> list[int]:
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and fields[1] == str(pid):
            children.append(int(entry))
    return children


def _describe_exit(status: int | None) -> str:
    if status is None:
        return "the task's process stopped answering"
    if os.WIFSIGNALED(status):
        signame = signal.Signals(os.WTERMSIG(status)).name
        reasons = {
            "SIGKILL": " (killed: out of memory, cpu time, or by the grader)",
            "SIGXCPU": " (cpu time limit)",
            "SIGXFSZ": " (file size limit)",
            "SIGSEGV": " (segmentation fault)",
        }
        return f"the task's process was killed by {signame}{reasons.get(signame, '')}"
    return f"the task's process exited with status {os.WEXITSTATUS(status)} before answering"


def _load_probes(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location("probes", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load probes from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["probes"] = module
    spec.loader.exec_module(module)
    return module


def _fixed_hashing() -> None:
    """Start again, once, with string hashing fixed and (where the kernel lets an unprivileged
    process ask) no address space randomisation, before anything is imported: the order of a
    set of strings or of ``id()`` values then cannot differ between two gradings of the same
    code. ``-I`` would ignore PYTHONHASHSEED, so the new interpreter gets ``-s -P`` (the rest
    of what ``-I`` does) and an environment without any other PYTHON* variable."""
    if not sys.flags.hash_randomization or "-c" not in getattr(sys, "orig_argv", []):
        return
    try:
        ctypes.CDLL(None, use_errno=True).personality(determinism.ADDR_NO_RANDOMIZE)
    except (OSError, AttributeError):
        pass
    argv = list(sys.orig_argv)
    options = ["-s", "-P"] if "-I" in argv[1:argv.index("-c")] else []
    argv = [argv[0], *options, *(a for a in argv[1:argv.index("-c")] if a != "-I"), *argv[argv.index("-c"):]]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    environment["PYTHONHASHSEED"] = "0"
    try:
        os.execve(sys.executable, argv, environment)
    except OSError:
        pass  # keep running as started; the result says hashing was not fixed


def main(argv: list[str]) -> None:
    """``worker PROBES WORKROOT [isolated|shared]``: serve requests on stdin/stdout until
    stdin closes."""
    _fixed_hashing()
    probes_path, workroot = Path(argv[0]), Path(argv[1])
    isolate_tasks = argv[2:3] != ["shared"]  # "shared" only for the benchmark's comparison
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)  # before any op: a fork after threaded OpenMP work can deadlock
    skip_compiler_import()  # a second of start-up (and of every cold task) saved
    defer_compiler_import()  # and another: torch's own optimizers' step
    probes = _load_probes(probes_path)
    started = time.monotonic()
    if hasattr(probes, "warm_up"):
        probes.warm_up()
    # Seeding imports numpy.random on first use (80 ms): once here, not in every task.
    determinism.seed_everything(0)
    _prctl(PR_SET_DUMPABLE, 0)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    isolation_problem = isolation.available() if isolate_tasks else "turned off"
    # The protocol owns fds 0 and 1; anything else printing to stdout must not corrupt it.
    channel = Channel(os.dup(0), os.dup(1))
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    channel.send({"status": WorkerStatus.READY, "warm_seconds": time.monotonic() - started})
    Worker(channel, probes, workroot, isolation_problem).serve()
