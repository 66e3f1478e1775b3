"""A question limited to some documents: by path or title (a glob), or by publication date."""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

import numpy as np

from .errors import BadQuestion

DATE = re.compile(r"\d{4}(?:-\d{2}(?:-\d{2})?)?")


@dataclass(frozen=True)
class Scope:
    doc: str | None = None    # a glob on the document's path, file name or title ("*.pdf", "*annual report*")
    since: str | None = None  # ISO date or its prefix: 2023, 2023-03, 2023-03-14 (documents dated on or after)
    until: str | None = None  # the same, documents dated on or before

    def admits(self, path: str, title: str | None, date: str | None) -> bool:
        if self.doc is not None:
            name = path.rsplit("/", 1)[-1]
            pattern = self.doc.lower()
            if not any(fnmatch.fnmatch(x.lower(), pattern) for x in (path, name, title or "") if x) \
                    and pattern not in (title or "").lower():
                return False
        if self.since is not None and (date is None or date[:len(self.since)] < self.since):
            return False
        if self.until is not None and (date is None or date[:len(self.until)] > self.until):
            return False
        return True

    def describe(self) -> str:
        parts = [f"matches {self.doc!r}" if self.doc else "", f"is dated from {self.since}" if self.since else "",
                 f"is dated until {self.until}" if self.until else ""]
        return " and ".join(p for p in parts if p)


def _real_date(text: str) -> bool:
    """Whether `text` is a year, a year and month, or a full date that exists ("2023-13-45" does not)."""
    if not DATE.fullmatch(text):
        return False
    import datetime

    parts = [int(p) for p in text.split("-")] + [1, 1]
    try:
        datetime.date(*parts[:3])
    except ValueError:
        return False
    return True


def make_scope(doc: object = None, since: object = None, until: object = None) -> Scope | None:
    """A scope from user input, or None when nothing limits the question; a bad date is refused."""
    for name, value in (("doc", doc), ("since", since), ("until", until)):
        if value is not None and not isinstance(value, str):
            raise BadQuestion(f"{name} must be a string.")
    for name, value in (("since", since), ("until", until)):
        if value is not None and not _real_date(value.strip()):
            raise BadQuestion(f"{name} must be a date like 2023-03-14 (or 2023-03, or 2023), not {value!r}.")
    doc = doc.strip() if doc and doc.strip() else None
    scope = Scope(doc, since.strip() if since else None, until.strip() if until else None)
    return scope if (scope.doc or scope.since or scope.until) else None


def rows_in(index, scope: Scope) -> np.ndarray:
    """The index rows (sentence ids) of the documents in scope; none is an error worth saying."""
    spans = index.document_rows()
    docs = [d for d in index.documents if scope.admits(d.path, d.title, d.date)]
    if not docs:
        raise BadQuestion(f"no indexed document {scope.describe()}; list them with: python cli.py docs")
    return np.concatenate([np.arange(*spans[d.path]) for d in docs if d.path in spans])
