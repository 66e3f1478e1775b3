"""The built index: a folder whose CURRENT file names one complete generation, swapped atomically.

index/CURRENT            name of the live generation (replaced by rename, so always whole)
index/gen-XXXX/          manifest.json, store.sqlite (documents, sentences, facts, terms),
                         sentences.npy, windows.npy (+ .ivf above 100,000 rows), heading.npy,
                         bm25-sentences/, bm25-windows/
A build (`qa.build`) writes a new generation beside the live one, syncs it, then renames CURRENT over
the old pointer: a crash at any point leaves either the old index or the whole new one. Opening (here)
reads the manifest and the documents' list; everything else is memory-mapped or read by id when needed.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import dense
from .store import sqlite as store
from .store.questions import QuestionTable
from .store.sessions import SessionStore
from .config import FORMAT_VERSION, MODEL_SHA256
from .errors import IndexCorrupt, IndexMissing
from .lexical import Lexical, correct
from .records import Candidates, Document, Fact, FactQuery, Hit, Sentence
from .search import candidates

Progress = Callable[[str, int, int], None]  # (stage, done, total)
SENTENCE_CACHE = 4096  # sentences kept in memory after a question read them


class Sentences:
    """The index's units, read by id when a candidate needs them (recent ones cached)."""

    def __init__(self, read: Callable[[list[int]], list[Sentence]], n: int):
        self._read, self._n = read, n
        self._cache: OrderedDict[int, Sentence] = OrderedDict()

    def __len__(self) -> int:
        return self._n

    def many(self, ids: list[int]) -> list[Sentence]:
        """The units with these ids, in the order given."""
        missing = [i for i in dict.fromkeys(ids) if i not in self._cache]
        if missing:
            for s in self._read(missing):
                self._cache[s.id] = s
        out = [self._cache[i] for i in ids]
        for i in ids:
            self._cache.move_to_end(i)
        while len(self._cache) > SENTENCE_CACHE:
            self._cache.popitem(last=False)
        return out

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self.many(list(range(len(self)))[i])
        if not -self._n <= i < self._n:
            raise IndexError(i)
        return self.many([i % self._n])[0]

    def __iter__(self):
        for lo in range(0, self._n, 1000):
            yield from self.many(list(range(lo, min(lo + 1000, self._n))))


class InverseFrequency:
    """Inverse sentence frequency of a lemma or lower-cased word, log((N + 1) / (df + 0.5)), read from
    the store; "<unk>" gives the value of a word no sentence has; a word no sentence has is not `in` it."""

    def __init__(self, lookup: Callable[[list[str]], dict[str, int]], n: int):
        self._lookup_many, self._n = lookup, n
        self._df: dict[str, int | None] = {}

    def _lookup(self, words: list[str]) -> None:
        todo = [w for w in words if w not in self._df and w != "<unk>"]
        if todo:
            found = self._lookup_many(todo)
            self._df.update({w: found.get(w) for w in todo})

    def __contains__(self, word: str) -> bool:
        self._lookup([word])
        return word == "<unk>" or self._df[word] is not None

    def get(self, word: str, default: float | None = None) -> float | None:
        if word == "<unk>":
            return math.log((self._n + 1) / 0.5)
        self._lookup([word])
        df = self._df[word]
        return default if df is None else math.log((self._n + 1) / (df + 0.5))


class Reading:
    """What reading asks of an index beyond its store, the same for every store: documents' dates,
    the facts stated in some sentences, a sentence's neighbours (from `documents`, `facts`, `around`)."""

    def date_of(self, path: str):
        """A document's publication date (a datetime.date), or None."""
        import datetime as dt

        d = next((d.date for d in self.documents if d.path == path), None)
        return dt.date.fromisoformat(d) if d else None

    @property
    def dateline(self):
        """The publication date of the first dated document, the base for relative dates in questions."""
        import datetime as dt

        d = next((d.date for d in self.documents if d.date), None)
        return dt.date.fromisoformat(d) if d else None

    def facts_about(self, hits: list[Hit]) -> list[Fact]:
        """The facts stated in the hits' sentences (a fact answers only where the reader read its
        sentence), in id order."""
        places = tuple({(h.sentence.doc, h.sentence.start) for h in hits})
        return self.facts(FactQuery(places=places)) if places else []

    def version(self) -> object:
        """What names the store's documents now: answers cached under another are stale."""
        return None

    def changed(self) -> bool:
        """Whether another process changed the store since this index opened it, so that it should be
        opened again (a store that follows changes by itself says no)."""
        return False

    def neighbours(self, s: Sentence) -> list[Sentence]:
        """The sentences just before and after `s` in its document."""
        return [x for x in self.around(s) if x is not None]


@dataclass
class Index(Reading):
    """One generation, opened without loading it: vectors and BM25 memory-mapped, sentences and facts
    read from SQLite when a question needs them."""

    folder: Path
    manifest: dict
    documents: list[Document]
    db: sqlite3.Connection
    sentence_vectors: dense.Vectors
    window_vectors: dense.Vectors
    lexical: tuple             # BM25 over sentences, over windows
    heading: np.ndarray        # 1.0 where the unit is a headline, dateline or heading
    lock: threading.Lock = field(default_factory=threading.Lock)
    generation: str = ""       # the folder's generation this index opened
    _vocabulary: list[str] | None = None
    _rows: dict | None = None

    def __post_init__(self):
        def read(ids):
            with self.lock:
                return store.read_sentences(self.db, ids)

        def frequencies(words):
            with self.lock:
                return store.term_frequencies(self.db, words)

        self.sentences = Sentences(read, len(self.heading))
        self.idf = InverseFrequency(frequencies, len(self.heading))

    def version(self) -> object:
        """The folder's live generation now (CURRENT names it; a change by any process renames it)."""
        try:
            return (self.folder / "CURRENT").read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    def changed(self) -> bool:
        now = self.version()
        return bool(self.generation) and now is not None and now != self.generation

    def session_store(self, idle_seconds: float):
        """Where this index's conversations are kept: a SQLite file beside the generations."""

        return SessionStore(self.folder / "sessions.sqlite", idle_seconds)

    def question_log(self):
        """Where this index's questions are logged (`qa.asked`): a SQLite file beside its conversations."""
        return QuestionTable(self.folder / "questions.sqlite")

    def candidates(self, questions: list[str], vectors: np.ndarray, pool: int,
                   only: list[np.ndarray | None]) -> list[Candidates]:
        """Each question's candidate rows from FAISS and BM25 (`qa.search`)."""
        return candidates(self, questions, vectors, pool, only)

    def correct(self, question: str) -> str:
        """The question with its misspelt words replaced by the documents' closest words."""
        def known(words):
            with self.lock:
                return store.known_words(self.db, words)

        def vocabulary():
            if self._vocabulary is None:  # read once, when a question first has an unknown word
                with self.lock:
                    self._vocabulary = store.all_words(self.db)
            return self._vocabulary

        return correct(question, known, vocabulary)

    def facts(self, query: FactQuery | None = None) -> list[Fact]:
        """The stored facts `query` asks for (every fact without one), in id order."""
        with self.lock:
            return store.read_facts(self.db, query)

    def document_rows(self) -> dict[str, tuple[int, int]]:
        """Each document's [first, last) rows, read once."""
        if self._rows is None:
            with self.lock:
                self._rows = store.document_rows(self.db)
        return self._rows

    def document_text(self, path: str) -> str | None:
        """The text of the document at `path` as the bot read it (offsets of sources point into it)."""
        with self.lock:
            return store.document_text(self.db, path)

    def catalogue(self) -> list[dict]:
        """One row a document: title, date, format, sentences, facts, characters, when indexed."""
        counts = self.counts()
        with self.lock:
            facts = dict(self.db.execute("SELECT doc, count(*) FROM facts GROUP BY doc").fetchall())
        indexed = {d["path"]: d.get("indexed") for d in self.manifest.get("documents", [])}
        return [{"doc": d.path, "title": d.title, "date": d.date, "format": d.format, "sha256": d.sha256,
                 "chars": counts["chars"].get(d.path, 0), "sentences": counts["sentences"].get(d.path, 0),
                 "facts": facts.get(d.path, 0), "indexed": indexed.get(d.path)} for d in self.documents]

    def counts(self) -> dict:
        """Sentences and characters per document path, and the number of facts."""
        with self.lock:
            per_doc = dict(self.db.execute("SELECT d.path, count(*) FROM sentences s JOIN documents d"
                                           " ON d.id = s.doc_id GROUP BY d.path").fetchall())
            chars = dict(self.db.execute("SELECT path, length(text) FROM documents").fetchall())
            facts = self.db.execute("SELECT count(*) FROM facts").fetchone()[0]
        return {"sentences": per_doc, "chars": chars, "facts": facts}

    def around(self, s: Sentence) -> tuple[Sentence | None, Sentence | None]:
        """The sentence just before `s` and the one just after, in its document (None at an edge)."""
        ids = [j for j in (s.id - 1, s.id + 1) if 0 <= j < len(self.sentences)]
        got = dict(zip(ids, self.sentences.many(ids)))
        same = lambda j: got[j] if j in got and got[j].doc == s.doc else None  # noqa: E731
        return same(s.id - 1), same(s.id + 1)


def file_sha256(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def live_generation(folder: Path) -> Path:
    """The folder of the live generation, or a clear error when there is none or it is damaged."""
    pointer = folder / "CURRENT"
    if not folder.exists() or not pointer.exists():
        raise IndexMissing(f"no index at {folder}; build one with: python cli.py build DOC... --index-dir {folder}")
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        name = ""
    if not name.startswith("gen-") or "/" in name or "\x00" in name or not (folder / name).is_dir():
        raise IndexCorrupt(f"the index at {folder} is damaged; rebuild it with: python cli.py build DOC... --index-dir {folder}")
    return folder / name


def read_manifest(folder: Path) -> dict:
    gen = live_generation(folder)
    try:
        m = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
        assert isinstance(m, dict) and isinstance(m["documents"], list)
        return m
    except (OSError, ValueError, KeyError, AssertionError, UnicodeDecodeError):
        raise IndexCorrupt(f"the index at {folder} is damaged (bad manifest); rebuild it with: python cli.py build DOC... --index-dir {folder}") from None


def staleness(manifest: dict) -> str | None:
    """Why the index no longer matches its documents or model, or None when it does."""
    if manifest.get("format_version") != FORMAT_VERSION:
        return "it was built by another version of the bot"
    if manifest.get("model_sha256") != MODEL_SHA256:
        return "it was built with another model"
    for d in manifest["documents"]:
        if not _unchanged(d):
            return f"{d['path']} changed or is gone"
    return None


def _unchanged(d: dict) -> bool:
    """Whether a document still has its indexed content: same size and time, or else same hash."""
    try:
        st = os.stat(d["path"])
    except OSError:
        return False
    if st.st_size == d.get("size") and st.st_mtime_ns == d.get("mtime_ns"):
        return True
    return file_sha256(d["path"]) == d["sha256"]


def open_generation(folder: Path, manifest: dict) -> Index:
    """The live generation as it is, stale or not."""
    gen = live_generation(folder)
    try:
        db = store.open_readonly(gen / "store.sqlite")
        docs = store.read_documents(db)
        how = manifest["dense"]
        sv, wv = dense.Vectors(gen / "sentences", how), dense.Vectors(gen / "windows", how)
        heading = np.load(gen / "heading.npy", mmap_mode="r")
        n = manifest["sentences"]
        lexical = (Lexical.load(gen / "bm25-sentences", n), Lexical.load(gen / "bm25-windows", n))
    except (sqlite3.Error, RuntimeError, ValueError, TypeError, KeyError, OSError) as e:
        raise IndexCorrupt(f"the index at {folder} is damaged ({str(e)[:80]}); rebuild it with: python cli.py build DOC... --index-dir {folder}") from None
    if not (len(sv) == len(wv) == len(heading) == n):
        raise IndexCorrupt(f"the index at {folder} is damaged (vector count differs); rebuild it with: python cli.py build")
    return Index(folder, manifest, docs, db, sv, wv, lexical, heading, generation=gen.name)
