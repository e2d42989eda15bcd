"""``autograder export gradescope NAME --out DIR``: the zip to upload as a Gradescope
programming assignment's autograder.

The zip holds ``setup.sh`` and ``run_autograder`` at its root, the engine as a wheel built
from this project (``wheels/``), and the course part grading needs (``course/``): the
assignment's folder without its samples, and its reference solutions, which the hidden checks
compare against. Gradescope unpacks it to ``/autograder/source``, which only root can read
once ``run`` has started.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import click

from ..assignment import Assignment
from .run import COURSE_FOLDER
from .scripts import run_autograder, setup_sh

GRADESCOPE_TIMEOUT_SECONDS = 600.0  # Gradescope's default; the assignment's settings may raise it
STARTUP_SECONDS = 60.0  # importing torch, starting the sandbox, linting the suite, on half a vCPU
LEFT_OUT = {"samples", "__pycache__", ".pytest_cache", ".ipynb_checkpoints"}
PROJECT_FILES = ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in")


class ExportError(Exception):
    """The zip cannot be built; the message says why."""


def engine_project() -> Path:
    """The project the installed engine comes from (a checkout or an editable install)."""
    here = Path(__file__).resolve().parent.parent.parent
    if not (here / "pyproject.toml").is_file():
        raise ExportError(f"the engine is not installed from its project ({here} has no pyproject.toml); "
                          "pass a built wheel with --wheel")
    return here


def build_wheel(out_dir: Path, project: Path | None = None) -> Path:
    """The engine's wheel, built with ``pip wheel --no-deps`` from a clean copy of the
    project (the build writes nothing into the project itself)."""
    project = project or engine_project()
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "project"
        source.mkdir()
        for name in PROJECT_FILES:
            if (project / name).is_file():
                shutil.copy2(project / name, source / name)
        shutil.copytree(project / "autograder", source / "autograder",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        built = Path(scratch) / "wheels"
        done = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
             "-w", str(built), str(source)],
            capture_output=True, text=True, timeout=600,
        )
        wheels = sorted(built.glob("autograder-*.whl"))
        if done.returncode != 0 or len(wheels) != 1:
            raise ExportError(f"pip wheel failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
        out_dir.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy2(wheels[0], out_dir / wheels[0].name))


def _add_tree(archive: zipfile.ZipFile, folder: Path, prefix: str) -> None:
    """Every regular file under ``folder`` as ``prefix/...``, without samples or caches;
    a symbolic link is refused rather than followed out of the course."""
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if LEFT_OUT & set(relative.parts) or path.suffix == ".pyc":
            continue
        if path.is_symlink():
            raise ExportError(f"{path} is a symbolic link; the zip takes only plain files")
        if path.is_file():
            _add_file(archive, f"{prefix}/{relative.as_posix()}", path.read_bytes(), 0o644)


def _add_file(archive: zipfile.ZipFile, name: str, data: bytes | str, mode: int) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def time_budget_warning(assignment: Assignment) -> str | None:
    """A sentence when one submission's sandbox budget may not fit Gradescope's timeout."""
    needed = assignment.limits.submission_seconds + STARTUP_SECONDS
    if needed <= GRADESCOPE_TIMEOUT_SECONDS:
        return None
    return (f"{assignment.name}: submission_seconds = {assignment.limits.submission_seconds:g} plus "
            f"about {STARTUP_SECONDS:g} s of start-up exceeds Gradescope's default "
            f"{GRADESCOPE_TIMEOUT_SECONDS:g} s timeout; lower it in assignment.toml or raise the "
            "timeout in Gradescope's settings")


def export_gradescope(assignment: Assignment, out_dir: Path, wheel: Path | None = None) -> Path:
    """Write ``out_dir/<name>-gradescope.zip`` and return its path."""
    if not assignment.has_hidden_suite or not assignment.solutions_dir.is_dir():
        raise ExportError(f"{assignment.name}: a Gradescope autograder needs the hidden checks and "
                          f"the solutions ({assignment.hidden_dir}, {assignment.solutions_dir})")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{assignment.name}-gradescope.zip"
    with tempfile.TemporaryDirectory() as scratch:
        wheel = wheel or build_wheel(Path(scratch))
        partial = out_dir / f".{target.name}.partial"
        try:
            with zipfile.ZipFile(partial, "w") as archive:
                _add_file(archive, "setup.sh", setup_sh(assignment.name), 0o755)
                _add_file(archive, "run_autograder", run_autograder(assignment.name), 0o755)
                _add_file(archive, f"wheels/{wheel.name}", wheel.read_bytes(), 0o644)
                _add_tree(archive, assignment.folder, f"{COURSE_FOLDER}/assignments/{assignment.name}")
                _add_tree(archive, assignment.solutions_dir, f"{COURSE_FOLDER}/solutions/{assignment.name}")
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
    return target


@click.command("gradescope")
@click.argument("name")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder for the zip.")
@click.option("--wheel", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The engine wheel to ship (default: built from the project with pip wheel).")
def gradescope_command(name: str, out: Path, wheel: Path | None) -> None:
    """Write the Gradescope autograder zip of assignment NAME (setup.sh, run_autograder, the
    engine wheel, the assignment without its samples, and its solutions)."""
    from ..cli import _named, _refuse_broken_suite

    spec = _named(name)
    _refuse_broken_suite(spec)
    if out.exists() and not out.is_dir():
        raise click.BadParameter(f"{out} is a file, not a folder", param_hint="--out")
    warning = time_budget_warning(spec)
    if warning:
        click.echo(f"warning: {warning}", err=True)
    try:
        target = export_gradescope(spec, out, wheel)
    except ExportError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(target)
    manual = ", ".join(t.id for t in spec.manual_tasks)
    automatic = sum(t.points for t in spec.automatic_tasks)
    click.echo(f"upload it as the autograder; set the autograder's points to {automatic:g}"
               + (f" and add manual questions for {manual}" if manual else ""), err=True)
