"""Grading on a dask cluster: the same results as a local run, one result per submission
even when a worker dies mid-batch or a task fails for good; and, there as in local grading
jobs, a result's pictures drawn where it was graded, not by the one process writing reports."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from distributed import Client, LocalCluster

from autograder.assignment import COURSE_ENV, load_from
from autograder.batch import GradingOptions
from autograder.cli import main
from autograder.distributed import grade_on_cluster
from autograder.jobs import grade_parallel
from autograder.output import write_submission
from autograder.report import plots
from autograder.submission import Submission, discover

HW1_FOLDER = Path(__file__).resolve().parent.parent / "assignments" / "hw1"
HW1 = load_from(HW1_FOLDER)
COMPARED = ("reference", "seed", "syntax_error", "stubs")
MORE = ("empty", "missing_file", "adam_no_bias_correction", "momentum_sign_flipped")
OPTIONS = GradingOptions()


def samples(names: tuple[str, ...]) -> list[Submission]:
    return discover([HW1_FOLDER / "samples" / name for name in names], HW1, keep_files=False)


def comparable(result: dict[str, Any]) -> dict[str, Any]:
    """A result without what differs between two runs of the same grading: timing and sandbox."""
    return {k: v for k, v in result.items() if k not in ("timing", "sandbox")}


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as connected:
        yield connected


@pytest.fixture(scope="module")
def local() -> dict[str, dict[str, Any]]:
    results: list[dict[str, Any]] = []
    grade_parallel(HW1, samples(COMPARED + MORE), OPTIONS, results.append, jobs=1)
    return {r["submission"]: r for r in results}


def test_cluster_grades_as_a_local_run_does(client: Client, local: dict[str, dict[str, Any]]) -> None:
    results: list[dict[str, Any]] = []
    grade_on_cluster(HW1, samples(COMPARED), OPTIONS, results.append, client)
    assert sorted(r["submission"] for r in results) == sorted(COMPARED)
    for result in results:
        expected = local[result["submission"]]
        assert result["score"] == expected["score"]
        assert [(c["id"], c["status"], c["mistakes"]) for c in result["checks"]] == \
            [(c["id"], c["status"], c["mistakes"]) for c in expected["checks"]]
        assert comparable(result) == comparable(expected)
        assert result["sandbox"]["layer"] == expected["sandbox"]["layer"]
    assert not any(r.get("grader_failure") for r in local.values())
    assert any(c["mistakes"] for r in results for c in r["checks"])


def test_a_worker_lost_mid_batch_loses_no_result(client: Client, local: dict[str, dict[str, Any]]) -> None:
    killed: list[str] = []
    results: list[dict[str, Any]] = []

    def on_result(result: dict[str, Any]) -> None:
        results.append(result)
        busy = [worker for worker, keys in client.processing().items() if keys]
        if not killed and busy:
            killed.append(busy[0])
            with contextlib.suppress(Exception):  # the worker dies before it can answer
                client.run(os._exit, 1, workers=busy[:1])

    grade_on_cluster(HW1, samples(COMPARED + MORE), OPTIONS, on_result, client)
    assert killed
    assert Counter(r["submission"] for r in results) == Counter(COMPARED + MORE)
    for result in results:  # the lost task was graded again elsewhere, not failed
        assert comparable(result) == comparable(local[result["submission"]])


def test_a_task_that_fails_for_good_becomes_a_failure_result(client: Client) -> None:
    """A course folder the workers cannot read: every try fails, every submission still gets
    one result, which says why."""
    elsewhere = dataclasses.replace(HW1, folder=Path("/nonexistent/course/assignments/hw1"))
    results: list[dict[str, Any]] = []
    grade_on_cluster(elsewhere, samples(COMPARED[:2]), OPTIONS, results.append, client)
    assert sorted(r["submission"] for r in results) == sorted(COMPARED[:2])
    for result in results:
        assert result["score"] == 0.0
        assert "grading task on the cluster failed" in result["grader_failure"]
        assert "/nonexistent/course" in result["grader_failure"]
    grade_on_cluster(elsewhere, [], OPTIONS, results.append, client)
    assert len(results) == 2


def test_grade_with_scheduler_writes_the_same_reports(client: Client, local: dict[str, dict[str, Any]],
                                                     tmp_path: Path) -> None:
    """`autograder grade --scheduler ADDRESS`: the command line on a cluster."""
    paths = [str(HW1_FOLDER / "samples" / name) for name in COMPARED]
    done = CliRunner().invoke(main, ["grade", *paths, "--out", str(tmp_path), "-a", "hw1",
                                     "--scheduler", client.scheduler.address],
                              env={COURSE_ENV: str(HW1_FOLDER.parent.parent)})
    assert done.exit_code == 0, done.output
    for name in COMPARED:
        result = json.loads((tmp_path / name / "result.json").read_text())
        assert comparable(result) == comparable(local[name]) | {"fingerprint": result["fingerprint"]}
        assert (tmp_path / name / "feedback.html").is_file()


@pytest.mark.parametrize("where", ["jobs", "cluster"])
def test_pictures_are_drawn_where_the_result_is_graded(where: str, client: Client, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    pictures: dict[str, tuple[int, int]] = {}  # drawable series, pictures on the page

    def on_result(result: dict[str, Any]) -> None:
        # The grading processes are running by now: drawing is refused in this process only.
        monkeypatch.setattr(plots, "draw_series", lambda series: pytest.fail("drawn again"))
        name = write_submission(tmp_path, result)["submission"]
        page = (tmp_path / name / "feedback.html").read_text()
        drawable = sum(plots.drawable(s) for c in result["checks"] for s in c.get("series") or [])
        pictures[name] = (drawable, page.count('src="data:image/png;base64,'))

    wrong = samples(("seed", "reference"))
    if where == "jobs":
        grade_parallel(HW1, wrong, OPTIONS, on_result, jobs=2)
    else:
        grade_on_cluster(HW1, wrong, OPTIONS, on_result, client)
    assert pictures["seed"][0] >= 5 and pictures["seed"][0] == pictures["seed"][1]
    assert pictures["reference"] == (0, 0)
