"""Is the optimizers' code written by hand? A static reading of every file and notebook cell
the optimizer task can import, in the trusted process (parsed, never run).

The optimizer task's file (``optimizer.py``, or the notebook) may import its siblings, so the
reading follows those imports and judges the code in two tiers:

- the code the four optimizer classes can reach: their bodies and bases, and every definition
  they name, in any file. Here torch's optimizers, their update functions and torch's private
  fused kernels are forbidden outright, and so is anything that builds a name at run time
  (``getattr`` with a computed name, ``__import__``, ``importlib``, ``eval``, ``sys.modules``,
  ``vars(...)``, ``__dict__``, ...), which is how a forbidden name is hidden from this reading.
- the code that runs at import time (module-level statements and what they call). It may use
  torch's optimizers freely (a demo that passes ``torch.optim.Adam`` to ``solve``, or compares
  with it), but it may not build names at run time either, bind the four names to anything but
  a ``class`` statement, or change the classes or ``torch.optim`` after the fact.

Code under ``if __name__ == "__main__":`` in a ``.py`` file never runs when the grader imports
it (unless the file tampers with ``__name__``); in a notebook it does, and is read like the
rest. Functions that nothing reaches never run at all. A file that is reached but cannot be read (not valid
Python, or too large to parse safely) is itself a finding: what cannot be read cannot be judged.
"""

from __future__ import annotations

import ast
import builtins
import functools
import importlib.util
import sys
import types
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from autograder.static import SourceTooLarge, parse_code

# Ways to start another process: torch's optimizers run there (at import time, where a demo
# may use them) are out of this reading's and the probes' sight, and an optimizer homework
# never needs one.
PROCESS_CALLS = ("os.fork", "os.forkpty", "os.system", "os.popen", "os.posix_spawn",
                 "os.posix_spawnp", "os.execl", "os.execle", "os.execlp", "os.execlpe",
                 "os.execv", "os.execve", "os.execvp", "os.execvpe", "os.spawnl", "os.spawnle",
                 "os.spawnlp", "os.spawnlpe", "os.spawnv", "os.spawnve", "os.spawnvp",
                 "os.spawnvpe", "subprocess", "multiprocessing", "concurrent", "pty",
                 "_posixsubprocess")
# Ways to reach code or names at run time that a reading of the source cannot follow.
DYNAMIC_CALLS = {"__import__", "eval", "exec", "compile", "globals", "vars", "breakpoint"}
DYNAMIC_MODULES = ("sys.modules", "sys.path", "sys.meta_path", "sys.path_hooks",
                   "sys.path_importer_cache", "sys._getframe", "importlib", "builtins", "gc", "ctypes",
                   "inspect", "types.FunctionType", "types.ModuleType", "types.CodeType",
                   "operator.attrgetter", "operator.methodcaller", "pickle", "marshal", "runpy",
                   "pkgutil", "zipimport")
DYNAMIC_ATTRIBUTES = {"__dict__", "__globals__", "__builtins__", "__subclasses__", "__code__",
                      "__closure__", "__getattribute__", "__import__", "__loader__", "__spec__",
                      "__getattr__", "f_globals", "f_locals", "f_back", "f_builtins", "f_code",
                      "__traceback__", "tb_frame", "tb_next", "gi_frame", "cr_frame", "ag_frame",
                      "__self__"}
NAME_FUNCTIONS = {"getattr", "setattr", "delattr", "hasattr"}
MARKED_STRINGS = ("probes", "_trap", "_fused")
# The reading is linear in the code's size; this bounds it (the reference's optimizer.py has
# about 2,500 nodes, a notebook with every task and its demos under 15,000).
MAX_NODES = 60_000
# Parts of a dotted name under torch that lead to optimizer code or around this reading:
# torch.optim (but its base class), distributed and testing copies of the optimizers, operator
# tables, and a module's own ``torch`` (torch.nn.modules.module.torch); private parts too.
FORBIDDEN_PARTS = {"optim", "distributed", "testing", "ops", "torch"}
# At import time a name computed at run time is suspect only on these (a demo may well pick
# ``getattr(nn, name)``); in the optimizers' own code it is suspect on anything but self.
GUARDED = ("torch", "torch.optim", "sys", "builtins", "importlib", "gc")


def forbidden(dotted: str) -> bool:
    """Whether a fully resolved dotted name leads to torch's optimizer code or around this
    reading: anything in torch.optim but its base class, a private part of torch (fused
    kernels, ``_C``, ``_utils``; the elementwise ``_foreach_*`` ops are allowed),
    ``torch.ops``, torch's distributed and testing copies, torch reached through another
    module."""
    parts = dotted.split(".")
    if "torch" in parts[1:]:
        return True  # torch reached again through another module (functorch.torch, ...)
    if parts[0] != "torch":
        return False
    for index, part in enumerate(parts[1:], start=1):
        if part == "optim" and (parts[index:index + 2] == ["optim", "Optimizer"] or (
                parts[index:index + 2] == ["optim", "optimizer"] and len(parts) > index + 2
                and not parts[index + 2].startswith("_"))):
            return False  # the base class and its module's public names (ParamsT, required)
        if part in FORBIDDEN_PARTS:
            return True
        if part.startswith("_") and not part.startswith(("__", "_foreach_")):
            return True  # private kernels and helpers (_fused_adam_, _utils._import_dotted_name)
    return False


def _torch_module(dotted: str) -> bool:
    """Whether a dotted name is one of torch's modules (as imported in this process)."""
    return dotted.split(".")[0] == "torch" and isinstance(sys.modules.get(dotted), types.ModuleType)


@functools.lru_cache(maxsize=256)
def _installed(top: str) -> bool:
    """Whether a top-level module can be imported here without the submission: the standard
    library or an installed package (found, not imported)."""
    if top in sys.stdlib_module_names or top in sys.builtin_module_names:
        return True
    try:
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        return False


def _unknown_modules(node: ast.Import | ast.ImportFrom, siblings: set[str]) -> list[str]:
    """Modules an import names that are neither submitted files nor installed: a file the
    code wrote at run time, which no reading of the submission could see."""
    if isinstance(node, ast.ImportFrom):
        if node.level:  # from . import x: x must be a submitted file
            return [a.name for a in node.names if a.name not in siblings and a.name != "*"]
        tops = [(node.module or "").split(".")[0]]
    else:
        tops = [a.name.split(".")[0] for a in node.names]
    return [t for t in tops if t and t not in siblings and not _installed(t)]


def _dynamic_module(dotted: str) -> bool:
    return any(dotted == m or dotted.startswith(m + ".") for m in DYNAMIC_MODULES + PROCESS_CALLS)


def _is_main_guard(node: ast.stmt) -> bool:
    """``if __name__ == "__main__":``, either way round."""
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    sides = [node.test.left, *node.test.comparators]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    mains = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return bool(names and mains)


def _main_blocks_skipped(name: str, tree: ast.Module) -> bool:
    """Whether this file's ``__main__`` blocks are sure not to run when the grader loads it:
    a ``.py`` file is imported under its own name, but a notebook runs as ``__main__``, and a
    file that does anything with ``__name__`` besides testing it in such a guard (rebinding it
    so that its own guard opens, say) is read whole."""
    if not name.endswith(".py"):
        return False
    guards = {id(side) for node in ast.walk(tree) if _is_main_guard(node)
              for side in [node.test.left, *node.test.comparators]}  # type: ignore[attr-defined]
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "__name__":
            if id(node) not in guards:
                return False
        elif not isinstance(node, ast.Constant) and "__name__" in (
            value for _, value in ast.iter_fields(node) if isinstance(value, str)
        ):
            return False  # ``import x as __name__``, ``def __name__``, ``except E as __name__``
    return True


def _module_statements(body: Sequence[ast.stmt], skip_main: bool) -> Iterator[ast.stmt]:
    """Module-level statements that run on import, looking into if/try/with/for blocks (not
    into functions or classes), leaving out ``__main__`` blocks when ``skip_main``."""
    for node in body:
        if skip_main and _is_main_guard(node):
            yield from _module_statements(getattr(node, "orelse", []), skip_main)
            continue
        yield node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for name in ("body", "orelse", "finalbody"):
            yield from _module_statements(getattr(node, name, []) or [], skip_main)
        for handler in getattr(node, "handlers", []) or []:
            yield from _module_statements(handler.body, skip_main)
        for case in getattr(node, "cases", []) or []:  # match: its patterns and guards too
            yield from _module_statements(case.body, skip_main)


def _bound_names(node: ast.stmt) -> list[str]:
    """Module-level names a statement binds (other than by def or class)."""
    targets: list[ast.AST] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        targets = [node.target]
    elif isinstance(node, ast.For | ast.AsyncFor):
        targets = [node.target]
    elif isinstance(node, ast.With | ast.AsyncWith):
        targets = [i.optional_vars for i in node.items if i.optional_vars is not None]
    elif isinstance(node, ast.Import | ast.ImportFrom):
        return [(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"]
    names = []
    while targets:
        target = targets.pop()
        if isinstance(target, ast.Name):
            names.append(target.id)
        elif isinstance(target, ast.Tuple | ast.List):
            targets += target.elts
        elif isinstance(target, ast.Starred):
            targets.append(target.value)
    return names


def _local_names(function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> frozenset[str]:
    """A function's own variables: its arguments and the names it assigns, unless declared
    ``global``."""
    arguments = function.args
    names = {a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]}
    names |= {a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None}
    body = ast.Module(body=function.body if isinstance(function.body, list) else [], type_ignores=[])
    names |= {n.id for n in ast.walk(body) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    declared = {name for n in ast.walk(body) if isinstance(n, ast.Global) for name in n.names}
    return frozenset(names - declared)


@dataclass
class _File:
    """One parsed file: its imports resolved to dotted names, and its module-level names."""

    name: str
    tree: ast.Module
    aliases: dict[str, str] = field(default_factory=dict)  # local name -> dotted origin
    definitions: dict[str, list[ast.AST]] = field(default_factory=dict)
    star_imports: list[str] = field(default_factory=list)  # sibling modules imported with *
    imports: set[str] = field(default_factory=set)  # sibling modules it imports on load
    torch_stars: list[str] = field(default_factory=list)  # torch modules imported with *
    top_level: list[ast.stmt] = field(default_factory=list)


def _module_name(file_name: str) -> str:
    return file_name.removesuffix(".py").replace("/", ".")


def _read(name: str, tree: ast.Module, siblings: set[str]) -> _File:
    file = _File(name, tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                root = alias.name.split(".")[0]
                file.aliases[alias.asname or root] = alias.name if alias.asname else root
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            for alias in node.names:
                if alias.name != "*":
                    file.aliases[alias.asname or alias.name] = f"{module}.{alias.name}".lstrip(".")
                elif module.split(".")[0] == "torch":
                    file.torch_stars.append(module)
    file.top_level = list(_module_statements(tree.body, _main_blocks_skipped(name, tree)))
    for node in file.top_level:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            file.definitions.setdefault(node.name, []).append(node)
            continue
        for bound in _bound_names(node):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                file.definitions.setdefault(bound, []).append(node)
        if isinstance(node, ast.Import):
            file.imports |= {a.name.split(".")[0] for a in node.names} & siblings
        elif isinstance(node, ast.ImportFrom):
            module = (node.module or "").split(".")[0]
            if module in siblings:
                file.imports.add(module)
                if any(a.name == "*" for a in node.names):
                    file.star_imports.append(module)
            elif not module and node.level:  # from . import sibling
                file.imports |= {a.name for a in node.names} & siblings
    return file


class Reading:
    """The files the optimizer task can import, read from ``entry`` along its imports."""

    def __init__(self, sources: dict[str, str], entry: str, classes: Sequence[str]):
        self.classes = tuple(classes)
        self.entry = entry
        self.findings: list[str] = []
        self.files: dict[str, _File] = {}
        modules = {_module_name(n): n for n in sources if n.endswith(".py")}
        nodes = 0
        pending = [entry]
        while pending:
            name = pending.pop()
            if name in self.files or name not in sources:
                continue
            try:
                tree = parse_code(sources[name])
            except SourceTooLarge as error:
                self.findings.append(f"{name} could not be read: {error}")
                continue
            if tree is None:
                self.findings.append(f"{name} could not be read (not valid Python), so its code "
                                     "cannot be checked")
                continue
            nodes += sum(1 for _ in ast.walk(tree))
            if nodes > MAX_NODES:
                self.findings.append(f"{name} could not be read: the code the optimizers can import "
                                     f"has over {MAX_NODES:,} syntax nodes, more than this check "
                                     "reads")
                break
            self.files[name] = _read(name, tree, set(modules))
            pending += [modules[m] for m in self.files[name].imports]
        self.modules = {m: n for m, n in modules.items() if n in self.files}

    # -- resolving names -------------------------------------------------------------------
    def resolve(self, file: _File, node: ast.AST) -> str | None:
        """The dotted name an expression stands for (``getattr`` with a constant name
        included), with the imports of this file and of the siblings it names applied; None
        for anything else."""
        dotted = self._resolve(file, node)
        for _ in range(len(self.files)):  # a sibling's name may itself be an import
            head, _, rest = (dotted or "").partition(".")
            sibling = self.files.get(self.modules.get(head, ""))
            name, _, tail = rest.partition(".")
            if sibling is None or name in sibling.definitions or name not in sibling.aliases:
                break
            dotted = sibling.aliases[name] + (f".{tail}" if tail else "")
        return dotted

    def _resolve(self, file: _File, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            if node.id in file.definitions or node.id in file.aliases:
                return node.id if node.id in file.definitions else file.aliases[node.id]
            if file.torch_stars and not hasattr(builtins, node.id):
                return f"{file.torch_stars[-1]}.{node.id}"  # what ``from torch... import *`` gave
            return node.id
        if isinstance(node, ast.Attribute):
            owner = self.resolve(file, node.value)
            return f"{owner}.{node.attr}" if owner else None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr":
            name = node.args[1] if len(node.args) >= 2 else None
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                owner = self.resolve(file, node.args[0])
                return f"{owner}.{name.value}" if owner else None
        return None

    def _definition(self, file: _File, dotted: str) -> Iterator[tuple[_File, str]]:
        """Where a resolved name is defined in the submission: this file, a sibling imported by
        name or with ``*``."""
        head, _, rest = dotted.partition(".")
        if head in file.definitions:
            yield file, head
        elif head in self.modules and rest:
            yield self.files[self.modules[head]], rest.split(".")[0]
        else:
            for module in file.star_imports:
                if module in self.modules and head in self.files[self.modules[module]].definitions:
                    yield self.files[self.modules[module]], head

    # -- the two tiers ----------------------------------------------------------------------
    def scan(self) -> list[str]:
        """Every finding, as ``file line N: what`` lines."""
        entry = self.files.get(self.entry)
        if entry is None:
            return self.findings
        optimizer_code = self._reach([(entry, name) for name in self.classes
                                      if name in entry.definitions], set())
        for file, node in optimizer_code.values():
            self._judge(file, ast.walk(node), strict=True)
        import_time: list[tuple[_File, ast.AST]] = []
        for file in self.files.values():
            import_time += [(file, node) for node in file.top_level]
        for file, node in import_time:
            if (file.name, id(node)) not in optimizer_code:
                self._judge(file, self._running(node), strict=False)
        for file, node in self._called(import_time, optimizer_code).values():
            self._judge(file, ast.walk(node), strict=False)
        self._judge_bindings(entry)
        return sorted(set(self.findings), key=self._order)

    @staticmethod
    def _order(finding: str) -> tuple[str, int, str]:
        name, _, rest = finding.partition(" line ")
        number = rest.split(":")[0]
        return name, int(number) if number.isdigit() else 0, finding

    def _reach(self, start: list[tuple[_File, str]], skip: set[tuple[str, int]]
               ) -> dict[tuple[str, int], tuple[_File, ast.AST]]:
        """Every definition the named ones use, in any file, by name."""
        reached: dict[tuple[str, int], tuple[_File, ast.AST]] = {}
        expanded: set[tuple[str, str]] = set()
        pending = list(start)
        while pending:
            file, name = pending.pop()
            if (file.name, name) in expanded:
                continue
            expanded.add((file.name, name))
            for node in file.definitions.get(name, []):
                key = (file.name, id(node))
                if key in reached or key in skip:
                    continue
                reached[key] = (file, node)
                pending += self._used(file, node)
        return reached

    def _used(self, file: _File, node: ast.AST) -> list[tuple[_File, str]]:
        """The module-level definitions a piece of code names; a function's own variables
        (its arguments and what it assigns) are not the module's names of the same spelling."""
        used: list[tuple[_File, str]] = []

        def visit(part: ast.AST, local: frozenset[str]) -> None:
            if isinstance(part, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                for outer in [*getattr(part, "decorator_list", []), *part.args.defaults,
                              *[d for d in part.args.kw_defaults if d is not None]]:
                    visit(outer, local)
                local = local | _local_names(part)
                for statement in part.body if isinstance(part.body, list) else [part.body]:
                    visit(statement, local)
                return
            if isinstance(part, ast.Name) and part.id in local:
                return
            if isinstance(part, ast.Name | ast.Attribute):
                dotted = self.resolve(file, part)
                used.extend(self._definition(file, dotted) if dotted else [])
            for child in ast.iter_child_nodes(part):
                visit(child, local)

        visit(node, frozenset())
        return used

    def _called(self, import_time: list[tuple[_File, ast.AST]],
                optimizer_code: dict[tuple[str, int], tuple[_File, ast.AST]]
                ) -> dict[tuple[str, int], tuple[_File, ast.AST]]:
        """Definitions that import-time code uses; those only called there run at import time,
        those handed on as values (callbacks, hooks) may run whenever: they join the optimizers'
        code and are judged strictly."""
        start: list[tuple[_File, str]] = []
        handed_on: list[tuple[_File, str]] = []
        code_names = {(f.name, name) for f in self.files.values()
                      for name, nodes in f.definitions.items()
                      if any(isinstance(d, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                             for d in nodes)}
        for file, node in import_time:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue  # the definition itself runs nothing until used
            parts = list(self._running(node))
            called = {id(c.func) for c in parts if isinstance(c, ast.Call)}
            for inner in parts:
                if isinstance(inner, ast.Name | ast.Attribute):
                    dotted = self.resolve(file, inner)
                    for found in self._definition(file, dotted) if dotted else []:
                        code = (found[0].name, found[1]) in code_names
                        if id(inner) in called:
                            start.append(found)
                        elif code:
                            handed_on.append(found)
        strict = self._reach(handed_on, set(optimizer_code))
        for file, node in strict.values():
            self._judge(file, ast.walk(node), strict=True)
        return self._reach(start, set(optimizer_code) | set(strict))

    # -- findings ---------------------------------------------------------------------------
    def _where(self, file: _File, node: ast.AST) -> str:
        return f"{file.name} line {getattr(node, 'lineno', '?')}"

    def _judge(self, file: _File, nodes: Iterator[ast.AST], strict: bool) -> None:
        """Findings among the given nodes; ``strict`` for the optimizers' own code."""
        nodes = list(nodes)
        inner = {id(n.value) for n in nodes if isinstance(n, ast.Attribute)}
        called = {id(n.func) for n in nodes if isinstance(n, ast.Call)}
        # getattr(torch, "name") and hasattr(torch, "name") read a module like torch.name does
        # (the whole name is judged with the call), so the module is not handed on there.
        looked_up = {id(n.args[0]) for n in nodes if isinstance(n, ast.Call)
                     and isinstance(n.func, ast.Name) and n.func.id in ("getattr", "hasattr")
                     and len(n.args) >= 2 and isinstance(n.args[1], ast.Constant)}
        docstrings = {id(n.value) for n in nodes
                      if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}
        for node in nodes:
            where = self._where(file, node)
            if id(node) in docstrings:
                continue
            if isinstance(node, ast.Name | ast.Attribute) and id(node) in inner:
                continue  # part of a longer dotted name, judged as a whole
            if isinstance(node, ast.Name | ast.Attribute):
                link = node
                while isinstance(link, ast.Attribute):  # every attribute along the chain
                    if link.attr in DYNAMIC_ATTRIBUTES:
                        self.findings.append(f"{where}: reads .{link.attr} (a namespace's contents)")
                    link = link.value
                if isinstance(node, ast.Name) and node.id == "__builtins__":
                    self.findings.append(f"{where}: uses __builtins__")
                if isinstance(node, ast.Name) and node.id in DYNAMIC_CALLS | NAME_FUNCTIONS \
                        and id(node) not in called:
                    self.findings.append(f"{where}: hands {node.id} on as a value")
                dotted = self.resolve(file, node)
                if dotted and _dynamic_module(dotted):
                    self.findings.append(f"{where}: uses {dotted}")
                elif dotted and strict and forbidden(dotted):
                    self.findings.append(f"{where}: uses torch's optimizer code {dotted}")
                elif dotted and strict and _torch_module(dotted) and id(node) not in looked_up:
                    # A module handed around as a value (an alias, a list, a default, a return)
                    # hides where the names taken from it lead; use it as torch.x directly.
                    self.findings.append(f"{where}: uses the module {dotted} as a value")
            elif isinstance(node, ast.Call):
                self._judge_call(file, node, where, strict)
            elif isinstance(node, ast.Import | ast.ImportFrom):
                modules = [a.name for a in node.names]
                if isinstance(node, ast.ImportFrom):
                    modules = [f"{node.module or ''}.{m}" for m in modules] + [node.module or ""]
                unknown = _unknown_modules(node, set(self.modules))
                if unknown:
                    self.findings.append(f"{where}: imports {', '.join(unknown)}, which was not "
                                         "submitted and is not installed (written at run time?)")
                for module in modules:
                    if _dynamic_module(module) or (strict and forbidden(module)):
                        self.findings.append(f"{where}: imports {module}")
                    elif module.startswith("torch.optim") and module.endswith(".*"):
                        self.findings.append(f"{where}: imports everything from {module[:-2]}")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                if any(marker in node.value for marker in MARKED_STRINGS):
                    self.findings.append(f"{where}: names {node.value[:40]!r}")
            elif isinstance(node, ast.Global):
                for name in set(node.names) & set(self.classes):
                    self.findings.append(f"{where}: rebinds {name} with `global {name}`")
            if not strict and isinstance(node, ast.Assign | ast.AugAssign | ast.Delete):
                targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
                for target in targets:
                    self._judge_store(file, target, getattr(node, "value", None), where)

    def _running(self, top: ast.AST) -> Iterator[ast.AST]:
        """The parts of a module-level statement that run on import: of a definition only its
        decorators and defaults, for a class its body's statements, and of a compound statement
        only its own header (its blocks are module-level statements of their own)."""
        headers = {ast.If: ("test",), ast.While: ("test",), ast.For: ("target", "iter"),
                   ast.AsyncFor: ("target", "iter"), ast.With: ("items",),
                   ast.AsyncWith: ("items",), ast.Try: ("handlers",), ast.Match: ("subject", "cases")}
        if hasattr(ast, "TryStar"):
            headers[ast.TryStar] = ("handlers",)
        if type(top) in headers:
            yield top
            for name in headers[type(top)]:
                value = getattr(top, name)
                for part in value if isinstance(value, list) else [value]:
                    if isinstance(part, ast.ExceptHandler):
                        yield from ast.walk(part.type) if part.type is not None else ()
                    elif isinstance(part, ast.match_case):
                        yield from ast.walk(part.pattern)
                        yield from ast.walk(part.guard) if part.guard is not None else ()
                    else:
                        yield from ast.walk(part)
            return
        if isinstance(top, ast.FunctionDef | ast.AsyncFunctionDef):
            for part in [*top.decorator_list, *top.args.defaults, *top.args.kw_defaults]:
                if part is not None:
                    yield from ast.walk(part)
        elif isinstance(top, ast.ClassDef):
            for part in [*top.decorator_list, *top.bases, *top.keywords]:
                yield from ast.walk(part)
            for statement in top.body:
                yield from self._running(statement)
        else:
            yield from ast.walk(top)

    def _judge_call(self, file: _File, node: ast.Call, where: str, strict: bool) -> None:
        function = node.func.id if isinstance(node.func, ast.Name) else None
        if function in DYNAMIC_CALLS:
            self.findings.append(f"{where}: calls {function}()")
        elif function in NAME_FUNCTIONS:
            owner = node.args[0] if node.args else None
            name = node.args[1] if len(node.args) > 1 else None
            own = isinstance(owner, ast.Name) and owner.id in ("self", "cls")
            constant = isinstance(name, ast.Constant) and isinstance(name.value, str)
            target = (self.resolve(file, owner) if owner is not None else None) or ""
            guarded = target in GUARDED or target.split(".")[0] in self.classes + tuple(self.modules)
            if function in ("setattr", "delattr"):
                if not (isinstance(owner, ast.Name) and owner.id == "self"):
                    self.findings.append(f"{where}: {function}() on {target or 'an object'}")
            elif not own and not constant and (strict or guarded):
                self.findings.append(f"{where}: {function}() with a name computed at run time")
            dotted = self.resolve(file, node)
            if dotted and strict and forbidden(dotted):
                self.findings.append(f"{where}: uses torch's optimizer code {dotted}")

    def _judge_store(self, file: _File, target: ast.AST, value: ast.AST | None, where: str) -> None:
        """An assignment, outside the optimizers' code, to an attribute of one of the four
        classes, of a sibling module or of torch.optim; to a special attribute such as
        ``__bases__`` of anything; or of torch's optimizer code to any attribute."""
        if not isinstance(target, ast.Attribute | ast.Subscript):
            return
        owner = target.value
        while isinstance(owner, ast.Attribute | ast.Subscript):
            owner = owner.value
        dotted = self.resolve(file, owner) or ""
        head = dotted.split(".")[0]
        special = isinstance(target, ast.Attribute) and target.attr.startswith("__")
        parts = list(ast.walk(value)) if value is not None else []
        stored = [self.resolve(file, n) or "" for n in parts if isinstance(n, ast.Name | ast.Attribute)]
        if dotted.startswith("torch.optim") or head in self.classes or head in self.modules or special:
            self.findings.append(f"{where}: changes {dotted or 'an object'} after it was defined")
        elif any(forbidden(d) for d in stored):
            self.findings.append(f"{where}: stores torch's optimizer code in {dotted or 'an object'}")

    def _judge_bindings(self, entry: _File) -> None:
        """The four names must be bound by class statements in the task's file (an import or
        an assignment can make them torch's own classes)."""
        for node in entry.top_level:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                bound = [node.name]
            elif isinstance(node, ast.ClassDef):
                continue
            else:
                bound = _bound_names(node)
            for name in set(bound) & set(self.classes):
                self.findings.append(f"{self._where(entry, node)}: binds {name} without a class "
                                     "statement")
        for module in entry.star_imports:
            sibling = self.files.get(self.modules.get(module, ""))
            for name in set(self.classes) & set(sibling.definitions if sibling else ()):
                self.findings.append(f"{self.entry}: takes {name} from {module} with `import *`")


def findings(sources: dict[str, str], entry: str, classes: Sequence[str]) -> list[str]:
    """What in the submission's code shows, or hides, the use of torch's optimizer code."""
    return Reading(sources, entry, classes).scan()
