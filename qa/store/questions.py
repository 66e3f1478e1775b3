"""The embedded store's question log (`qa.asked`): one SQLite file beside the index's conversations,
one row a question asked, its vector kept at half precision (768 bytes) for grouping."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np

from ..records import Asked

SCHEMA = """CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY, asked REAL NOT NULL, via TEXT NOT NULL, session TEXT, answer_id TEXT NOT NULL,
    question TEXT NOT NULL, read_as TEXT NOT NULL, answer TEXT, abstained INTEGER NOT NULL, reason TEXT,
    confidence REAL NOT NULL, qtype TEXT, sources TEXT NOT NULL, vector BLOB);
CREATE INDEX IF NOT EXISTS questions_asked ON questions (asked);
CREATE INDEX IF NOT EXISTS questions_answer ON questions (answer_id)"""
COLUMNS = "asked, via, session, answer_id, question, read_as, answer, abstained, reason, confidence, qtype, sources, vector"
# the questions a content-gap report reads: abstained on, answered below a confidence, or marked wrong
UNANSWERED = "asked >= ? AND (abstained = 1 OR confidence < ? OR answer_id IN (SELECT value FROM json_each(?)))"


def row_of(e: Asked) -> tuple:
    """An entry as the columns hold it (the PostgreSQL log's too)."""
    return (e.asked, e.via, e.session, e.answer_id, e.question, e.read_as, e.answer, int(e.abstained), e.reason,
            float(e.confidence), e.qtype, json.dumps(e.sources, ensure_ascii=False),
            None if e.vector is None else np.asarray(e.vector, dtype=np.float16).tobytes())


def entry_of(row) -> Asked:
    asked, via, session, answer_id, question, read_as, answer, abstained, reason, confidence, qtype, sources, vector = row
    return Asked(question=question, read_as=read_as, answer=answer, abstained=bool(abstained), confidence=confidence,
                 qtype=qtype or "", reason=reason, sources=json.loads(sources) if isinstance(sources, str) else sources,
                 via=via, session=session, answer_id=answer_id, asked=asked,
                 vector=None if vector is None else np.frombuffer(bytes(vector), dtype=np.float16))


class QuestionTable:
    """The log of one collection's questions, in `path`."""

    def __init__(self, path: Path):
        self._db = sqlite3.connect(Path(path), isolation_level=None, timeout=10, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # a log: an entry lost to a power cut is no harm
        self._db.executescript(SCHEMA)

    def add(self, entries: list[Asked]) -> None:
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany(f"INSERT INTO questions ({COLUMNS}) VALUES ({', '.join('?' * 13)})",
                                 [row_of(e) for e in entries])

    def unanswered(self, since: float, below: float, wrong: list[str]) -> list[Asked]:
        """The entries since `since` abstained on, answered with a confidence below `below`, or whose
        answer id is among `wrong`, oldest first."""
        rows = self._db.execute(f"SELECT {COLUMNS} FROM questions WHERE {UNANSWERED} ORDER BY asked, id",
                                (since, below, json.dumps(wrong))).fetchall()
        return [entry_of(r) for r in rows]

    def keep_vectors(self, entries: list[Asked]) -> None:
        """Store the vectors worked out for entries that had none (one report's encoding serves the next)."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("UPDATE questions SET vector = ? WHERE answer_id = ? AND vector IS NULL",
                                 [(np.asarray(e.vector, dtype=np.float16).tobytes(), e.answer_id) for e in entries])

    def count(self) -> int:
        return self._db.execute("SELECT count(*) FROM questions").fetchone()[0]

    def drop_older(self, cutoff: float) -> int:
        with self._db:
            return self._db.execute("DELETE FROM questions WHERE asked < ?", (cutoff,)).rowcount

    def close(self) -> None:
        self._db.close()
