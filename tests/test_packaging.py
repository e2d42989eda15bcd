"""What students and graders install: the engine, built as a wheel and an sdist, carries no course
content; installed normally (not editable) in a fresh venv, it works with nothing but a released
bundle beside it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from course import ASSIGNMENTS, COURSE

from autograder.leaks import is_trivial
from autograder.release import release_assignment, secret_texts

ENGINE = COURSE / "autograder"
TEXT_SUFFIXES = {".py", ".j2", ".json", ".toml", ".css", ".md", ".txt", ""}
SKIPPED = shutil.ignore_patterns(".venv", ".git", "build", "__pycache__", "*.egg-info", ".pytest_cache",
                                 ".ruff_cache", "dist")


def _course_words() -> set[str]:
    """What would name an assignment of this course: its name, its tasks' ids, its files."""
    words = set()
    for assignment in ASSIGNMENTS:
        words |= {assignment.name, assignment.notebook, *assignment.submission_files}
        words |= {task.id for task in assignment.tasks}
    return words


def test_the_engine_names_no_assignment() -> None:
    words = _course_words()
    pattern = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, sorted(words))) + r")(?![\w])")
    found = []
    for path in sorted(ENGINE.rglob("*")):
        if path.is_file() and path.suffix in TEXT_SUFFIXES and "__pycache__" not in path.parts:
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                where = f"{path.relative_to(COURSE)}:{number}"
                found += [f"{where}: {match.group(1)}" for match in pattern.finditer(line)]
    assert found == [], "the engine names course content:\n" + "\n".join(found)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The wheel and the sdist, built from a clean copy of the project."""
    source = tmp_path_factory.mktemp("source") / "project"
    shutil.copytree(COURSE, source, ignore=SKIPPED)
    out = tmp_path_factory.mktemp("dist")
    for kind in ("wheel", "sdist"):
        build = f"import sys; from setuptools import build_meta as b; b.build_{kind}(sys.argv[1])"
        done = subprocess.run([sys.executable, "-c", build, str(out)], cwd=source, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
    return {"wheel": next(out.glob("*.whl")), "sdist": next(out.glob("*.tar.gz"))}


def _archive_texts(path: Path) -> Iterator[tuple[str, str]]:
    """(name, text) of every file in a wheel or an sdist."""
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                yield name, archive.read(name).decode("utf-8", errors="replace")
    else:
        with tarfile.open(path) as archive:
            for member in archive.getmembers():
                handle = archive.extractfile(member) if member.isfile() else None
                if handle is not None:
                    yield member.name, handle.read().decode("utf-8", errors="replace")


# In code, what makes a line the course's own: a string of some length or a number of some
# digits (an expected value, a message, a seed). Structural lines such as ``raise CheckFailed(``
# are shared with the engine by nature.
DISTINCTIVE_CODE = re.compile(r"""("[^"]{10,}"|'[^']{10,}'|\d[\d_.]{2,})""")


def _secret_lines() -> set[str]:
    """Every non-trivial line of every assignment's solution regions, hidden checks, helpers and
    mistake catalogue; in Python files, the distinctive ones."""
    found = set()
    for assignment in ASSIGNMENTS:
        for source, text in secret_texts(assignment).items():
            code = source.endswith(".py")
            found |= {" ".join(line.split()) for line in text.splitlines()
                      if not is_trivial(line) and (not code or DISTINCTIVE_CODE.search(line))}
    return found


def test_the_distinctive_lines_are_most_of_the_secrets() -> None:
    """The filter above keeps a scan that can fail: hundreds of lines, all of every catalogue."""
    secrets = _secret_lines()
    assert len(secrets) > 500
    catalogue = ASSIGNMENTS[0].mistakes.read_text(encoding="utf-8")
    assert any(line in secrets for line in map(" ".join, map(str.split, catalogue.splitlines())))


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_the_distributions_carry_no_secret(dist: dict[str, Path], kind: str) -> None:
    """Each secret line is looked for in every file of the archive, and no file of the course
    (assignments/, solutions/) is in it."""
    secrets = _secret_lines()
    files = dict(_archive_texts(dist[kind]))
    assert any(name.endswith("autograder/templates/feedback.html.j2") for name in files)
    course_paths = [name for name in files if re.search(r"(^|/)(assignments|solutions)/", name)]
    assert course_paths == []
    leaks = [f"{name}: {secret}" for name, text in files.items()
             for secret in secrets if secret in " ".join(text.split())]
    assert leaks == []
    print(f"\n{kind}: {len(files)} files, {len(secrets)} secret lines, no leak")


@pytest.fixture(scope="module")
def installed(dist: dict[str, Path]) -> Iterator[Path]:
    """A fresh venv with CPU torch and the wheel, installed normally (the way a student, a
    Gradescope image or a CI job installs the kit). Made world-readable: the sandbox runs the
    interpreter as uid nobody."""
    root = Path(tempfile.mkdtemp(prefix="autograder-wheel-"))
    root.chmod(0o755)
    venv = root / "venv"
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        for requirement in (["torch==2.13.0"], [str(dist["wheel"])]):
            done = subprocess.run([*pip, *requirement], capture_output=True, text=True, timeout=900)
            assert done.returncode == 0, done.stderr[-3000:]
        yield venv
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _run(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(cwd)}  # no course, no source tree
    return subprocess.run([str(venv / "bin" / "autograder"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=lambda a: a.name)
def test_a_student_checks_a_bundle_with_the_installed_wheel(installed: Path, assignment) -> None:
    root = Path(tempfile.mkdtemp(prefix="autograder-bundle-"))
    try:
        root.chmod(0o755)
        bundle = root / assignment.name
        release_assignment(assignment, bundle)
        stubs = _run(installed, "check", ".", cwd=bundle)
        assert stubs.returncode == 0, stubs.stderr[-2000:]
        assert "✗" in stubs.stdout and "NotImplementedError" in stubs.stdout
        for path in (assignment.samples_dir / "reference").iterdir():  # the student's work, done
            if path.name in assignment.submission_files:
                shutil.copy(path, bundle / path.name)
        solved = _run(installed, "check", ".", cwd=bundle)
        assert solved.returncode == 0, solved.stderr[-2000:]
        assert "✗" not in solved.stdout and "failed" not in solved.stdout.splitlines()[-1].replace(
            "0 failed", ""), solved.stdout
        assert "sandbox: none" not in solved.stdout
        graded = _run(installed, "grade", ".", "--out", str(root / "out"), cwd=bundle)
        assert graded.returncode == 0, graded.stderr[-2000:]
        assert "public checks only" in graded.stderr
        assert (root / "out" / assignment.name / "feedback.html").is_file()  # templates in the wheel
        result = json.loads((root / "out" / assignment.name / "result.json").read_text())
        public = "".join(p.read_text(encoding="utf-8") for p in assignment.public_dir.glob("*.py"))
        names = [c["id"].split(".", 1)[1] for c in result["checks"]]
        assert names and all(name == "loads" or f"test_{name}" in public for name in names), names
        linted = _run(installed, "lint", cwd=bundle)
        assert linted.returncode == 2 and "no course here" in linted.stderr
    finally:
        shutil.rmtree(root, ignore_errors=True)
