"""Validate an assignment's suite as data, without grading anything.

A teacher's typo must never become a student's lost points: a misspelled dependency skips
checks and blames the student, an unknown task drops a check's points, points that do not add
up give 11/10. Every such problem is reported as ``file:line: message`` before any grading.

Checks are collected as grading collects them (the ``test_*.py`` files of the hidden suite and
of ``public/``), by importing each file and reading the ``check_spec`` that ``@check`` sets;
what only the source shows (mistake ids, probe names, functions defined twice) is read with
``ast``. ``probes.py`` is the teacher's code and is imported here to check its contract.
"""

from __future__ import annotations

import ast
import inspect
import math
import re
import sys
import tomllib
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from difflib import get_close_matches
from itertools import count
from pathlib import Path
from types import ModuleType
from typing import Any

import jinja2

from .assignment import Assignment
from .batch import suite_files
from .cache import DiskCache
from .checks import CheckSpec, import_file
from .mistakes import REQUIRED_FIELDS

_module_numbers = count()


@dataclass(frozen=True)
class Problem:
    """One mistake in a suite, where to find it, and what is wrong."""

    path: Path
    line: int
    message: str
    misgrades: bool = True  # False: worth fixing, but no grade or feedback is wrong because of it

    def __str__(self) -> str:
        return f"{_shown(self.path)}:{self.line}: {self.message}"


@dataclass(frozen=True)
class _Check:
    """A collected check, and where it is declared."""

    spec: CheckSpec
    path: Path
    line: int
    public: bool

    @property
    def id(self) -> str:
        return f"{self.spec.task}.{self.spec.name}"


def lint(assignment: Assignment, suites: tuple[str, ...] = ("public", "hidden")) -> list[Problem]:
    """Every problem in the suites grading would run (``public`` and/or ``hidden``).

    With both suites, the points of each automatic task's checks must add up to the task's
    points (grading sums every check of a task); with the public suite alone (a student's
    ``autograder check``), only what that run uses is checked.
    """
    problems: list[Problem] = []
    files = suite_files(assignment, suites)
    checks: list[_Check] = []
    trees: dict[Path, ast.Module] = {}
    for path in files:
        public = path.parent == assignment.public_dir
        module = _import(path, problems)
        if module is not None:
            checks += _checks_of(module, path, public, problems)
        tree = _parse(path, problems)
        if tree is not None:
            trees[path] = tree
            problems += _defined_twice(path, tree) + _parametrised_fixtures(path, tree)
    full = set(suites) >= {"public", "hidden"}
    problems += _task_problems(assignment, checks, full)
    problems += _dependency_problems(checks)
    problems += _mistake_problems(assignment, trees, full)
    problems += _probe_problems(assignment, trees)
    if full:
        problems += _statement_problems(assignment)
    return sorted(set(problems), key=lambda p: (str(p.path), p.line, p.message))


def lint_cached(assignment: Assignment, suites: tuple[str, ...] = ("public", "hidden")) -> list[Problem]:
    """``lint``, kept on disk for this exact version of the course's files and the kit (see
    cache.py): the suite is imported once, not before every command that grades."""
    cache = DiskCache("lint", assignment)
    name = repr((str(assignment.folder.resolve()), suites))
    stored = cache.get(name)
    if isinstance(stored, list):
        try:
            return [Problem(Path(p["path"]), int(p["line"]), str(p["message"]), bool(p["misgrades"]))
                    for p in stored]
        except (KeyError, TypeError, ValueError):
            pass
    found = lint(assignment, suites)
    cache.put(name, [{"path": str(p.path), "line": p.line, "message": p.message,
                      "misgrades": p.misgrades} for p in found])
    return found


# -- collecting the checks ------------------------------------------------------------------


def _import(path: Path, problems: list[Problem]) -> ModuleType | None:
    """Import a suite file under a name of its own; a failure is a problem at its line."""
    name = f"_lint_{next(_module_numbers)}_{path.stem}"
    try:
        module = import_file(path, name)
    except Exception as exc:
        problems.append(Problem(path, _line_in(exc, path), f"cannot be imported: {_describe(exc)}"))
        return None
    finally:
        sys.modules.pop(name, None)
    return module


def _checks_of(module: ModuleType, path: Path, public: bool, problems: list[Problem]) -> list[_Check]:
    """The module's checks as pytest would collect them, and whatever makes one unfit."""
    found = []
    module_marks = _marks(getattr(module, "pytestmark", []))
    members = list(vars(module).items())
    for attribute, value in list(members):  # pytest also collects the methods of Test* classes
        if attribute.startswith("Test") and inspect.isclass(value):
            members += [(name, getattr(value, name)) for name in vars(value)]
    for attribute, value in members:
        spec = getattr(value, "check_spec", None) if callable(value) else None
        if not isinstance(spec, CheckSpec):
            if attribute.startswith("test") and inspect.isfunction(value):
                problems.append(Problem(path, _first_line(value), f"{attribute} is not declared with "
                                        "@check: grading would refuse the whole suite"))
            continue
        line = _first_line(value)
        if Path(inspect.getsourcefile(value) or "") != path:  # made by a helper (``loads_check``)
            line = _definition_lines(path).get(attribute, 1)
        if not attribute.startswith("test"):
            problems.append(Problem(path, line, f"check {attribute} does not start with 'test': "
                                    "pytest never runs it"))
            continue
        if "parametrize" in module_marks | _marks(getattr(value, "pytestmark", [])):
            problems.append(Problem(
                path, line, f"check {spec.task}.{spec.name} is parametrised: its cases would share "
                "one id and one score; write one check per case"))
        found.append(_Check(spec, path, line, public))
    return found


def _marks(marks: Any) -> set[str]:
    return {getattr(m, "name", "") for m in (marks if isinstance(marks, list) else [marks])}


def _first_line(function: Any) -> int:
    """The line of the first decorator (or of ``def``)."""
    code = getattr(inspect.unwrap(function), "__code__", None)
    return code.co_firstlineno if code is not None else 1


def _parse(path: Path, problems: list[Problem]) -> ast.Module | None:
    try:
        return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (SyntaxError, ValueError, OSError) as exc:
        line = getattr(exc, "lineno", None) or 1
        problems.append(Problem(path, line, f"cannot be read: {_describe(exc)}"))
        return None


def _parametrised_fixtures(path: Path, tree: ast.Module) -> list[Problem]:
    """A fixture with ``params`` makes every check that uses it run once per value, under one
    id and one score, like a parametrised check."""
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                if (isinstance(decorator, ast.Call) and "fixture" in ast.unparse(decorator.func)
                        and any(k.arg == "params" for k in decorator.keywords)):
                    problems.append(Problem(path, decorator.lineno, f"fixture {node.name} has params: "
                                            "each check using it would share one id and one score "
                                            "among its cases"))
    return problems


def _defined_twice(path: Path, tree: ast.Module) -> list[Problem]:
    """A module-level check function defined twice: only the last one would run."""
    seen: dict[str, int] = {}
    problems = []
    for node in tree.body:
        names: list[tuple[str, int]] = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names = [(node.name, min([node.lineno, *(d.lineno for d in node.decorator_list)]))]
        elif isinstance(node, ast.Assign):  # ``test_x_loads = loads_check(...)``
            names = [(t.id, node.lineno) for t in node.targets if isinstance(t, ast.Name)]
        for name, line in names:
            if not name.startswith("test"):
                continue
            if name in seen:
                problems.append(Problem(path, line, f"{name} is defined again (first at line "
                                        f"{seen[name]}): only this one would run"))
            seen.setdefault(name, line)
    return problems


# -- tasks and points -----------------------------------------------------------------------


def _task_problems(assignment: Assignment, checks: list[_Check], full: bool) -> list[Problem]:
    problems = []
    config = assignment.config
    lines = _task_lines(config)
    tasks = {t.id: t for t in assignment.tasks}
    seen_tasks: set[str] = set()
    for task in assignment.tasks:
        if task.id in seen_tasks:
            problems.append(Problem(config, lines.get((task.id, "id"), 1),
                                    f"task {task.id!r} is declared twice"))
        seen_tasks.add(task.id)
    first: dict[str, _Check] = {}
    for item in checks:
        task = tasks.get(item.spec.task)
        if task is None:
            problems.append(Problem(item.path, item.line, f"check {item.id}: unknown task "
                                    f"{item.spec.task!r}{_did_you_mean(item.spec.task, tasks)}"))
        elif task.manual:
            problems.append(Problem(item.path, item.line, f"check {item.id}: task {task.id!r} is graded "
                                    "by hand, so grading would drop this check's points"))
        if item.id in first:
            earlier = first[item.id]
            problems.append(Problem(item.path, item.line, f"duplicate check id {item.id} (also at "
                                    f"{_shown(earlier.path)}:{earlier.line}): one outcome would "
                                    "overwrite the other"))
        first.setdefault(item.id, item)
    if full:
        for task in assignment.automatic_tasks:
            hidden = sum(c.spec.points for c in checks if c.spec.task == task.id and not c.public)
            public = sum(c.spec.points for c in checks if c.spec.task == task.id and c.public)
            if not math.isclose(hidden + public, task.points, abs_tol=1e-9):
                problems.append(Problem(
                    config, lines.get((task.id, "points"), 1),
                    f"task {task.id!r}: its checks add up to {hidden + public:g} points (hidden "
                    f"{hidden:g} + public {public:g}), assignment.toml gives {task.points:g}"))
    return problems


def _task_lines(config: Path) -> dict[tuple[str, str], int]:
    """Line of each ``[[tasks]]`` table's ``id`` and ``points`` keys, by task id."""
    found: dict[tuple[str, str], int] = {}
    block: dict[str, int] = {}
    task_id = None
    text = config.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate([*text, "[[end]]"], start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            if task_id is not None:
                found.update({(task_id, key): at for key, at in block.items()})
            block, task_id = {}, None
            continue
        key = re.match(r"(id|points)\s*=", stripped)
        if key:
            block[key.group(1)] = number
            if key.group(1) == "id":
                task_id = _toml_value(stripped)
    return found


def _toml_value(line: str) -> Any:
    try:
        return next(iter(tomllib.loads(line).values()))
    except (tomllib.TOMLDecodeError, StopIteration):
        return None


# -- dependencies ---------------------------------------------------------------------------


def _dependency_problems(checks: list[_Check]) -> list[Problem]:
    by_id: dict[str, _Check] = {}
    for item in checks:
        by_id.setdefault(item.id, item)
    problems = []
    for item in checks:
        for dependency in item.spec.depends:
            if dependency not in by_id:
                problems.append(Problem(item.path, item.line, f"check {item.id} depends on unknown "
                                        f"check {dependency!r}{_did_you_mean(dependency, by_id)}: it "
                                        "would always be skipped"))
    for cycle in _cycles(by_id):
        start = by_id[cycle[0]]
        problems.append(Problem(start.path, start.line, "dependency cycle: " + " -> ".join(
            [*cycle, cycle[0]]) + ": these checks would always be skipped"))
    return problems


def _cycles(by_id: dict[str, _Check]) -> Iterator[list[str]]:
    """Each dependency cycle once, starting at its check declared first."""
    order = list(by_id)
    state: dict[str, str] = {}  # "open" on the current path, "done" when fully explored
    reported: set[frozenset[str]] = set()

    def visit(check_id: str, path: list[str]) -> Iterator[list[str]]:
        state[check_id] = "open"
        path.append(check_id)
        for dependency in by_id[check_id].spec.depends:
            if dependency not in by_id:
                continue
            if state.get(dependency) == "open":
                cycle = path[path.index(dependency):]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    turn = min(range(len(cycle)), key=lambda i: order.index(cycle[i]))
                    yield cycle[turn:] + cycle[:turn]
            elif dependency not in state:
                yield from visit(dependency, path)
        path.pop()
        state[check_id] = "done"

    for check_id in order:
        if check_id not in state:
            yield from visit(check_id, [])


# -- the mistake catalogue ------------------------------------------------------------------


def _mistake_problems(assignment: Assignment, trees: dict[Path, ast.Module], full: bool) -> list[Problem]:
    """Mistake ids the checks name that the catalogue lacks; with the full suite, also
    catalogue entries of an unknown task or that no code of the suite names."""
    path = assignment.mistakes
    problems: list[Problem] = []
    raw: dict[str, Any] = {}
    if path.is_file():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            return [Problem(path, _toml_error_line(exc), f"not valid TOML: {exc}")]
    headers = _table_lines(path)
    for file, tree in trees.items():
        public = file.parent == assignment.public_dir
        for mistake_id, line in _named_mistakes(tree):
            if public:  # the catalogue is secret: a released bundle does not carry it
                problems.append(Problem(file, line, f"public check names mistake {mistake_id!r}: the "
                                        "catalogue is not released, so a student's check cannot show "
                                        "it; name it in a hidden check", misgrades=False))
                continue
            if mistake_id not in raw:
                problems.append(Problem(file, line, f"mistake {mistake_id!r} is not in mistakes.toml"
                                        f"{_did_you_mean(mistake_id, raw)}"))
    if not full:
        return problems
    tasks = {t.id for t in assignment.tasks}
    named = _strings_in_suite(assignment)
    for mistake_id, entry in raw.items():
        lines = headers.get(mistake_id, {})
        line = lines.get("", 1)
        if not isinstance(entry, dict):
            problems.append(Problem(path, line, f"{mistake_id!r} is not a table"))
            continue
        missing = [f for f in REQUIRED_FIELDS if not entry.get(f)]
        if missing:
            problems.append(Problem(path, line, f"mistake {mistake_id!r} lacks {', '.join(missing)}"))
        task = entry.get("task")
        if task and task not in tasks:
            problems.append(Problem(path, lines.get("task", line), f"mistake {mistake_id!r}: unknown "
                                    f"task {task!r}{_did_you_mean(str(task), tasks)}"))
        if mistake_id not in named:
            problems.append(Problem(path, line, f"mistake {mistake_id!r} is named nowhere in the "
                                    "suite's code: no check can report it",
                                    misgrades=False))  # an id built at run time looks the same
    return problems


def _named_mistakes(tree: ast.Module) -> Iterator[tuple[str, int]]:
    """String constants where a check names mistakes: a ``mistakes=`` (or ``*_mistakes=``)
    argument, the keys of a dict literal passed as ``variants=``, and ``mistakes.append(...)``
    or ``mistakes = [...]`` on a name that says it holds mistakes."""
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg is not None:
            if _holds_mistakes(node.arg):
                yield from _strings(node.value)
            elif node.arg == "variants" and isinstance(node.value, ast.Dict):
                for key in node.value.keys:
                    if key is not None:
                        yield from _strings(key)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in ("append", "extend") and isinstance(node.func.value, ast.Name)
              and _holds_mistakes(node.func.value.id)):
            for argument in node.args:
                yield from _strings(argument)
        elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and _holds_mistakes(t.id) for t in targets):
                yield from _strings(node.value)


def _holds_mistakes(name: str) -> bool:
    return name == "mistakes" or name.endswith("_mistakes")


def _strings(node: ast.AST) -> Iterator[tuple[str, int]]:
    """String constants a value can evaluate to (lists, tuples, sets, both sides of ``if``
    and ``+``), not those inside calls or f-strings."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value, node.lineno
    elif isinstance(node, ast.List | ast.Tuple | ast.Set):
        for element in node.elts:
            yield from _strings(element)
    elif isinstance(node, ast.IfExp):
        yield from _strings(node.body)
        yield from _strings(node.orelse)
    elif isinstance(node, ast.BinOp):
        yield from _strings(node.left)
        yield from _strings(node.right)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            yield from _strings(value)
    elif isinstance(node, ast.Starred):
        yield from _strings(node.value)


def _strings_in_suite(assignment: Assignment) -> set[str]:
    """Every string constant in the suite's trusted Python files (probes.py excepted: it runs
    beside student code and names no mistakes)."""
    found: set[str] = set()
    for path in [*assignment.hidden_dir.rglob("*.py"), *assignment.public_dir.glob("*.py")]:
        if path == assignment.probes:
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, ValueError, OSError):
            continue  # a check file that cannot be read is reported already
        found.update(n.value for n in ast.walk(tree)
                     if isinstance(n, ast.Constant) and isinstance(n.value, str))
    return found


def _table_lines(path: Path) -> dict[str, dict[str, int]]:
    """Lines of a TOML file's ``[table]`` headers (under "") and of their keys, by table."""
    found: dict[str, dict[str, int]] = {}
    if not path.is_file():
        return found
    table: dict[str, int] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        header = re.match(r"\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$", line)
        key = re.match(r"\s*([A-Za-z0-9_-]+)\s*=", line)
        if header:
            table = found.setdefault(header.group(1).strip("\"'"), {"": number})
        elif key:
            table.setdefault(key.group(1), number)
    return found


def _toml_error_line(exc: tomllib.TOMLDecodeError) -> int:
    where = re.search(r"line (\d+)", str(exc))
    return int(where.group(1)) if where else 1


# -- probes ---------------------------------------------------------------------------------


def _probe_problems(assignment: Assignment, trees: dict[Path, ast.Module]) -> list[Problem]:
    """``probes.py`` must keep the contract of ``autograder/runtime/probing.py``: a ``PROBES``
    dict of name to function, ``prepare`` and ``warm_up`` functions if defined; and every probe
    a check calls by name must exist."""
    path = assignment.probes
    if not path.is_file():
        return [Problem(path, 1, "probes.py is missing: the sandbox has nothing to call")]
    problems: list[Problem] = []
    module = _import(path, problems)
    if module is None:
        return problems
    lines = _definition_lines(path)
    probes = getattr(module, "PROBES", None)
    if not isinstance(probes, dict):
        problems.append(Problem(path, lines.get("PROBES", 1), "defines no PROBES dict (probe name -> "
                                "function): the sandbox could run no probe"))
        probes = None
    else:
        for name, function in probes.items():
            if not isinstance(name, str) or not callable(function):
                problems.append(Problem(path, lines.get("PROBES", 1), f"PROBES[{name!r}] must map a "
                                        f"name to a function, not {type(function).__name__}"))
    for hook in ("prepare", "warm_up"):
        if hasattr(module, hook) and not callable(getattr(module, hook)):
            problems.append(Problem(path, lines.get(hook, 1), f"{hook} must be a function: the "
                                    "worker calls it"))
    own_missing = getattr(module, "Missing", None)
    if isinstance(own_missing, type) and own_missing.__module__ == module.__name__:
        problems.append(Problem(path, lines.get("Missing", 1), "defines its own Missing: the worker "
                                "only knows autograder.runtime.probing.Missing, so raising this one "
                                "reports an error instead of the missing name"))
    if probes is not None:
        for file, tree in trees.items():
            for name, line in _called_probes(tree):
                if name not in probes:
                    problems.append(Problem(file, line, f"probe {name!r} is not in probes.py's PROBES"
                                            f"{_did_you_mean(name, probes)}"))
    return problems


def _definition_lines(path: Path) -> dict[str, int]:
    """Line of each top-level class, function or assignment of a file, by name (the last
    one, which is the one that counts)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, ValueError, OSError):
        return {}
    found: dict[str, int] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            found[node.name] = node.lineno
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(target, ast.Name):
                    found[target.id] = node.lineno
    return found


def _called_probes(tree: ast.Module) -> Iterator[tuple[str, int]]:
    """Probe names given as constants: ``submission.call(task, "probe", ...)``,
    ``submission.require(task, "probe", ...)`` and ``reference.run("probe", ...)``."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        probe = None
        if node.func.attr in ("call", "require") and len(node.args) >= 2:
            probe = node.args[1]
        elif (node.func.attr == "run" and node.args and isinstance(node.func.value, ast.Name)
              and node.func.value.id == "reference"):
            probe = node.args[0]
        if isinstance(probe, ast.Constant) and isinstance(probe.value, str):
            yield probe.value, probe.lineno


# -- the statement --------------------------------------------------------------------------


def _statement_problems(assignment: Assignment) -> list[Problem]:
    """The statement template must exist and have the blocks the notebook is made of: ``intro``
    and one ``task_<id>`` per task; a ``task_`` block of no task is a typo."""
    path = assignment.statement
    if not path.is_file():
        return [Problem(path, 1, "the statement template is missing: release has nothing to render")]
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(
        [path.parent, *[p for p in [assignment.course_templates] if p.is_dir()]]))
    try:
        template = environment.get_template(path.name)
    except jinja2.TemplateSyntaxError as exc:
        return [Problem(path, exc.lineno or 1, f"not a valid template: {exc.message}")]
    except jinja2.TemplateError as exc:
        return [Problem(path, 1, f"cannot be read: {_describe(exc)}")]
    lines = _block_lines(path)
    blocks = set(template.blocks)
    problems = []
    for wanted in ["intro", *[f"task_{t.id}" for t in assignment.tasks]]:
        if wanted not in blocks:
            problems.append(Problem(path, 1, f"has no {{% block {wanted} %}}: the notebook and the "
                                    "statement would lack that part"))
    tasks = {f"task_{t.id}" for t in assignment.tasks}
    for block in sorted(blocks):
        if block.startswith("task_") and block not in tasks:
            problems.append(Problem(path, lines.get(block, 1), f"block {block!r} is of no task"
                                    f"{_did_you_mean(block, tasks)}"))
    return problems


def _block_lines(path: Path) -> dict[str, int]:
    found: dict[str, int] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for name in re.findall(r"{%-?\s*block\s+(\w+)", line):
            found.setdefault(name, number)
    return found


# -- helpers --------------------------------------------------------------------------------


def _did_you_mean(word: str, known: Any) -> str:
    close = get_close_matches(word, [str(k) for k in known], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _line_in(exc: BaseException, path: Path) -> int:
    """The last line of ``path`` an exception passed through, else 1."""
    if isinstance(exc, SyntaxError) and exc.lineno and Path(exc.filename or "") == path:
        return exc.lineno
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == path]
    return (lines[-1] or 1) if lines else 1


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")


def _shown(path: Path) -> str:
    """A path relative to the current folder when it is inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
