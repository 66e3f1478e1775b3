"""Writing the PostgreSQL store: a change (build, add, remove, update) is one transaction under an
advisory lock; readers keep the version before it until it commits, and a killed change is rolled
back. Statistics (BM25 term counts and lengths, the corpus totals) change by difference."""
from __future__ import annotations

import json
from collections import Counter

import numpy as np

from .config import FORMAT_VERSION, MODEL_NAME, MODEL_SHA256
from .errors import BadDocument
from .generation import document_entry, lexical_texts, unit_terms, windows
from .lexical import TermCounts
from .records import PROSE_KINDS, Document
from .pgschema import FIELDS, LOCK, Store, _Corpus, _units_sql, _vector
from .store.sqlite import sentence_row


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


def _entry(doc: Document) -> dict:

    return document_entry(doc.path, doc.sha256)


def _change_counts(conn, table: str, column: str, delta: Counter) -> None:
    rows = [(w, n) for w, n in delta.items() if n]
    if not rows:
        return
    conn.cursor().executemany(f"INSERT INTO {table} (word, {column}) VALUES (%s, %s) ON CONFLICT (word) DO UPDATE"
                              f" SET {column} = {table}.{column} + excluded.{column}", rows)
    conn.execute(f"DELETE FROM {table} WHERE {column} <= 0")
