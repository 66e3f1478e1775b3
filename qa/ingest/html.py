"""HTML: the page's main content only (menus, footers, scripts and cookie banners dropped by
trafilatura), as Markdown so that headings become sections; title and publication date from the
page's metadata. Offsets are into this extracted text, which the store keeps."""
from __future__ import annotations

from pathlib import Path

from ..errors import BadDocument
from ..records import Document
from .markdown import kept_apart


def read(path: Path, data: bytes) -> Document:
    import trafilatura

    page = data.decode("utf-8", errors="replace")
    try:
        text = trafilatura.extract(page, output_format="markdown", include_comments=False, include_tables=True,
                                   include_images=False, include_links=False, favor_recall=True) or ""
        meta = trafilatura.extract_metadata(page)
    except Exception as e:  # noqa: BLE001 - a broken page is one bad file, not a failed build
        raise BadDocument(f"{path}: the HTML could not be read ({type(e).__name__}).") from None
    title = meta.title.strip() if meta and meta.title else None
    date = meta.date[:10] if meta and meta.date else None
    text = text.strip() + "\n" if text.strip() else ""
    return Document(path=str(path), text=text, sha256="", title=title, date=date, skip=kept_apart(text))
