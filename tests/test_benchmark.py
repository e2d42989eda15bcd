"""The benchmark's other figures (one submission, a whole class): commands that must run and
print their figures, and the class they build must be the mix they say. Nothing here asserts
a speed: shared machines are too noisy for that."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from course import HW1, HW1_SAMPLES

from autograder.benchmark import class_batch, latency
from autograder.cli import main


def test_the_samples_are_sorted_by_their_expected_outcome():
    kinds = class_batch.sort_samples(HW1_SAMPLES)
    assert HW1_SAMPLES / "reference" in kinds["correct"]
    assert HW1_SAMPLES / "syntax_error" in kinds["broken"] and HW1_SAMPLES / "stubs" in kinds["broken"]
    assert HW1_SAMPLES / "adam_no_bias_correction" in kinds["wrong"]


def test_a_class_is_the_mix_it_says(tmp_path: Path):
    counts = class_batch.write_class(HW1_SAMPLES, 200, tmp_path)
    assert counts == {"wrong": 30, "broken": 6, "hostile": 1, "correct": 163}
    folders = sorted(tmp_path.iterdir())
    assert len(folders) == 200 and not list(tmp_path.rglob("expected.toml"))
    hostile = [f for f in folders if f.name.startswith("hostile")]
    for folder, trick in zip(hostile, class_batch.HOSTILE.values(), strict=False):
        assert any(runs_first(p.read_text(), trick) for p in folder.glob("*.py"))


def runs_first(code: str, trick: str) -> bool:
    """Whether ``code`` compiles and runs ``trick`` before anything of its own but its
    docstring and ``from __future__`` imports."""
    compile(code, "hostile.py", "exec")
    body = ast.parse(code).body
    ran = [n for n in body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))
           and not (isinstance(n, ast.ImportFrom) and n.module == "__future__")]
    return ast.unparse(ran[:len(ast.parse(trick).body)]) == ast.unparse(ast.parse(trick).body)


@pytest.mark.parametrize("trick", list(class_batch.HOSTILE.values()))
def test_every_trick_is_the_first_thing_each_reference_file_runs(trick: str):
    for path in sorted((HW1_SAMPLES / "reference").glob("*.py")):
        assert runs_first(class_batch.with_first_statement(path.read_text(), trick), trick), path.name


def test_a_class_is_graded_and_its_memory_reported(tmp_path: Path):
    for name in ("reference", "adam_no_bias_correction", "syntax_error"):
        shutil.copytree(HW1_SAMPLES / name, tmp_path / name)
    figures = class_batch.measure(HW1, tmp_path, 10, jobs=1)
    assert figures.kinds == {"wrong": 1, "broken": 0, "hostile": 0, "correct": 9}
    assert figures.reports == 10  # timed as ``grade --out`` runs: reports written
    assert figures.seconds > 0 and 0 < figures.resident_first <= figures.grader_peak < 2048
    result = CliRunner().invoke(main, ["benchmark", "--assignment", "hw1", "--samples", str(tmp_path),
                                       "--class-size", "10", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "a class of 10" in result.output and "resident memory" in result.output


def test_one_submission_is_timed_end_to_end_and_by_phase():
    figures = latency.measure("hw1", HW1_SAMPLES / "reference", runs=1)
    assert figures.import_torch > 0 and figures.grade > 0 and figures.check > 0
    for phases in (figures.phases_first, figures.phases):
        assert set(phases) == {key for key, _ in latency.PHASES}
        assert phases["worker"] > 0 and phases["sandbox"] > 0
    assert figures.phases_first["reference"] > 0  # computed on an empty cache
