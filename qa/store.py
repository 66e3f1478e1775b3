"""SQLite store of documents, sentences (with their spaCy annotations) and facts; numbered migrations."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from .records import Document, Fact, Sentence, Token


def m001_create_tables(db: sqlite3.Connection) -> None:
    db.executescript("""
        CREATE TABLE documents (id INTEGER PRIMARY KEY, path TEXT NOT NULL, sha256 TEXT NOT NULL,
                                title TEXT, date TEXT);
        CREATE TABLE sentences (id INTEGER PRIMARY KEY, doc_id INTEGER NOT NULL REFERENCES documents(id),
                                position INTEGER, paragraph INTEGER, start INTEGER, end INTEGER,
                                kind TEXT, text TEXT, tokens TEXT, entities TEXT, chunks TEXT);
        CREATE INDEX sentences_doc ON sentences(doc_id, position);
    """)


def m002_create_facts(db: sqlite3.Connection) -> None:
    db.executescript("""
        CREATE TABLE facts (id INTEGER PRIMARY KEY, kind TEXT, subject TEXT, attribute TEXT, value TEXT,
                            normalized TEXT, unit TEXT, period TEXT, qualifier TEXT, doc TEXT,
                            start INTEGER, end INTEGER, derived_from TEXT, formula TEXT);
        CREATE INDEX facts_kind ON facts(kind, attribute);
    """)


MIGRATIONS = [m001_create_tables, m002_create_facts]


def create(path: Path) -> sqlite3.Connection:
    """A new store at `path`, migrated to the newest schema."""
    db = sqlite3.connect(str(path))
    for i, migrate in enumerate(MIGRATIONS, start=1):
        migrate(db)
        db.execute(f"PRAGMA user_version = {i}")
    return db


def open_readonly(path: Path) -> sqlite3.Connection:
    """An existing store, opened read-only so that reading never changes the index."""
    db = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version != len(MIGRATIONS):
        raise sqlite3.DatabaseError(f"store schema version {version}, expected {len(MIGRATIONS)}")
    return db


def write_documents(db: sqlite3.Connection, docs: list[Document], units: list[list[Sentence]]) -> None:
    for doc_id, (doc, sents) in enumerate(zip(docs, units), start=1):
        db.execute("INSERT INTO documents VALUES (?,?,?,?,?)", (doc_id, doc.path, doc.sha256, doc.title, doc.date))
        db.executemany("INSERT INTO sentences (doc_id, position, paragraph, start, end, kind, text, tokens, entities, chunks)"
                       " VALUES (?,?,?,?,?,?,?,?,?,?)",
                       [(doc_id, s.position, s.paragraph, s.start, s.end, s.kind, s.text,
                         json.dumps([list(t.__dict__.values()) for t in s.tokens]),
                         json.dumps(s.entities), json.dumps(s.chunks)) for s in sents])


def write_facts(db: sqlite3.Connection, facts: list[Fact]) -> None:
    db.executemany("INSERT INTO facts (kind, subject, attribute, value, normalized, unit, period, qualifier, doc,"
                   " start, end, derived_from, formula) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   [(f.kind, f.subject, f.attribute, f.value, json.dumps(f.normalized), f.unit, f.period,
                     f.qualifier, f.doc, f.start, f.end, json.dumps(f.derived_from), f.formula) for f in facts])


def read_documents(db: sqlite3.Connection) -> list[Document]:
    rows = db.execute("SELECT path, sha256, title, date FROM documents ORDER BY id").fetchall()
    return [Document(path=p, text="", sha256=h, title=t, date=d) for p, h, t, d in rows]


def read_sentences(db: sqlite3.Connection) -> list[Sentence]:
    """Every unit, in the order of the vectors (sentence id order)."""
    rows = db.execute("SELECT s.id, d.path, s.position, s.paragraph, s.start, s.end, s.kind, s.text, s.tokens,"
                      " s.entities, s.chunks FROM sentences s JOIN documents d ON d.id = s.doc_id ORDER BY s.id")
    out = []
    for sid, path, pos, para, start, end, kind, text, toks, ents, chunks in rows:
        out.append(Sentence(path, start, end, text, kind, para, pos, sid - 1,
                            tokens=[Token(*t) for t in json.loads(toks)],
                            entities=[tuple(e) for e in json.loads(ents)],
                            chunks=[tuple(c) for c in json.loads(chunks)]))
    return out


def read_facts(db: sqlite3.Connection) -> list[Fact]:
    rows = db.execute("SELECT id, kind, subject, attribute, value, normalized, unit, period, qualifier, doc, start,"
                      " end, derived_from, formula FROM facts ORDER BY id").fetchall()
    return [Fact(kind=k, subject=s, attribute=a, value=v, normalized=json.loads(n), unit=u, period=p, qualifier=q,
                 doc=d, start=st, end=en, derived_from=json.loads(df), formula=fo, id=i)
            for i, k, s, a, v, n, u, p, q, d, st, en, df, fo in rows]
