"""The question log: every question asked, whichever way it came in (the CLI's `ask` and `batch`, the
chat, the server's routes), kept per collection beside its conversations, so that a support team can
see what customers asked that the documents do not answer (`qa.gaps`).

An entry is written after its answer is given: the CLI writes when it has printed, the server hands
entries to a writer thread that writes them in batches (`QuestionLogger`). A log that cannot be
written (a read-only index folder, a database gone) costs the asker nothing: a warning in the log,
once. QA_LOG_QUESTIONS=0 keeps nothing; QA_LOG_DAYS (default 90) is how long entries are kept."""
from __future__ import annotations

import logging
import os
import queue
import threading
import time
import uuid

import numpy as np

from .records import Asked

log = logging.getLogger(__name__)
DEFAULT_DAYS = 90
FLUSH_SECONDS = 0.5   # how long the server's writer lets entries gather before writing them together
FLUSH_ENTRIES = 256   # or how many
DROP_EVERY = 3600.0   # seconds between two sweeps of the entries past QA_LOG_DAYS


def asked_from(answer: dict, via: str, answer_id: str | None = None) -> Asked:
    """The log entry of one answer object (CONTRACT.md's shape, as every way in gives it)."""
    return Asked(question=answer.get("question") or "", read_as=answer.get("rewritten") or answer.get("question") or "",
                 answer=None if answer.get("abstained") else answer.get("answer"), abstained=bool(answer.get("abstained")),
                 confidence=float(answer.get("confidence") or 0.0), qtype=answer.get("question_type") or "",
                 reason=answer.get("abstained_because") or answer.get("error"),
                 sources=[{k: s.get(k) for k in ("doc", "start", "end", "text")} for s in answer.get("sources", [])[:3]],
                 via=via, session=answer.get("session"), answer_id=answer_id or answer.get("answer_id") or uuid.uuid4().hex)


def logging_on() -> bool:
    return os.environ.get("QA_LOG_QUESTIONS", "1").strip().lower() not in ("0", "false", "no", "off")


def keep_days() -> float:
    """QA_LOG_DAYS, or the default; a value that is no positive number is the default (a log is never
    emptied by a typo)."""
    try:
        days = float(os.environ.get("QA_LOG_DAYS", DEFAULT_DAYS))
    except ValueError:
        return DEFAULT_DAYS
    return days if days > 0 else DEFAULT_DAYS


def with_vectors(entries: list[Asked]) -> list[Asked]:
    """The entries with their questions' vectors where the questions' encoder still remembers them
    (it keeps the last 4,096 it encoded): logging never encodes; a vector missing is worked out when
    the log is grouped (`qa.gaps.fill_vectors`)."""
    from .embed import question_encoder  # at use: loaded already wherever a question was asked

    todo = [e for e in entries if e.vector is None and e.read_as]
    remembered = getattr(question_encoder(), "remembered", None) if todo else None
    if remembered:
        for e, v in zip(todo, remembered([e.read_as for e in todo])):
            if v is not None:
                e.vector = v.astype(np.float16)
    return entries


_warned = set()


def write(store_of, entries: list[Asked]) -> None:
    """Write `entries` into the log that `store_of()` opens, and sweep it of entries past QA_LOG_DAYS;
    nothing when logging is off, and never an exception: a log that cannot be written is warned of once."""
    if not entries or not logging_on():
        return
    try:
        table = store_of()
        try:
            table.add(with_vectors(entries))
            table.drop_older(time.time() - keep_days() * 86400)
        finally:
            table.close()
    except Exception as e:  # noqa: BLE001 - the question was answered; its log entry is not worth an error
        if type(e) not in _warned:
            _warned.add(type(e))
            log.warning("questions could not be logged (%s); answering goes on", e)


class QuestionLogger:
    """The server's log writer: `record` hands an entry over at once (on the event loop it costs a
    queue put); a thread of its own writes them in batches, after the answers were sent. `close`
    writes what is left."""

    def __init__(self, open_table):
        self._open = open_table
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._table = None
        self._swept = 0.0
        self._thread = threading.Thread(target=self._run, name="qa-question-log", daemon=True)
        self.on = logging_on()
        if self.on:
            self._thread.start()

    def record(self, entry: Asked) -> None:
        if self.on:
            self._queue.put(entry)

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until the entries recorded so far are written."""
        if self.on and self._thread.is_alive():
            written = threading.Event()
            self._queue.put(written)
            written.wait(timeout)

    def close(self) -> None:
        if self.on and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=10)

    def _run(self) -> None:
        """Entries gathered for FLUSH_SECONDS (or FLUSH_ENTRIES), then written together; a flush's
        event or the stop (None) ends a gathering at once."""
        stop = False
        while not stop:
            batch = [self._queue.get()]
            deadline = time.monotonic() + FLUSH_SECONDS
            while len(batch) < FLUSH_ENTRIES and isinstance(batch[-1], Asked):
                try:
                    batch.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            self._write([e for e in batch if isinstance(e, Asked)])
            for e in batch:
                if isinstance(e, threading.Event):
                    e.set()
            stop = any(e is None for e in batch)
        if self._table is not None:
            self._table.close()

    def _write(self, entries: list[Asked]) -> None:
        if not entries:
            return
        try:
            if self._table is None:
                self._table = self._open()
            self._table.add(with_vectors(entries))
            if time.time() - self._swept > DROP_EVERY:
                self._table.drop_older(time.time() - keep_days() * 86400)
                self._swept = time.time()
        except Exception as e:  # noqa: BLE001 - see `write`
            if type(e) not in _warned:
                _warned.add(type(e))
                log.warning("questions could not be logged (%s); answering goes on", e)
