"""The workflow's grading step: run the public checks on the repository and report them.

``python -m autograder.classroom.report [DIR]`` (or the ``classroom`` command) grades the
work like ``autograder check``, then writes, for this step only:

- ``$GITHUB_OUTPUT``: ``result=<base64 JSON>``, what Classroom's grading reporter reads;
- ``$GITHUB_STEP_SUMMARY``: the feedback page's Markdown (at most 1 MiB);
- stdout: the plain check report between ``::stop-commands::<token>`` and ``::<token>::``,
  with a token drawn after the student's code has run, so nothing it printed can end the pause.

Student code runs in the sandbox with a clean environment; as well, while it runs, the runner's
file-command variables are out of this process's environment, its stdout and stderr go to a
file rather than the log, and afterwards the step's own command files are rewritten whole (each
step has its own), so a line the code slipped into one of them is gone before the runner
reads it.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import click

from .. import assignment as assignments
from ..batch import GradingError, GradingOptions, grade_batch
from ..report.feedback import render_feedback_markdown
from ..report.markdown import defuse_commands, md_inline
from ..report.terminal import render_check_report
from ..report.text import fmt_num, truncate
from ..sandbox import LAYERS
from ..sanitise import describe_error
from ..submission import discover
from .points import classroom_result, encode_result, error_result, log_line

SUMMARY_LIMIT_BYTES = 1024 * 1024  # GitHub's cap on one step's job summary
LOG_CAP = 20_000  # characters of the grader's own log shown in the step's output
# Files the runner reads after the step; what is written to them changes later steps.
STEP_FILES = ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STATE")


@contextmanager
def _quarantined() -> Iterator[Path]:
    """While grading: the step's file-command variables out of the environment, and fds 1
    and 2 (inherited by anything started) pointing at a scratch file, whose path is yielded."""
    saved_env = {name: os.environ.pop(name) for name in STEP_FILES if name in os.environ}
    sys.stdout.flush()
    sys.stderr.flush()
    saved_fds = (os.dup(1), os.dup(2))
    with tempfile.NamedTemporaryFile(prefix="classroom-log-", suffix=".txt") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield Path(log.name)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_fds[0], 1)
            os.dup2(saved_fds[1], 2)
            for fd in saved_fds:
                os.close(fd)
            os.environ.update(saved_env)


def grade_public(directory: Path, layer: str | None = None) -> dict[str, Any]:
    """The kit's result of the public checks on the bundle ``directory`` is (or is in).
    Raises ``GradingError`` or ``AssignmentError`` when there is nothing to grade with."""
    marker = assignments.bundle_marker(directory)
    if marker is None:
        raise assignments.AssignmentError(
            f"{directory} is not a released bundle (no {assignments.BUNDLE_MARKER}/"
            f"{assignments.CONFIG_NAME})")
    spec = assignments.load_from(marker)
    submissions = discover([directory], spec)[:1]
    results: list[dict[str, Any]] = []
    grade_batch(spec, submissions, GradingOptions(suites=("public",), layer=layer), results.append)
    if not results:
        raise GradingError("the checks ended without a result")
    return results[0]


def capped_summary(markdown: str, limit: int = SUMMARY_LIMIT_BYTES) -> str:
    """``markdown`` cut at a line boundary to fit GitHub's job-summary cap, saying so."""
    encoded = markdown.encode("utf-8")
    if len(encoded) <= limit:
        return markdown
    note = "\n\n*The rest of this summary was cut to fit.*\n"
    head = encoded[: limit - len(note.encode("utf-8"))].decode("utf-8", "ignore")
    return head[: head.rfind("\n") + 1] + note


def _write(path: str | None, text: str) -> None:
    """Replace the step file ``path`` with ``text`` (nothing to do outside Actions)."""
    if path:
        Path(path).write_bytes(text.encode("utf-8"))


def run_step(directory: Path, environ: Mapping[str, str] | None = None, out: TextIO | None = None,
             layer: str | None = None) -> int:
    """Grade ``directory``, write the step's output, summary and log, and return the exit
    status: 0 once a result is written (the reporter fails the run on failed checks)."""
    env = dict(os.environ if environ is None else environ)
    out = out or sys.stdout
    result: dict[str, Any] | None = None
    with _quarantined() as log_path:
        try:
            result = grade_public(Path(directory), layer)
            doc = classroom_result(result)
        except Exception as exc:  # no result: still tell the reporter and the student why
            doc = error_result(f"the checks could not run: {describe_error(exc)}")
    log, _ = truncate(log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists()
                      else "", LOG_CAP, keep_tail=True)
    if result is not None:
        summary = render_feedback_markdown(result)
        report = render_check_report(result)
    else:
        reason = doc["tests"][0]["message"]
        summary = f"## Autograding\n\n{md_inline(reason)}\n"
        report = reason + "\n"
    for name in ("GITHUB_ENV", "GITHUB_PATH", "GITHUB_STATE"):
        _write(env.get(name), "")
    _write(env.get("GITHUB_OUTPUT"), f"result={encode_result(doc)}\n")
    _write(env.get("GITHUB_STEP_SUMMARY"), capped_summary(summary))
    token = secrets.token_hex(16)
    body = report + (f"\ngrader log:\n{log}" if log.strip() else "")
    # Paused commands and, should a runner not honour the pause, no line that starts one.
    out.write(f"::stop-commands::{token}\n{defuse_commands(body).rstrip()}\n::{token}::\n")
    earned = sum(t["score"] for t in doc["tests"])
    out.write(log_line(f"Public checks: {fmt_num(earned)} / {fmt_num(doc['max_score'])} points, "
                       f"status {doc['status']}") + "\n")
    out.flush()
    return 0


@click.command("classroom")
@click.argument("directory", default=".", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--layer", type=click.Choice(LAYERS),
              help="Force a sandbox layer (default: strongest that works).")
def classroom_command(directory: Path, layer: str | None) -> None:
    """Run the public checks in a GitHub Classroom workflow step and report their points."""
    sys.exit(run_step(directory, layer=layer))


def main() -> None:
    """``python -m autograder.classroom.report``."""
    classroom_command(prog_name="python -m autograder.classroom.report")


if __name__ == "__main__":
    main()
