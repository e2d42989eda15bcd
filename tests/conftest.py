"""Shared fixtures for the kit's own tests."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from autograder.sandbox import LAYERS, Limits, Sandbox, SandboxError

TESTS_DIR = Path(__file__).resolve().parent
# The kit's disk cache (autograder/cache.py) goes to a folder of this run's own, so that tests
# neither read a cache an earlier run left nor fill the user's.
os.environ["AUTOGRADER_CACHE"] = tempfile.mkdtemp(prefix="autograder-test-cache-")
atexit.register(shutil.rmtree, os.environ["AUTOGRADER_CACHE"], True)
ECHO_PROBES = TESTS_DIR / "fixtures" / "echo_probes.py"
FAST_LIMITS = Limits(call_seconds=3, load_seconds=5, address_space_mib=3072, processes=32,
                     file_size_mib=8, cpu_seconds=20, output_kib=16, tmpfs_mib=64)


def start_sandbox(layer: str, probes: Path = ECHO_PROBES, limits: Limits = FAST_LIMITS) -> Sandbox:
    """A started sandbox in ``layer``. Skipped only when the machine lacks what the layer needs
    (the program, or root for the uid drop); a layer that should work but fails is a failure."""
    needs = {"bwrap": "bwrap", "unshare": "unshare"}.get(layer)
    if needs and shutil.which(needs) is None:
        pytest.skip(f"{needs} is not installed here")
    if layer == "rlimits" and os.geteuid() != 0:
        pytest.skip("the rlimits layer drops to uid nobody, which needs root")
    sandbox = Sandbox(probes, limits, layer=layer)
    try:
        sandbox.start()
    except SandboxError as exc:
        pytest.fail(f"layer {layer} should work on this machine but did not start: {exc}")
    return sandbox


@pytest.fixture(scope="module", params=LAYERS)
def any_sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    sandbox = start_sandbox(request.param)
    yield sandbox
    sandbox.shutdown()


@pytest.fixture(scope="module", params=("bwrap", "unshare"))
def isolating_sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """Layers that hide the file system and the network."""
    sandbox = start_sandbox(request.param)
    yield sandbox
    sandbox.shutdown()


@pytest.fixture(scope="module", params=("bwrap", "unshare", "rlimits"))
def uid_dropping_sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """Layers that run student code as uid nobody when the grader is root."""
    sandbox = start_sandbox(request.param)
    yield sandbox
    sandbox.shutdown()
