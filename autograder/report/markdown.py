"""Untrusted text as literal Markdown: escaped inline text, code spans and fenced blocks."""

from __future__ import annotations

import re
from typing import Any

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
