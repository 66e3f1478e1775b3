"""The PostgreSQL + pgvector store: one database shared by many `serve` replicas, for collections
larger than one machine's files.

One transactional schema, created by the numbered migrations below: documents, units with their two
embeddings (pgvector HNSW over inner product) and their BM25 statistics (each term's frequency in
each unit, unit lengths, corpus totals: the embedded store's Lucene BM25, computed in SQL), facts,
the abstention's term frequencies and the typo vocabulary, the running totals that give every
question's dense-score mean and spread exactly, the format and model, and conversations.

A change (build, add, remove, update) is one transaction under an advisory lock: readers keep the
version before it until it commits, and a killed change is rolled back. Retrieval runs in the
database: each retriever's best rows (k-NN, BM25) by SQL, then their union scored; the fusion is the
embedded store's (`qa.retrieve.fuse`).
"""
from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from urllib.parse import urlsplit

import numpy as np

from ..collections import schema_in, schema_of
from ..config import FORMAT_VERSION, MODEL_NAME, MODEL_SHA256
from ..errors import BadDocument, IndexMissing, IndexStale, StoreUnavailable
from ..generation import document_entry, lexical_texts, unit_terms, windows
from ..build import read_documents, read_parts
from ..index import InverseFrequency, Reading, Sentences, staleness
from ..lexical import TermCounts, _tokenize, correct
from ..library import update
from ..records import PROSE_KINDS, Candidates, Document, Fact, FactQuery, Sentence
from .sessions import feedback_dict, feedback_row
from .sqlite import FACT_COLUMNS, SENTENCE_COLUMNS, fact_condition, fact_row, sentence_row

DIM = 384
K1, B = 1.5, 0.75     # BM25, as the embedded store's bm25s index
EF_SEARCH = 400       # HNSW candidate list: at least the pool of rows each retriever proposes
HALF = f"halfvec({DIM})"  # the HNSW indexes hold the vectors at half precision; candidates are scored in full
LOCK = 0x5141         # advisory lock held by a change
FIELDS = {0: "dl_sentence", 1: "dl_window"}

MIGRATIONS = [
    ("tables", f"""
CREATE TABLE qa_meta (key text PRIMARY KEY, value jsonb NOT NULL);
CREATE TABLE documents (id bigint PRIMARY KEY, path text UNIQUE NOT NULL, sha256 text NOT NULL, title text,
                        date text, format text, text text, pages text, entry jsonb NOT NULL);
CREATE TABLE units (id bigint PRIMARY KEY, doc_id bigint NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
                    position int, paragraph int, start int, "end" int, kind text, text text, tokens text,
                    entities text, chunks text, section text, page int, heading real NOT NULL,
                    dl_sentence int NOT NULL, dl_window int NOT NULL,
                    embedding vector({DIM}) NOT NULL, window_embedding vector({DIM}) NOT NULL);
CREATE INDEX units_doc ON units (doc_id, position);
CREATE INDEX units_embedding ON units USING hnsw (embedding vector_ip_ops);
CREATE INDEX units_window_embedding ON units USING hnsw (window_embedding vector_ip_ops);
CREATE TABLE postings (field smallint NOT NULL, term text NOT NULL, unit_id bigint NOT NULL REFERENCES units(id)
                       ON DELETE CASCADE, tf int NOT NULL, dl int NOT NULL,
                       PRIMARY KEY (field, term, unit_id) INCLUDE (tf, dl));  -- BM25 read from the index alone
CREATE INDEX postings_unit ON postings (unit_id);
CREATE TABLE facts (id bigint PRIMARY KEY, doc_id bigint NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
                    kind text, subject text, attribute text, value text, normalized text, unit text, period text,
                    qualifier text, doc text, start int, "end" int, derived_from text, formula text);
CREATE INDEX facts_kind ON facts (kind, attribute);
CREATE INDEX facts_place ON facts (doc, start);
CREATE TABLE terms (word text PRIMARY KEY, df int NOT NULL);
CREATE TABLE words (word text PRIMARY KEY, n int NOT NULL);
CREATE TABLE corpus (field smallint PRIMARY KEY, units bigint NOT NULL, length bigint NOT NULL,
                     sums bytea NOT NULL, moments bytea NOT NULL);
CREATE TABLE sessions (id text PRIMARY KEY, state jsonb NOT NULL, created double precision NOT NULL,
                       updated double precision NOT NULL);
CREATE FUNCTION instr(text, text) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT strpos($1, $2)';
"""),
    ("half-precision HNSW", f"""
DROP INDEX units_embedding;
DROP INDEX units_window_embedding;
CREATE INDEX units_embedding ON units USING hnsw ((embedding::halfvec({DIM})) halfvec_ip_ops);
CREATE INDEX units_window_embedding ON units USING hnsw ((window_embedding::halfvec({DIM})) halfvec_ip_ops);
"""),
    ("sessions owned, expired by an index; feedback", """
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS owner text;
CREATE INDEX IF NOT EXISTS sessions_updated ON sessions (updated);
CREATE TABLE IF NOT EXISTS feedback (id bigserial PRIMARY KEY, answer_id text NOT NULL, rating text NOT NULL, comment text,
                       question text NOT NULL, answer text, sources jsonb NOT NULL, created double precision NOT NULL,
                       owner text);
"""),
]


def _where(url: str) -> str:
    u = urlsplit(url)
    return f"{u.hostname or 'localhost'}:{u.port or 5432}/{u.path.lstrip('/') or '(default database)'}"


class Store:
    """A pool of connections to one PostgreSQL database, migrated to the newest schema."""

    def __init__(self, url: str, pool_size: int | None = None, timeout: float = 10.0):
        import psycopg
        from psycopg.conninfo import conninfo_to_dict
        from psycopg_pool import ConnectionPool

        self.url = url
        try:  # one direct connection first: its error says what is wrong, a pool's would only time out
            with psycopg.connect(url, connect_timeout=int(timeout)) as conn:
                _ensure_extension(conn, url)
                schema = schema_in(url)
                if schema:  # a collection's schema (qa.collections), made on first use
                    conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                    conn.commit()
                migrate(conn)
        except psycopg.OperationalError as e:
            raise StoreUnavailable(f"cannot reach the PostgreSQL server at {_where(url)} "
                                   f"({' '.join(str(e).split())[:160]}); check --store / QA_STORE") from None
        size = pool_size or int(os.environ.get("QA_PG_POOL", "4"))
        self.pool = ConnectionPool(url, min_size=1, max_size=size, timeout=timeout, configure=_configure, open=False,
                                   kwargs={"connect_timeout": int(timeout),
                                           # the URL's own options (a collection's search_path) kept
                                           "options": " ".join(filter(None, [
                                               conninfo_to_dict(url).get("options"),
                                               f"-c statement_timeout={int(os.environ.get('QA_PG_TIMEOUT_MS', '60000'))}"]))})
        self.pool.open(wait=True, timeout=timeout)

    @contextmanager
    def transaction(self):
        """A connection in one transaction: committed when the block ends, rolled back on an error."""
        with self.pool.connection() as conn:
            yield conn

    def close(self) -> None:
        self.pool.close()


def _configure(conn) -> None:
    from pgvector.psycopg import register_vector

    register_vector(conn)
    conn.execute(f"SET hnsw.ef_search = {EF_SEARCH}")
    conn.commit()


def _ensure_extension(conn, url: str) -> None:
    import psycopg

    have = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
    if have:
        if tuple(int(x) for x in have[0].split(".")[:2] if x.isdigit()) < (0, 7):
            raise StoreUnavailable(f"the database at {_where(url)} has pgvector {have[0]}; the store needs 0.7 or newer "
                                   "(halfvec): install it on the server, then run ALTER EXTENSION vector UPDATE;")
        return
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.commit()
    except psycopg.Error:
        conn.rollback()
        raise StoreUnavailable(f"the database at {_where(url)} lacks the pgvector extension; a superuser can add it "
                               "with: CREATE EXTENSION vector;") from None


def migrate(conn) -> None:
    """Apply the migrations not yet applied, in order, each in its own transaction."""
    conn.execute("SELECT pg_advisory_lock(%s)", (LOCK + 1,))
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS qa_schema (version int PRIMARY KEY, name text NOT NULL,"
                     " applied timestamptz NOT NULL DEFAULT now())")
        conn.commit()
        done = {v for (v,) in conn.execute("SELECT version FROM qa_schema")}
        for version, (name, sql) in enumerate(MIGRATIONS, start=1):
            if version not in done:
                conn.execute(sql)
                conn.execute("INSERT INTO qa_schema (version, name) VALUES (%s, %s)", (version, name))
                conn.commit()
    finally:
        conn.rollback()
        conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK + 1,))
        conn.commit()


def nearest_sql(column: str, scope: str = "") -> str:
    """The `%(pool)s` units nearest to `%(v)s` by `column`, through its half-precision HNSW index."""
    return f"SELECT id FROM units{scope} ORDER BY {column}::{HALF} <#> %(v)s::{HALF} LIMIT %(pool)s"


# -- writing ---------------------------------------------------------------------------------------

def write(store: Store, parts: list, drop: set[str], everything: bool = False) -> dict:
    """In one transaction: remove the documents at the paths `drop` (all of them when `everything`),
    then insert `parts` (read documents) after the others; the statistics change by difference."""

    with store.transaction() as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK,))
        have = dict(conn.execute("SELECT path, id FROM documents").fetchall())
        gone = list(have.values()) if everything else [have[p] for p in drop | {p.doc.path for p in parts} if p in have]
        terms, words = Counter(), Counter()
        if everything:  # the statistics start again from nothing
            conn.execute("DELETE FROM documents")
            conn.execute("DELETE FROM terms")
            conn.execute("DELETE FROM words")
            conn.execute("DELETE FROM corpus")
        corpus = _Corpus.read(conn)
        if gone and not everything:
            t, w = unit_terms([sentence_row(r) for r in conn.execute(_units_sql("s.doc_id = ANY(%s)"), (gone,))])
            terms.subtract(t)
            words.subtract(w)
            for field, column in ((0, "embedding"), (1, "window_embedding")):
                rows = conn.execute(f"SELECT {column}, {FIELDS[field]} FROM units WHERE doc_id = ANY(%s)", (gone,)).fetchall()
                if rows:
                    corpus.change(field, np.stack([v.to_numpy().astype(np.float64) for v, _ in rows]),
                                  sum(n for _, n in rows), -1)
            conn.execute("DELETE FROM documents WHERE id = ANY(%s)", (gone,))
        next_doc, next_unit, next_fact = conn.execute(
            "SELECT (SELECT coalesce(max(id), 0) FROM documents), (SELECT coalesce(max(id), -1) FROM units),"
            " (SELECT coalesce(max(id), 0) FROM facts)").fetchone()
        for part in parts:
            next_doc += 1
            units = part.units
            first = next_unit + 1
            sc, wc = TermCounts.of_texts(lexical_texts(units)), TermCounts.of_texts(windows(units))
            conn.execute("INSERT INTO documents (id, path, sha256, title, date, format, text, pages, entry)"
                         " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                         (next_doc, part.doc.path, part.doc.sha256, part.doc.title, part.doc.date, part.doc.format,
                          part.doc.text, json.dumps(part.doc.pages), json.dumps(part.entry or _entry(part.doc))))
            lengths = (_lengths(sc), _lengths(wc))
            with conn.cursor().copy('COPY units (id, doc_id, position, paragraph, start, "end", kind, text, tokens,'
                                    ' entities, chunks, section, page, heading, dl_sentence, dl_window, embedding,'
                                    ' window_embedding) FROM STDIN') as copy:
                for i, u in enumerate(units):
                    copy.write_row((first + i, next_doc, u.position, u.paragraph, u.start, u.end, u.kind, u.text,
                                    json.dumps([list(t.__dict__.values()) for t in u.tokens]), json.dumps(u.entities),
                                    json.dumps(u.chunks), u.section, u.page, float(u.kind not in PROSE_KINDS),
                                    int(lengths[0][i]), int(lengths[1][i]),
                                    _vector(part.sentence_vectors[i]), _vector(part.window_vectors[i])))
            with conn.cursor().copy("COPY postings (field, term, unit_id, tf, dl) FROM STDIN") as copy:
                for field, counts in ((0, sc), (1, wc)):
                    for i in range(len(units)):
                        a, b, dl = int(counts.rows[i]), int(counts.rows[i + 1]), int(lengths[field][i])
                        for t, n in zip(counts.terms[a:b].tolist(), counts.tf[a:b].tolist()):
                            copy.write_row((field, counts.vocab[t], first + i, n, dl))
            if part.facts:
                conn.cursor().executemany(
                    'INSERT INTO facts (id, doc_id, kind, subject, attribute, value, normalized, unit, period, qualifier,'
                    ' doc, start, "end", derived_from, formula) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,'
                    ' %s, %s, %s)',
                    [(next_fact + 1 + j, next_doc, f.kind, f.subject, f.attribute, f.value, json.dumps(f.normalized),
                      f.unit, f.period, f.qualifier, f.doc, f.start, f.end,
                      json.dumps([next_fact + n for n in f.derived_from] if f.derived_from else None), f.formula)
                     for j, f in enumerate(part.facts)])
                next_fact += len(part.facts)
            t, w = unit_terms(units)
            terms.update(t)
            words.update(w)
            corpus.change(0, np.asarray(part.sentence_vectors, dtype=np.float64), int(lengths[0].sum()), 1)
            corpus.change(1, np.asarray(part.window_vectors, dtype=np.float64), int(lengths[1].sum()), 1)
            next_unit += len(units)
        _change_counts(conn, "terms", "df", terms)
        _change_counts(conn, "words", "n", words)
        corpus.write(conn)
        if not conn.execute("SELECT 1 FROM units WHERE heading = 0 LIMIT 1").fetchone():
            raise BadDocument("the documents hold no sentences to index.")
        version = (conn.execute("SELECT (value #>> '{}')::bigint FROM qa_meta WHERE key = 'version'").fetchone() or (0,))[0]
        for key, value in (("format_version", FORMAT_VERSION), ("model_sha256", MODEL_SHA256), ("model", MODEL_NAME),
                           ("version", version + 1)):
            conn.execute("INSERT INTO qa_meta VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                         (key, json.dumps(value)))
    return {"removed": len(gone), "added": len(parts)}


def _lengths(counts) -> np.ndarray:
    """Each text's BM25 length: its number of terms, repeats counted."""
    text = np.repeat(np.arange(len(counts)), np.diff(counts.rows))
    return np.bincount(text, weights=counts.tf, minlength=len(counts)).astype(int)


def _vector(v) -> str:
    return "[" + ",".join(f"{x:.8g}" for x in np.asarray(v, dtype=np.float32).tolist()) + "]"


def _entry(doc: Document) -> dict:

    return document_entry(doc.path, doc.sha256)


def _change_counts(conn, table: str, column: str, delta: Counter) -> None:
    rows = [(w, n) for w, n in delta.items() if n]
    if not rows:
        return
    conn.cursor().executemany(f"INSERT INTO {table} (word, {column}) VALUES (%s, %s) ON CONFLICT (word) DO UPDATE"
                              f" SET {column} = {table}.{column} + excluded.{column}", rows)
    conn.execute(f"DELETE FROM {table} WHERE {column} <= 0")


class _Corpus:
    """Per field (sentences, windows): units, total BM25 length, the vectors' sum and second moments."""

    def __init__(self, rows: dict):
        self.rows = rows

    @classmethod
    def read(cls, conn) -> "_Corpus":
        rows = {f: [0, 0, np.zeros(DIM), np.zeros((DIM, DIM))] for f in FIELDS}
        for f, n, length, sums, moments in conn.execute("SELECT field, units, length, sums, moments FROM corpus"):
            rows[f] = [n, length, np.frombuffer(sums, dtype=np.float64).copy(),
                       np.frombuffer(moments, dtype=np.float64).reshape(DIM, DIM).copy()]
        return cls(rows)

    def change(self, field: int, vectors: np.ndarray, length: int, sign: int) -> None:
        r = self.rows[field]
        r[0] += sign * len(vectors)
        r[1] += sign * length
        r[2] += sign * vectors.sum(axis=0)
        r[3] += sign * (vectors.T @ vectors)

    def write(self, conn) -> None:
        for f, (n, length, sums, moments) in self.rows.items():
            conn.execute("INSERT INTO corpus VALUES (%s, %s, %s, %s, %s) ON CONFLICT (field) DO UPDATE SET"
                         " units = excluded.units, length = excluded.length, sums = excluded.sums,"
                         " moments = excluded.moments", (f, n, length, sums.tobytes(), moments.tobytes()))


def _units_sql(where: str) -> str:
    """SENTENCE_COLUMNS over this store's units (`s`), ids counted from 1 as the embedded store's."""
    return SENTENCE_COLUMNS.replace("s.id,", "s.id + 1,", 1).replace("sentences s", "units s") + f" WHERE {where} ORDER BY s.id"


# -- reading ---------------------------------------------------------------------------------------

class Index(Reading):
    """The documents in PostgreSQL, with the embedded `qa.index.Index`'s interface for reading."""

    def __init__(self, store: Store):
        self.store = store
        self.folder = None
        self._version = None
        self.refresh()

    def refresh(self) -> bool:
        """Read the documents and totals again if another process changed the store; whether it had."""
        with self.store.transaction() as conn:
            meta = dict(conn.execute("SELECT key, value FROM qa_meta").fetchall())
            if meta.get("version") == self._version and self._version is not None:
                return False
            rows = conn.execute("SELECT path, sha256, title, date, format, pages, entry FROM documents ORDER BY id").fetchall()
            n = conn.execute("SELECT count(*) FROM units").fetchone()[0]
            nf = conn.execute("SELECT count(*) FROM facts").fetchone()[0]
            self.corpus = _Corpus.read(conn).rows
        if not rows:
            raise IndexMissing("the PostgreSQL store holds no documents yet; build it with: python cli.py build DOC... "
                               "--store URL")
        self.documents = [Document(path=p, text="", sha256=h, title=t, date=d, format=f or "text",
                                   pages=tuple(tuple(x) for x in json.loads(pg or "[]"))) for p, h, t, d, f, pg, _ in rows]
        self.manifest = {"format_version": meta.get("format_version"), "model_sha256": meta.get("model_sha256"),
                         "model": meta.get("model"), "documents": [e for *_, e in rows], "sentences": n, "facts": nf,
                         "store": "postgresql"}
        self._version, self._rows, self._vocabulary = meta.get("version"), None, None

        self.sentences = Sentences(self._read_units, n)
        self.idf = InverseFrequency(self._term_frequencies, n)
        return True

    def version(self) -> object:
        """The store's version now (a change by any process raises it)."""
        with self.store.transaction() as conn:
            row = conn.execute("SELECT value FROM qa_meta WHERE key = 'version'").fetchone()
        return row[0] if row else None

    # the embedded Index's interface -----------------------------------------------------------
    def _read_units(self, ids: list[int]) -> list[Sentence]:
        with self.store.transaction() as conn:
            return [sentence_row(r) for r in conn.execute(_units_sql("s.id = ANY(%s)"), ([int(i) for i in ids],))]

    def _term_frequencies(self, words: list[str]) -> dict[str, int]:
        with self.store.transaction() as conn:
            return dict(conn.execute("SELECT word, df FROM terms WHERE word = ANY(%s)", (words,)).fetchall())

    def correct(self, question: str) -> str:
        def known(words):
            with self.store.transaction() as conn:
                return {w for (w,) in conn.execute("SELECT word FROM words WHERE word = ANY(%s)", (words,))}

        def vocabulary():
            if self._vocabulary is None:
                with self.store.transaction() as conn:
                    self._vocabulary = [w for (w,) in conn.execute("SELECT word FROM words")]
            return self._vocabulary

        return correct(question, known, vocabulary)

    def facts(self, query: FactQuery | None = None) -> list[Fact]:
        where, args = fact_condition(query, "%s")
        sql = FACT_COLUMNS + (f" WHERE {where}" if where else "") + " ORDER BY id"
        with self.store.transaction() as conn:
            return [fact_row(r) for r in conn.execute(sql, args)]

    def document_rows(self) -> dict[str, tuple[int, int]]:
        if self._rows is None:
            with self.store.transaction() as conn:
                self._rows = {p: (lo, hi + 1) for p, lo, hi in conn.execute(
                    "SELECT d.path, min(u.id), max(u.id) FROM units u JOIN documents d ON d.id = u.doc_id GROUP BY d.path")}
        return self._rows

    def document_text(self, path: str) -> str | None:
        with self.store.transaction() as conn:
            row = conn.execute("SELECT text FROM documents WHERE path = %s", (path,)).fetchone()
        return row[0] if row else None

    def catalogue(self) -> list[dict]:
        with self.store.transaction() as conn:
            rows = conn.execute("SELECT d.path, d.title, d.date, d.format, d.sha256, length(d.text), d.entry,"
                                " (SELECT count(*) FROM units u WHERE u.doc_id = d.id),"
                                " (SELECT count(*) FROM facts f WHERE f.doc_id = d.id) FROM documents d ORDER BY d.id").fetchall()
        return [{"doc": p, "title": t, "date": d, "format": f, "sha256": h, "chars": c or 0, "sentences": n, "facts": nf,
                 "indexed": (e or {}).get("indexed")} for p, t, d, f, h, c, e, n, nf in rows]

    def counts(self) -> dict:
        cat = self.catalogue()
        return {"sentences": {r["doc"]: r["sentences"] for r in cat}, "chars": {r["doc"]: r["chars"] for r in cat},
                "facts": sum(r["facts"] for r in cat)}

    def around(self, s: Sentence) -> tuple[Sentence | None, Sentence | None]:
        got = {x.id: x for x in self._read_units([j for j in (s.id - 1, s.id + 1) if j >= 0])}  # ids may have gaps
        same = lambda j: got[j] if j in got and got[j].doc == s.doc else None  # noqa: E731
        return same(s.id - 1), same(s.id + 1)

    def session_store(self, idle_seconds: float) -> "Sessions":
        return Sessions(self.store, idle_seconds)

    # retrieval in the database --------------------------------------------------------------------
    def candidates(self, questions: list[str], vectors: np.ndarray, pool: int, only: list) -> list[Candidates]:
        """Per question: the union of each retriever's best `pool` rows with their four scores, the
        heading flags, and each score's mean and spread over all rows (see `qa.retrieve.fuse`)."""
        self.refresh()
        out = []
        with self.store.transaction() as conn:
            for q, v, rows in zip(questions, vectors, only):
                vec = _vector(v)
                scope = "" if rows is None else " WHERE id = ANY(%(rows)s)"
                args = {"v": vec, "pool": pool, "rows": None if rows is None else [int(r) for r in rows]}
                ids = set()
                for column in ("embedding", "window_embedding"):
                    ids |= {i for (i,) in conn.execute(nearest_sql(column, scope), args)}
                terms = Counter(_tokenize([q], return_ids=False)[0])
                lexical = {}
                for field in FIELDS:
                    top, total, squares = self._bm25(conn, field, terms, pool, rows)
                    ids |= set(top)
                    lexical[field] = (total, squares)
                ids = np.array(sorted(ids), dtype=np.int64)
                got = {i: (c, w, h) for i, c, w, h in conn.execute(
                    "SELECT id, -(embedding <#> %(v)s::vector), -(window_embedding <#> %(v)s::vector), heading FROM units"
                    " WHERE id = ANY(%(ids)s)", {"v": vec, "ids": ids.tolist()})}
                cos, wcos, heading = (np.array([got[i][k] for i in ids.tolist()], dtype=np.float32) for k in range(3))
                bm = [self._bm25(conn, f, terms, None, ids.tolist())[0] for f in FIELDS]
                dense_spread, lexical_spread = [], []
                for field in FIELDS:  # sentences, windows
                    n, _, sums, moments = self.corpus[field]
                    mean = float(v @ sums) / n
                    dense_spread.append((mean, float(np.sqrt(max(float(v @ moments @ v) / n - mean * mean, 0.0)))))
                    total, squares = lexical[field]
                    lm = total / n
                    lexical_spread.append((lm, float(np.sqrt(max(squares / n - lm * lm, 0.0)))))
                out.append(Candidates(ids, cos, wcos,
                                      np.array([bm[0].get(i, 0.0) for i in ids.tolist()], dtype=np.float32),
                                      np.array([bm[1].get(i, 0.0) for i in ids.tolist()], dtype=np.float32),
                                      heading, dense_spread[0], dense_spread[1], lexical_spread[0], lexical_spread[1]))
        return out

    def _bm25(self, conn, field: int, terms: Counter, pool: int | None, ids: list | None):
        """BM25 (Lucene, as bm25s) of the units holding the question's terms: with `pool`, the best
        `pool` of them (among `ids` if given) and the sum and sum of squares over all; without, those
        of `ids`."""
        if not terms:
            return ({}, 0.0, 0.0) if pool else ({},)
        n, length = self.corpus[field][0], self.corpus[field][1]
        scored = (f"""WITH q AS (SELECT * FROM unnest(%(terms)s::text[], %(weights)s::int[]) AS q(term, w)),
            d AS (SELECT p.term, count(*)::float8 AS df FROM postings p JOIN q USING (term) WHERE p.field = %(field)s
                  GROUP BY p.term),
            s AS (SELECT p.unit_id, sum(q.w * ln(1 + (%(n)s - d.df + 0.5) / (d.df + 0.5)) * p.tf
                         / (p.tf + {K1} * (1 - {B} + {B} * p.dl / %(avgdl)s))) AS score
                  FROM postings p JOIN q USING (term) JOIN d USING (term)
                  WHERE p.field = %(field)s {'AND p.unit_id = ANY(%(ids)s)' if ids is not None else ''}
                  GROUP BY p.unit_id)""")
        args = {"terms": list(terms), "weights": list(terms.values()), "field": field, "n": n,
                "avgdl": length / n if n else 1.0, "ids": ids}
        if pool is None:
            return (dict(conn.execute(scored + " SELECT unit_id, score FROM s", args).fetchall()),)
        rows = conn.execute(scored + " SELECT unit_id, score, sum(score) OVER (), sum(score * score) OVER () FROM s"
                            " ORDER BY score DESC, unit_id LIMIT %(pool)s", {**args, "pool": pool}).fetchall()
        if not rows:
            return {}, 0.0, 0.0
        return {i: s for i, s, _, _ in rows}, float(rows[0][2]), float(rows[0][3])


class Sessions:
    """Conversations in the shared database: a turn reads its row under a row lock (SELECT ... FOR
    UPDATE) and writes it in the same transaction, so replicas taking turns of one conversation see
    each other's turns in order."""

    def __init__(self, store: Store, idle_seconds: float):
        self.store, self.idle = store, idle_seconds
        self._turn = threading.local()  # the transaction of the turn this thread is in, if any

    def create(self, owner: str | None = None) -> str:
        sid = uuid.uuid4().hex
        self.save(sid, {}, owner)
        return sid

    def get(self, sid: str, owner: str | None = None) -> dict | None:
        with self.store.transaction() as conn:
            row = conn.execute("SELECT state, updated, owner FROM sessions WHERE id = %s", (sid,)).fetchone()
            if row is None or (owner is not None and row[2] != owner):
                return None
            if time.time() - row[1] > self.idle:
                conn.execute("DELETE FROM sessions WHERE id = %s", (sid,))
                return None
            return row[0]

    @contextmanager
    def turn(self, sids: list[str]):
        """The conversations' states `sids`, locked until the block ends; `save` inside writes in the same
        transaction."""
        with self.store.transaction() as conn:
            fresh = time.time() - self.idle  # an idle conversation starts again, as the embedded store's does
            rows = {sid: state for sid, state, updated in conn.execute(
                "SELECT id, state, updated FROM sessions WHERE id = ANY(%s) ORDER BY id FOR UPDATE", (sorted(sids),))
                if updated >= fresh}
            self._turn.conn = conn
            try:
                yield {sid: rows.get(sid) for sid in sids}
            finally:
                self._turn.conn = None

    def save(self, sid: str, state: dict, owner: str | None = None) -> None:
        now = time.time()
        sql = ("INSERT INTO sessions (id, state, created, updated, owner) VALUES (%s, %s, %s, %s, %s) ON CONFLICT (id)"
               " DO UPDATE SET state = excluded.state, updated = excluded.updated")
        args = (sid, json.dumps(state, ensure_ascii=False), now, now, owner)
        conn = getattr(self._turn, "conn", None)
        if conn is not None:  # inside this thread's turn: written in its transaction
            conn.execute(sql, args)
            return
        with self.store.transaction() as conn:
            conn.execute(sql, args)
            conn.execute("DELETE FROM sessions WHERE updated < %s", (now - self.idle,))

    def add_feedback(self, answer: dict, rating: str, comment, owner) -> None:

        with self.store.transaction() as conn:
            conn.execute("INSERT INTO feedback (answer_id, rating, comment, question, answer, sources, created, owner)"
                         " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", feedback_row(answer, rating, comment, owner))

    def feedback(self, rating: str | None = None) -> list[dict]:

        with self.store.transaction() as conn:
            rows = conn.execute("SELECT answer_id, rating, comment, question, answer, sources, created FROM feedback"
                                " WHERE %s::text IS NULL OR rating = %s ORDER BY id", (rating, rating)).fetchall()
        return [feedback_dict(r) for r in rows]

    def close(self) -> None:
        pass


# -- the library's commands on this store ------------------------------------------------------------

_stores: dict[str, Store] = {}


def connect(url: str) -> Store:
    """The pool for `url`, opened once per process."""
    if url not in _stores:
        _stores[url] = Store(url)
    return _stores[url]


def has_collection(url: str, name: str) -> bool:
    """Whether the database at `url` holds collection `name`'s schema, built."""
    with connect(url).transaction() as conn:
        return conn.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = 'documents'",
                            (schema_of(name),)).fetchone() is not None


def collection_names(url: str) -> list[str]:
    """The named collections built in the database at `url`."""
    with connect(url).transaction() as conn:
        rows = conn.execute("SELECT table_schema FROM information_schema.tables WHERE table_name = 'documents' "
                            "AND table_schema LIKE 'qa\\_%%' ORDER BY 1").fetchall()
    return [r[0][3:] for r in rows]


def open_index(url: str, rebuild: bool = True, progress=None) -> Index:
    """The documents in the store at `url`, brought up to date first as `qa.library.load` does."""
    index = Index(connect(url))
    why = staleness(index.manifest)
    if why:
        if not rebuild:
            raise IndexStale(f"the store is out of date ({why}); bring it up to date with: python cli.py update --store URL")
        update(Shelf(url), progress=progress)
        index.refresh()
    return index


def build(paths: list[str], url: str, progress=None, skipped=None, glob=None, exclude=None) -> dict:
    """Index `paths` into the store at `url` anew (its documents before are dropped)."""
    docs = read_documents(paths, skipped, glob, exclude)
    return write(connect(url), read_parts(docs, progress=progress), set(), everything=True)


class Shelf:
    """The library commands' view of the store at `url` (`qa.library.Shelf`): a change is one
    transaction (`write`)."""

    def __init__(self, url: str, collection: str | None = None):
        self.url = url
        self.name = "the PostgreSQL store" + (f" (collection {collection})" if collection else "")

    def indexed(self) -> list[tuple[Document, dict | None]]:
        with connect(self.url).transaction() as conn:
            return [(Document(path=p, text="", sha256=h, title=t), e) for p, h, t, e in
                    conn.execute("SELECT path, sha256, title, entry FROM documents ORDER BY id")]

    def folders(self) -> list[dict]:
        return []  # a database build keeps no folders to look in again

    def change(self, new: list, gone: set[str], folders: list[dict] | None = None) -> None:
        write(connect(self.url), new, gone)
