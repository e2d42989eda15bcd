"""The statement: the assignment's Jinja2 template rendered with its points and limits, whole
(the bundle's README.md) and block by block (the notebook's Markdown cells)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2

from .assignment import Assignment


def number(value: float) -> int | float:
    """10.0 reads better as 10 in a statement and in notebook metadata."""
    return int(value) if float(value).is_integer() else value


def statement_context(assignment: Assignment) -> dict[str, Any]:
    """The variables the statement template sees."""
    return {
        "name": assignment.name,
        "title": assignment.title,
        "notebook": assignment.notebook,
        "tasks": assignment.tasks,
        "points": {task.id: number(task.points) for task in assignment.tasks},
        "total": number(assignment.max_score),
        "limits": assignment.limits,
        "files": assignment.submission_files,
        "due": assignment.due.strftime("%Y-%m-%d %H:%M UTC%z") if assignment.due else None,
    }


def render_statement(
    template: Path, context: Mapping[str, Any], shared: Sequence[Path] = ()
) -> tuple[str, dict[str, str]]:
    """The whole statement, and each ``{% block %}`` of it on its own (the notebook's cells).
    ``shared`` are folders of templates it may include or extend (the course's ``templates/``)."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader([template.parent, *[p for p in shared if p.is_dir()]]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # Markdown, not HTML
    )
    compiled = environment.get_template(template.name)
    whole = compiled.render(context)
    blocks = {
        name: "".join(render(compiled.new_context(dict(context)))).strip()
        for name, render in compiled.blocks.items()
    }
    return _tidy(whole), blocks


def _tidy(text: str) -> str:
    """At most one blank line in a row and one final newline, whatever the template's tags left."""
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
