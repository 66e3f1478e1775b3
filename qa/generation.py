"""Writing a generation: documents freshly read (`Part`) or carried from the live generation as stored
(`Kept`), written into a new folder that is synced and then made live by renaming CURRENT.

A kept document costs no parsing, no embedding and no tokenizing: its store rows are copied inside
SQLite, its vectors and term counts sliced from the live generation's files. Term frequencies and the
typo vocabulary are the live ones changed by the units that leave and the units that arrive, so a
change costs about the size of the change plus the copying, and gives the index a full build of the
same documents would."""
from __future__ import annotations

import datetime as _dt
import json
import os
import re
import shutil
import sqlite3
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from . import dense
from .store import sqlite as store
from .config import FORMAT_VERSION, MODEL_NAME, MODEL_SHA256
from .errors import BadDocument
from .lexical import Lexical, TermCounts, WORD
from .records import PROSE_KINDS, Document, Fact, Sentence


@dataclass
class Part:
    """One document read and embedded, ready to be written: its units, its facts (`derived_from`
    counted within the document), its sentence and window vectors, and its manifest entry."""

    doc: Document
    units: list[Sentence]
    facts: list[Fact]
    sentence_vectors: np.ndarray
    window_vectors: np.ndarray
    entry: dict | None = None


@dataclass
class Kept:
    """A document of the live generation carried into the next one as it is stored."""

    doc: Document  # without its text
    doc_id: int  # its id in the live store
    rows: tuple[int, int]  # its units' [first, last) rows there
    facts: tuple[int, int]  # its facts' [first, last) places there (ids count from 1)
    entry: dict | None = None


def paths(sentences: list[Sentence]) -> list[str]:
    """The section path each unit stands under, as words to count for it ("" where there is none). A
    section that is only the document's headline (a news article's) is left out: it would be every
    unit's, and a headline is a unit of its own."""
    headline = {}
    for s in sentences:
        if s.kind == "headline":
            headline.setdefault(s.doc, s.text)
    return ["" if not s.section or s.section == headline.get(s.doc) or s.kind == "headline" else s.section
            for s in sentences]


def windows(sentences: list[Sentence]) -> list[str]:
    """Each sentence with its neighbours in the same document, after the path of headings and terms
    it stands under: the context vector's text (and the window's words for BM25)."""
    out = []
    for i, (s, path) in enumerate(zip(sentences, paths(sentences))):
        parts = [sentences[j].text for j in (i - 1, i, i + 1)
                 if 0 <= j < len(sentences) and sentences[j].doc == s.doc]
        if path:
            parts.insert(0, path + ":")
        out.append(" ".join(parts))
    return out


def lexical_texts(sentences: list[Sentence]) -> list[str]:
    """Each unit's words for BM25 over sentences: its text and the path it stands under ("What does
    git push --prune do?" finds "Remove remote branches ..." under "git-push › OPTIONS › --prune")."""
    return [f"{path}: {s.text}" if path else s.text for s, path in zip(sentences, paths(sentences))]


LETTERS = re.compile(r"[a-z]{2,}")


def unit_terms(units: list[Sentence]) -> tuple[Counter, Counter]:
    """How many of `units` hold each lemma or lower-cased token (the abstention's term frequencies),
    and each word of their texts (the vocabulary typos are corrected against)."""
    terms = Counter(w for s in units for w in {t.lemma for t in s.tokens} | {t.text.lower() for t in s.tokens}
                    | set(LETTERS.findall(s.text.lower())))  # "retries" is a word of "--retries"
    words = Counter(w for s in units for w in {x.lower() for x in WORD.findall(s.text)})
    return terms, words


def kept_documents(live: Path) -> list[Kept]:
    """Every document of the live generation, in index order, as documents to carry."""
    db = store.open_readonly(live / "store.sqlite")
    try:
        docs = store.read_documents(db)
        ids = [i for (i,) in db.execute("SELECT id FROM documents ORDER BY id")]
        rows = store.document_rows(db)
        facts = {d: (lo - 1, hi) for d, lo, hi in db.execute("SELECT doc, min(id), max(id) FROM facts GROUP BY doc")}
    finally:
        db.close()
    entries = {e["path"]: e for e in json.loads((live / "manifest.json").read_text())["documents"]}
    return [Kept(d, i, rows.get(d.path, (0, 0)), facts.get(d.path, (0, 0)), entries.get(d.path))
            for d, i in zip(docs, ids)]


def write_generation(folder: Path, items: list[Part | Kept], live: Path | None = None, encoder=None,
                     folders: list[dict] | None = None) -> Path:
    """Write the documents `items` (in this order) as a new generation and make it live; `Kept`
    items are read from the generation at `live`. `folders`: the folders the documents were collected
    from ({"path", "glob", "exclude"}), kept in the manifest (with the live one's) so that `update`
    finds the files added to them since."""
    if any(isinstance(it, Kept) for it in items) and live is None:
        raise ValueError("kept documents need the generation they are kept from")
    tmp = new_generation(folder)
    db = store.create(tmp / "store.sqlite")
    old = _Live(live, db) if live is not None else None
    units = _write_store(db, items, old)
    kinds, sent_vecs, win_vecs, sent_counts, win_counts = [], [], [], [], []
    for run in _runs(items):  # kept documents sliced a run at a time, read ones a document at a time
        if isinstance(run[0], Kept):
            lo, hi = _span([it.rows for it in run])
            kinds.append(old.heading[lo:hi])
            sent_vecs.append(old.sentence_vectors[lo:hi])
            win_vecs.append(old.window_vectors[lo:hi])
            sent_counts.append(old.sentence_counts.take(lo, hi))
            win_counts.append(old.window_counts.take(lo, hi))
            continue
        for it in run:
            kinds.append(np.asarray([u.kind not in PROSE_KINDS for u in it.units], dtype="float32"))
            sent_vecs.append(it.sentence_vectors)
            win_vecs.append(it.window_vectors)
        new_units = [u for it in run for u in it.units]
        sent_counts.append(TermCounts.of_texts(lexical_texts(new_units)))
        win_counts.append(TermCounts.of_texts(windows(new_units)))
    if old is not None:
        old.close()
    heading = np.concatenate(kinds).astype("float32")
    if not (heading == 0).any():
        raise BadDocument("the documents hold no sentences to index.")
    write_search_files(tmp, heading, np.concatenate(sent_vecs).astype("float32", copy=False),
                       np.concatenate(win_vecs).astype("float32", copy=False),
                       TermCounts.join(sent_counts), TermCounts.join(win_counts))
    manifest = {"model": getattr(encoder, "name", MODEL_NAME), "model_sha256": getattr(encoder, "checksum", MODEL_SHA256),
                "documents": [it.entry or document_entry(it.doc.path, it.doc.sha256) for it in items],
                "facts": units["facts"], "folders": indexed_folders(live, folders)}
    return commit_generation(folder, tmp, manifest)


def indexed_folders(live: Path | None, new: list[dict] | None) -> list[dict]:
    """The live generation's indexed folders and the new ones, each once (by path)."""
    old = json.loads((live / "manifest.json").read_text()).get("folders", []) if live is not None else []
    merged = {f["path"]: f for f in [*old, *(new or [])]}
    return list(merged.values())


class _Live:
    """The live generation's files a change copies from: its store attached to the new one."""

    def __init__(self, gen: Path, db: sqlite3.Connection):
        db.execute("ATTACH DATABASE ? AS old", (str(gen / "store.sqlite"),))  # only read
        self.db = db
        self.heading = np.load(gen / "heading.npy", mmap_mode="r")
        self.sentence_vectors = np.load(gen / "sentences.npy", mmap_mode="r")
        self.window_vectors = np.load(gen / "windows.npy", mmap_mode="r")
        self.sentence_counts = TermCounts.load(gen / "bm25-sentences")
        self.window_counts = TermCounts.load(gen / "bm25-windows")

    def close(self) -> None:
        self.db.commit()
        self.db.execute("DETACH DATABASE old")


def _write_store(db: sqlite3.Connection, items: list[Part | Kept], old: _Live | None) -> dict:
    """Documents, units and facts in order, then the term frequencies and the vocabulary."""
    n_docs = n_units = n_facts = 0
    arriving: list[Sentence] = []
    for run in _runs(items):
        if isinstance(run[0], Kept):  # documents next to each other in the live store: copied in three statements
            first, last = run[0], run[-1]
            (lo, hi), (f_lo, f_hi) = _span([it.rows for it in run]), _span([it.facts for it in run])
            shift = (n_docs + 1 - first.doc_id, n_units - lo, n_facts - f_lo)
            db.execute("INSERT INTO documents (id, path, sha256, title, date, format, text, pages) SELECT id + ?, path,"
                       " sha256, title, date, format, text, pages FROM old.documents WHERE id BETWEEN ? AND ? ORDER BY id",
                       (shift[0], first.doc_id, last.doc_id))
            db.execute("INSERT INTO sentences (id, doc_id, position, paragraph, start, end, kind, text, tokens, entities,"
                       " chunks, section, page) SELECT id + ?, doc_id + ?, position, paragraph, start, end, kind, text,"
                       " tokens, entities, chunks, section, page FROM old.sentences WHERE id > ? AND id <= ? ORDER BY id",
                       (shift[1], shift[0], lo, hi))
            # derived_from holds 0-based places in the whole list of facts, ids count from 1
            db.execute("INSERT INTO facts (id, kind, subject, attribute, value, normalized, unit, period, qualifier, doc,"
                       " start, end, derived_from, formula) SELECT id + ?, kind, subject, attribute, value, normalized,"
                       " unit, period, qualifier, doc, start, end, CASE WHEN derived_from = 'null' THEN derived_from ELSE"
                       " (SELECT json_group_array(j.value + ?) FROM json_each(f.derived_from) j) END, formula"
                       " FROM old.facts f WHERE id > ? AND id <= ? ORDER BY id", (shift[2], shift[2], f_lo, f_hi))
            n_docs, n_units, n_facts = n_docs + len(run), n_units + hi - lo, n_facts + f_hi - f_lo
        else:
            for it in run:
                n_docs += 1
                store.write_documents(db, [it.doc], [it.units], first_id=n_docs)
                store.write_facts(db, [replace(f, derived_from=[n_facts + n for n in f.derived_from] if f.derived_from
                                               else None) for f in it.facts])
                arriving += it.units
                n_units, n_facts = n_units + len(it.units), n_facts + len(it.facts)
    terms, words = unit_terms(arriving)
    if old is not None:
        gone_terms, gone_words = unit_terms(store.read_units_of(db, _leaving(db, items), schema="old"))
        terms.update(dict(db.execute("SELECT word, df FROM old.terms")))
        words.update(dict(db.execute("SELECT word, n FROM old.words")))
        terms.subtract(gone_terms)
        words.subtract(gone_words)
    store.write_terms(db, +terms, +words)
    db.commit()
    return {"units": n_units, "facts": n_facts}


def _span(ranges: list[tuple[int, int]]) -> tuple[int, int]:
    """The range that consecutive documents' ranges make together (documents with none left out)."""
    some = [r for r in ranges if r[1] > r[0]]
    return (some[0][0], some[-1][1]) if some else (0, 0)


def _runs(items: list[Part | Kept]) -> list[list]:
    """Items grouped: kept documents that follow each other in the live store, and read ones."""
    runs: list[list] = []
    for it in items:
        prev = runs[-1][-1] if runs else None
        if isinstance(it, Kept) and isinstance(prev, Kept) and it.doc_id == prev.doc_id + 1:
            runs[-1].append(it)
        elif isinstance(it, Part) and isinstance(prev, Part):
            runs[-1].append(it)
        else:
            runs.append([it])
    return runs


def _leaving(db: sqlite3.Connection, items: list[Part | Kept]) -> list[int]:
    """The live store's ids of the documents not kept (removed, or read again)."""
    kept = {it.doc_id for it in items if isinstance(it, Kept)}
    return [i for (i,) in db.execute("SELECT id FROM old.documents") if i not in kept]


def document_entry(path: str, sha256: str, indexed: str | None = None) -> dict:
    """A document as the manifest names it: its content hash, its size and time to skip rehashing, and
    when it was indexed."""
    entry = {"path": path, "sha256": sha256,
             "indexed": indexed or _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    try:
        st = os.stat(path)
        return {**entry, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    except OSError:
        return entry


def new_generation(folder: Path) -> Path:
    """An empty folder for a generation being written (not live until committed)."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".tmp-gen-{uuid.uuid4().hex[:12]}"
    tmp.mkdir()
    return tmp


def write_search_files(tmp: Path, heading: np.ndarray, sent_vecs: np.ndarray, win_vecs: np.ndarray,
                       sent_counts: TermCounts, win_counts: TermCounts) -> None:
    """The files retrieval opens: vectors (exact or approximate by size), BM25 indexes with the term
    counts they were computed from, heading flags."""
    how = dense.plan(len(heading))
    dense.save(sent_vecs, tmp / "sentences", how)
    dense.save(win_vecs, tmp / "windows", how)
    Lexical.from_counts(sent_counts).save(tmp / "bm25-sentences")
    Lexical.from_counts(win_counts).save(tmp / "bm25-windows")
    np.save(tmp / "heading.npy", np.asarray(heading, dtype="float32"))
    (tmp / "search.json").write_text(json.dumps({"sentences": len(heading), "dense": how}))


def commit_generation(folder: Path, tmp: Path, manifest: dict) -> Path:
    """Make the written generation `tmp` the live one, atomically, and remove the old ones."""
    search = json.loads((tmp / "search.json").read_text())
    manifest = {"format_version": FORMAT_VERSION, **manifest, **search}
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1))
    for f in tmp.rglob("*"):
        _fsync(f)
    _fsync(tmp)
    name = tmp.name.removeprefix(".tmp-")
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
