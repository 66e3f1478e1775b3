"""Plain text: the file's own characters are the text; offsets are offsets into the file as decoded."""
from __future__ import annotations

from pathlib import Path

from ..records import Document


def read(path: Path, data: bytes) -> Document:
    from .detect import decode_text

    return Document(path=str(path), text=decode_text(path, data), sha256="")
