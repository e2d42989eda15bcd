"""The GitHub Classroom workflow of a released bundle: ``.github/workflows/classroom.yml``.

On push it installs torch (the CPU build, first, so the engine's requirement is already met)
and the engine the teacher names at release time, runs the public checks with
``python -m autograder.classroom.report`` and hands its ``result`` output to Classroom's
grading reporter. The template is ``classroom.yml`` beside this module.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

from ..assignment import Assignment

WORKFLOW_PATH = ".github/workflows/classroom.yml"
TORCH_SPEC = "torch==2.13.0"
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
PYTHON_VERSION = "3.11"
# The reporter reads ``<STEP-ID uppercased>_RESULTS`` and wants runner ids of letters and digits.
STEP_ID = "autograder"
RESULTS_ENV = f"{STEP_ID.upper()}_RESULTS"

# One requirement or wheel location, as pip takes it: no blanks (a second argument), no
# leading dash (an option), no quotes or backslashes, no ``${{`` (an Actions expression).
_SPEC = re.compile(r"[A-Za-z0-9.][^\s\"'\\`$]*")


def _checked_spec(engine_spec: str) -> str:
    """The engine spec, or a ValueError saying why it cannot go into a workflow."""
    if not isinstance(engine_spec, str) or not _SPEC.fullmatch(engine_spec):
        raise ValueError(
            f"engine spec {engine_spec!r}: give one pip requirement or wheel URL, such as "
            "autograder==0.1.0, without blanks, quotes, '$' or a leading '-'"
        )
    return engine_spec


def classroom_workflow(assignment: Assignment, engine_spec: str) -> str:
    """The workflow's YAML text for ``assignment``, installing the engine from ``engine_spec``
    (a pip requirement such as ``autograder==0.1.0`` or a wheel URL). The spec reaches the
    shell only through an environment variable, so it is never parsed as a command."""
    template = resources.files(__package__).joinpath("classroom.yml").read_text(encoding="utf-8")
    values = {
        "@ENGINE_SPEC@": json.dumps(_checked_spec(engine_spec)),  # a YAML double-quoted string
        "@TORCH_SPEC@": TORCH_SPEC,
        "@TORCH_INDEX@": TORCH_INDEX,
        "@PYTHON_VERSION@": PYTHON_VERSION,
        "@STEP_ID@": STEP_ID,
        "@RESULTS_ENV@": RESULTS_ENV,
    }
    text = template.replace("# Runs the public checks of this assignment",
                            f"# Runs the public checks of {assignment.name}", 1)
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text


def add_classroom_workflow(bundle_dir: Path, assignment: Assignment, engine_spec: str) -> Path:
    """Write the workflow into the released bundle ``bundle_dir`` and return its path."""
    text = classroom_workflow(assignment, engine_spec)
    path = Path(bundle_dir) / WORKFLOW_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path
