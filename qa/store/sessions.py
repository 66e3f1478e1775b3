"""Conversations kept across requests and restarts: one SQLite file beside the index (never inside a
generation, which is immutable), one row a session, written in one transaction a turn, dropped after
an idle time. A conversation is kept as its saved state (`Conversation.to_dict`): the store holds
data, the conversation logic lives above it."""
from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, state TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL)"""
FEEDBACK = """CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY, answer_id TEXT NOT NULL, rating TEXT NOT NULL, comment TEXT, question TEXT NOT NULL,
    answer TEXT, sources TEXT NOT NULL, created REAL NOT NULL, owner TEXT)"""
UPGRADES = (("sessions", "owner", "ALTER TABLE sessions ADD COLUMN owner TEXT"),  # the ask key that made it; NULL: the admin or an open server
            ("sessions", "", "CREATE INDEX IF NOT EXISTS sessions_updated ON sessions (updated)"),  # expiry reads the oldest rows only
            # a reviewer's right answer, and whether any page answers (0: none does; NULL: not said)
            ("feedback", "correction", "ALTER TABLE feedback ADD COLUMN correction TEXT"),
            ("feedback", "answerable", "ALTER TABLE feedback ADD COLUMN answerable INTEGER"))
FEEDBACK_COLUMNS = "answer_id, rating, comment, question, answer, sources, created, owner, correction, answerable"
FEEDBACK_READ = "answer_id, rating, comment, question, answer, sources, created, correction, answerable"


def feedback_row(answer: dict, rating: str, comment: str | None, owner: str | None,
                 correction: str | None = None, answerable: bool | None = None) -> tuple:
    """A rating as FEEDBACK_COLUMNS hold it (the PostgreSQL store's too)."""
    sources = [{k: x.get(k) for k in ("doc", "start", "end", "text")} for x in answer.get("sources", [])[:3]]
    return (answer["answer_id"], rating, comment, answer.get("rewritten") or answer["question"],
            None if answer.get("abstained") else answer.get("answer"), json.dumps(sources, ensure_ascii=False),
            time.time(), owner, correction, None if answerable is None else int(answerable))


def feedback_dict(row) -> dict:
    answer_id, rating, comment, question, answer, sources, created, correction, answerable = row
    return {"answer_id": answer_id, "rating": rating, "comment": comment, "question": question, "answer": answer,
            "sources": json.loads(sources) if isinstance(sources, str) else sources,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(created)),
            "correction": correction, "answerable": None if answerable is None else bool(answerable)}


class SessionStore:
    def __init__(self, path: Path, idle_seconds: float):
        self.path = Path(path)
        self.idle = idle_seconds
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(SCHEMA)
        self._db.execute(FEEDBACK)
        columns = {t: {r[1] for r in self._db.execute(f"PRAGMA table_info({t})")} for t in ("sessions", "feedback")}
        for table, column, sql in UPGRADES:
            if column not in columns[table]:
                self._db.execute(sql)

    def create(self, owner: str | None = None) -> str:
        """A new conversation under an unguessable id, kept for `owner` (None: anyone with access)."""
        sid = uuid.uuid4().hex
        self.save(sid, {}, owner)
        return sid

    def get(self, sid: str, owner: str | None = None) -> dict | None:
        """The conversation's state, or None when there is none, it belongs to another owner than a
        given one, or it has been idle too long (then it is dropped)."""
        with self._lock:
            row = self._db.execute("SELECT state, updated, owner FROM sessions WHERE id = ?", (sid,)).fetchone()
            if row is None or (owner is not None and row[2] != owner):
                return None
            if time.time() - row[1] > self.idle:
                self._db.execute("DELETE FROM sessions WHERE id = ?", (sid,))
                return None
            return json.loads(row[0])

    @contextmanager
    def turn(self, sids: list[str]):
        """The conversations' states `sids` (None where there is none), for one turn of each (this
        process is their only writer)."""
        yield {sid: self.get(sid) for sid in sids}

    def save(self, sid: str, state: dict, owner: str | None = None) -> None:
        """Write the conversation's state; its owner is the one it was created with (`owner` is for creation)."""
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT INTO sessions (id, state, created, updated, owner) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT(id) DO UPDATE SET state = excluded.state, updated = excluded.updated",
                    (sid, json.dumps(state, ensure_ascii=False), now, now, owner))
                self._db.execute("DELETE FROM sessions WHERE updated < ?", (now - self.idle,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def add_feedback(self, answer: dict, rating: str, comment: str | None, owner: str | None,
                     correction: str | None = None, answerable: bool | None = None) -> None:
        """Keep a user's rating of an answer with what it was: question, answer, sources; and a
        reviewer's right answer, or that no page answers, where given."""
        row = feedback_row(answer, rating, comment, owner, correction, answerable)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:  # a second rating of one answer by one caller (a thumbs down, then its correction) replaces the first
                self._db.execute("DELETE FROM feedback WHERE answer_id = ? AND owner IS ?", (answer["answer_id"], owner))
                self._db.execute(f"INSERT INTO feedback ({FEEDBACK_COLUMNS}) VALUES ({', '.join('?' * 10)})", row)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def feedback(self, rating: str | None = None) -> list[dict]:
        """The ratings kept, oldest first (only `rating`'s when given)."""
        with self._lock:
            rows = self._db.execute(f"SELECT {FEEDBACK_READ} FROM feedback WHERE ? IS NULL OR rating = ? ORDER BY id",
                                    (rating, rating)).fetchall()
        return [feedback_dict(r) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
