"""Building an index: documents read (every format), split into units, their facts taken, embedded,
and written as a new generation made live atomically (`qa.generation`). A large build checkpoints
as it goes and resumes. Nothing here is on the question path: answering opens what this writes
(`qa.index`)."""
from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np

from .config import FORMAT_VERSION, MODEL_SHA256
from .embed import default_encoder
from .errors import BadDocument, IndexMissing
from .facts import extract_facts
from .generation import Part, windows, write_generation
from .index import Progress
from .ingest import collect, split_many
from .ingest.bounded import read_bounded
from .ingest.limits import Limits
from .nlp import english
from .records import Document


def build(paths: list[str], folder: Path, encoder=None, progress: Progress | None = None,
          skipped: Callable[[str], None] | None = None, glob: str | None = None,
          exclude: list[str] | None = None) -> Path:
    """Index the documents at `paths` (files, or folders walked) into `folder`; the old index stays
    live until the new one is whole. A file that cannot be read is reported to `skipped` and left out
    when others can be read; with none readable the build fails with the first reason."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise IndexMissing(f"{folder} is a file, not a folder; give --index-dir a folder (it is created if missing).")
    docs = read_documents(paths, skipped, glob, exclude)
    folders = folders_of(paths, glob, exclude)
    if len(docs) <= RESUMABLE_CHUNK:
        return write_generation(folder, read_parts(docs, encoder, progress), encoder=encoder, folders=folders)
    work = folder / f".build-{_build_key(docs)}"
    parts = read_parts_resumably(work, docs, encoder, progress)
    gen = write_generation(folder, parts, encoder=encoder, folders=folders)
    for old in folder.glob(".build-*"):
        shutil.rmtree(old, ignore_errors=True)
    return gen


RESUMABLE_CHUNK = 64  # documents read and embedded between checkpoints of a large build


def folders_of(paths: list[str], glob: str | None, exclude: list[str] | None) -> list[dict]:
    """The folders among `paths`, as the manifest keeps them for `update` (with the filters used)."""
    return [{"path": str(Path(p).resolve()), "glob": glob, "exclude": list(exclude or [])}
            for p in paths if Path(p).is_dir()]


def _build_key(docs: list[Document]) -> str:
    """What a build's checkpoints belong to: its documents' paths and contents, the format, the model."""
    h = hashlib.sha256(f"{FORMAT_VERSION} {MODEL_SHA256}".encode())
    for d in docs:
        h.update(f"\n{d.path} {d.sha256}".encode())
    return h.hexdigest()[:16]


def read_parts_resumably(work: Path, docs: list[Document], encoder=None, progress: Progress | None = None) -> list[Part]:
    """`read_parts` a chunk of documents at a time, each finished chunk saved under `work`: the same
    build run again after an interruption (Ctrl-C, a crash) starts after the last saved chunk."""
    import pickle

    say = progress or (lambda *a: None)
    work.mkdir(parents=True, exist_ok=True)
    parts: list[Part] = []
    chunks = range(0, len(docs), RESUMABLE_CHUNK)
    for n, start in enumerate(chunks):
        say("documents", start, len(docs))
        saved = work / f"{n:06d}.pickle"
        if saved.exists():
            parts += pickle.loads(saved.read_bytes())
            continue
        if encoder is None:
            encoder = default_encoder()
        chunk = read_parts(docs[start:start + RESUMABLE_CHUNK], encoder)
        tmp = saved.with_suffix(".tmp")
        tmp.write_bytes(pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(tmp, saved)
        parts += chunk
    say("documents", len(docs), len(docs))
    return parts


def read_parts(docs: list[Document], encoder=None, progress: Progress | None = None) -> list[Part]:
    """Documents split into units, their facts taken and their units embedded, in the order given. Each
    group of documents is embedded on a thread of its own while spaCy reads the next group (the
    encoder's lanes and spaCy share the two cores). The shortest document is read first: until it is
    read, nothing can be embedded and one core waits."""
    from concurrent.futures import ThreadPoolExecutor, wait

    if not docs:
        return []
    say = progress or (lambda *a: None)
    nlp = english()
    if encoder is None:
        encoder = default_encoder()
    groups: list[tuple[list, int, object]] = []  # (analysed documents, their unit count, their vectors' future)
    embedded = [0]  # texts embedded so far: the encoder reports them from one call at a time, one lane at a time

    def count(n: int) -> None:
        embedded[0] += n

    shortest = min(range(len(docs)), key=lambda i: len(docs[i].text))
    aside = ThreadPoolExecutor(1, thread_name_prefix="embedding")
    try:
        done = 0
        for group in parse_groups([docs[shortest], *docs[:shortest], *docs[shortest + 1:]]):
            say("reading", done, len(docs))
            analysed = []
            for doc, (units, title, date) in zip(group, split_many(group, nlp)):
                doc = replace(doc, title=title, date=date)
                analysed.append((doc, units, extract_facts(doc, units, nlp)))
            flat = [u for _, units, _ in analysed for u in units]
            texts = [u.text for u in flat] + windows(flat)
            groups.append((analysed, len(flat), aside.submit(encoder.encode, texts, count) if texts else None))
            done += len(group)
        say("reading", len(docs), len(docs))
        parts, total = [], sum(2 * n for _, n, _ in groups)
        for analysed, n, job in groups:
            while job is not None and wait([job], timeout=0.25).not_done:
                say("embedding", embedded[0], total)
            vectors = job.result() if job is not None else np.zeros((0, 384), dtype="float32")
            pos = 0
            for doc, units, facts in analysed:
                k = len(units)
                parts.append(Part(doc, units, facts, vectors[pos:pos + k], vectors[n + pos:n + pos + k]))
                pos += k
        say("embedding", total, total)
        return parts[1:shortest + 1] + parts[:1] + parts[shortest + 1:]  # back in the order given
    finally:
        aside.shutdown(wait=True, cancel_futures=True)  # on an error, what is not yet embedded is not started


PARSE_DOCUMENTS = 32      # documents spaCy reads in one call at most: one call per short document cost more
PARSE_CHARACTERS = 20_000  # than its parsing; a group ends once it holds this much text, to be embedded early


def parse_groups(docs: list[Document]):
    """The documents in groups of at most PARSE_DOCUMENTS, each closed once it reaches PARSE_CHARACTERS."""
    group, size = [], 0
    for doc in docs:
        group.append(doc)
        size += len(doc.text)
        if len(group) >= PARSE_DOCUMENTS or size >= PARSE_CHARACTERS:
            yield group
            group, size = [], 0
    if group:
        yield group


def read_documents(paths: list[str], skipped: Callable[[str], None] | None = None, glob: str | None = None,
                   exclude: list[str] | None = None) -> list[Document]:
    """The readable documents among `paths` (folders walked); see `build` for the unreadable."""
    if not paths:
        raise BadDocument("no documents given; name at least one file or folder.")
    files = collect(paths, glob, exclude)
    if not files:
        raise BadDocument(f"no documents found in {', '.join(map(str, paths))}; "
                          "give text, Markdown, HTML, PDF or DOCX files (or a --glob).")
    docs, problems, limits = [], [], Limits()
    for f in files:
        try:
            docs.append(read_bounded(f, limits))
        except BadDocument as e:
            problems.append(e)
            if skipped is not None and len(files) > 1:
                skipped(f"skipped {e}")
    if not docs:
        raise problems[0]
    return docs
