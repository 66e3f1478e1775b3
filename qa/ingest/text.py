"""Plain text: the file's own characters are the text; offsets are offsets into the file as decoded."""
from __future__ import annotations

from pathlib import Path

from ..errors import BadDocument
from ..records import Document


def read(path: Path, data: bytes) -> Document:
    return Document(path=str(path), text=decode_text(path, data), sha256="")


def decode_text(path: Path, data: bytes) -> str:
    """UTF-8 text, or one sentence saying why the bytes are not."""
    if b"\x00" in data:
        raise BadDocument(f"{path}: looks binary; give a UTF-8 text, Markdown, HTML, PDF or DOCX file.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadDocument(f"{path}: not UTF-8 text (bad byte at {e.start}); convert it to UTF-8 first.") from None
