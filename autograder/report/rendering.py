"""The Jinja2 environment every report shares, and writing a rendered report to a file."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    pass_eval_context,
    select_autoescape,
)
from jinja2.nodes import EvalContext

from .markdown import Md, md_code, md_fence, md_inline, md_text
from .plots import warm_up
from .text import fmt_num

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


@pass_eval_context
def _finalize(eval_ctx: EvalContext, value: Any) -> Any:
    """Escape every ``{{ }}`` in Markdown templates unless a filter already made it safe;
    HTML templates rely on Jinja's autoescape instead."""
    if eval_ctx.autoescape or isinstance(value, Md):
        return value
    if isinstance(value, bool) or value is None:
        return md_inline(str(value))
    if isinstance(value, (int, float)):
        return Md(fmt_num(value))
    return md_inline(value)


@functools.cache
def environment() -> Environment:
    """One Jinja2 environment for every report: strict, autoescaped for HTML."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2", "htm")),
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        num=lambda v: Md(fmt_num(v)),
        code=md_code,
        fence=md_fence,
        mdtext=md_text,
        md=md_inline,
        pct=lambda part, whole: fmt_num(100 * part / whole) if whole else "0",
    )
    return env


def render(name: str, **context: Any) -> str:
    """The template ``name`` rendered with ``context``."""
    return environment().get_template(name).render(**context)


def prepare() -> None:
    """Compile every report template and import matplotlib now, so that the first report
    written costs no more than the next (called while grading processes start)."""
    env = environment()
    for name in env.list_templates(filter_func=lambda n: n.endswith(".j2")):
        env.get_template(name)
    warm_up()


def write_text(path: Path, text: str) -> None:
    """Write a report file as UTF-8 with Unix line ends, making its folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
