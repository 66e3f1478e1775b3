"""Where the index lives: one interface, two stores, chosen by one setting (`--store` / `QA_STORE`).

- embedded (the default): a folder of immutable generations, each a SQLite file (`sqlite.py`, its
  numbered migrations beside the tables they make) with memory-mapped vectors (FAISS above 100,000
  rows) and BM25 files (`qa.index`, `qa.generation`);
- PostgreSQL with pgvector (`postgres.py`, `QA_STORE=postgresql://...`): one transactional schema
  with its own numbered migrations, shared by many server replicas.

Both give the reading side the same interface (`qa.index.Index`'s: documents, sentences and facts
by id, term frequencies, the vocabulary, conversations) and retrieval the same candidates, fused by
one formula (`qa.retrieve`)."""
from __future__ import annotations


def is_database(store: str | None) -> bool:
    """Whether the store setting names a PostgreSQL database rather than the embedded store."""
    return bool(store) and str(store).startswith(("postgresql://", "postgres://"))
