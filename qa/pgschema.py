"""The PostgreSQL + pgvector store's schema and connections: the numbered migrations (documents, units
with their two embeddings under HNSW indexes and their BM25 statistics, facts, term frequencies, the
typo vocabulary, the corpus totals that give every question's dense-score spread exactly, the format
and model, conversations), one pool of connections per database, and the SQL both the reading
(`postgres`) and the writing (`pgwrite`) sides share."""
from __future__ import annotations

import os
from contextlib import contextmanager
from urllib.parse import urlsplit

import numpy as np

from .collections import schema_in
from .errors import StoreUnavailable
from .store.sqlite import SENTENCE_COLUMNS

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
    ("the question log; feedback's corrections", """
CREATE TABLE IF NOT EXISTS questions (id bigserial PRIMARY KEY, asked double precision NOT NULL, via text NOT NULL,
        session text, answer_id text NOT NULL, question text NOT NULL, read_as text NOT NULL, answer text,
        abstained int NOT NULL, reason text, confidence double precision NOT NULL, qtype text, sources jsonb NOT NULL,
        vector bytea);
CREATE INDEX IF NOT EXISTS questions_asked ON questions (asked);
CREATE INDEX IF NOT EXISTS questions_answer ON questions (answer_id);
ALTER TABLE feedback ADD COLUMN IF NOT EXISTS correction text;
ALTER TABLE feedback ADD COLUMN IF NOT EXISTS answerable int;
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


_stores: dict[str, Store] = {}


def connect(url: str) -> Store:
    """The pool for `url`, opened once per process."""
    if url not in _stores:
        _stores[url] = Store(url)
    return _stores[url]


def _vector(v) -> str:
    return "[" + ",".join(f"{x:.8g}" for x in np.asarray(v, dtype=np.float32).tolist()) + "]"


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
