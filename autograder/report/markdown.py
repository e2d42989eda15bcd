"""Untrusted text as literal Markdown (escaped inline text, code spans and fenced blocks),
and a student's Markdown answer rendered as HTML with raw HTML disabled."""

from __future__ import annotations

import functools
import re
from typing import Any

from markupsafe import Markup

from .text import clean_text


class Md(str):
    """Markdown that is already safe to emit verbatim (made by this module's filters)."""


# Characters that are markup anywhere in a line; the rest only matter at its start.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~&$@])")
_MD_LINE_START = re.compile(r"^([-+=]|\d+(?=[.)]))")


def md_inline(text: Any) -> Md:
    """Untrusted text as one line of literal Markdown: markup characters are
    backslash-escaped (also ``|`` for tables, ``<`` against raw HTML, list and heading
    markers at the start) and ``::`` is broken so the line is never a workflow command."""
    flat = " ".join(clean_text(text).split())
    escaped = _MD_SPECIAL.sub(r"\\\1", flat).replace("::", ":\\:")
    if match := _MD_LINE_START.match(escaped):
        marker = match.group(1)
        escaped = (f"{marker}\\" if marker[0].isdigit() else f"\\{marker}") + escaped[
            len(marker) :
        ]
    return Md(escaped)


def md_code(text: Any) -> Md:
    """Untrusted text as an inline code span that no backtick inside can close."""
    flat = " ".join(clean_text(text).split()).replace("|", "\\|")
    if not flat:
        return Md("")
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return Md(f"{fence}{pad}{flat}{pad}{fence}")


def defuse_commands(text: str) -> str:
    """Break ``::command`` at a line start and ``##[command]`` anywhere with a zero-width
    space, so printing the report in a CI log runs no workflow command."""
    text = re.sub(r"(?m)^(\s*):(?=:)", "\\1:\u200b", text)
    return text.replace("##[", "#\u200b#[")


def md_fence(text: Any, info: str = "text") -> Md:
    """Untrusted multi-line text as a fenced block whose fence is longer than any backtick
    run inside, so nothing in it is read as Markdown or HTML."""
    body = defuse_commands(clean_text(text)).rstrip("\n")
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return Md(f"{fence}{info}\n{body}\n{fence}")


def md_text(text: Any) -> Md:
    """A message: one escaped line, or a fenced block when it spans several lines."""
    cleaned = clean_text(text).strip("\n")
    return md_fence(cleaned) if "\n" in cleaned else md_inline(cleaned)


# markdown-it-py takes time quadratic in some inputs (32,000 "[" take about 0.4 s here, 64,000
# take 1.4 s), so only texts up to this long are rendered; a longer one is shown as written.
ANSWER_RENDER_CAP = 32_000


@functools.cache
def _answer_parser() -> Any:
    """CommonMark plus tables and strikethrough, with raw HTML off (a ``<script>`` is text),
    images off (a link instead: the page loads nothing from outside), and links that tell
    the browser to send nothing along."""
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    parser.enable(["table", "strikethrough"]).disable("image")

    def link_open(renderer: Any, tokens: list, index: int, options: Any, env: Any) -> str:
        tokens[index].attrSet("rel", "nofollow noopener noreferrer")
        return renderer.renderToken(tokens, index, options, env)

    parser.add_render_rule("link_open", link_open)
    return parser


def answer_html(text: Any) -> Markup | None:
    """A student's Markdown answer as safe HTML, or None when it is longer than
    ``ANSWER_RENDER_CAP`` and should be shown as written. Every character of the answer
    reaches the page escaped by markdown-it's renderer: raw HTML is off, and links with a
    scheme it considers unsafe (``javascript:``, ``data:``, ...) stay text."""
    cleaned = clean_text(text)
    if len(cleaned) > ANSWER_RENDER_CAP:
        return None
    return Markup(_answer_parser().render(cleaned))
