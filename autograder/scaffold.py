"""``autograder new NAME``: a new assignment folder that already works.

The files are a small, complete assignment (one task, a public and a hidden check, a probe,
a catalogued mistake, samples, a reference solution) that passes ``autograder lint`` and grades
its own reference at full marks, so a teacher starts from something running and edits it. They
live in ``new_assignment/`` beside this module; ``__NAME__`` in them becomes the new name.
"""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parent / "new_assignment"
PLACEHOLDER = "__NAME__"
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")


def scaffold(course: Path, name: str) -> list[Path]:
    """Write ``assignments/<name>/`` and ``solutions/<name>/`` into ``course``; the files
    written. Refuses a name that is not an identifier, or folders that already exist."""
    if not NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a usable assignment name: start with a letter, then "
                         "letters, digits or _ (at most 40)")
    targets = {"assignment": course / "assignments" / name, "solution": course / "solutions" / name}
    for target in targets.values():
        if target.exists():
            raise FileExistsError(f"{target} already exists; choose another name or remove it")
    written = []
    for part, target in targets.items():
        for source in sorted((TEMPLATE_DIR / part).rglob("*")):
            if not source.is_file() or "__pycache__" in source.parts:
                continue
            path = target / source.relative_to(TEMPLATE_DIR / part)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(source.read_text(encoding="utf-8").replace(PLACEHOLDER, name),
                            encoding="utf-8")
            written.append(path)
    return written
