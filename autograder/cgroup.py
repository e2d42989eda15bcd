"""A memory and process cap on the whole sandbox, where this machine lets the grader make a
control group.

RLIMIT_AS caps each process on its own, so a task that starts sixty processes could use sixty
times the limit. A cgroup caps the worker and every process of the current task together (one
task runs at a time per sandbox), and the kernel's OOM killer then stops the task, not the
machine. cgroup v2 is used where the grader may create a group beside its own with the memory
and pids controllers (root, or a delegated systemd scope); cgroup v1 hierarchies (memory, pids)
where the host still mounts them. Anywhere else there is no cgroup and ``doctor`` says why.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


class CgroupUnavailable(Exception):
    """No cgroup can be made here; the message says why."""


def _own_paths() -> dict[str, str]:
    """This process's cgroup per controller ("" is the v2 unified hierarchy)."""
    paths = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


def _v2_dir(paths: dict[str, str]) -> Path | None:
    if (CGROUP_ROOT / "cgroup.controllers").is_file() and "" in paths:
        return CGROUP_ROOT / paths[""].lstrip("/")
    return None


def _write(path: Path, value: str) -> None:
    with open(path, "w") as handle:
        handle.write(value)


@dataclass
class Cgroup:
    """One group (a directory per hierarchy) holding one sandbox's processes."""

    dirs: list[Path]
    version: int
    memory_bytes: int
    pids: int
    _oom_seen: int = field(default=0, repr=False)

    @classmethod
    def create(cls, name: str, memory_mib: int, pids: int) -> Cgroup:
        """Make the group with its limits, or raise ``CgroupUnavailable``."""
        try:
            paths = _own_paths()
        except (OSError, ValueError) as exc:
            raise CgroupUnavailable(f"cannot read /proc/self/cgroup: {exc}") from None
        memory_bytes = memory_mib << 20
        own_v2 = _v2_dir(paths)
        if own_v2 is not None:
            # Beside our own group (its parent holds no processes, so controllers can be
            # enabled there), or under the root group when that is where we are.
            base = own_v2 if own_v2 == CGROUP_ROOT else own_v2.parent
            return cls._create_v2(base / name, memory_bytes, pids)
        if "memory" in paths and (CGROUP_ROOT / "memory").is_dir():
            return cls._create_v1(paths, name, memory_bytes, pids)
        raise CgroupUnavailable("neither a cgroup v2 hierarchy nor a v1 memory hierarchy is mounted")

    @classmethod
    def _create_v2(cls, path: Path, memory_bytes: int, pids: int) -> Cgroup:
        parent = path.parent
        try:
            enabled = (parent / "cgroup.subtree_control").read_text().split()
            missing = [c for c in ("memory", "pids") if c not in enabled]
            if missing:
                _write(parent / "cgroup.subtree_control", " ".join(f"+{c}" for c in missing))
            path.mkdir()
        except OSError as exc:
            raise CgroupUnavailable(f"cannot create {path} with memory and pids: {exc.strerror}") from None
        group = cls([path], 2, memory_bytes, pids)
        try:
            _write(path / "memory.max", str(memory_bytes))
            if (path / "memory.swap.max").exists():
                _write(path / "memory.swap.max", "0")
            _write(path / "pids.max", str(pids))
        except OSError as exc:
            group.remove()
            raise CgroupUnavailable(f"cannot set limits in {path}: {exc.strerror}") from None
        return group

    @classmethod
    def _create_v1(cls, paths: dict[str, str], name: str, memory_bytes: int, pids: int) -> Cgroup:
        dirs = [CGROUP_ROOT / "memory" / paths["memory"].lstrip("/") / name]
        if "pids" in paths and (CGROUP_ROOT / "pids").is_dir():
            dirs.append(CGROUP_ROOT / "pids" / paths["pids"].lstrip("/") / name)
        group = cls([], 1, memory_bytes, pids)
        try:
            for path in dirs:
                path.mkdir()
                group.dirs.append(path)
            _write(dirs[0] / "memory.limit_in_bytes", str(memory_bytes))
            if (dirs[0] / "memory.memsw.limit_in_bytes").exists():
                _write(dirs[0] / "memory.memsw.limit_in_bytes", str(memory_bytes))
            if len(dirs) > 1:
                _write(dirs[1] / "pids.max", str(pids))
        except OSError as exc:
            group.remove()
            raise CgroupUnavailable(f"cannot create the v1 groups {dirs[0].name}: {exc.strerror}") from None
        return group

    def describe(self) -> str:
        controllers = "memory and pids" if self.version == 2 or len(self.dirs) > 1 else "memory"
        return (f"cgroup v{self.version} ({controllers}): {self.memory_bytes >> 20} MiB, "
                f"{self.pids} processes for the worker and its task together")

    def join_self(self) -> None:
        """Move the calling process into the group (used between fork and exec, so the
        sandbox starts inside it: only ``os`` calls, no locks)."""
        for path in self.dirs:
            fd = os.open(path / "cgroup.procs", os.O_WRONLY)
            try:
                os.write(fd, b"0")
            finally:
                os.close(fd)

    def oom_kills(self) -> int:
        """How many processes the kernel killed in this group for lack of memory."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        try:
            for line in (self.dirs[0] / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def new_oom_kill(self) -> bool:
        """Whether an OOM kill happened since the last time this was asked."""
        count = self.oom_kills()
        seen, self._oom_seen = self._oom_seen, count
        return count > seen

    def kill_all(self) -> None:
        """SIGKILL everything still in the group (whatever session or parent it has)."""
        for _ in range(100):
            pids = self._members()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def _members(self) -> list[int]:
        members: set[int] = set()
        for path in self.dirs:
            try:
                members.update(int(p) for p in (path / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                pass
        return sorted(members)

    def remove(self) -> None:
        """Kill what is left and delete the group."""
        self.kill_all()
        for path in reversed(self.dirs):
            for _ in range(200):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # busy until the last killed processes have exited
                    time.sleep(0.01)
