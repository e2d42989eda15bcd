"""Start the worker in the strongest isolation this machine offers and talk to it.

Layers, strongest first (the result and the report name the one used):

``bwrap``    bubblewrap as an unprivileged uid: new user, mount, pid, net, ipc and uts
             namespaces; only /usr, the Python environment and the sandbox runtime are
             visible, read-only; a size-capped tmpfs holds the submission.
``unshare``  util-linux ``unshare`` as an unprivileged uid with the same namespaces and the
             same read-only view of the file system, mounted by hand, then ``pivot_root``.
``rlimits``  a plain process as uid ``nobody``: limits and a uid drop, but the file system is
             as ``nobody`` sees it.
``none``     a plain process as the grading user. Grading still works; the report says loudly
             that it was not sandboxed.

Whatever the layer, the task child gets wall-clock timeouts, address-space, process,
file-size and cpu limits, one OpenMP thread, a clean environment and is killed with everything
it started. The grader reads only protocol messages from the worker, with a deadline.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .cgroup import Cgroup, CgroupUnavailable
from .runtime.channel import Channel
from .runtime.protocol import BodyError, ProtocolError, encode
from .runtime.status import LoadStatus, ProbeStatus, WorkerStatus
from .runtime.worker import OutputCapture

RUNTIME_DIR = Path(__file__).resolve().parent / "runtime"
KIT_PARENT = RUNTIME_DIR.parent.parent  # the folder ``import autograder`` finds the kit in
LAYERS = ("bwrap", "unshare", "rlimits", "none")
NOBODY = 65534
# The worker's malloc asks for transparent huge pages: a task's copies are forked from a
# process holding torch (about 200 MiB of its own memory), and a fork copies one page-table
# entry per 2 MiB huge page instead of 512; a fresh copy per check costs about half as much.
MALLOC_TUNABLES = "glibc.malloc.hugetlb=1"
THP_SETTINGS = "/sys/kernel/mm/transparent_hugepage"  # read-only in the sandbox: malloc asks
# The worker's whole environment in every layer, besides the HOME (and PATH) the layer gives it;
# nothing of the grader's, which may hold secrets: one OpenMP thread, and the malloc above.
WORKER_ENV = {"OMP_NUM_THREADS": "1", "GLIBC_TUNABLES": MALLOC_TUNABLES}
# How long past a task's own limit the worker may take to answer (it kills the task at the
# limit and replies at once); a worker that misses this is stopped or stuck, and replaced.
WORKER_MARGIN_SECONDS = 5.0
# The worker runs as ``autograder.runtime.worker``, so probes import the same helpers
# (``autograder.runtime.probing``) in the sandbox as in the grader; only the runtime is there.
LAUNCH = ("import sys; sys.path.insert(0, sys.argv[1]); from autograder.runtime.worker import main; "
          "main(sys.argv[2:])")
# Inside the namespace, before Python starts: a fresh root with read-only views of what the
# worker needs, made the namespace's root with pivot_root (not chroot: the kernel refuses new
# user namespaces, which each task needs, to a chrooted process), the host's root unmounted.
# Used by the ``unshare`` layer only.
UNSHARE_SETUP = r"""
set -eu
root=$(mktemp -d)
mount -t tmpfs -o size=4m,mode=755 tmpfs "$root"
for pair in $RO_MOUNTS; do
  source=${pair%%:*}; target=${pair#*:}
  mkdir -p "$root$target"
  mount --rbind "$source" "$root$target"
  mount -o remount,bind,ro "$root$target"
done
ln -s usr/lib "$root/lib"; ln -s usr/lib64 "$root/lib64"; ln -s usr/bin "$root/bin"
mkdir -p "$root/proc" "$root/dev" "$root/tmp" "$root/opt/kit/autograder/runtime"
mount -t tmpfs -o size="$TMPFS_BYTES",mode=1777 tmpfs "$root/tmp"
mount -t proc proc "$root/proc"
for node in null zero urandom random; do
  touch "$root/dev/$node"; mount --bind "/dev/$node" "$root/dev/$node"
done
kit="$root/opt/kit/autograder/runtime"
mount --bind "$RUNTIME" "$kit"; mount -o remount,bind,ro "$kit"
cp "$PROBES" "$root/opt/kit/probes.py"
mkdir "$root/.old"
mount -o remount,bind,ro "$root"
cd "$root"
/usr/sbin/pivot_root . .old
umount -l /.old
cd /tmp
exec env -i $WORKER_ENV HOME=/tmp PATH=/usr/bin:/bin \
  "$PYTHON" -I -c "$LAUNCH" /opt/kit /opt/kit/probes.py /tmp "$TASKS"
"""


def _assignments(variables: dict[str, str]) -> list[str]:
    """``NAME=value`` for ``env`` and the shell."""
    return [f"{k}={v}" for k, v in variables.items()]


class SandboxError(Exception):
    """The worker could not be started or stopped answering."""


@dataclass(frozen=True)
class Limits:
    """Per-task limits; the defaults let honest torch code run with room to spare."""

    call_seconds: float = 10.0
    load_seconds: float = 20.0
    submission_seconds: float = 300.0  # all loads and calls of one submission together
    address_space_mib: int = 4096
    processes: int = 64
    file_size_mib: int = 64
    cpu_seconds: int = 120
    output_kib: int = 64
    tmpfs_mib: int = 256
    memory_mib: int = 3072  # the worker and the current task together, where a cgroup can be made

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> Limits:
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown sandbox limits: {', '.join(sorted(unknown))}")
        return cls(**values)


@dataclass
class ProbeResult:
    """What one probe call produced: plain data, or why there is none.

    ``status`` is ``ok``, ``missing`` (a required name is not defined), ``raised`` (the
    student's code raised), ``timeout``, ``crashed``, ``bad_answer`` (malformed data) or
    ``error`` (the sandbox itself failed).
    """

    status: ProbeStatus
    value: Any = None
    error: str | None = None
    error_type: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == ProbeStatus.OK


@dataclass
class TaskOutput:
    """What the student's code printed while one task was loaded (``load_*``) and probed.

    Apart, because a notebook runs whole for every task: its own output is shown once."""

    stdout: str = ""
    stderr: str = ""
    truncated: bool = False
    load_stdout: str = ""
    load_stderr: str = ""


@dataclass
class LoadResult:
    """Whether a task's code loaded, and notes such as notebook cells that raised.

    ``failed_cells`` (a notebook's cells that raised: ``cell``, ``type``, ``line``, ``error``)
    make the load not ``ok`` (the task's loading check fails and says where) yet ``usable``:
    the other cells ran, and the checks still judge what they defined."""

    status: LoadStatus
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    failed_cells: list[dict[str, Any]] = field(default_factory=list)
    determinism: dict[str, Any] = field(default_factory=dict)  # what makes a re-grade identical

    @property
    def ok(self) -> bool:
        return self.status == LoadStatus.LOADED

    @property
    def usable(self) -> bool:
        """Whether probes can run on what loaded (all of it, or all but some cells)."""
        return self.status in (LoadStatus.LOADED, LoadStatus.CELLS_FAILED)


def _is_root() -> bool:
    return os.geteuid() == 0


def _drop_to_nobody() -> list[str]:
    if not _is_root():
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise SandboxError("running as root but `setpriv` is missing, cannot drop the uid")
    return [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--inh-caps=-all"]


ENV_MOUNT = "/opt/python-env"


def _python_mounts() -> tuple[list[tuple[str, str]], str]:
    """Read-only mounts (source, target) the sandboxed interpreter needs, and its path inside.

    The environment is mounted at a fixed path so that the project folder it may live in
    does not appear inside the sandbox; a base install outside /usr keeps its own path.
    """
    prefix = os.path.realpath(sys.prefix)
    mounts = [] if prefix.startswith("/usr/") or prefix == "/usr" else [(prefix, ENV_MOUNT)]
    base = os.path.realpath(sys.base_prefix)
    if base != prefix and not base.startswith("/usr"):
        mounts.append((base, base))
    if os.path.isdir(THP_SETTINGS):  # what glibc's malloc reads to use huge pages
        mounts.append((THP_SETTINGS, THP_SETTINGS))
    executable = os.path.abspath(sys.executable)
    if mounts and executable.startswith(sys.prefix + os.sep):
        executable = ENV_MOUNT + executable[len(sys.prefix):]
    return mounts, executable


def layer_command(
    layer: str, probes: Path, limits: Limits, isolate_tasks: bool = True
) -> tuple[list[str], str | None]:
    """The command that starts the worker in ``layer``, and a work root to clean up, if any.
    ``isolate_tasks=False`` (only for the benchmark, to measure what isolation costs) runs
    tasks in the worker's own namespaces."""
    mounts, python = _python_mounts()
    tasks = "isolated" if isolate_tasks else "shared"
    if layer == "bwrap":
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            raise SandboxError("bubblewrap (`bwrap`) is not installed")
        command = _drop_to_nobody() + [
            bwrap, "--unshare-all", "--die-with-parent", "--new-session",
            "--ro-bind", "/usr", "/usr",
            "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
            "--symlink", "usr/bin", "/bin",
        ]
        for source, target in mounts:
            command += ["--ro-bind", source, target]
        command += [
            "--ro-bind", str(RUNTIME_DIR), "/opt/kit/autograder/runtime",
            "--ro-bind", str(probes), "/opt/kit/probes.py",
            "--proc", "/proc", "--dev", "/dev",
            "--size", str(limits.tmpfs_mib << 20), "--tmpfs", "/tmp",
            "--remount-ro", "/dev", "--remount-ro", "/", "--chdir", "/tmp", "--hostname", "sandbox",
            "--clearenv", *[arg for k, v in WORKER_ENV.items() for arg in ("--setenv", k, v)],
            "--setenv", "HOME", "/tmp",
            "--setenv", "PATH", "/usr/bin:/bin",
            python, "-I", "-c", LAUNCH, "/opt/kit", "/opt/kit/probes.py", "/tmp", tasks,
        ]
        return command, None
    if layer == "unshare":
        unshare = shutil.which("unshare")
        if unshare is None:
            raise SandboxError("util-linux `unshare` is not installed")
        env_setup = {
            "TMPFS_BYTES": str(limits.tmpfs_mib << 20),
            "RO_MOUNTS": " ".join(f"{s}:{t}" for s, t in [("/usr", "/usr"), *mounts]),
            "RUNTIME": str(RUNTIME_DIR),
            "PROBES": str(probes),
            "PYTHON": python,
            "LAUNCH": LAUNCH,
            "TASKS": tasks,
            "WORKER_ENV": " ".join(_assignments(WORKER_ENV)),
        }
        assignments = _assignments(env_setup)
        command = _drop_to_nobody() + [
            "env", "-i", "PATH=/usr/bin:/bin", *assignments,
            unshare, "--user", "--map-root-user", "--mount", "--pid", "--fork", "--net",
            "--ipc", "--uts", "--kill-child", "/bin/sh", "-c", UNSHARE_SETUP,
        ]
        return command, None
    workroot = tempfile.mkdtemp(prefix="autograder-work-")
    launch = [sys.executable, "-I", "-c", LAUNCH, str(KIT_PARENT), str(probes), workroot, tasks]
    if layer == "rlimits":
        if not _is_root():
            raise SandboxError("the uid drop needs root; run as root or use another layer")
        os.chown(workroot, NOBODY, NOBODY)
        return ["env", "-i", *_assignments(WORKER_ENV), "HOME=/tmp", *_drop_to_nobody(), *launch], workroot
    if layer == "none":
        return ["env", "-i", *_assignments(WORKER_ENV), f"HOME={workroot}", *launch], workroot
    raise SandboxError(f"unknown sandbox layer {layer!r}")


LAYER_DETAIL = {
    "bwrap": "bubblewrap as uid nobody: private namespaces, read-only system, no network",
    "unshare": "unprivileged user namespace: private mounts, pid, network; read-only system",
    "rlimits": "resource limits and uid nobody only: files readable by nobody are visible",
    "none": "NOT SANDBOXED: student code ran as the grading user with resource limits only",
}


class Sandbox:
    """One worker process in one isolation layer; opens one task at a time.

    ``layer=None`` tries the layers strongest first and keeps the first whose worker
    replies. ``warm=False`` starts a fresh worker for every task (slower, same isolation).
    """

    def __init__(
        self,
        probes: Path,
        limits: Limits | None = None,
        layer: str | None = None,
        warm: bool = True,
        isolate_tasks: bool = True,
    ) -> None:
        self.probes = Path(probes).resolve()
        self.isolate_tasks = isolate_tasks
        self.limits = limits or Limits()
        self.requested_layer = layer
        self.warm = warm
        self.layer: str | None = None
        self.versions: dict[str, str] = {}
        self.failures: dict[str, str] = {}
        self._process: subprocess.Popen | None = None
        self._channel: Channel | None = None
        self._stderr: OutputCapture | None = None
        self._workroot: str | None = None
        self._task_open = False
        self.cgroup: Cgroup | None = None
        self.cgroup_note = "not started"
        self.isolation = "not started"  # how tasks are kept from the worker and each other
        self.replacements: list[str] = []  # why the worker was replaced, most recent last
        self._candidates: list[str] = []  # layers ``start`` has yet to try
        self._launching: str | None = None  # the layer of a launched worker not yet waited for

    @property
    def detail(self) -> str:
        return LAYER_DETAIL.get(self.layer or "", "not started")

    def start(self, wait: bool = True) -> None:
        """Start the worker in the requested layer, or the strongest one that works.

        ``wait=False`` only launches it, so that it imports torch and warms up while the
        grader prepares its checks; the first task (or ``wait_started``) then waits for it,
        trying the next layer if it does not reply."""
        self._candidates = [self.requested_layer] if self.requested_layer else list(LAYERS)
        self._launch_next()
        if wait:
            self.wait_started()

    def _launch_next(self) -> None:
        """Launch the worker in the first remaining layer that can run it."""
        while self._candidates:
            layer = self._candidates.pop(0)
            try:
                self._launch(layer)
            except SandboxError as exc:
                self.failures[layer] = str(exc)
                self._kill_worker()
                continue
            self._launching = layer
            return
        reasons = "; ".join(f"{k}: {v}" for k, v in self.failures.items())
        raise SandboxError(f"no sandbox layer could start the worker ({reasons})")

    def wait_started(self) -> None:
        """Wait for a worker ``start`` launched to reply; on to the next layer if it does not."""
        while self._launching is not None:
            layer = self._launching
            try:
                self._handshake()
            except SandboxError as exc:
                self.failures[layer] = str(exc)
                self._launching = None
                self._launch_next()
                continue
            self._launching = None
            self.layer = layer

    def _make_cgroup(self) -> None:
        """One cgroup per sandbox, made once; without one the per-process limits still hold."""
        if self.cgroup is not None:
            return
        name = f"autograder-{os.getpid()}-{id(self):x}"
        try:
            self.cgroup = Cgroup.create(name, self.limits.memory_mib, self.limits.processes + 16)
            self.cgroup_note = self.cgroup.describe()
        except CgroupUnavailable as exc:
            self.cgroup_note = f"none: {exc}"

    def _start_layer(self, layer: str) -> None:
        self._launch(layer)
        self._handshake()

    def _launch(self, layer: str) -> None:
        self._make_cgroup()
        command, self._workroot = layer_command(layer, self.probes, self.limits, self.isolate_tasks)
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            self._process = subprocess.Popen(
                command,
                stdin=to_worker_r,
                stdout=from_worker_w,
                stderr=err_w,
                close_fds=True,
                start_new_session=True,
                cwd="/",
                env={"PATH": "/usr/bin:/bin"},  # the grader's environment may hold secrets
                preexec_fn=self.cgroup.join_self if self.cgroup else None,
            )
        except OSError as exc:
            for fd in (to_worker_r, to_worker_w, from_worker_r, from_worker_w, err_r, err_w):
                os.close(fd)
            raise SandboxError(f"could not run {command[0]}: {exc}") from None
        for fd in (to_worker_r, from_worker_w, err_w):
            os.close(fd)
        self._channel = Channel(from_worker_r, to_worker_w)
        self._stderr = OutputCapture(err_r, 16 * 1024)

    def _handshake(self) -> None:
        """Read the worker's ready message and its hello; a worker that fails them is killed."""
        assert self._channel is not None
        try:
            ready, _ = self._channel.receive(timeout=90)
            if ready.get("status") != WorkerStatus.READY:
                raise SandboxError("the worker did not report ready")
            hello = self._request({"op": "hello"}, timeout=30)
        except (SandboxError, EOFError, TimeoutError, ProtocolError, OSError) as exc:
            self._kill_worker()
            stderr = self._stderr.text().strip().splitlines()[-3:] if self._stderr else []
            raise SandboxError(f"worker did not start ({exc}): {' | '.join(stderr)}") from None
        self.versions = {k: str(hello.get(k)) for k in ("python", "torch", "numpy")}
        self.isolation = _text(hello.get("isolation"), 300) or "unknown"

    def _request(
        self,
        message: dict[str, Any],
        timeout: float,
        blobs: dict[str, bytes] | None = None,
        relayed: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Send a request (and, for a call, the ``relayed`` message the worker passes to the
        task child unread) and read the answer. An answer read whole but unacceptable is a
        bad answer of the task; anything else wrong with the channel stops the worker."""
        if self._channel is None:
            raise SandboxError("the worker is not running")
        try:
            # Both encoded before either is written: the worker must never wait for half.
            data = encode(message, blobs) + (encode(relayed) if relayed is not None else b"")
            self._channel.send_raw(data)
            answer, _ = self._channel.receive(timeout=timeout)
        except BodyError as exc:
            return {"status": ProbeStatus.BAD_ANSWER, "error": str(exc)}
        except (EOFError, OSError, TimeoutError, ProtocolError) as exc:
            self._replace(f"the worker stopped answering ({type(exc).__name__})")
            raise SandboxError(f"the worker stopped answering ({type(exc).__name__})") from None
        return answer

    def _ensure_worker(self) -> None:
        self.wait_started()
        if self._process is None or self._process.poll() is not None:
            self._kill_worker()
            if self.layer is None:
                self.start()
            else:
                self._start_layer(self.layer)

    _fresh_call = False  # the next call starts a new check: a fresh copy of the loaded task

    def open_task(self, files: dict[str, bytes], entry: str, load_seconds: float | None = None,
                  task: str | None = None, seed: int = 0) -> LoadResult:
        """Load one task's code from ``files`` (name -> bytes) in a fresh child, within
        ``load_seconds`` (default: the limit). The probes' ``prepare(task)``, if they have one,
        runs in the child first (to take away what that task may not use); Python's, numpy's
        and torch's random generators are seeded with ``seed`` before the code loads."""
        if self._task_open:
            self.close_task()
        if not self.warm:
            self._kill_worker()
        self._ensure_worker()
        self._task_open = True
        limits = asdict(self.limits)
        limits["load_seconds"] = min(load_seconds or self.limits.load_seconds, self.limits.load_seconds)
        message = {"op": "open", "entry": entry, "limits": limits, "task": task, "seed": seed}
        try:
            answer = self._request(message, limits["load_seconds"] + WORKER_MARGIN_SECONDS, blobs=files)
        except SandboxError as exc:
            return LoadResult(LoadStatus.LOAD_FAILED, error=str(exc))
        status = LoadStatus.read(answer.get("status"))
        if status == LoadStatus.CRASHED and self._out_of_memory():
            return LoadResult(LoadStatus.CRASHED, error=self._memory_message())
        if status == LoadStatus.LOADED:
            loaded = _loaded(entry, answer.get("failed_cells"))
            loaded.determinism = _determinism(answer.get("determinism"))
            return loaded
        return LoadResult(status, error=_text(answer.get("error")))

    def fresh_state(self) -> None:
        """A new check begins: its first call runs in a fresh copy of the task as it was once
        loaded, so nothing the code kept from an earlier check's calls (class attributes,
        module globals, dicts keyed by ``id``) reaches it. The calls of one check share a copy."""
        self._fresh_call = True

    def call(self, probe: str, timeout: float | None = None, **args: Any) -> ProbeResult:
        """Run one probe on the open task; never raises for anything the student did."""
        if not self._task_open:
            return ProbeResult(ProbeStatus.ERROR, error="no task is open")
        limit = timeout or self.limits.call_seconds
        relayed: dict[str, Any] = {"probe": probe, "args": args}
        if self._fresh_call:
            relayed["fresh"], self._fresh_call = True, False
        try:
            answer = self._request({"op": "call", "timeout": limit}, limit + WORKER_MARGIN_SECONDS,
                                   relayed=relayed)
        except SandboxError as exc:
            self._task_open = False
            return ProbeResult(ProbeStatus.CRASHED, error=str(exc))
        status = ProbeStatus.read(answer.get("status"))
        if status == ProbeStatus.OK:
            return ProbeResult(ProbeStatus.OK, value=answer.get("value"))
        if status == ProbeStatus.CRASHED and self._out_of_memory():
            return ProbeResult(ProbeStatus.CRASHED, error=self._memory_message())
        return ProbeResult(status, error=_text(answer.get("error")), error_type=_text(answer.get("type")))

    def close_task(self) -> TaskOutput:
        """Kill the task's processes and return what they printed."""
        if not self._task_open:
            return TaskOutput()
        self._task_open = False
        try:
            answer = self._request({"op": "close"}, timeout=WORKER_MARGIN_SECONDS)
        except SandboxError:
            return TaskOutput(stderr="(the sandbox was restarted; output lost)")
        changed = answer.get("changed")
        if isinstance(changed, list) and changed:
            # The task reached the worker: it must not serve anyone else.
            self._replace(f"the task changed the worker's {', '.join(map(str, changed[:5]))}")
        return TaskOutput(
            stdout=_text(answer.get("stdout")) or "",
            stderr=_text(answer.get("stderr")) or "",
            truncated=bool(answer.get("truncated")),
            load_stdout=_text(answer.get("load_stdout")) or "",
            load_stderr=_text(answer.get("load_stderr")) or "",
        )

    def ready(self) -> None:
        """Make sure a healthy worker is waiting, so that replacing one that a submission
        broke is charged to nobody's time budget (call it between submissions)."""
        if self._task_open:
            return
        try:
            self._ensure_worker()
        except SandboxError:
            pass  # the next open_task reports it

    def _replace(self, reason: str) -> None:
        self.replacements.append(reason)
        self._kill_worker()

    def _out_of_memory(self) -> bool:
        return self.cgroup is not None and self.cgroup.new_oom_kill()

    def _memory_message(self) -> str:
        return (f"the task's process was killed for using too much memory (the sandbox's "
                f"{self.limits.memory_mib} MiB, shared with the grader's worker)")

    def _kill_worker(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._process is not None:
            try:
                os.killpg(self._process.pid, signal.SIGKILL)
            except OSError:
                pass
            self._process.wait()
            self._process = None
        if self.cgroup is not None:
            self.cgroup.kill_all()
        if self._workroot is not None:
            shutil.rmtree(self._workroot, ignore_errors=True)
            self._workroot = None

    def shutdown(self) -> None:
        """Stop the worker and everything under it."""
        self._task_open = False
        self._kill_worker()
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None


MAX_FAILED_CELLS = 50


def _determinism(reported: Any) -> dict[str, Any]:
    """What the task's process says holds for a repeatable run, kept only in the expected
    shape (plain booleans, a small int, a short text)."""
    if not isinstance(reported, dict):
        return {}
    kept: dict[str, Any] = {}
    seed, hash_seed = reported.get("seed"), reported.get("hash_seed")
    if type(seed) is int and abs(seed) < 2**53:
        kept["seed"] = seed
    kept["hash_seed"] = _text(hash_seed, 20) if hash_seed is not None else None
    for name in ("address_randomisation", "stable_ids", "fresh_copy_per_check"):
        if isinstance(reported.get(name), bool):
            kept[name] = reported[name]
    return kept


def _loaded(entry: str, reported: Any) -> LoadResult:
    """A load the child reported done, with the notebook cells that raised (checked for
    shape and capped: the child runs student code, so it may send anything)."""
    cells = []
    for item in reported[:MAX_FAILED_CELLS] if isinstance(reported, list) else []:
        if not isinstance(item, dict) or type(item.get("cell")) is not int:
            continue
        line = item.get("line")
        cells.append({"cell": item["cell"], "type": _text(item.get("type"), 100) or "error",
                      "line": line if type(line) is int else None,
                      "error": _text(item.get("error"), 2000) or ""})
    if not cells:
        return LoadResult(LoadStatus.LOADED)
    blocks, said = [], []
    for cell in cells:
        at = f" at line {cell['line']}" if cell["line"] is not None else ""
        lines = cell["error"].strip().splitlines()
        blocks.append(f"Cell {cell['cell']} raised {cell['type']}{at}:\n{cell['error'].rstrip()}")
        said.append(f"cell {cell['cell']} raised {lines[-1] if lines else cell['type']}{at}")
    summary = "; ".join(said[:3]) + ("; …" if len(said) > 3 else "") + " (the other cells ran)"
    note = ("The other cells ran, and the checks judge what they defined. Restart the kernel and "
            "run all cells from the top to see each error where it happens.")
    return LoadResult(LoadStatus.CELLS_FAILED, error="\n\n".join(blocks) + "\n\n" + summary,
                      notes=[note], failed_cells=cells)


def _text(value: Any, limit: int = 4000) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + "…"
