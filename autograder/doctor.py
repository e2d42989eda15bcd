"""What isolation this machine supports, and why not the rest.

Each layer is tried for real (a worker is started in it and must answer), and the machine
facts that usually explain a failure are read alongside: bubblewrap installed, running as
root, the kernel's and AppArmor's switches for unprivileged user namespaces, and whether uid
``nobody`` can read the Python environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .cgroup import Cgroup, CgroupUnavailable
from .sandbox import LAYERS, NOBODY, Limits, Sandbox, SandboxError


@dataclass
class LayerReport:
    """Whether one layer works here, and the reason when it does not."""

    layer: str
    works: bool
    reason: str


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def _nobody_can_read(path: str) -> bool:
    """Whether uid nobody can reach ``path`` (every parent directory searchable)."""
    if os.geteuid() != 0:
        return os.access(path, os.R_OK)
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return False
    command = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "test", "-r", path]
    return subprocess.run(command, check=False).returncode == 0


def _cgroup_support() -> str:
    try:
        group = Cgroup.create(f"autograder-doctor-{os.getpid()}", 64, 8)
    except CgroupUnavailable as exc:
        return f"no ({exc}); every process still has its own address-space limit"
    group.remove()
    return f"yes, cgroup v{group.version}"


def machine_facts() -> dict[str, str]:
    """The facts that decide which layers can work."""
    facts = {
        "running as": "root" if os.geteuid() == 0 else f"uid {os.geteuid()}",
        "bubblewrap": shutil.which("bwrap") or "not installed (Debian/Ubuntu: apt-get install bubblewrap)",
        "unshare": shutil.which("unshare") or "not installed (util-linux)",
        "python": sys.executable,
        "nobody can read the environment": "yes" if _nobody_can_read(sys.prefix) else
        "no (make the venv from a world-readable interpreter such as /usr/bin/python3)",
    }
    facts["cgroup memory cap"] = _cgroup_support()
    switches = {
        "kernel.unprivileged_userns_clone": "/proc/sys/kernel/unprivileged_userns_clone",
        "user.max_user_namespaces": "/proc/sys/user/max_user_namespaces",
        "kernel.apparmor_restrict_unprivileged_userns":
            "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
    }
    for name, path in switches.items():
        value = _read(path)
        if value is not None:
            facts[name] = value
    return facts


def diagnose(probes: Path, limits: Limits | None = None) -> list[LayerReport]:
    """Try every layer, strongest first."""
    reports = []
    for layer in LAYERS:
        sandbox = Sandbox(probes, limits, layer=layer)
        try:
            sandbox.start()
            reports.append(LayerReport(layer, True, f"{sandbox.detail}; tasks: {sandbox.isolation}"))
        except SandboxError as exc:
            reports.append(LayerReport(layer, False, sandbox.failures.get(layer, str(exc))))
        finally:
            sandbox.shutdown()
    return reports
