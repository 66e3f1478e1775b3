"""Documents in: files and folders found, each file's format told by its content, its text extracted
with exact offsets (one module a format, each with `read(path, data) -> Document`), then split into
units. A new format is one new module and one line in FORMATS."""
from __future__ import annotations

from .detect import FORMATS, detect, read_document
from .files import collect
from .units import paragraphs, split_many, split_units

__all__ = ["FORMATS", "collect", "detect", "paragraphs", "read_document", "split_many", "split_units"]
