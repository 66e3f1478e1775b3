"""PDF: the text of each page (pypdf), pages separated by a blank line and their offsets kept for
citations; words hyphenated at a line end joined; running headers and footers (a line that repeats at
the top or bottom of most pages, page numbers aside) and bare page numbers dropped."""
from __future__ import annotations

import re
from collections import Counter
from io import BytesIO
from pathlib import Path

from ..errors import BadDocument
from ..records import Document
from .limits import Limits, refuse
from .units import SENTENCE_END

PAGE_NUMBER = re.compile(r"^\s*(?:page\s+)?\d+(?:\s*(?:/|of)\s*\d+)?\s*$", re.I)


def read(path: Path, data: bytes, limits: Limits | None = None) -> Document:
    import logging

    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError, PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings would repeat the one line we print
    limits = limits or Limits()
    try:
        reader = PdfReader(BytesIO(data))
        if len(reader.pages) > limits.pdf_pages:
            raise refuse(path, f"it has {len(reader.pages):,} pages, more than {limits.pdf_pages:,}", "QA_MAX_PDF_PAGES")
        pages = [(p.extract_text() or "") for p in reader.pages]
        meta_title = (reader.metadata.title if reader.metadata else None) or None
    except LimitReachedError as e:  # pypdf's own bounds: a stream that inflates past 75 MB, and the like
        raise refuse(path, f"a part of the PDF is past pypdf's limits ({str(e)[:80]})", "pypdf") from None
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as e:
        raise BadDocument(f"{path}: not a readable PDF ({str(e)[:80] or type(e).__name__}).") from None
    lines = [[l.strip() for l in p.splitlines() if l.strip()] for p in pages]
    running = _running_lines(lines)
    text, starts = "", []
    for number, page_lines in enumerate(lines, start=1):
        kept = [l for i, l in enumerate(page_lines)
                if not PAGE_NUMBER.match(l) and not ((i < 2 or i >= len(page_lines) - 2) and _key(l) in running)]
        body = _join_lines(kept)
        if not body:
            continue
        if text:
            text += "\n\n"
        starts.append((len(text), number))
        text += body
    title = meta_title.strip() if isinstance(meta_title, str) and meta_title.strip() else None
    return Document(path=str(path), text=text + ("\n" if text else ""), sha256="", title=title, pages=tuple(starts))


def _key(line: str) -> str:
    return re.sub(r"\d+", "#", line.lower())


def _running_lines(pages: list[list[str]]) -> set[str]:
    """Lines near the top or bottom of the page that most pages repeat (numbers aside)."""
    if len(pages) < 2:
        return set()
    seen = Counter()
    for p in pages:
        seen.update({_key(l) for l in p[:2] + p[-2:]})
    return {k for k, n in seen.items() if n >= max(2, (len(pages) + 1) // 2)}


def _join_lines(lines: list[str]) -> str:
    """A page's lines as paragraphs: a line that ends a sentence and is shorter than the page's usual
    line ends its paragraph; a word hyphenated across lines is joined."""
    if not lines:
        return ""
    usual = sorted(len(l) for l in lines)[len(lines) // 2]
    out = lines[0]
    for prev, line in zip(lines, lines[1:]):
        if re.search(r"[A-Za-z]-$", prev) and line[:1].islower():
            out = out[:-1] + line
        elif prev.endswith(SENTENCE_END) and len(prev) < 0.8 * usual or _heading_like(prev):
            out += "\n\n" + line
        else:
            out += " " + line
    return out


def _heading_like(line: str) -> bool:
    words = line.split()
    return 0 < len(words) <= 10 and not line.endswith(SENTENCE_END) and line[:1].isupper() and not line.endswith(",")
