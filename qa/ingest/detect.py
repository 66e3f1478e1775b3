"""A file's format told by its content (a PDF or DOCX named .txt is still read as one), then read."""
from __future__ import annotations

import hashlib
import re
import zipfile
from io import BytesIO
from pathlib import Path

from ..errors import BadDocument
from ..records import Document
from . import docx, html, markdown, pdf, text

MAX_DOC_BYTES = 50_000_000
FORMATS = {"text": text, "markdown": markdown, "html": html, "pdf": pdf, "docx": docx}
HTML_START = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S)
MARKDOWN_SIGNS = re.compile(r"\A---\n|^#{1,6}\s\S|^```|^~~~|^\|.*\|\s*$", re.M)


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


def read_document(path: str | Path) -> Document:
    """A document of any supported format, refused with one clear sentence when it cannot be read."""
    p = Path(path)
    if not p.exists():
        raise BadDocument(f"{p}: no such file.")
    if not p.is_file():
        raise BadDocument(f"{p}: not a file.")
    try:
        data = p.read_bytes()
    except OSError as e:
        raise BadDocument(f"{p}: cannot be read ({e.strerror}).") from None
    if len(data) > MAX_DOC_BYTES:
        raise BadDocument(f"{p}: larger than {MAX_DOC_BYTES // 1_000_000} MB; split it into smaller files.")
    kind = detect(p, data)
    doc = FORMATS[kind].read(p, data)
    if not doc.text.strip():
        raise BadDocument(f"{p}: the file is empty." if not data.strip() else f"{p}: no text could be extracted from this {kind} file.")
    return Document(path=str(p.resolve()), text=doc.text, sha256=hashlib.sha256(data).hexdigest(), title=doc.title,
                    date=doc.date, format=kind, pages=doc.pages, skip=doc.skip, blocks=doc.blocks,
                    literals=doc.literals, code=doc.code)
