"""The embedded store's SQLite file: documents, sentences (with their spaCy annotations) and facts; numbered migrations."""
from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from ..records import Document, Fact, FactQuery, Sentence, Token


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


def m003_create_terms(db: sqlite3.Connection) -> None:
    """What a question needs without reading every sentence: each term's sentence frequency, every
    word of the texts (for typo correction), and facts found by their sentence or period."""
    db.executescript("""
        CREATE TABLE terms (word TEXT PRIMARY KEY, df INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE words (word TEXT PRIMARY KEY) WITHOUT ROWID;
        CREATE INDEX facts_place ON facts(doc, start);
    """)


def m004_keep_extracted_text(db: sqlite3.Connection) -> None:
    """Citations for every format: the text the offsets point into (extracted from HTML, PDF, DOCX),
    the format, the page starts; each unit's section and page."""
    db.executescript("""
        ALTER TABLE documents ADD COLUMN format TEXT;
        ALTER TABLE documents ADD COLUMN text TEXT;
        ALTER TABLE documents ADD COLUMN pages TEXT;
        ALTER TABLE sentences ADD COLUMN section TEXT;
        ALTER TABLE sentences ADD COLUMN page INTEGER;
    """)


def m005_count_words(db: sqlite3.Connection) -> None:
    """How many units hold each word, so that a library change updates the vocabulary by difference."""
    db.execute("ALTER TABLE words ADD COLUMN n INTEGER NOT NULL DEFAULT 1")


MIGRATIONS = [m001_create_tables, m002_create_facts, m003_create_terms, m004_keep_extracted_text, m005_count_words]


def create(path: Path) -> sqlite3.Connection:
    """A new store at `path`, migrated to the newest schema."""
    return migrate(sqlite3.connect(str(path)))


def migrate(db: sqlite3.Connection) -> sqlite3.Connection:
    """The store with the migrations it lacks applied, in order."""
    done = db.execute("PRAGMA user_version").fetchone()[0]
    for i, step in enumerate(MIGRATIONS[done:], start=done + 1):
        step(db)
        db.execute(f"PRAGMA user_version = {i}")
    db.commit()
    return db


def open_readonly(path: Path) -> sqlite3.Connection:
    """An existing store, opened read-only so that reading never changes the index."""
    db = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version != len(MIGRATIONS):
        raise sqlite3.DatabaseError(f"store schema version {version}, expected {len(MIGRATIONS)}")
    return db


def write_documents(db: sqlite3.Connection, docs: list[Document], units: list[list[Sentence]], first_id: int = 1) -> None:
    """Documents with their units, numbered from `first_id` (units after the store's last)."""
    for doc_id, (doc, sents) in enumerate(zip(docs, units), start=first_id):
        db.execute("INSERT INTO documents (id, path, sha256, title, date, format, text, pages) VALUES (?,?,?,?,?,?,?,?)",
                   (doc_id, doc.path, doc.sha256, doc.title, doc.date, doc.format, doc.text, json.dumps(doc.pages)))
        db.executemany("INSERT INTO sentences (doc_id, position, paragraph, start, end, kind, text, tokens, entities,"
                       " chunks, section, page) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                       [(doc_id, s.position, s.paragraph, s.start, s.end, s.kind, s.text,
                         json.dumps([list(t.__dict__.values()) for t in s.tokens]),
                         json.dumps(s.entities), json.dumps(s.chunks), s.section, s.page) for s in sents])


def write_facts(db: sqlite3.Connection, facts: list[Fact]) -> None:
    db.executemany("INSERT INTO facts (kind, subject, attribute, value, normalized, unit, period, qualifier, doc,"
                   " start, end, derived_from, formula) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   [(f.kind, f.subject, f.attribute, f.value, json.dumps(f.normalized), f.unit, f.period,
                     f.qualifier, f.doc, f.start, f.end, json.dumps(f.derived_from), f.formula) for f in facts])


def write_terms(db: sqlite3.Connection, df: dict[str, int], words: dict[str, int]) -> None:
    """Each term's and each word's number of units."""
    db.executemany("INSERT INTO terms VALUES (?,?)", sorted(df.items()))
    db.executemany("INSERT INTO words (word, n) VALUES (?,?)", sorted(words.items()))


def read_documents(db: sqlite3.Connection, with_text: bool = False) -> list[Document]:
    """The documents in id order, without their text unless asked (`document_text` reads one)."""
    rows = db.execute(f"SELECT path, sha256, title, date, format, pages, {'text' if with_text else 'NULL'}"
                      " FROM documents ORDER BY id").fetchall()
    return [Document(path=p, text=body or "", sha256=h, title=t, date=d, format=f or "text",
                     pages=tuple(tuple(x) for x in json.loads(pg or "[]")))
            for p, h, t, d, f, pg, body in rows]


def document_rows(db: sqlite3.Connection) -> dict[str, tuple[int, int]]:
    """Each document's [first, last) unit ids (0-based, the vectors' rows)."""
    return {p: (lo - 1, hi) for p, lo, hi in db.execute(
        "SELECT d.path, min(s.id), max(s.id) FROM sentences s JOIN documents d ON d.id = s.doc_id GROUP BY d.id")}


def document_text(db: sqlite3.Connection, path: str) -> str | None:
    """The text a document's offsets point into: the file's own, or what was extracted from it."""
    row = db.execute("SELECT text FROM documents WHERE path = ?", (path,)).fetchone()
    return row[0] if row else None


SENTENCE_COLUMNS = ("SELECT s.id, d.path, s.position, s.paragraph, s.start, s.\"end\", s.kind, s.text, s.tokens,"
                    " s.entities, s.chunks, s.section, s.page, d.title FROM sentences s JOIN documents d ON d.id = s.doc_id")


def sentence_row(row) -> Sentence:
    """A unit from a row of SENTENCE_COLUMNS."""
    sid, path, pos, para, start, end, kind, text, toks, ents, chunks, section, page, title = row
    return Sentence(path, start, end, text, kind, para, pos, sid - 1,
                    tokens=[Token(*t) for t in json.loads(toks)],
                    entities=[tuple(e) for e in json.loads(ents)],
                    chunks=[tuple(c) for c in json.loads(chunks)], section=section, page=page, title=title)


def read_sentences(db: sqlite3.Connection, ids: list[int] | None = None) -> list[Sentence]:
    """The units with these ids (0-based, the vectors' order), or every unit; in id order."""
    if ids is None:
        return [sentence_row(r) for r in db.execute(SENTENCE_COLUMNS + " ORDER BY s.id")]
    rows = []
    for i in range(0, len(ids), 500):
        part = [int(j) + 1 for j in ids[i:i + 500]]
        rows += db.execute(SENTENCE_COLUMNS + f" WHERE s.id IN ({','.join('?' * len(part))}) ORDER BY s.id", part).fetchall()
    return [sentence_row(r) for r in rows]


def read_units_of(db: sqlite3.Connection, doc_ids: list[int], schema: str = "main") -> list[Sentence]:
    """The units of these documents (by store id), from the store attached as `schema`."""
    query = (SENTENCE_COLUMNS.replace("sentences s", f"{schema}.sentences s").replace("documents d", f"{schema}.documents d")
             + " WHERE s.doc_id = ? ORDER BY s.id")
    return [sentence_row(r) for i in doc_ids for r in db.execute(query, (i,))]


def term_frequencies(db: sqlite3.Connection, words: list[str]) -> dict[str, int]:
    """Sentence frequency of each of `words` found in the store."""
    words = list(dict.fromkeys(words))
    out = {}
    for i in range(0, len(words), 500):
        part = words[i:i + 500]
        out.update(db.execute(f"SELECT word, df FROM terms WHERE word IN ({','.join('?' * len(part))})", part).fetchall())
    return out


def known_words(db: sqlite3.Connection, words: list[str]) -> set[str]:
    words = list(dict.fromkeys(words))
    if not words:
        return set()
    return {w for (w,) in db.execute(f"SELECT word FROM words WHERE word IN ({','.join('?' * len(words))})", words)}


def all_words(db: sqlite3.Connection) -> list[str]:
    return [w for (w,) in db.execute("SELECT word FROM words")]


FACT_COLUMNS = ("SELECT id, kind, subject, attribute, value, normalized, unit, period, qualifier, doc, start,"
                ' "end", derived_from, formula FROM facts')


def fact_condition(query: FactQuery | None, mark: str = "?") -> tuple[str, tuple]:
    """The SQL condition over the facts table that `query` asks for (`mark` the placeholder), and its
    arguments; ("", ()) for every fact. Plain SQL that SQLite and PostgreSQL read alike."""
    if query is None:
        return "", ()
    conds, args = [], []
    if query.kind is not None:
        conds.append(f"kind = {mark}")
        args.append(query.kind)
    for column, words in (("subject", query.subject), ("attribute", query.attribute)):
        if words is not None:
            conds.append(f"lower(coalesce({column}, '')) LIKE {mark} ESCAPE '\\'")
            args.append("%" + re.sub(r"([\\%_])", r"\\\1", words.lower()) + "%")
    if query.places is not None:
        conds.append("(" + (" OR ".join([f"(doc = {mark} AND start = {mark})"] * len(query.places)) or "1 = 0") + ")")
        args.extend(x for place in query.places for x in place)
    if query.ids is not None:
        conds.append(f"id IN ({', '.join([mark] * len(query.ids))})" if query.ids else "1 = 0")
        args.extend(query.ids)
    return " AND ".join(conds), tuple(args)


def read_facts(db: sqlite3.Connection, query: FactQuery | None = None) -> list[Fact]:
    """The facts `query` asks for (every fact without one), in id order."""
    where, args = fact_condition(query)
    rows = db.execute(FACT_COLUMNS + (f" WHERE {where}" if where else "") + " ORDER BY id", args).fetchall()
    return [fact_row(r) for r in rows]


def fact_row(row) -> Fact:
    """A fact from a row of FACT_COLUMNS."""
    i, k, s, a, v, n, u, p, q, d, st, en, df, fo = row
    return Fact(kind=k, subject=s, attribute=a, value=v, normalized=json.loads(n), unit=u, period=p, qualifier=q,
                doc=d, start=st, end=en, derived_from=json.loads(df), formula=fo, id=i)
