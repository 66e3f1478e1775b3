"""The built index: a folder whose CURRENT file names one complete generation, swapped atomically.

index/CURRENT            name of the live generation (replaced by rename, so always whole)
index/gen-XXXX/          manifest.json, store.sqlite, sentences.faiss, windows.faiss
A build writes a new generation beside the live one, syncs it, then renames CURRENT over the old
pointer: a crash at any point leaves either the old index or the whole new one.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import dense, store
from .config import FORMAT_VERSION, MODEL_NAME, MODEL_SHA256
from .errors import BadDocument, IndexCorrupt, IndexMissing, IndexStale
from .ingest import read_document, split_units
from .records import Document, Fact, Sentence

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class Index:
    """Everything a question needs, loaded from one generation."""

    folder: Path
    manifest: dict
    documents: list[Document]
    sentences: list[Sentence]
    sentence_vectors: object   # FAISS index over sentences
    window_vectors: object     # FAISS index over previous+current+next windows
    facts: list[Fact] = field(default_factory=list)
    _lexical: tuple | None = None
    _idf: dict | None = None

    @property
    def lexical(self):
        """BM25 over sentences and over windows, built on first use (milliseconds)."""
        if self._lexical is None:
            from .lexical import Lexical

            self._lexical = (Lexical([s.text for s in self.sentences]), Lexical(windows(self.sentences)))
        return self._lexical

    @property
    def idf(self) -> dict[str, float]:
        """Inverse sentence frequency of each lemma: log((N + 1) / (df + 0.5)); "<unk>" for unseen ones."""
        if self._idf is None:
            import math
            from collections import Counter

            df = Counter(w for s in self.sentences for w in {t.lemma for t in s.tokens} | {t.text.lower() for t in s.tokens})
            n = len(self.sentences)
            self._idf = {w: math.log((n + 1) / (c + 0.5)) for w, c in df.items()}
            self._idf["<unk>"] = math.log((n + 1) / 0.5)
        return self._idf

    @property
    def dateline(self):
        """The publication date of the first dated document, the base for relative dates in questions."""
        import datetime as dt

        d = next((d.date for d in self.documents if d.date), None)
        return dt.date.fromisoformat(d) if d else None

    def neighbours(self, s: Sentence) -> list[Sentence]:
        """The sentences just before and after `s` in its document."""
        out = []
        for j in (s.id - 1, s.id + 1):
            if 0 <= j < len(self.sentences) and self.sentences[j].doc == s.doc:
                out.append(self.sentences[j])
        return out


    def around(self, s: Sentence) -> tuple[Sentence | None, Sentence | None]:
        """The sentence just before `s` and the one just after, in its document (None at an edge)."""
        same = lambda j: self.sentences[j] if 0 <= j < len(self.sentences) and self.sentences[j].doc == s.doc else None  # noqa: E731
        return same(s.id - 1), same(s.id + 1)

    def paragraph(self, s: Sentence) -> list[Sentence]:
        """The units of the paragraph `s` belongs to, in order."""
        same = lambda j: 0 <= j < len(self.sentences) and self.sentences[j].doc == s.doc and self.sentences[j].paragraph == s.paragraph  # noqa: E731
        lo, hi = s.id, s.id
        while same(lo - 1):
            lo -= 1
        while same(hi + 1):
            hi += 1
        return self.sentences[lo:hi + 1]


def windows(sentences: list[Sentence]) -> list[str]:
    """Each sentence with its neighbours in the same document: the context vector's text."""
    out = []
    for i, s in enumerate(sentences):
        parts = [sentences[j].text for j in (i - 1, i, i + 1)
                 if 0 <= j < len(sentences) and sentences[j].doc == s.doc]
        out.append(" ".join(parts))
    return out


def file_sha256(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def build(paths: list[str], folder: Path, encoder=None, progress: Progress | None = None) -> Path:
    """Index the documents at `paths` into `folder`; the old index stays live until the new one is whole."""
    from .facts import extract_facts
    from .nlp import english

    docs = _read_all(paths)
    say = progress or (lambda *a: None)
    nlp = english()
    all_units, facts = [], []
    for i, doc in enumerate(docs):
        say("reading", i, len(docs))
        units, title, date = split_units(doc, nlp)
        docs[i] = Document(doc.path, doc.text, doc.sha256, title, date)
        all_units.append(units)
        offset = len(facts)  # derived_from points into this document's own list
        for f in extract_facts(docs[i], units, nlp):
            f.derived_from = [offset + n for n in f.derived_from] if f.derived_from else None
            facts.append(f)
    say("reading", len(docs), len(docs))
    flat = [u for units in all_units for u in units]
    if not any(u.kind == "sentence" for u in flat):
        raise BadDocument("the documents hold no sentences to index.")
    if encoder is None:
        from .embed import default_encoder

        encoder = default_encoder()
    texts = [u.text for u in flat] + windows(flat)
    done = [0]

    def tick(n: int) -> None:
        done[0] += n
        say("embedding", done[0], len(texts))

    vectors = encoder.encode(texts, progress=tick)
    return _write_generation(folder, docs, all_units, facts, vectors[: len(flat)], vectors[len(flat):], encoder)


def _read_all(paths: list[str]) -> list[Document]:
    if not paths:
        raise BadDocument("no documents given; name at least one text or Markdown file.")
    docs, seen = [], set()
    for p in paths:
        d = read_document(p)
        if d.path not in seen:
            seen.add(d.path)
            docs.append(d)
    return docs


def _write_generation(folder: Path, docs, all_units, facts, sent_vecs, win_vecs, encoder) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    name = f"gen-{uuid.uuid4().hex[:12]}"
    tmp = folder / f".tmp-{name}"
    tmp.mkdir()
    db = store.create(tmp / "store.sqlite")
    store.write_documents(db, docs, all_units)
    store.write_facts(db, facts)
    db.commit()
    db.close()
    dense.save(dense.build(sent_vecs), tmp / "sentences.faiss")
    dense.save(dense.build(win_vecs), tmp / "windows.faiss")
    manifest = {"format_version": FORMAT_VERSION, "model": getattr(encoder, "name", MODEL_NAME),
                "model_sha256": getattr(encoder, "checksum", MODEL_SHA256),
                "documents": [{"path": d.path, "sha256": d.sha256} for d in docs],
                "sentences": sum(len(u) for u in all_units), "facts": len(facts)}
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1))
    for f in tmp.iterdir():
        _fsync(f)
    _fsync(tmp)
    os.rename(tmp, folder / name)
    _fsync(folder)
    pointer = folder / f".CURRENT-{name}"
    pointer.write_text(name + "\n")
    _fsync(pointer)
    os.replace(pointer, folder / "CURRENT")
    _fsync(folder)
    _remove_old(folder, keep=name)
    return folder / name


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_old(folder: Path, keep: str) -> None:
    for p in folder.iterdir():
        if p.name != keep and (p.name.startswith("gen-") or p.name.startswith(".tmp-gen-") or p.name.startswith(".CURRENT-")):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)


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
        if file_sha256(d["path"]) != d["sha256"]:
            return f"{d['path']} changed or is gone"
    return None


def load(folder: Path, rebuild: bool = True, progress: Progress | None = None) -> Index:
    """The index at `folder`; rebuilt first when its documents or model changed (unless `rebuild` is False)."""
    manifest = read_manifest(folder)
    why = staleness(manifest)
    if why:
        if not rebuild:
            raise IndexStale(f"the index at {folder} is out of date ({why}); rebuild it with: python cli.py build")
        paths = [d["path"] for d in manifest["documents"] if Path(d["path"]).exists()]
        if not paths:
            raise IndexStale(f"the index at {folder} is out of date and its documents are gone ({why}); build it anew")
        build(paths, folder, progress=progress)
        manifest = read_manifest(folder)
    gen = live_generation(folder)
    try:
        db = store.open_readonly(gen / "store.sqlite")
        docs, sentences, facts = store.read_documents(db), store.read_sentences(db), store.read_facts(db)
        db.close()
        sv, wv = dense.load(gen / "sentences.faiss"), dense.load(gen / "windows.faiss")
    except (sqlite3.Error, RuntimeError, ValueError, TypeError, OSError) as e:
        raise IndexCorrupt(f"the index at {folder} is damaged ({str(e)[:80]}); rebuild it with: python cli.py build DOC... --index-dir {folder}") from None
    if sv.ntotal != len(sentences) or wv.ntotal != len(sentences):
        raise IndexCorrupt(f"the index at {folder} is damaged (vector count differs); rebuild it with: python cli.py build")
    return Index(folder, manifest, docs, sentences, sv, wv, facts)
