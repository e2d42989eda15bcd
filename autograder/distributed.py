"""Grade a batch on a dask.distributed cluster, for classes too large for one machine.

Each dask worker keeps one warm sandbox (a long-lived sandboxed worker that has imported
torch) and grades one submission per task with it, so a lost worker costs the scheduler a
retry of the submission it held, never the batch. What crosses the cluster is plain data:
the assignment folder's path (the course must be readable at the same path on every worker,
e.g. on a shared file system), each submission's name, files as bytes (read here, in the
caller) and reading problems; results come back as JSON text built by the grader's own code
on the worker, with the pictures of their feedback drawn there (drawing is most of what writing
a wrong submission's reports costs, and one caller writes every report). Nothing from a student
is ever pickled.

Requires ``distributed`` (``DASK_REQUIREMENT``): import this module only when a batch goes
to a cluster.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from distributed import Client, WorkerPlugin, as_completed, get_worker

from .assignment import Assignment, load_from
from .batch import GradingError, GradingOptions, grade_batch
from .report.plots import drawn_elsewhere, with_pictures
from .results import failure_result, result_skeleton
from .sandbox import Sandbox
from .sanitise import describe_error
from .submission import Submission

DASK_REQUIREMENT = "distributed>=2024.1,<2027"
PLUGIN_NAME = "autograder-warm-sandbox"
# A task whose own code raised (a sandbox that would not start on one node, a course folder
# it cannot read) is tried this many more times; a task whose worker died is rescheduled by
# the scheduler itself, up to its ``distributed.scheduler.allowed-failures`` (3 by default).
TASK_RETRIES = 2
# Tasks in flight per worker thread: enough to keep every worker busy, few enough that the
# caller does not hold a whole class's files in memory at once.
IN_FLIGHT_PER_THREAD = 4
# pytest and the check suites' modules are per process: one grading session at a time in a
# process, whatever the number of worker threads (or in-process workers) it runs.
_SESSION_LOCK = threading.Lock()


def grade_on_cluster(
    assignment: Assignment,
    submissions: list[Submission],
    options: GradingOptions,
    on_result: Callable[[dict[str, Any]], None],
    scheduler: str | Client,
) -> None:
    """Grade on the dask cluster at ``scheduler`` (an address, or a connected ``Client``,
    which is left open), calling ``on_result`` here once for every submission, as
    ``jobs.grade_parallel`` does.

    A submission whose task fails for good (its worker died too often, its grading raised
    on every try) gets a grader-failure result saying why. When the grader itself could not
    run (``GradingError``, e.g. a check suite that does not collect), every submission still
    gets its result and ``GradingError`` is raised at the end.
    """
    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        client.register_plugin(WarmSandboxPlugin(), name=PLUGIN_NAME)
        pending = {s.name: s for s in submissions}
        errors: list[str] = []
        batch = uuid.uuid4().hex[:8]
        threads = sum(client.nthreads().values()) or 1
        queue = list(submissions)
        names: dict[str, str] = {}  # task key: submission name
        running = as_completed()

        def send() -> None:
            submission = queue.pop(0).loaded_again(assignment)
            key = f"autograde-{batch}-{len(names)}-{submission.name}"
            names[key] = submission.name
            running.add(client.submit(
                grade_task, str(assignment.folder.resolve()), _payload(submission), asdict(options),
                key=key, pure=False, retries=TASK_RETRIES))

        def deliver(name: str, result: dict[str, Any], drawn: Any = None) -> None:
            if pending.pop(name, None) is not None:
                with drawn_elsewhere(drawn):
                    on_result(result)

        for _ in range(min(len(queue), threads * IN_FLIGHT_PER_THREAD)):
            send()
        for future in running:
            name = names[future.key]
            drawn = None
            try:
                result, drawn = _result_of(future.result(), name)
            except Exception as exc:  # a lost task, a grading that raised on every try
                if isinstance(exc, GradingError):
                    errors.append(str(exc))
                result = failure_result(result_skeleton(assignment, name),
                                        f"its grading task on the cluster failed: {describe_error(exc)}")
            finally:
                future.release()
            deliver(name, result, drawn)
            if queue:
                send()
        for name in list(pending):
            deliver(name, failure_result(result_skeleton(assignment, name),
                                         "the cluster gave no result for it"))
        if errors:
            raise GradingError("; ".join(dict.fromkeys(errors)))
    finally:
        if client is not scheduler:
            client.close()


def _payload(submission: Submission) -> dict[str, Any]:
    """A submission as plain data for a task: its name, files as bytes and reading problems."""
    return {"name": submission.name, "path": str(submission.path), "files": dict(submission.files),
            "problems": list(submission.problems)}


def _result_of(text: Any, name: str) -> tuple[dict[str, Any], Any]:
    """A task's JSON text as a result, if it is one for ``name``, and its drawn pictures."""
    sent = json.loads(text) if isinstance(text, str) else None
    result = sent.get("result") if isinstance(sent, dict) else None
    if not isinstance(result, dict) or result.get("submission") != name:
        raise ValueError(f"the task for {name} sent back something that is not its result")
    return result, sent.get("plots")


def grade_task(folder: str, payload: dict[str, Any], options: dict[str, Any]) -> str:
    """One cluster task: grade one submission with this worker's warm sandbox; the result
    and its pictures as JSON text."""
    plugin = get_worker().plugins.get(PLUGIN_NAME)
    if not isinstance(plugin, WarmSandboxPlugin):  # a worker that joined after registration
        raise GradingError("this worker has no warm sandbox plugin")
    return plugin.grade(Path(folder), payload, GradingOptions(**{
        k: tuple(v) if k == "suites" else v for k, v in options.items()}))


class WarmSandboxPlugin(WorkerPlugin):
    """A dask worker's one warm grading context: a started sandbox for the assignment it
    last graded, kept across tasks and stopped when the worker closes. Tasks on one worker
    take turns with it (run workers with one thread each; more workers per node for more).
    """

    idempotent = True  # a second batch keeps the warm sandbox the first one started

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sandbox: Sandbox | None = None
        self._key: tuple[str, ...] = ()

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()

    def teardown(self, worker: Any) -> None:
        with self._lock:
            self._stop()

    def grade(self, folder: Path, payload: dict[str, Any], options: GradingOptions) -> str:
        """The JSON text of the submission's result, graded with the warm sandbox (started,
        or restarted for another assignment or other sandbox options, first), and of the
        pictures its feedback shows (``report.plots.with_pictures``)."""
        assignment = load_from(folder)
        submission = Submission(name=payload["name"], path=Path(payload["path"]),
                                files=dict(payload["files"]), problems=list(payload["problems"]))
        results: list[dict[str, Any]] = []
        with _SESSION_LOCK, self._lock:
            sandbox = self._sandbox_for(assignment, options)
            grade_batch(assignment, [submission], options, results.append, sandbox)
        if len(results) != 1:
            raise GradingError(f"grading {submission.name} gave {len(results)} results")
        return json.dumps(with_pictures(results[0]), allow_nan=False)

    def _sandbox_for(self, assignment: Assignment, options: GradingOptions) -> Sandbox:
        key = (str(assignment.probes), repr(assignment.limits), str(options.layer), str(options.warm),
               str(options.isolate_tasks))
        if self._sandbox is None or key != self._key:
            self._stop()
            sandbox = Sandbox(assignment.probes, assignment.limits, layer=options.layer,
                              warm=options.warm, isolate_tasks=options.isolate_tasks)
            try:
                sandbox.start()
            except Exception as exc:
                sandbox.shutdown()
                raise GradingError(str(exc)) from exc
            self._sandbox, self._key = sandbox, key
        return self._sandbox

    def _stop(self) -> None:
        if self._sandbox is not None:
            self._sandbox.shutdown()
            self._sandbox = None


