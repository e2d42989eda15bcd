"""The ``autograder`` command: release, check, grade, merge-manual, summarize, doctor, benchmark,
lint."""

from __future__ import annotations

import contextlib
import csv
import os
import signal
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import assignment as assignments
from .batch import GradingError, GradingOptions, grade_batch
from .jobs import grade_parallel
from .progress import ProgressLog
from .resume import kept_result, submission_fingerprint, suite_fingerprint
from .sandbox import LAYERS, Sandbox, SandboxError
from .submission import discover

console = Console(stderr=True, soft_wrap=True)  # a log line is never cut in two
MAX_NAMED = 50  # submissions named in one line of a batch's verdict; grades.csv has them all
# The report modules (Jinja2, markdown-it, matplotlib) are imported where reports are written,
# not at start-up: a grading job forked before them starts a tenth of a second sooner.


def _prepare_reports() -> None:
    """Import and prepare what writing reports needs (run while the jobs grade)."""
    from .report.rendering import prepare

    prepare()


def _named(name: str) -> assignments.Assignment:
    """The course's assignment ``name``, or one clear line saying what exists."""
    try:
        return assignments.load(name, assignments.find_course())
    except assignments.AssignmentError as exc:
        raise click.UsageError(str(exc)) from None


def _assignment_for(paths: list[Path], name: str | None) -> assignments.Assignment:
    """Which assignment ``paths`` are: ``--assignment``, else the released bundle they are in
    or hold (its ``.autograder/``), else the one course assignment whose files they have.
    The course's own folder wins over a bundle's copy, for its hidden checks."""
    if name is not None:
        return _named(name)
    course = assignments.find_course()
    markers = {m for m in (_markers(p) for p in paths) for m in m}
    named = {_description(m).name: m for m in markers}
    if len(named) > 1:
        raise click.UsageError(f"these are submissions of several assignments ({', '.join(sorted(named))}); "
                               "grade each with --assignment")
    if named:
        (bundle_name, marker), = named.items()
        if bundle_name in assignments.available(course):
            return _named(bundle_name)
        return _description(marker)
    known = assignments.available(course)
    if not known:
        raise click.UsageError("no assignment to grade against: this is neither a course (a folder "
                               "with assignments/<name>/assignment.toml) nor a released bundle "
                               f"(with {assignments.BUNDLE_MARKER}/); set {assignments.COURSE_ENV} "
                               "or run it in the course")
    present = _file_names(paths)
    candidates = [a for a in map(_named, known)
                  if present & {*a.submission_files, a.notebook}]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise click.UsageError(f"none of the files there belong to an assignment of this course "
                               f"({', '.join(known)}); name it with --assignment")
    fitting = ", ".join(a.name for a in candidates)
    raise click.UsageError(f"the files there fit several assignments ({fitting}); name one with --assignment")


def _description(marker: Path) -> assignments.Assignment:
    try:
        return assignments.load_from(marker)
    except assignments.AssignmentError as exc:
        raise click.UsageError(str(exc)) from None


def _markers(path: Path) -> list[Path]:
    """The bundle descriptions ``path`` is inside of or holds one level down."""
    found = assignments.bundle_marker(path if path.is_dir() else path.parent)
    if found is not None:
        return [found]
    if not path.is_dir():
        return []
    return [m.parent for m in path.glob(f"*/{assignments.BUNDLE_MARKER}/{assignments.CONFIG_NAME}")]


def _file_names(paths: list[Path]) -> set[str]:
    """The names of the files in ``paths`` and up to three levels down (a folder of
    submissions holds folders of files; nbgrader's ``submitted/<student>/<name>/`` one more)."""
    names: set[str] = set()
    for path in paths:
        if path.is_file():
            names.add(path.name)
            continue
        for pattern in ("*", "*/*", "*/*/*"):
            names.update(p.name for p in path.glob(pattern))
    return names


def _refuse_broken_suite(spec: assignments.Assignment,
                         suites: tuple[str, ...] = ("public", "hidden")) -> None:
    """Grade nothing with a suite that fails lint in a way that would misgrade: print its
    problems, one a line, and exit 2. Problems that misgrade nothing are printed as warnings."""
    from .lint import lint_cached

    found = lint_cached(spec, suites)
    for problem in found:
        if not problem.misgrades:
            click.echo(f"warning: {problem}", err=True)
    problems = [p for p in found if p.misgrades]
    if problems:
        for problem in problems:
            click.echo(str(problem), err=True)
        click.echo(f"{spec.name}: the check suite has {len(problems)} problem(s); nothing was graded "
                   f"(see `autograder lint {spec.name}`)", err=True)
        sys.exit(2)


assignment_option = click.option(
    "--assignment", "-a", "assignment_name",
    help="Assignment name (default: the bundle's, or the one whose files these are).",
)
layer_option = click.option(
    "--layer", type=click.Choice(LAYERS), help="Force a sandbox layer (default: strongest that works)."
)


class _Commands(click.Group):
    """The command group; a file-system error on the command line's paths is one clear
    line (``Error: ...``), not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename else ""
            raise click.ClickException(f"{exc.strerror or exc}{where}") from None


@click.group(cls=_Commands)
@click.version_option(package_name="autograder")
def main() -> None:
    """Grade programming homework: sandboxed student code, hidden pytest checks, feedback.

    Assignments are found in the course folder (the nearest one holding assignments/, or
    $AUTOGRADER_COURSE) or in the released bundle a command runs in."""


def run() -> None:
    """The ``autograder`` command: ``main``, then an exit that skips tearing the interpreter
    down (a tenth of a second with torch loaded, on every command). Everything the command
    writes is closed by then; the output streams are flushed here."""
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 1  # output that could not be written is a failure
    os._exit(code)


@main.command()
@click.argument("name")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder for the student bundle.")
@click.option("--classroom", "engine_spec", metavar="ENGINE_SPEC",
              help="Add GitHub Classroom's workflow, which installs the engine from ENGINE_SPEC (a pip "
              "requirement such as autograder==0.1.0, or a wheel URL) and reports the public checks.")
def release(name: str, out: Path, engine_spec: str | None) -> None:
    """Write the student bundle of assignment NAME (stubs, statement, notebook, public checks)."""
    from .release import ReleaseLeakError, release_assignment

    spec = _named(name)
    _refuse_broken_suite(spec)
    if out.exists() and not out.is_dir():
        raise click.BadParameter(f"{out} is a file, not a folder", param_hint="--out")
    try:
        release_assignment(spec, out, engine_spec)
    except ValueError as exc:  # an engine spec that cannot go into a workflow
        raise click.BadParameter(str(exc), param_hint="--classroom") from None
    except ReleaseLeakError as exc:
        console.print(f"[red]release refused:[/red] {exc}")
        sys.exit(2)
    console.print(f"released {name} to {out}")


@main.command("new")
@click.argument("name")
@click.option("--course", "course_dir", type=click.Path(file_okay=False, path_type=Path),
              help="The course folder (default: the one here, or this folder).")
def new_command(name: str, course_dir: Path | None) -> None:
    """Start assignment NAME: a working one-task example in assignments/NAME/ and
    solutions/NAME/ that passes lint and grades its reference at full marks; edit from there."""
    from .scaffold import scaffold

    course = course_dir or assignments.find_course() or Path.cwd()
    try:
        written = scaffold(course, name)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    for path in written:
        click.echo(path)
    click.echo(f"next: autograder lint {name}; autograder grade assignments/{name}/samples "
               f"--out build/{name}; autograder release {name} --out build/{name}-release", err=True)


@main.command("check")
@click.argument("directory", default=".", type=click.Path(exists=True, path_type=Path))
@assignment_option
@layer_option
def check_command(directory: Path, assignment_name: str | None, layer: str | None) -> None:
    """Run the public checks on your own work in DIRECTORY (default: here)."""
    spec = _assignment_for([directory], assignment_name)
    sandbox = Sandbox(spec.probes, spec.limits, layer=layer)
    results: list[dict[str, Any]] = []
    try:
        sandbox.start(wait=False)  # the worker warms up while the suite is read
        _refuse_broken_suite(spec, ("public",))
        submissions = discover([directory], spec)[:1]
        grade_batch(spec, submissions, GradingOptions(suites=("public",), layer=layer), results.append,
                    sandbox=sandbox)
    except (GradingError, SandboxError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        sandbox.shutdown()
    from .report.terminal import render_check_report

    for result in results:
        click.echo(render_check_report(result))


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder for results and reports.")
@assignment_option
@layer_option
@click.option("--cold", is_flag=True, help="A fresh process per task instead of forking a warm one.")
@click.option("--reveal", is_flag=True,
              help="Show every hidden check's inputs and values now (after_due_date checks "
              "show them by themselves once the assignment's due date has passed).")
@click.option("--public-only", is_flag=True, help="Run only the public checks.")
@click.option("--jobs", "-j", default=os.cpu_count() or 1, show_default=True, type=click.IntRange(min=1),
              help="Grading processes, each with its own sandbox worker.")
@click.option(
    "--fail-under", type=float, metavar="PCT",
    help="Exit 1 if any submission scores under PCT percent of the automatic points.",
)
@click.option("--scheduler", metavar="ADDRESS",
              help="Grade on a dask.distributed cluster (its scheduler's address, such as "
              "tcp://host:8786); each worker keeps a warm sandbox. Needs the [dask] extra.")
@click.option("--resume", is_flag=True,
              help="Keep the results in --out of submissions whose files, suite and options are "
              "unchanged since they were graded; grade the rest.")
def grade(
    paths: tuple[Path, ...],
    out: Path,
    assignment_name: str | None,
    layer: str | None,
    cold: bool,
    reveal: bool,
    public_only: bool,
    jobs: int,
    fail_under: float | None,
    scheduler: str | None,
    resume: bool,
) -> None:
    """Grade submissions: each PATH is a submission (folder or notebook), a folder of them, or
    a Moodle or Canvas "download all submissions" zip."""
    with contextlib.ExitStack() as cleanup:
        paths, identities = _unpack_downloads(paths, assignment_name, cleanup)
        _grade(paths, identities, out, assignment_name, layer, cold, reveal, public_only, jobs, fail_under,
               resume, scheduler)


def _unpack_downloads(paths: tuple[Path, ...], assignment_name: str | None, cleanup: contextlib.ExitStack
                      ) -> tuple[tuple[Path, ...], dict[Path, dict[str, Any]]]:
    """Each zip among ``paths`` unpacked (for the rest of the command) into a folder of
    submissions, and who each of those is in the LMS; files that fit no student are listed."""
    from .lms.archive import UnsafeArchive
    from .lms.layouts import unpack_download

    course = assignments.find_course()
    names = [assignment_name] if assignment_name else assignments.available(course)
    wanted: set[str] = set()
    for name in names:
        with contextlib.suppress(assignments.AssignmentError):
            spec = assignments.load(name, course)
            wanted |= {*spec.submission_files, spec.notebook}
    unpacked, identities = [], {}
    for path in paths:
        if not (path.is_file() and path.suffix.lower() == ".zip"):
            unpacked.append(path)
            continue
        target = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="lms-")))
        try:
            placed, unknown = unpack_download(path, target, wanted)
        except UnsafeArchive as exc:
            raise click.ClickException(f"{path}: {exc}") from None
        for name in unknown:
            console.print(f"{path.name}: {name!r} is not a Moodle or Canvas submission file; not graded",
                          markup=False, highlight=False)
        late = sum(s.late for s in placed.values())
        console.print(f"{path.name}: {len(placed)} {placed and next(iter(placed.values())).lms or 'LMS'} "
                      f"submission(s){f', {late} marked late' if late else ''}", markup=False)
        identities.update({target / "submissions" / name: s.identity() for name, s in placed.items()})
        unpacked.append(target / "submissions")
    return tuple(unpacked), identities


def _grade(paths: tuple[Path, ...], identities: dict[Path, dict[str, Any]], out: Path,
           assignment_name: str | None, layer: str | None, cold: bool, reveal: bool, public_only: bool,
           jobs: int, fail_under: float | None, resume: bool, scheduler: str | None = None) -> None:
    from . import output
    from .report.summary import render_summary

    spec = _assignment_for(list(paths), assignment_name)
    if not spec.has_hidden_suite and not public_only:
        console.print(f"{spec.name}: no hidden checks here (a released bundle): grading the public "
                      "checks only", markup=False)
        public_only = True
    _refuse_broken_suite(spec, ("public",) if public_only else ("public", "hidden"))
    try:
        submissions = discover(list(paths), spec, keep_files=False)  # each job reads its own
    except (FileNotFoundError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    who = {s.name: identities[s.path] for s in submissions if s.path in identities}
    options = GradingOptions(
        suites=("public",) if public_only else ("public", "hidden"),
        layer=layer,
        warm=not cold,
        reveal=reveal,
    )
    if out.exists() and not out.is_dir():
        raise click.BadParameter(f"{out} is a file, not a folder", param_hint="--out")
    out.mkdir(parents=True, exist_ok=True)
    fingerprints = _fingerprints(spec, submissions, options)
    results: list[dict[str, Any]] = []
    if resume:
        for submission in list(submissions):
            kept = kept_result(out, submission.name, fingerprints[submission.name])
            if kept is not None:
                results.append(kept)
                submissions.remove(submission)
        console.print(f"resuming: {len(results)} result(s) kept, {len(submissions)} to grade", markup=False)
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        with Progress(
            TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("{task.description}"), console=console, transient=True,
        ) as progress:
            bar = progress.add_task("", total=len(submissions))
            log = None if console.is_terminal else ProgressLog(
                len(submissions), lambda line: console.print(line, markup=False, highlight=False))

            def on_result(result: dict[str, Any]) -> None:
                if result.get("submission") in who:
                    result["identity"] = who[result["submission"]]
                if result.get("submission") in fingerprints and not result.get("grader_failure"):
                    result["fingerprint"] = fingerprints[result["submission"]]
                try:
                    result = output.write_submission(out, result)
                except (OSError, ValueError) as exc:  # the batch's files still list it
                    console.print(f"could not write {result['submission']}'s files: {exc}", markup=False)
                results.append(result)
                progress.update(bar, advance=1, description=result["submission"])
                if log is not None:
                    log.advance()

            if scheduler is None:
                grade_parallel(spec, submissions, options, on_result, jobs, while_starting=_prepare_reports)
            else:
                _cluster_grader()(spec, submissions, options, on_result, scheduler)
    except GradingError as exc:
        raise click.ClickException(str(exc)) from None
    finally:  # a stopped or failed batch still gets its overview of what it finished
        signal.signal(signal.SIGTERM, previous)
        results.sort(key=lambda r: r["submission"])
        render_summary(results, out)
    _print_table(results)
    console.print(f"reports: {out / 'summary.html'} and {out}/<submission>/feedback.html")
    under = [r for r in results if fail_under is not None and _automatic_percent(r) < fail_under]
    if under:
        named = ", ".join(f"{r['submission']} ({_automatic_percent(r):.0f}%)" for r in under[:MAX_NAMED])
        more = f" and {len(under) - MAX_NAMED} more (see grades.csv)" if len(under) > MAX_NAMED else ""
        console.print(f"{len(under)} submission(s) under {fail_under:g}% of the automatic points: "
                      f"{named}{more}", markup=False, highlight=False)
        sys.exit(1)


def _cluster_grader() -> Any:
    """``distributed.grade_on_cluster``, or one line saying the extra is missing."""
    try:
        from .distributed import grade_on_cluster
    except ImportError:
        raise click.ClickException("--scheduler needs dask.distributed: "
                                   "pip install 'autograder[dask]'") from None
    return grade_on_cluster


def _fingerprints(spec: assignments.Assignment, submissions: list[Any], options: GradingOptions
                  ) -> dict[str, dict[str, str]]:
    """What each submission's grade will depend on (``resume``), read here in the grader."""
    due_passed = spec.due is not None and datetime.now(UTC) >= spec.due
    suite = suite_fingerprint(spec, options, due_passed)
    return {s.name: {"suite": suite, "submission": submission_fingerprint(s.loaded_again(spec))}
            for s in submissions}


def _stop(signum: int, _frame: Any) -> None:
    """SIGTERM ends grading the way Ctrl-C does, so the summary is still written."""
    raise SystemExit(128 + signum)


def _automatic_percent(result: dict[str, Any]) -> float:
    available = sum(t["max_score"] for t in result["tasks"] if not t["manual"])
    return 100.0 * result["score"] / available if available else 100.0


def _print_table(results: list[dict[str, Any]]) -> None:
    if not results:
        console.print("no submissions found")
        return
    table = Table(title=f"{results[0]['assignment']} grades")
    table.add_column("submission")
    for task in results[0]["tasks"]:
        table.add_column(task["id"], justify="right")
    table.add_column("total", justify="right")
    table.add_column("sandbox")
    for result in results:
        cells = [
            "—" if t["score"] is None else f"{t['score']:g}/{t['max_score']:g}" for t in result["tasks"]
        ]
        table.add_row(
            result["submission"], *cells, f"{result['score']:g}/{result['max_score']:g}",
            result["sandbox"]["layer"],
        )
    Console().print(table)


@main.command("merge-manual")
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("scores_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--task", help="The task every row scores (default: the CSV's task column, or the "
              "only task graded by hand).")
def merge_manual(out: Path, scores_csv: Path, task: str | None) -> None:
    """Merge hand-given scores of the tasks graded by hand into OUT (CSV columns: submission,
    score, and optionally task and comment)."""
    from . import output

    try:
        problems = output.apply_manual_scores(out, scores_csv, task)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise click.ClickException(f"{scores_csv} is not a readable UTF-8 CSV file ({exc})") from None
    for problem in problems:
        console.print(problem, markup=False, highlight=False)
    console.print(f"merged {scores_csv} into {out}", markup=False)
    if problems:
        console.print(f"{len(problems)} row(s) were not merged (see above)", markup=False)
        sys.exit(1)


@main.command()
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
def summarize(out: Path) -> None:
    """Write OUT's summary.html, grades.csv and mistakes.csv again from its result.json files
    (after a batch was killed before it could, say)."""
    from . import output
    from .report.summary import render_summary

    problems: list[str] = []
    results = output.load_results(out, problems)
    for problem in problems:
        console.print(problem, markup=False)
    render_summary(results, out)
    console.print(f"{len(results)} results summarised in {out / 'summary.html'}", markup=False)


@main.command()
@assignment_option
def doctor(assignment_name: str | None) -> None:
    """Show which sandbox layers work on this machine, and why the others do not (with an
    assignment's probes and limits when one is named)."""
    from .doctor import diagnose, machine_facts

    spec = _named(assignment_name) if assignment_name else None
    facts = Table(title="machine", show_header=False)
    for key, value in machine_facts().items():
        facts.add_row(key, value)
    Console().print(facts)
    layers = Table(title="sandbox layers, strongest first")
    for column in ("layer", "works", "detail"):
        layers.add_column(column)
    from . import empty_probes

    reports = diagnose(spec.probes, spec.limits) if spec else diagnose(Path(empty_probes.__file__))
    for item in reports:
        layers.add_row(item.layer, "yes" if item.works else "no", item.reason)
    Console().print(layers)
    best = next((r.layer for r in reports if r.works), None)
    Console().print(f"grading will use: [bold]{best or 'nothing: the worker cannot start'}[/bold]")


@main.command()
@click.option("--copies", default=5, show_default=True, type=click.IntRange(min=1),
              help="Copies of every sample submission.")
@click.option("--samples", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of sample submissions (default: the assignment's samples/).")
@assignment_option
@layer_option
@click.option("--warm-only", is_flag=True, help="Skip the (slow) fresh-process run.")
@click.option("--jobs", "-j", default=1, show_default=True, type=click.IntRange(min=1),
              help="Grading processes.")
@click.option("--isolation-cost", is_flag=True,
              help="Also grade warm with every task in the worker's own namespaces, to show what "
              "isolating each task costs (grading itself always isolates).")
@click.option("--adversarial", is_flag=True,
              help="Grade a hostile mix made from SAMPLES/reference instead (inputs as costly "
              "for the grader as its caps allow) and watch the grader's memory.")
@click.option("--latency", is_flag=True,
              help="Instead: time one submission (SAMPLES/reference) with `grade` and `check`, "
              "against `python -c \"import torch\"`, and phase by phase.")
@click.option("--versus-nbgrader", "versus", type=click.IntRange(min=1), metavar="N",
              help="Instead: time nbgrader's autograde and the kit's on the same N notebooks.")
@click.option("--class-size", type=click.IntRange(min=10), metavar="N",
              help="Instead: grade a class of N made from the samples (mostly correct, some wrong, "
              "a few broken or hostile) in --jobs processes; time and memory.")
def benchmark(copies: int, samples: Path, assignment_name: str | None, layer: str | None,
              warm_only: bool, jobs: int, isolation_cost: bool, adversarial: bool, latency: bool,
              versus: int | None, class_size: int | None) -> None:
    """Print seconds per submission with fresh processes and with the warm start, and the
    grading processes' peak memory (or, with an option below, another figure)."""
    from .benchmark import throughput

    spec = _named(assignment_name) if assignment_name else _assignment_for([samples or Path.cwd()], None)
    samples = samples or spec.samples_dir
    _refuse_broken_suite(spec)
    machine = throughput.machine()
    if (adversarial or latency or class_size) and not (samples / "reference").is_dir():
        raise click.BadParameter(f"{samples} has no reference/ to build from", param_hint="--samples")
    if latency or versus or class_size:
        _other_benchmarks(spec, samples, machine, latency, versus, class_size, jobs, layer)
        return
    modes = ("warm",) if warm_only else ("cold", "warm")
    if isolation_cost:
        modes += ("warm-shared",)
    figures = throughput.run(spec, samples, copies, layer, modes, jobs, adversarial)
    table = Table(title=f"grading speed on {machine}")
    table.add_column("mode", justify="right", no_wrap=True, min_width=len("warm-shared"))
    for column in ("jobs", "submissions", "total s", "s per submission", "CPU s per submission",
                   "sandbox"):
        table.add_column(column, justify="right")
    for item in figures:
        cpu = "?" if item.cpu_per_submission is None else f"{item.cpu_per_submission:.3f}"
        table.add_row(item.mode, str(item.jobs), str(item.submissions), f"{item.total_seconds:.1f}",
                      f"{item.per_submission:.3f}", cpu, item.layer)
    Console().print(table)
    grader = max((f.grader_peak_mib for f in figures if f.grader_peak_mib), default=None)
    if grader is not None:
        Console().print(f"grader peak memory per grading process: {grader:.0f} MiB")
    peak = throughput.peak_memory_mib()
    Console().print(f"peak resident memory, sandboxed workers included: {peak:.0f} MiB")


def _other_benchmarks(spec: assignments.Assignment, samples: Path, machine: str, latency: bool,
                      versus: int | None, class_size: int | None, jobs: int, layer: str | None) -> None:
    """The one-submission, versus-nbgrader and whole-class figures asked for, in that order."""
    from .benchmark import class_batch, versus_nbgrader
    from .benchmark import latency as one_submission

    if latency:
        Console().print(one_submission.table(one_submission.measure(spec.name, samples / "reference"),
                                             machine))
    if versus:
        try:
            figures = versus_nbgrader.measure(spec.name, spec.notebook, versus, jobs)
        except versus_nbgrader.NbgraderMissing as exc:
            raise click.ClickException(str(exc)) from None
        Console().print(versus_nbgrader.table(figures, machine))
    if class_size:
        figures = class_batch.measure(spec, samples, class_size, jobs, layer)
        Console().print(class_batch.table(figures, machine))


@main.group("nbgrader")
def nbgrader_group() -> None:
    """Grade an nbgrader course: a source notebook for nbgrader to release, sandboxed
    autograding into nbgrader's gradebook, feedback where nbgrader delivers it."""


def _nbgrader_course(course_dir: Path) -> Any:
    """nbgrader's view of COURSE_DIR, or one line saying the extra is missing."""
    try:
        from .nbgrader_course.coursedir import course_directory
    except ImportError:
        raise click.ClickException("nbgrader is not installed: pip install 'autograder[nbgrader]'") from None
    return course_directory(course_dir)


course_dir_argument = click.argument("course_dir", type=click.Path(file_okay=False, path_type=Path))


@nbgrader_group.command("release")
@click.argument("name")
@course_dir_argument
def nbgrader_release(name: str, course_dir: Path) -> None:
    """Write COURSE_DIR/source/NAME/: the source notebook (nbgrader generate_assignment
    turns it into the kit's student notebook) and the public .autograder/ folder."""
    spec = _named(name)
    _refuse_broken_suite(spec)
    coursedir = _nbgrader_course(course_dir)
    from .nbgrader_course.source import write_source

    for path in write_source(spec, coursedir):
        click.echo(path)
    console.print(f"next: nbgrader generate_assignment {name} (in {course_dir})", markup=False)


@nbgrader_group.command("autograde")
@click.argument("name")
@course_dir_argument
@layer_option
@click.option("--jobs", "-j", default=os.cpu_count() or 1, show_default=True, type=click.IntRange(min=1),
              help="Grading processes, each with its own sandbox worker.")
def nbgrader_autograde(name: str, course_dir: Path, layer: str | None, jobs: int) -> None:
    """Grade every COURSE_DIR/submitted/<student>/NAME/ in the sandbox and record the scores in
    nbgrader's gradebook (the tasks graded by hand are left to formgrader)."""
    spec = _named(name)
    _refuse_broken_suite(spec)
    coursedir = _nbgrader_course(course_dir)
    from .nbgrader_course.autograde import NotInGradebook, autograde, results_folder

    try:
        results, problems = autograde(spec, coursedir, GradingOptions(layer=layer), jobs,
                                      lambda r: console.print(f"graded {r['submission']}", markup=False))
    except (NotInGradebook, GradingError) as exc:
        raise click.ClickException(str(exc)) from None
    _print_table(results)
    for problem in problems:
        console.print(problem, markup=False, highlight=False)
    console.print(f"graded {len(results)} submission(s), scores in {coursedir.db_url}; the kit's "
                  f"reports: {results_folder(coursedir, spec)}", markup=False)
    if problems:
        sys.exit(1)


@nbgrader_group.command("feedback")
@click.argument("name")
@course_dir_argument
def nbgrader_feedback(name: str, course_dir: Path) -> None:
    """Write each student's feedback page to COURSE_DIR/feedback/<student>/NAME/, with the
    scores and comments given in formgrader, for nbgrader release_feedback to deliver."""
    spec = _named(name)
    coursedir = _nbgrader_course(course_dir)
    from .nbgrader_course.feedback import write_feedback

    written, problems = write_feedback(spec, coursedir)
    for problem in problems:
        console.print(problem, markup=False)
    for path in written:
        click.echo(path)
    if problems:
        sys.exit(1)


@main.group("export")
def export_group() -> None:
    """Write what another grading platform imports."""


roster_option = click.option(
    "--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
    help="The LMS's own gradebook export (CSV), listing the students.")
to_option = click.option("--to", "target", type=click.Path(dir_okay=False, path_type=Path),
                         help="Where to write the CSV (default: OUT/<lms>_import.csv).")


def _write_gradebook(lms: str, out: Path, roster: Path, target: Path | None, build: Any) -> None:
    """Read OUT's results and the roster, write the import CSV, list what did not match."""
    from . import output
    from .lms.gradebook import read_roster

    problems: list[str] = []
    results = output.load_results(out, problems)
    for problem in problems:
        console.print(problem, markup=False)
    if not results:
        raise click.ClickException(f"{out} holds no graded results")
    try:
        exported = build(results, read_roster(roster))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise click.ClickException(f"{roster} is not a readable UTF-8 CSV file ({exc})") from None
    target = target or out / f"{lms}_import.csv"
    target.write_text(exported.text, encoding="utf-8")
    for name in exported.unmatched_results:
        console.print(f"not in the roster: {name}", markup=False, highlight=False)
    for name in exported.students_without_result:
        console.print(f"in the roster, no graded submission: {name}", markup=False, highlight=False)
    console.print(f"wrote {target}", markup=False)


@export_group.command("canvas")
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@roster_option
@click.option("--column", help="The assignment's column, as Canvas names it: \"Name (id)\" updates "
              "that assignment (default: the assignment's name, a new column).")
@to_option
def export_canvas(out: Path, roster: Path, column: str | None, target: Path | None) -> None:
    """Canvas's gradebook import CSV for the results in OUT (a graded batch)."""
    from .lms.gradebook import canvas_csv

    _write_gradebook("canvas", out, roster, target,
                     lambda results, rows: canvas_csv(results, rows, column or results[0]["assignment"]))


@export_group.command("moodle")
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@roster_option
@to_option
def export_moodle(out: Path, roster: Path, target: Path | None) -> None:
    """Moodle's grade import CSV for the results in OUT (map its ID number or email column)."""
    from .lms.gradebook import moodle_csv

    _write_gradebook("moodle", out, roster, target,
                     lambda results, rows: moodle_csv(results, rows, results[0]["assignment"]))


@main.command("lint")
@click.argument("name", required=False)
def lint_command(name: str | None) -> None:
    """Check assignment NAME's suite (default: every assignment) without grading anything:
    tasks, dependencies, points, duplicate or parametrised checks, mistake ids, probes.py.
    Exits 1 when it finds a problem."""
    from .lint import lint

    found = False
    names = [name] if name else assignments.available(assignments.find_course())
    if not names:
        raise click.UsageError("no course here: run lint in a folder holding assignments/<name>/")
    for assignment_name in names:
        problems = lint(_named(assignment_name))
        for problem in problems:
            click.echo(str(problem))
        verdict = f"{len(problems)} problem(s)" if problems else "clean"
        click.echo(f"{assignment_name}: {verdict}", err=True)
        found = found or bool(problems)
    if found:
        sys.exit(1)


def _register_integrations() -> None:
    """The commands that live beside their integration: GitHub Classroom's grading step and
    Gradescope's autograder zip."""
    from .classroom.report import classroom_command
    from .gradescope.export import gradescope_command

    main.add_command(classroom_command, "classroom")
    export_group.add_command(gradescope_command, "gradescope")


_register_integrations()
