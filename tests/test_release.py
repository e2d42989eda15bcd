"""The release step: stubs, statement, notebook and the leak guard, for every assignment of
the course and for a small made-up one."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
from course import ASSIGNMENTS, COURSE, HW1

from autograder.assignment import BUNDLE_MARKER, Assignment, load_from
from autograder.leaks import CACHE_NAMES, ReleaseLeakError, find_leaks
from autograder.notebook import (
    NotebookSection,
    assignment_notebook,
    build_notebook,
    notebook_text,
    split_code_cells,
)
from autograder.regions import solution_text, strip_solution_regions
from autograder.release import bundle_leaks, release_assignment
from autograder.statement import render_statement, statement_context


def bundle_files(directory: Path) -> dict[str, bytes]:
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and not CACHE_NAMES.intersection(p.relative_to(directory).parts)
    }


@pytest.fixture(scope="module", params=ASSIGNMENTS, ids=lambda a: a.name)
def released(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[Assignment, Path]:
    """Each assignment of the course and a fresh release of it."""
    assignment = request.param
    out = tmp_path_factory.mktemp("release") / assignment.name
    release_assignment(assignment, out)
    return assignment, out


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("release") / "hw1"
    release_assignment(HW1, out)
    return out


# --- every assignment's bundle ---------------------------------------------------------------


def test_release_is_byte_identical_when_repeated(released: tuple[Assignment, Path], tmp_path: Path) -> None:
    assignment, out = released
    again = tmp_path / assignment.name
    release_assignment(assignment, again)
    assert bundle_files(again) == bundle_files(out)


def test_bundle_holds_the_expected_files(released: tuple[Assignment, Path]) -> None:
    assignment, out = released
    names = set(bundle_files(out))
    public = {f"{BUNDLE_MARKER}/public/{p.name}" for p in assignment.public_dir.glob("*.py")}
    expected = {"README.md", assignment.notebook, *assignment.submission_files,
                f"{BUNDLE_MARKER}/assignment.toml", f"{BUNDLE_MARKER}/probes.py", *public}
    assert names == expected


def test_bundle_describes_its_assignment_without_secrets(released: tuple[Assignment, Path]) -> None:
    """``autograder check`` reads the bundle's own description: same tasks, no hidden suite,
    no solutions."""
    assignment, out = released
    inside = load_from(out / BUNDLE_MARKER)
    assert (inside.name, inside.tasks) == (assignment.name, assignment.tasks)
    assert inside.limits == assignment.limits
    assert not inside.has_hidden_suite and not inside.solutions_dir.exists()
    assert inside.secret_files() == []


def test_every_bundle_has_no_leaks(released: tuple[Assignment, Path]) -> None:
    assignment, out = released
    assert bundle_leaks(assignment, out) == []


def test_every_statement_states_the_points(released: tuple[Assignment, Path]) -> None:
    assignment, out = released
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert f"{assignment.max_score:g}" in readme
    assert "autograder check" in readme
    assert "{{" not in readme and "{%" not in readme


STUB_LOADS = textwrap.dedent(
    """
    import sys
    from autograder.runtime.loader import load_module, load_notebook
    from pathlib import Path

    bundle = Path(sys.argv[1])
    sys.path.insert(0, str(bundle))
    for name in sys.argv[3:]:
        load_module(bundle / name)
    namespace, notes = load_notebook(bundle / sys.argv[2])
    if notes:
        sys.exit(f"notebook cells raised: {notes}")
    """
)


def test_every_stub_and_notebook_loads(released: tuple[Assignment, Path]) -> None:
    assignment, out = released
    code = [f for t in assignment.automatic_tasks for f in t.files if f.endswith(".py")]
    done = subprocess.run([sys.executable, "-c", STUB_LOADS, str(out), assignment.notebook, *code],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]


# --- hw1's bundle ----------------------------------------------------------------------------


def test_bundle_carries_no_solution_marker(fresh: Path) -> None:
    for name, data in bundle_files(fresh).items():
        text = data.decode("utf-8")
        for marker in ("### BEGIN SOLUTION", "### END SOLUTION", "BEGIN SOLUTION -->"):
            assert marker not in text, f"{name} contains {marker!r}"


def test_statement_states_the_points(fresh: Path) -> None:
    readme = (fresh / "README.md").read_text(encoding="utf-8")
    for task in HW1.tasks:
        assert f"({task.points:g} points" in readme, task.id
    assert "autograder check ." in readme


STUB_PROBE = textwrap.dedent(
    """
    import sys
    import torch
    from autograder.runtime.loader import load_module, load_notebook
    from pathlib import Path

    def raises_not_implemented(call):
        try:
            call()
        except NotImplementedError:
            return True
        return False

    def check(ns, where):
        param = torch.zeros(3, requires_grad=True)
        calls = {
            "MyModelNN": lambda: ns["MyModelNN"](4, 5, 7, 4),
            "gradient_descent": lambda: ns["gradient_descent"](lambda x: 2 * x, 1.0, 0.1),
            "find_roots": lambda: ns["find_roots"](1.0, -6.0, 4.0),
            "solve": lambda: ns["solve"](-10.0, torch.optim.SGD, lr=1e-3),
        }
        for name in ("Adam", "SGDMomentum", "AdaGrad", "RMSprop"):
            calls[name] = lambda name=name: ns[name]([param]).step()
        bad = [name for name, call in calls.items() if not raises_not_implemented(call)]
        if bad:
            sys.exit(f"{where}: these do not raise NotImplementedError: {bad}")

    bundle = Path(sys.argv[1])
    sys.path.insert(0, str(bundle))
    namespace = {}
    for name in ("deep_net", "optimizer", "roots"):
        namespace.update(load_module(bundle / f"{name}.py"))
    check(namespace, "stub files")
    namespace, notes = load_notebook(bundle / "hw1.ipynb")
    if notes:
        sys.exit(f"notebook cells raised: {notes}")
    check(namespace, "notebook")
    """
)


def test_stubs_import_and_raise_not_implemented(fresh: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", STUB_PROBE, str(fresh)],
        cwd=COURSE,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_notebook_validates_and_carries_nbgrader_metadata(fresh: Path) -> None:
    assignment = HW1
    raw = (fresh / assignment.notebook).read_text(encoding="utf-8")
    notebook = nbformat.reads(raw, as_version=4)
    nbformat.validate(notebook)
    ids = [cell.id for cell in notebook.cells]
    assert len(ids) == len(set(ids))
    graded = {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            continue
        assert meta["schema_version"] == 3
        assert re.fullmatch(r"[A-Za-z0-9_-]+", meta["grade_id"])
        assert set(meta) <= {"grade", "solution", "locked", "grade_id", "points", "schema_version"}
        graded[meta["grade_id"]] = (cell, meta)
    stubs = [m for c, m in graded.values() if c.cell_type == "code" and m["solution"]]
    assert stubs and all(not m["grade"] and not m["locked"] for m in stubs)
    for cell, meta in graded.values():
        if cell.cell_type == "code" and "# YOUR CODE HERE" in cell.source:
            assert meta["solution"], cell.id
    for task in assignment.automatic_tasks:  # the cell that carries the task's points
        cell, meta = graded[task.id]
        assert cell.cell_type == "code" and meta["grade"] and meta["locked"] and not meta["solution"]
        assert meta["points"] == task.points
    answers, meta = graded["answers"]
    assert answers.cell_type == "markdown"
    assert meta == {
        "grade": True,
        "solution": True,
        "locked": False,
        "grade_id": "answers",
        "points": 10,
        "schema_version": 3,
    }
    assert "YOUR ANSWER HERE" in answers.source
    assert "timestamp" not in raw and json.loads(raw)["nbformat"] == 4


def test_source_notebook_strips_to_the_released_one(fresh: Path) -> None:
    """Built from the reference files, the notebook is an nbgrader source of the release."""
    assignment = HW1
    _, blocks = render_statement(assignment.statement, statement_context(assignment),
                                 [assignment.course_templates])
    references = {
        name: (assignment.solutions_dir / name).read_text(encoding="utf-8")
        for name in assignment.submission_files
    }
    source = assignment_notebook(assignment, blocks, references)
    released = nbformat.read(fresh / assignment.notebook, as_version=4)
    assert [c.id for c in source.cells] == [c.id for c in released.cells]
    for ours, theirs in zip(source.cells, released.cells, strict=True):
        assert ours.metadata == theirs.metadata, ours.id
        kind = "markdown" if ours.cell_type == "markdown" else "python"
        assert strip_solution_regions(ours.source, kind) == theirs.source, ours.id


# --- stripping -------------------------------------------------------------------------------


def test_python_region_becomes_raise_at_its_indentation() -> None:
    source = textwrap.dedent(
        """\
        def f(x):
            \"\"\"Doc.\"\"\"
            ### BEGIN SOLUTION
            y = x + 1
            return y
            ### END SOLUTION


        class A:
            def g(self):
                if True:
                    ### BEGIN SOLUTION
                    return 2
                    ### END SOLUTION
                return 3
        """
    )
    assert strip_solution_regions(source, "python") == textwrap.dedent(
        """\
        def f(x):
            \"\"\"Doc.\"\"\"
            # YOUR CODE HERE
            raise NotImplementedError()


        class A:
            def g(self):
                if True:
                    # YOUR CODE HERE
                    raise NotImplementedError()
                return 3
        """
    )


def test_stripping_keeps_windows_newlines() -> None:
    source = "def f():\r\n    ### BEGIN SOLUTION\r\n    return 1\r\n    ### END SOLUTION\r\n"
    assert strip_solution_regions(source, "python") == (
        "def f():\r\n    # YOUR CODE HERE\r\n    raise NotImplementedError()\r\n")


def test_region_at_the_end_of_text_without_newline() -> None:
    source = "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"
    assert strip_solution_regions(source, "python") == (
        "def f():\n    # YOUR CODE HERE\n    raise NotImplementedError()")


def test_markdown_region_becomes_answer_placeholder() -> None:
    source = "## 1. Why?\n\n<!-- BEGIN SOLUTION -->\nBecause.\n\nAnd more.\n<!-- END SOLUTION -->\n"
    assert strip_solution_regions(source, "markdown") == "## 1. Why?\n\nYOUR ANSWER HERE\n"


def test_text_without_regions_is_unchanged() -> None:
    assert strip_solution_regions("x = 1\n", "python") == "x = 1\n"


@pytest.mark.parametrize(
    ("source", "line", "words"),
    [
        ("a\n### BEGIN SOLUTION\nb\n### BEGIN SOLUTION\nc\n### END SOLUTION\n", 4, "nest"),
        ("a\n### END SOLUTION\n", 2, "without"),
        ("a\nb\n  ### BEGIN SOLUTION\nc\n", 3, "never closed"),
        ("x = 1  ### BEGIN SOLUTION\n", 1, "alone"),
        ("a\n<!-- BEGIN SOLUTION -->\n", 2, "python form"),
    ],
)
def test_malformed_markers_name_file_and_line(source: str, line: int, words: str) -> None:
    with pytest.raises(ValueError, match=rf"^solutions/x\.py:{line}: .*{words}"):
        strip_solution_regions(source, "python", source="solutions/x.py")


def test_solution_text_blanks_everything_else_and_keeps_line_numbers() -> None:
    source = "a\n### BEGIN SOLUTION\nsecret\n### END SOLUTION\nb\n"
    assert solution_text(source, "python").splitlines() == ["", "", "secret", "", ""]


# --- notebook pieces -------------------------------------------------------------------------


def test_code_is_split_into_a_cell_per_definition() -> None:
    source = textwrap.dedent(
        '''\
        """Module docstring, left to the statement cell."""

        import torch

        LIMIT = 3


        # belongs to f
        @staticmethod
        def f():
            pass


        class A:
            pass
        '''
    )
    cells = split_code_cells(source)
    assert [name for name, _ in cells] == ["setup", "f", "A"]
    assert cells[0][1] == "import torch\n\nLIMIT = 3"
    assert cells[1][1].startswith("# belongs to f\n@staticmethod\ndef f():")


def test_notebook_is_deterministic_and_valid() -> None:
    section = NotebookSection(
        id="part",
        statement="## Part",
        files=(("part.py", "def f():\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"),),
        points=5,
        manual=False,
    )
    essay = NotebookSection(id="essay", statement="## Essay", files=(("essay.md", "Q?\n"),), points=2,
                            manual=True)
    first = notebook_text(build_notebook("# Intro", [section, essay], "Bye"))
    second = notebook_text(build_notebook("# Intro", [section, essay], "Bye"))
    assert first == second and first.endswith("}\n")
    notebook = nbformat.reads(first, as_version=4)
    nbformat.validate(notebook)
    assert [c.id for c in notebook.cells] == ["intro", "part-statement", "part-f", "part",
                                              "essay-statement", "essay", "outro"]
    cells = {c.id: c.metadata.get("nbgrader", {}) for c in notebook.cells}
    assert (cells["part"]["grade"], cells["part"]["solution"], cells["part"]["points"]) == (True, False, 5)
    assert (cells["part-f"]["grade"], cells["part-f"]["solution"]) == (False, True)
    assert (cells["essay"]["grade"], cells["essay"]["solution"], cells["essay"]["points"]) == (True, True, 2)


# --- leaks -----------------------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_find_leaks_catches_planted_solution_and_hidden_lines(tmp_path: Path) -> None:
    solution = "def f(x):\n    ### BEGIN SOLUTION\n    return torch.sigmoid(x) * 2\n    ### END SOLUTION\n"
    hidden = "import torch\n\nHIDDEN_INPUTS = [(3.5, -1.25), (7.0, 2.0)]\n"
    secrets = {"sol/f.py": solution_text(solution, "python"), "suite/test_f.py": hidden}
    bundle = tmp_path / "bundle"
    write(bundle / "f.py", "import torch\n\ndef f(x):\n    raise NotImplementedError\n")
    assert find_leaks(bundle, secrets) == []

    write(bundle / "README.md", "Hint:\n\n    return   torch.sigmoid(x) * 2\n")
    write(bundle / "checks" / "test_f.py", "x = 1\nHIDDEN_INPUTS = [(3.5, -1.25), (7.0, 2.0)]\n")
    leaks = find_leaks(bundle, secrets)
    assert [(leak.file, leak.line, leak.secret) for leak in leaks] == [
        ("README.md", 3, "sol/f.py:3"),
        ("checks/test_f.py", 2, "suite/test_f.py:3"),
    ]


def test_find_leaks_reads_notebook_cells_and_flags_markers(tmp_path: Path) -> None:
    secrets = {"sol/f.py": "\n\n    return torch.sigmoid(x) * 2\n"}
    section = NotebookSection(
        id="f",
        statement="## f",
        files=(("f.py", "def f(x):\n    return torch.sigmoid(x) * 2\n"),),
        points=1,
    )
    write(tmp_path / "hw.ipynb", notebook_text(build_notebook("# Intro", [section])))
    write(tmp_path / "notes.md", "### BEGIN SOLUTION\n")
    found = {(leak.file, leak.line, leak.secret) for leak in find_leaks(tmp_path, secrets)}
    assert found == {("hw.ipynb (cell 3)", 2, "sol/f.py:3"), ("notes.md", 1, "solution marker")}


def test_public_lines_and_trivial_lines_are_not_secrets(tmp_path: Path) -> None:
    secrets = {"sol/f.py": "        super().__init__()\n    # a long comment line here\n    x = 1\n"}
    write(tmp_path / "f.py", '# a long comment line here\nx = 1\n"""Call ``super().__init__()``."""\n')
    assert len(find_leaks(tmp_path, secrets)) == 1
    assert find_leaks(tmp_path, secrets, public_texts=["call super().__init__() first"]) == []


# --- release of a small made-up assignment ---------------------------------------------------


TINY_TOML = """name = "tiny"
title = "Tiny"
seed = 0

[[tasks]]
id = "square"
title = "Square"
files = ["square.py"]
points = 8

[[tasks]]
id = "answers"
title = "Answers"
files = ["answers.md"]
points = 2
manual = true
"""


def tiny_assignment(root: Path, statement: str) -> Assignment:
    """A two-task assignment in the course ``root``, laid out like hw1."""
    folder = root / "assignments" / "tiny"
    write(folder / "assignment.toml", TINY_TOML)
    write(folder / "hidden" / "test_hidden.py", "SECRET_CASES = [(1.5, 2.25), (-3.0, 9.0)]\n")
    write(folder / "public" / "test_public.py", "def test_square_of_two():\n    assert True\n")
    write(folder / "probes.py", "PROBES = {}\n")
    write(folder / "statement.md.j2", statement)
    solutions = root / "solutions" / "tiny"
    write(
        solutions / "square.py",
        '"""Square."""\n\n\ndef square(x: float) -> float:\n    """x squared."""\n'
        "    ### BEGIN SOLUTION\n    result_value = x * x\n    return result_value\n"
        "    ### END SOLUTION\n",
    )
    write(
        solutions / "answers.md",
        "# Answers\n\n1. Why?\n\n<!-- BEGIN SOLUTION -->\nBecause squaring is easy.\n<!-- END SOLUTION -->\n",
    )
    return load_from(folder)


TINY_STATEMENT = (
    "{% block intro %}# {{ title }} ({{ total }} points){% endblock %}\n"
    "{% block task_square %}## Square ({{ points.square }} points){% endblock %}\n"
    "{% block task_answers %}## Answers{% endblock %}\n"
)


def test_release_of_another_assignment(tmp_path: Path) -> None:
    assignment = tiny_assignment(tmp_path, TINY_STATEMENT)
    report = release_assignment(assignment, tmp_path / "out")
    assert report.files == (
        f"{BUNDLE_MARKER}/assignment.toml",
        f"{BUNDLE_MARKER}/probes.py",
        f"{BUNDLE_MARKER}/public/test_public.py",
        "README.md",
        "answers.md",
        "square.py",
        "tiny.ipynb",
    )
    out = tmp_path / "out"
    assert (out / "README.md").read_text() == "# Tiny (10 points)\n## Square (8 points)\n## Answers\n"
    assert "raise NotImplementedError" in (out / "square.py").read_text()
    assert "YOUR ANSWER HERE" in (out / "answers.md").read_text()
    # Releasing again over the previous bundle replaces it.
    release_assignment(assignment, out)
    assert sorted(bundle_files(out)) == list(report.files)


@pytest.mark.parametrize("planted", ["    return result_value", "SECRET_CASES = [(1.5, 2.25), (-3.0, 9.0)]"])
def test_release_refuses_a_leaking_bundle(tmp_path: Path, planted: str) -> None:
    assignment = tiny_assignment(tmp_path, TINY_STATEMENT + f"\n{planted}\n")
    with pytest.raises(ReleaseLeakError, match=r"README\.md:\d+"):
        release_assignment(assignment, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["assignments", "solutions"]


def test_release_will_not_delete_foreign_files(tmp_path: Path) -> None:
    assignment = tiny_assignment(tmp_path, TINY_STATEMENT)
    write(tmp_path / "out" / "my_notes.txt", "mine")
    with pytest.raises(FileExistsError, match="my_notes.txt"):
        release_assignment(assignment, tmp_path / "out")
    assert (tmp_path / "out" / "my_notes.txt").read_text() == "mine"


def test_statement_template_needs_a_block_per_task(tmp_path: Path) -> None:
    assignment = tiny_assignment(tmp_path, "{% block intro %}x{% endblock %}\n")
    with pytest.raises(ValueError, match="task_square"):
        release_assignment(assignment, tmp_path / "out")
