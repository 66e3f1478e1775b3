"""DOCX: the document's paragraphs (python-docx), headings written as Markdown headings so that they
become sections, tables left out of the prose; title from the document's properties (not its
dates: they are the file's, often the template's, not a publication date)."""
from __future__ import annotations

from io import BytesIO
from pathlib import Path

from ..errors import BadDocument
from ..records import Document


def read(path: Path, data: bytes) -> Document:
    import docx

    try:
        d = docx.Document(BytesIO(data))
    except Exception as e:  # noqa: BLE001 - python-docx raises many kinds for a damaged file
        raise BadDocument(f"{path}: not a readable Word document ({type(e).__name__}).") from None
    parts = []
    for p in d.paragraphs:
        line = " ".join(p.text.split())
        if not line:
            continue
        style = (p.style.name if p.style is not None else "") or ""
        if style == "Title":
            parts.append("# " + line)
        elif style.startswith("Heading"):
            level = "".join(c for c in style if c.isdigit()) or "1"
            parts.append("#" * min(int(level) + 1, 6) + " " + line)
        else:
            parts.append(line)
    title = (d.core_properties.title or "").strip() or None
    text = "\n\n".join(parts)
    return Document(path=str(path), text=text + ("\n" if text else ""), sha256="", title=title)
