"""A file's format told by its content (a PDF or DOCX named .txt is still read as one), then read."""
from __future__ import annotations

import hashlib
import itertools
import re
import zipfile
from io import BytesIO
from pathlib import Path

from ..errors import BadDocument
from ..records import Document
from . import docx, html, markdown, pdf, text
from .limits import RATIO_FLOOR_BYTES, Limits, refuse, size

FORMATS = {"text": text, "markdown": markdown, "html": html, "pdf": pdf, "docx": docx}
HTML_START = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S)
MARKDOWN_SIGNS = re.compile(r"\A---\n|^#{1,6}\s\S|^```|^~~~|^\|.*\|\s*$", re.M)
START_TAG = re.compile(rb"<[A-Za-z]")


def detect(path: Path, data: bytes) -> str:
    """'pdf', 'docx', 'html', 'markdown' or 'text', from the bytes first and the name second."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(BytesIO(data)) as z:
                if "word/document.xml" in z.namelist():
                    return "docx"
        except zipfile.BadZipFile:
            pass
        raise BadDocument(f"{path}: a ZIP archive that is not a Word document; give text, Markdown, HTML, PDF or DOCX.")
    head = data[:4096]
    if HTML_START.match(head) or (path.suffix.lower() in (".html", ".htm") and b"<" in head):
        return "html"
    if path.suffix.lower() in (".md", ".markdown"):
        return "markdown"
    return "markdown" if MARKDOWN_SIGNS.search(head.decode("utf-8", errors="ignore")) else "text"


def read_document(path: str | Path, limits: Limits | None = None) -> Document:
    """A document of any supported format, refused with one clear sentence when it cannot be read or
    is past one of `limits` (checked before the work where the file's own structure tells: its size,
    its zip members' inflated sizes, its HTML elements; its PDF pages and text after). Run it where it
    can be stopped (`qa.ingest.bounded`): time and memory are bounded there."""
    limits = limits or Limits()
    p = Path(path)
    if not p.exists():
        raise BadDocument(f"{p}: no such file.")
    if not p.is_file():
        raise BadDocument(f"{p}: not a file.")
    try:
        on_disk = p.stat().st_size
        if on_disk > limits.file_bytes:
            raise refuse(p, f"the file is {size(on_disk)}, larger than {size(limits.file_bytes)}", "QA_MAX_FILE_BYTES")
        data = p.read_bytes()
    except OSError as e:
        raise BadDocument(f"{p}: cannot be read ({e.strerror}).") from None
    kind = detect(p, data)
    if kind == "docx":
        _check_container(p, data, limits)
    elif kind == "html" and _more_than(START_TAG.finditer(data), limits.html_elements):
        raise refuse(p, f"the page has more than {limits.html_elements:,} HTML elements", "QA_MAX_HTML_ELEMENTS")
    doc = FORMATS[kind].read(p, data, limits) if kind == "pdf" else FORMATS[kind].read(p, data)
    if len(doc.text) > limits.text_chars:
        raise refuse(p, f"its text is {len(doc.text):,} characters, more than {limits.text_chars:,}", "QA_MAX_DOC_CHARS")
    if not doc.text.strip():
        raise BadDocument(f"{p}: the file is empty." if not data.strip() else f"{p}: no text could be extracted from this {kind} file.")
    return Document(path=str(p.resolve()), text=doc.text, sha256=hashlib.sha256(data).hexdigest(), title=doc.title,
                    date=doc.date, format=kind, pages=doc.pages, skip=doc.skip, blocks=doc.blocks,
                    literals=doc.literals, code=doc.code)


def _more_than(found, n: int) -> bool:
    """Whether the iterator yields more than n items (it is read no further than that)."""
    return next(itertools.islice(found, n, None), None) is not None


def _check_container(path: Path, data: bytes, limits: Limits) -> None:
    """A zip container (DOCX) refused by what its members say they inflate to, before any is read:
    past the total, or past the ratio to their compressed size (a zip bomb). Python's zipfile reads a
    member no further than its stated size, so the stated sizes bound what reading it costs."""
    with zipfile.ZipFile(BytesIO(data)) as z:
        members = z.infolist()
    inflated = sum(m.file_size for m in members)
    packed = max(1, sum(m.compress_size for m in members))
    if inflated > limits.inflated_bytes:
        raise refuse(path, f"its parts inflate to {size(inflated)}, more than {size(limits.inflated_bytes)}",
                     "QA_MAX_INFLATED_BYTES")
    if inflated > RATIO_FLOOR_BYTES and inflated / packed > limits.inflation_ratio:
        raise refuse(path, f"its parts inflate {inflated / packed:,.0f} times over ({size(packed)} to "
                     f"{size(inflated)}), more than {limits.inflation_ratio:,.0f} times", "QA_MAX_INFLATION_RATIO")
