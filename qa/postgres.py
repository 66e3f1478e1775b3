"""The PostgreSQL + pgvector store as the pipeline reads it: one database shared by many `serve`
replicas, for collections larger than one machine's files. The schema, its numbered migrations and
the connections are `pgschema`'s; a change (build, add, remove, update: one transaction under an
advisory lock) is `pgwrite`'s. Retrieval runs in the database: each retriever's best rows (k-NN,
BM25 computed in SQL as the embedded store's Lucene BM25) by SQL, then their union scored; the
fusion is the embedded store's (`qa.retrieve.fuse`).
"""
from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from contextlib import contextmanager

import numpy as np

from .build import read_documents, read_parts
from .collections import schema_of
from .errors import IndexMissing, IndexStale
from .index import InverseFrequency, Reading, Sentences, staleness
from .lexical import _tokenize, correct
from .library import update
from .records import Candidates, Document, Fact, FactQuery, Sentence
from .pgschema import B, FIELDS, K1, Store, _Corpus, _units_sql, _vector, connect, nearest_sql
from .pgwrite import write
from .store.sessions import FEEDBACK_COLUMNS, FEEDBACK_READ, feedback_dict, feedback_row
from .store.sqlite import FACT_COLUMNS, fact_condition, fact_row, sentence_row


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

    def question_log(self):
        from .pgquestions import Questions  # at use: asked only by the log's writer and its report

        return Questions(self.store)

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

    def add_feedback(self, answer: dict, rating: str, comment, owner, correction=None, answerable=None) -> None:
        with self.store.transaction() as conn:  # replaces this caller's earlier rating of the answer, as the embedded store
            conn.execute("DELETE FROM feedback WHERE answer_id = %s AND owner IS NOT DISTINCT FROM %s", (answer["answer_id"], owner))
            conn.execute(f"INSERT INTO feedback ({FEEDBACK_COLUMNS}) VALUES ({', '.join(['%s'] * 10)})",
                         feedback_row(answer, rating, comment, owner, correction, answerable))

    def feedback(self, rating: str | None = None) -> list[dict]:
        with self.store.transaction() as conn:
            rows = conn.execute(f"SELECT {FEEDBACK_READ} FROM feedback WHERE %s::text IS NULL OR rating = %s ORDER BY id",
                                (rating, rating)).fetchall()
        return [feedback_dict(r) for r in rows]

    def close(self) -> None:
        pass


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
