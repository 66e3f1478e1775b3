"""Where the index lives: one interface, two stores, chosen by one setting (`--store` / `QA_STORE`).

- embedded (the default): a folder of immutable generations, each a SQLite file (`sqlite.py`, its
  numbered migrations beside the tables they make) with memory-mapped vectors (FAISS above 100,000
  rows) and BM25 files (`qa.index`, `qa.generation`);
- PostgreSQL with pgvector (`qa.postgres` reads, `qa.pgschema` holds the schema and its numbered
  migrations and the connections, `qa.pgwrite` writes a change; `QA_STORE=postgresql://...`): one
  transactional schema shared by many server replicas. They stand beside the library, not in this
  folder: a PostgreSQL store builds and changes its documents itself (through `qa.build` and
  `qa.library`), which the embedded store's files below them must not import.

Both implement `DocumentStore` (what retrieval and reading ask of an index: documents, sentences and
facts by id, term frequencies, spelling, candidates for a question, fused by one formula in
`qa.retrieve`) and give conversations a `ConversationStore`."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, ContextManager, Protocol, runtime_checkable

if TYPE_CHECKING:
    import datetime

    import numpy as np

    from ..records import Candidates, Document, Fact, FactQuery, Hit, Sentence


@runtime_checkable
class ConversationStore(Protocol):
    """Conversations under server-made ids, each kept for the key that made it, as their saved state
    (`Conversation.to_dict`), and feedback on answers."""

    def create(self, owner: str | None = None) -> str: ...
    def get(self, sid: str, owner: str | None = None) -> dict | None: ...
    def turn(self, sids: list[str]) -> ContextManager[dict[str, dict | None]]: ...
    def save(self, sid: str, state: dict, owner: str | None = None) -> None: ...
    def add_feedback(self, answer: dict, rating: str, comment: str | None, owner: str | None) -> None: ...
    def feedback(self, rating: str | None = None) -> list[dict]: ...
    def close(self) -> None: ...


@runtime_checkable
class DocumentStore(Protocol):
    """One opened version of the indexed documents, as the pipeline's stages use it."""

    documents: list[Document]
    sentences: Any  # .many(ids) -> list[Sentence]; len() rows
    idf: Any        # word -> inverse document frequency (.get, `in`)

    # retrieval
    def correct(self, question: str) -> str: ...
    def candidates(self, questions: list[str], vectors: np.ndarray, pool: int,
                   only: list[np.ndarray | None]) -> list[Candidates]: ...
    def document_rows(self) -> dict[str, tuple[int, int]]: ...
    # reading
    def around(self, s: Sentence) -> tuple[Sentence | None, Sentence | None]: ...
    def neighbours(self, s: Sentence) -> list[Sentence]: ...
    def facts(self, query: FactQuery | None = None) -> list[Fact]: ...
    def facts_about(self, hits: list[Hit]) -> list[Fact]: ...
    def date_of(self, path: str) -> datetime.date | None: ...
    # the library and the server
    def document_text(self, path: str) -> str | None: ...
    def catalogue(self) -> list[dict]: ...
    def counts(self) -> dict: ...
    def version(self) -> object: ...
    def changed(self) -> bool: ...
    def session_store(self, idle_seconds: float) -> ConversationStore: ...


def is_database(store: str | None) -> bool:
    """Whether the store setting names a PostgreSQL database rather than the embedded store."""
    return bool(store) and str(store).startswith(("postgresql://", "postgres://"))
