"""Markdown: the file's text as is (offsets into the file); front matter gives title and date, and
front matter, fenced code and tables are kept apart from sentences; a fenced block's code is a unit of
its own, verbatim. Headings become section titles
(see units.split_units)."""
from __future__ import annotations

import re
from pathlib import Path

from ..records import Document
from .text import decode_text
from .units import parse_date

FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*(?:\n|\Z)", re.S)
FENCE = re.compile(r"^(```|~~~)[^\n]*\n.*?(?:^\1[ \t]*$|\Z)", re.M | re.S)
TABLE = re.compile(r"(?:^[ \t]*\|.*\|[ \t]*(?:\n|\Z))+", re.M)


def read(path: Path, data: bytes) -> Document:
    text = decode_text(path, data)
    title, date, skip = None, None, []
    m = FRONT_MATTER.match(text)
    if m:
        skip.append((0, m.end()))
        title, date = _front_matter(m.group(1))
    fences = list(FENCE.finditer(text))
    skip += [(f.start(), f.end()) for f in fences]
    skip += [(t.start(), t.end()) for t in TABLE.finditer(text)]
    code = tuple(c for c in map(_fence_body, fences) if c is not None)
    return Document(path=str(path), text=text, sha256="", title=title, date=date, skip=tuple(sorted(skip)), code=code)


def _fence_body(fence: re.Match) -> tuple[int, int] | None:
    """The lines between a fence's marks (its code, verbatim), without blank edge lines."""
    text = fence.string
    start, end = text.index("\n", fence.start()) + 1, fence.end()
    closing = re.search(r"(?:^|\n)(?:```|~~~)[ \t]*\n?\Z", text[start:end])
    if closing:
        end = start + closing.start()
    start += re.match(r"(?:[ \t]*\n)*", text[start:end]).end()
    end = start + len(text[start:end].rstrip())
    return (start, end) if end > start else None


def kept_apart(text: str) -> tuple:
    """The spans of fenced code and tables in Markdown text (for formats converted to Markdown)."""
    return tuple(sorted([(f.start(), f.end()) for f in FENCE.finditer(text)] +
                        [(t.start(), t.end()) for t in TABLE.finditer(text)]))


def _front_matter(block: str) -> tuple[str | None, str | None]:
    """Title and ISO date from YAML front matter; anything unreadable is ignored."""
    import datetime as dt

    import yaml

    try:
        meta = yaml.safe_load(block)
    except yaml.YAMLError:
        return None, None
    if not isinstance(meta, dict):
        return None, None
    title = meta.get("title")
    date = meta.get("date") or meta.get("published") or meta.get("updated")
    if isinstance(date, (dt.date, dt.datetime)):
        date = date.isoformat()[:10]
    elif isinstance(date, str):
        date = parse_date(date)
    else:
        date = None
    return (str(title).strip() if title else None), date
