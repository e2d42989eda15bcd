"""The disk cache of what the trusted side computes from the course alone: reference runs and
lint findings are read back exactly, only for the exact files they came from, and never for
what cannot be described exactly."""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from course import COURSE, HW1, HW1_SAMPLES

from autograder import assignment as assignments
from autograder import cache, reference
from autograder.batch import GradingOptions, grade_batch
from autograder.checks import import_file
from autograder.lint import lint, lint_cached
from autograder.submission import discover

PROBES = '''
import numpy as np

CALLS = []

def probe_scale(namespace, factor, values):
    CALLS.append(factor)
    return {"scaled": namespace["scale"](np.asarray(values), factor), "pair": (factor, None),
            "count": np.int64(len(values)), "rows": [np.zeros((0, 3), dtype=np.float32)]}

PROBES = {"scale": probe_scale}
'''


@pytest.fixture
def course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> assignments.Assignment:
    """hw1 copied into a course of its own, with a probes file that counts its runs, and a
    cache folder of this test's own."""
    root = tmp_path / "course"
    shutil.copytree(COURSE / "assignments" / "hw1", root / "assignments" / "hw1",
                    ignore=shutil.ignore_patterns("__pycache__", "samples"))
    shutil.copytree(COURSE / "solutions" / "hw1", root / "solutions" / "hw1",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (root / "assignments" / "hw1" / "counting_probes.py").write_text(PROBES, encoding="utf-8")
    monkeypatch.setenv("AUTOGRADER_CACHE", str(tmp_path / "cache"))
    cache._SUITE_KEYS.clear()
    reference._RUNS.clear()
    return assignments.load("hw1", root)


def counting_probes(spec: assignments.Assignment, name: str = "counting") -> ModuleType:
    return import_file(spec.folder / "counting_probes.py", f"_test_cache_{name}")


def scale(values: np.ndarray, factor: float) -> np.ndarray:
    return values * factor


def run(spec: assignments.Assignment, probes: ModuleType, namespace: dict, **args: object) -> object:
    """One reference run as grading makes it, in a process that has not made it yet."""
    reference._RUNS.clear()
    with reference.cache_runs(spec):
        return reference.run_probe(probes, "scale", namespace, **args)


def same(a: object, b: object) -> bool:
    """Equal in value, type, dtype and shape, all the way down."""
    if isinstance(a, np.ndarray) or isinstance(a, np.generic):
        return type(a) is type(b) and a.dtype == b.dtype and np.shape(a) == np.shape(b) and (
            np.array_equal(a, b, equal_nan=True))
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return type(a) is type(b) and a == b and str(a) == str(b)  # str: -0.0 is not 0.0


def test_a_stored_run_is_read_back_exactly_instead_of_run_again(course):
    probes = counting_probes(course)
    args = {"factor": 2.5, "values": [1.0, -0.0, float("nan")]}
    first = run(course, probes, {"scale": scale}, **args)
    second = run(course, probes, {"scale": scale}, **args)
    assert probes.CALLS == [2.5]
    assert same(first, second)
    assert type(second["pair"]) is tuple and second["rows"][0].dtype == np.float32
    other = run(course, probes, {"scale": scale}, factor=3.0, values=[1.0])
    assert probes.CALLS == [2.5, 3.0] and other["scaled"].tolist() == [3.0]


def test_any_change_to_the_course_files_is_a_new_cache(course):
    probes = counting_probes(course)
    run(course, probes, {"scale": scale}, factor=2.0, values=[1.0])
    solution = course.solutions_dir / "roots.py"
    solution.write_text(solution.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    cache._SUITE_KEYS.clear()  # a new process
    run(course, probes, {"scale": scale}, factor=2.0, values=[1.0])
    assert probes.CALLS == [2.0, 2.0]


def test_names_that_cannot_be_described_exactly_are_never_stored(course):
    probes = counting_probes(course)

    def made_here(values: np.ndarray, factor: float) -> np.ndarray:  # no module path finds it
        return values + factor

    run(course, probes, {"scale": made_here}, factor=1.0, values=[1.0])
    run(course, probes, {"scale": made_here}, factor=1.0, values=[1.0])
    assert probes.CALLS == [1.0, 1.0]
    assert not list((Path(cache.cache_root()) / "reference-runs").rglob("*.json"))


def test_a_result_that_cannot_be_written_down_is_returned_and_not_stored(course):
    with pytest.raises(reference.Uncacheable):
        reference.encode_value({"tensor": object()})
    with pytest.raises(reference.Uncacheable):
        reference.encode_value({1: "a key that is not a string"})


def test_values_survive_the_round_trip():
    values = [np.arange(6, dtype=np.int16).reshape(2, 3), np.array(3.5), np.zeros((0, 2)),
              np.float32(1.25), np.bool_(True), (1, [2.0, None], {"a": ("b",)}), float("inf"), -0.0]
    for value in values:
        assert same(value, reference.decode_value(reference.encode_value(value))), value


def test_the_cache_can_be_turned_off(course, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_CACHE", "off")
    probes = counting_probes(course)
    run(course, probes, {"scale": scale}, factor=2.0, values=[1.0])
    run(course, probes, {"scale": scale}, factor=2.0, values=[1.0])
    assert probes.CALLS == [2.0, 2.0]


def test_lint_findings_are_kept_and_follow_the_files(course):
    assert lint_cached(course) == lint(course) == []
    public = course.public_dir / "test_public.py"
    text = public.read_text(encoding="utf-8")
    public.write_text(text.replace('depends=["optimizer.loads"]', 'depends=["optimizer.load"]', 1),
                      encoding="utf-8")
    cache._SUITE_KEYS.clear()  # a new process
    found = lint_cached(course)
    assert found == lint(course) and any("unknown check 'optimizer.load'" in p.message for p in found)
    assert lint_cached(course) == found  # now read back


def test_grades_and_feedback_are_the_same_from_the_cache(tmp_path, monkeypatch):
    """Grading with reference runs read from the cache gives exactly the results of grading
    that computes them all (the samples include a named mistake and a partial score)."""
    batch = [HW1_SAMPLES / name for name in ("reference", "adam_no_bias_correction", "seed")]

    def grade(cache_folder: str) -> list[dict]:
        monkeypatch.setenv("AUTOGRADER_CACHE", cache_folder)
        reference._RUNS.clear()
        results: list[dict] = []
        grade_batch(HW1, discover(batch, HW1), GradingOptions(), results.append)
        for result in results:
            result.pop("timing")
        return results

    computed = grade("off")
    seconds = dict(reference.SECONDS)
    filled = grade(str(tmp_path / "cache"))
    read = grade(str(tmp_path / "cache"))
    assert reference.SECONDS["read"] > seconds["read"]  # the last run did read the cache
    assert computed == filled == read


def test_a_run_that_raises_raises_the_same_from_the_cache(course):
    probes = counting_probes(course)

    with pytest.raises(TypeError, match="can't multiply"):
        run(course, probes, {"scale": refuse}, factor=2.0, values=[1.0])
    with pytest.raises(TypeError, match="can't multiply"):
        run(course, probes, {"scale": refuse}, factor=2.0, values=[1.0])
    assert probes.CALLS == [2.0]


def refuse(values: np.ndarray, factor: float) -> np.ndarray:
    raise TypeError("can't multiply these")


def test_the_runs_kept_in_memory_drop_the_least_recently_used(monkeypatch):
    """Runs every submission shares stay in memory however many inputs drawn per submission
    pass through; those are dropped first."""
    computed: list[int] = []
    probes = ModuleType("counting_probes")
    probes.__file__ = __file__
    probes.PROBES = {"double": lambda namespace, x: computed.append(x) or 2 * x}
    monkeypatch.setattr(reference, "MAX_RUNS", 2)
    reference._RUNS.clear()
    for x in (1, 2, 1, 3, 1, 2):  # 1 is shared; 2 and 3 are drawn per submission
        assert reference.run_probe(probes, "double", {}, x=x) == 2 * x
    assert computed == [1, 2, 3, 2]  # 1 was never computed again; 2 was dropped for 3
    reference._RUNS.clear()


def test_a_session_keeps_its_runs_in_memory_and_no_longer(course, monkeypatch):
    """Runs made while one session grades are found again in that session; once it ends they
    are dropped from memory (the next session imports the reference again, so they could only
    hold memory), and the next session reads the shared ones back from disk."""
    computed: list[int] = []
    probes = ModuleType("counting_probes")
    probes.__file__ = __file__
    probes.PROBES = {"double": lambda namespace, x: computed.append(x) or 2 * x}
    for _ in range(2):
        with reference.cache_runs(course):
            assert reference.run_probe(probes, "double", {}, x=np.float64(1.5)) == 3.0
            assert reference.run_probe(probes, "double", {}, x=np.float64(1.5)) == 3.0
            assert reference._RUNS
        assert not reference._RUNS
    assert computed == [1.5]  # once: the second session read it from disk
