"""The PostgreSQL store's question log (`qa.asked`): the `questions` table of the collection's schema,
beside its conversations, written and read as the embedded log's (`qa.store.questions`)."""
from __future__ import annotations

import numpy as np

from .records import Asked
from .store.questions import COLUMNS, entry_of, row_of


class Questions:
    def __init__(self, store):
        self.store = store

    def add(self, entries: list[Asked]) -> None:
        with self.store.transaction() as conn:
            conn.cursor().executemany(f"INSERT INTO questions ({COLUMNS}) VALUES ({', '.join(['%s'] * 13)})",
                                      [row_of(e) for e in entries])

    def unanswered(self, since: float, below: float, wrong: list[str]) -> list[Asked]:
        with self.store.transaction() as conn:
            rows = conn.execute(f"SELECT {COLUMNS} FROM questions WHERE asked >= %s AND (abstained = 1 OR confidence < %s"
                                " OR answer_id = ANY(%s)) ORDER BY asked, id", (since, below, wrong)).fetchall()
        return [entry_of(r) for r in rows]

    def keep_vectors(self, entries: list[Asked]) -> None:
        with self.store.transaction() as conn:
            conn.cursor().executemany("UPDATE questions SET vector = %s WHERE answer_id = %s AND vector IS NULL",
                                      [(np.asarray(e.vector, dtype=np.float16).tobytes(), e.answer_id) for e in entries])

    def count(self) -> int:
        with self.store.transaction() as conn:
            return conn.execute("SELECT count(*) FROM questions").fetchone()[0]

    def drop_older(self, cutoff: float) -> int:
        with self.store.transaction() as conn:
            return conn.execute("DELETE FROM questions WHERE asked < %s", (cutoff,)).rowcount

    def close(self) -> None:
        pass  # the store's pool outlives a log
