"""Collections: several libraries kept apart by one bot (one product's documents, another's), each a
whole index of its own (documents, sentences, facts, conversations), named by `--collection NAME`, the
QA_COLLECTION variable or a request's `collection`. The default collection is the index folder (or
PostgreSQL schema) itself; a named one lives beside it:

- embedded: `<index folder>/collections/NAME/`, an index folder like any other;
- PostgreSQL: the schema `qa_NAME` of the same database (the URL's search_path, so that every query
  and migration of the store runs unchanged inside it)."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from .errors import QAError

NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
DEFAULT = "default"


class BadCollection(QAError):
    pass


class UnknownCollection(QAError):
    pass


def collection_name(name: object) -> str | None:
    """A collection's name as given (None: the default collection), or a BadCollection."""
    if name is None or name == "" or name == DEFAULT:
        return None
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise BadCollection("a collection's name is 1-63 lower-case letters, digits, '-' or '_', starting with a "
                            "letter or digit, e.g. \"billing-help\".")
    return name


def folder_of(base: Path, name: str | None) -> Path:
    """The embedded index folder of collection `name` under the index folder `base`."""
    return Path(base) if name is None else Path(base) / "collections" / name


def schema_of(name: str) -> str:
    """Collection `name`'s PostgreSQL schema (a quoted identifier where the name has a '-')."""
    return "qa_" + name


def store_of(url: str, name: str | None) -> str:
    """The PostgreSQL URL whose connections work in collection `name`'s schema (pgvector's types stay
    reachable through `public`)."""
    if name is None:
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", f'-c search_path="{schema_of(name)}",public'))
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


def schema_in(url: str) -> str | None:
    """The collection schema a store URL made by store_of works in, or None for the default one."""
    opts = dict(parse_qsl(urlsplit(url).query)).get("options", "")
    m = re.search(r'search_path="(qa_[a-z0-9_-]+)"', opts)
    return m.group(1) if m else None


def embedded_names(base: Path) -> list[str]:
    """The named collections built under the index folder `base`."""
    root = Path(base) / "collections"
    return sorted(p.name for p in root.iterdir() if NAME.fullmatch(p.name) and (p / "CURRENT").exists()) \
        if root.is_dir() else []
