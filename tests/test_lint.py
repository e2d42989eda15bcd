"""``autograder lint``: a teacher's typo in a suite is reported with its file and line, and
grading refuses to start with a suite that fails it. Each test seeds one typo into a copy of
hw1's folder, in a course of its own."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from course import COURSE, HW1_SAMPLES

from autograder import assignment as assignments
from autograder.cli import main
from autograder.lint import lint

# Importing a suite's checks outside a grading session meets @check's unregistered mark.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")

SAMPLES = HW1_SAMPLES


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    """hw1's folder (without its samples) and solutions, copied into a course of their own."""
    course = tmp_path / "course"
    copy = course / "assignments" / "hw1"
    shutil.copytree(COURSE / "assignments" / "hw1", copy,
                    ignore=shutil.ignore_patterns("__pycache__", "samples"))
    shutil.copytree(COURSE / "solutions" / "hw1", course / "solutions" / "hw1",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _edit(path: Path, old: str, new: str) -> int:
    """Replace the one occurrence of ``old`` in ``path``; the line where it was."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


def _append(path: Path, code: str) -> int:
    """Add ``code`` at the end of ``path``; the line where it starts."""
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "\n\n" + code, encoding="utf-8")
    return text.count("\n") + 3


def _problems(suite: Path) -> list[str]:
    return [str(p) for p in lint(assignments.load_from(suite))]


def test_hw1_is_clean():
    hw1 = assignments.load("hw1", COURSE)
    assert [str(p) for p in lint(hw1)] == []
    assert [str(p) for p in lint(hw1, ("public",))] == []


def test_load_from_reads_an_assignment_anywhere(suite):
    copy = assignments.load_from(suite)
    assert copy.folder == suite
    assert copy.solutions_dir == suite.parent.parent / "solutions" / "hw1"
    assert copy.tasks == assignments.load("hw1", COURSE).tasks
    with pytest.raises(assignments.AssignmentError, match="has no assignment.toml"):
        assignments.load_from(suite / "public")


def test_misspelled_dependency(suite):
    public = suite / "public" / "test_public.py"
    line = _edit(public, 'depends=["roots.public_gd_follows_rule"]',
                 'depends=["roots.public_gd_follow_rule"]')
    assert _problems(suite) == [
        f"{public}:{line}: check roots.public_find_roots_seed depends on unknown check "
        "'roots.public_gd_follow_rule' (did you mean 'roots.public_gd_follows_rule'?): it would "
        "always be skipped"
    ]


def test_unknown_task(suite):
    public = suite / "public" / "test_public.py"
    line = _edit(public, '@check("deep_net", points=2', '@check("deepnet", points=2')
    problems = _problems(suite)
    assert (f"{public}:{line}: check deepnet.public_forward_shape: unknown task 'deepnet' "
            "(did you mean 'deep_net'?)") in problems
    assert any("task 'deep_net': its checks add up to 23 points" in p for p in problems)


def test_points_off_by_one(suite):
    config = suite / "assignment.toml"
    line = _edit(config, "points = 40", "points = 41")
    assert _problems(suite) == [
        f"{config}:{line}: task 'optimizer': its checks add up to 40 points (hidden 38 + public 2), "
        "assignment.toml gives 41"
    ]


def test_points_are_not_summed_for_the_public_suite_alone(suite):
    _edit(suite / "assignment.toml", "points = 40", "points = 41")
    assert [str(p) for p in lint(assignments.load_from(suite), ("public",))] == []


def test_duplicate_check(suite):
    public = suite / "public" / "test_public.py"
    first = public.read_text().splitlines().index('test_roots_loads = loads_check("roots", "roots.py")') + 1
    line = _append(public, '@check("roots", points=0, name="loads")\n'
                           "def test_roots_loads_again(submission: Any) -> None:\n"
                           "    pass\n")
    assert _problems(suite) == [
        f"{public}:{line}: duplicate check id roots.loads (also at {public}:{first}): one outcome "
        "would overwrite the other"
    ]


def test_function_defined_twice(suite):
    public = suite / "public" / "test_public.py"
    line = _append(public, '@check("roots", points=0, name="loads_again")\n'
                           "def test_roots_loads(submission: Any) -> None:\n"
                           "    pass\n")
    assert any(p.startswith(f"{public}:{line}: test_roots_loads is defined again") for p in _problems(suite))


def test_test_function_without_check(suite):
    public = suite / "public" / "test_public.py"
    line = _append(public, "def test_forgotten(submission: Any) -> None:\n    pass\n")
    assert _problems(suite) == [
        f"{public}:{line}: test_forgotten is not declared with @check: grading would refuse the whole suite"
    ]


def test_parametrised_check(suite):
    public = suite / "public" / "test_public.py"
    line = _append(public, "import pytest\n\n\n"
                           '@pytest.mark.parametrize("x0", [1.0, 2.0])\n'
                           '@check("roots", points=0, depends=["roots.loads"])\n'
                           "def test_each_start(submission: Any, x0: float) -> None:\n"
                           "    pass\n") + 3
    assert _problems(suite) == [
        f"{public}:{line}: check roots.each_start is parametrised: its cases would share one id and "
        "one score; write one check per case"
    ]


def test_parametrised_fixture_and_checks_in_a_class(suite):
    public = suite / "public" / "test_public.py"
    line = _append(public, "import pytest\n\n\n"
                           '@pytest.fixture(params=[1.0, 2.0])\n'
                           "def x0(request: Any) -> float:\n"
                           "    return request.param\n\n\n"
                           "class TestStarts:\n"
                           '    @check("roots", points=1, depends=["roots.loads"])\n'
                           "    def test_start(self, submission: Any, x0: float) -> None:\n"
                           "        pass\n") + 3
    config = suite / "assignment.toml"
    points = config.read_text().splitlines().index("points = 25", 20) + 1
    assert _problems(suite) == [
        f"{config}:{points}: task 'roots': its checks add up to 26 points (hidden 23 + public 3), "
        "assignment.toml gives 25",
        f"{public}:{line}: fixture x0 has params: each check using it would share one id and one "
        "score among its cases",
    ]


def test_task_declared_twice(suite):
    config = suite / "assignment.toml"
    line = _edit(config, 'id = "answers"', 'id = "roots"')
    assert f"{config}:{line}: task 'roots' is declared twice" in _problems(suite)


def test_unknown_mistake_id(suite):
    roots = suite / "hidden" / "test_roots.py"
    line = _edit(roots, 'mistakes=["roots_unsorted"]', 'mistakes=["roots_unsortd"]')
    problems = _problems(suite)
    assert (f"{roots}:{line}: mistake 'roots_unsortd' is not in mistakes.toml (did you mean "
            "'roots_unsorted'?)") in problems
    catalogue = suite / "mistakes.toml"
    header = catalogue.read_text().splitlines().index("[roots_unsorted]") + 1
    assert (f"{catalogue}:{header}: mistake 'roots_unsorted' is named nowhere in the suite's "
            "code: no check can report it") in problems
    assert len(problems) == 2


def test_catalogue_entry_of_unknown_task(suite):
    catalogue = suite / "mistakes.toml"
    text = catalogue.read_text().splitlines()
    header = text.index("[roots_unsorted]") + 1
    task_line = next(i for i in range(header, len(text)) if text[i].startswith("task ="))
    text[task_line] = 'task = "root"'
    catalogue.write_text("\n".join(text) + "\n")
    assert _problems(suite) == [
        f"{catalogue}:{task_line + 1}: mistake 'roots_unsorted': unknown task 'root' (did you mean "
        "'roots'?)"
    ]


def test_probes_with_a_missing_of_their_own(suite):
    probes = suite / "probes.py"
    line = _append(probes, "class Missing(Exception):\n    pass\n")
    assert _problems(suite) == [
        f"{probes}:{line}: defines its own Missing: the worker only knows "
        "autograder.runtime.probing.Missing, so raising this one reports an error instead of the "
        "missing name"
    ]


def test_probes_hook_that_is_not_a_function(suite):
    probes = suite / "probes.py"
    line = _append(probes, "warm_up = 3\n")
    assert _problems(suite) == [f"{probes}:{line}: warm_up must be a function: the worker calls it"]


def test_statement_without_a_task_block(suite):
    statement = suite / "statement.md.j2"
    line = _edit(statement, "{% block task_roots %}", "{% block task_root %}")
    assert _problems(suite) == [
        f"{statement}:1: has no {{% block task_roots %}}: the notebook and the statement would lack "
        "that part",
        f"{statement}:{line}: block 'task_root' is of no task (did you mean 'task_roots'?)",
    ]


def test_missing_statement(suite):
    (suite / "statement.md.j2").unlink()
    assert _problems(suite) == [
        f"{suite / 'statement.md.j2'}:1: the statement template is missing: release has nothing to render"
    ]


def test_probes_without_a_dict_and_an_unknown_probe(suite):
    probes = suite / "probes.py"
    line = _edit(probes, "PROBES: dict[str, Callable[..., Any]] = {", "PROBES = list({")
    _edit(probes, '    "solve": probe_solve,\n}', '    "solve": probe_solve,\n})')
    assert _problems(suite) == [
        f"{probes}:{line}: defines no PROBES dict (probe name -> function): the sandbox could run no probe"
    ]
    _edit(probes, "PROBES = list({", "PROBES = dict({")
    roots = suite / "hidden" / "test_roots.py"
    text = roots.read_text()
    at = text.index('"find_roots"')
    roots.write_text(text[:at] + '"find_root"' + text[at + len('"find_roots"'):])
    assert _problems(suite) == [
        f"{roots}:{text[:at].count(chr(10)) + 1}: probe 'find_root' is not in probes.py's PROBES "
        "(did you mean 'find_roots'?)"
    ]


def test_dependency_cycle(suite):
    public = suite / "public" / "test_public.py"
    line = _edit(public, '@check("roots", points=0, depends=["roots.loads"])',
                 '@check("roots", points=0, depends=["roots.public_find_roots_seed"])')
    assert _problems(suite) == [
        f"{public}:{line}: dependency cycle: roots.public_gd_follows_rule -> "
        "roots.public_find_roots_seed -> roots.public_gd_follows_rule: these checks would always "
        "be skipped"
    ]


def test_lint_command(suite, monkeypatch):
    assert CliRunner().invoke(main, ["lint", "hw1"]).exit_code == 0
    monkeypatch.setenv(assignments.COURSE_ENV, str(suite.parent.parent))
    config = suite / "assignment.toml"
    answers = '\n\n[[tasks]]\nid = "answers"'
    line = _edit(config, "points = 25" + answers, "points = 24" + answers)
    result = CliRunner().invoke(main, ["lint"])
    assert result.exit_code == 1
    assert f"{config}:{line}: task 'roots': its checks add up to 25 points" in result.output


def test_grading_refuses_a_suite_that_fails_lint(suite, monkeypatch, tmp_path):
    monkeypatch.setenv(assignments.COURSE_ENV, str(suite.parent.parent))

    def graded(*args, **kwargs):
        raise AssertionError("grading started with a broken suite")

    monkeypatch.setattr("autograder.cli.grade_parallel", graded)
    monkeypatch.setattr("autograder.cli.grade_batch", graded)
    public = suite / "public" / "test_public.py"
    line = _edit(public, 'depends=["optimizer.loads"]', 'depends=["optimizer.load"]')
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["grade", str(SAMPLES / "reference"), "--out", str(out)])
    assert result.exit_code == 2, result.output
    unknown = f"{public}:{line}: check optimizer.public_adam_first_step depends on unknown check"
    assert unknown in result.output
    assert "nothing was graded" in result.output
    assert not out.exists()
    result = CliRunner().invoke(main, ["check", str(SAMPLES / "reference")])
    assert result.exit_code == 2, result.output
    assert f"{public}:{line}:" in result.output


def test_student_check_lints_only_the_public_suite(suite, monkeypatch):
    monkeypatch.setenv(assignments.COURSE_ENV, str(suite.parent.parent))
    _edit(suite / "hidden" / "test_roots.py", 'mistakes=["roots_unsorted"]', 'mistakes=["roots_unsortd"]')
    ran = []
    monkeypatch.setattr("autograder.cli.grade_batch", lambda *args, **kwargs: ran.append(args))
    result = CliRunner().invoke(main, ["check", str(SAMPLES / "reference")])
    assert result.exit_code == 0, result.output
    assert len(ran) == 1


def test_a_catalogue_entry_named_nowhere_warns_but_does_not_stop_grading(suite, capsys):
    """An entry no check names misgrades nothing (an id may be built at run time): lint reports
    it, and grading goes on with a warning."""
    from autograder.cli import _refuse_broken_suite

    catalogue = suite / "mistakes.toml"
    _append(catalogue, '[never_named]\ntask = "roots"\ntitle = "t"\nexplanation = "e"\nfix = "f"\n'
            'recognise = "r"\n')
    problems = lint(assignments.load_from(suite))
    assert [p.misgrades for p in problems] == [False]
    _refuse_broken_suite(assignments.load_from(suite))  # does not exit
    assert "warning: " in capsys.readouterr().err
