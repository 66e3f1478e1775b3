"""What one document may cost to read: its size on disk, what its containers inflate to, its pages or
elements, the text it yields, and the time and memory its reading may take. A library comes from
many hands (exported help pages, a customer's attachment, a crawler's output); one hostile or broken
file must cost a skipped file and one clear line, never the build, the machine or a server replica.
Each limit is a setting (a QA_* environment variable) with a default that no real page reaches."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..errors import DocumentTooLarge


def _number(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@dataclass(frozen=True)
class Limits:
    """Read once where a build or an upload starts, and handed to the worker that reads."""

    file_bytes: int = field(default_factory=lambda: int(_number("QA_MAX_FILE_BYTES", 50_000_000)))
    # a zip container (DOCX): what its members inflate to in all, and that against their compressed size
    inflated_bytes: int = field(default_factory=lambda: int(_number("QA_MAX_INFLATED_BYTES", 200_000_000)))
    inflation_ratio: float = field(default_factory=lambda: _number("QA_MAX_INFLATION_RATIO", 100))
    pdf_pages: int = field(default_factory=lambda: int(_number("QA_MAX_PDF_PAGES", 5_000)))
    html_elements: int = field(default_factory=lambda: int(_number("QA_MAX_HTML_ELEMENTS", 500_000)))
    text_chars: int = field(default_factory=lambda: int(_number("QA_MAX_DOC_CHARS", 20_000_000)))
    # reading one document (parsing its format) runs in a worker process, stopped past these
    read_seconds: float = field(default_factory=lambda: _number("QA_READ_SECONDS", 60))
    read_memory_mb: int = field(default_factory=lambda: int(_number("QA_READ_MEMORY_MB", 2_048)))


# a container inflating less than this is never refused for its ratio (a small, very regular file)
RATIO_FLOOR_BYTES = 10_000_000


def refuse(path, what: str, limit: str) -> DocumentTooLarge:
    """The error for a document past a limit: one sentence saying what and naming the setting."""
    return DocumentTooLarge(f"{path}: {what} ({limit}); the file was left out.", limit)


def size(n: float) -> str:
    return f"{n / 1_000_000:,.0f} MB" if n >= 1_000_000 else f"{n:,.0f} bytes"
