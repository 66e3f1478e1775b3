"""The document library: documents added, removed and updated without reading the others again.

A change writes a new generation (atomically, as a build does) from the live one: documents that
stay are carried over as they are stored (their rows copied inside SQLite, their vectors and term
counts sliced; no parsing, embedding or tokenizing), new or changed files are read and embedded,
removed ones are left out. The live generation stays whole until the new one replaces it, so a crash
at any point leaves the old index."""
from __future__ import annotations

import fnmatch
import functools
from pathlib import Path
from typing import Callable

from .config import FORMAT_VERSION, MODEL_SHA256
from .errors import BadDocument, IndexStale
from .generation import Kept, kept_documents, write_generation
from .records import Document
from .index import (Index, Progress, _unchanged, build, folders_of, live_generation, open_generation, read_documents,
                    read_manifest, read_parts, staleness)
from .ingest.files import collect

Report = Callable[[str], None]


def carried(folder: Path) -> list[Kept]:
    """Every document of the live generation, ready to be carried into the next one, in index order."""
    manifest = read_manifest(folder)
    if manifest.get("format_version") != FORMAT_VERSION or manifest.get("model_sha256") != MODEL_SHA256:
        raise IndexStale(f"the index at {folder} was built by another version of the bot or model; "
                         "build it anew with: python cli.py build PATH...")
    return kept_documents(live_generation(folder))


def _write(folder: Path, items: list, folders: list[dict] | None = None) -> None:
    write_generation(folder, items, live=live_generation(folder), folders=folders)


def add(folder: Path, paths: list[str], progress: Progress | None = None, report: Report | None = None,
        glob: str | None = None, exclude: list[str] | None = None) -> dict:
    """Add files and folders; a file already indexed is read again only when its content changed."""
    say = report or (lambda line: None)
    parts = carried(folder)
    have = {p.doc.path: p for p in parts}
    docs = read_documents(paths, lambda line: say(line), glob, exclude)
    fresh = [d for d in docs if d.path not in have or have[d.path].doc.sha256 != d.sha256]
    if not fresh:
        return {"added": 0, "updated": 0, "removed": 0, "unchanged": len(parts)}
    new = {p.doc.path: p for p in read_parts(fresh, progress=progress)}
    kept = [new.pop(p.doc.path, p) for p in parts]  # a changed document keeps its place
    _write(folder, kept + list(new.values()), folders_of(paths, glob, exclude))
    updated = len(fresh) - len(new)
    return {"added": len(new), "updated": updated, "removed": 0, "unchanged": len(parts) - updated}


def remove(folder: Path, names: list[str]) -> dict:
    """Remove the documents each name matches: its path, its file name, or a glob on path or title."""
    parts = carried(folder)
    gone = set()
    for name in names:
        resolved = str(Path(name).resolve())
        hit = {p.doc.path for p in parts if _matches(p.doc, name, resolved)}
        if not hit:
            raise BadDocument(f"no indexed document matches {name!r}; list them with: python cli.py docs")
        gone |= hit
    kept = [p for p in parts if p.doc.path not in gone]
    if not kept:
        raise BadDocument("that would remove every document; build a new index instead (python cli.py build PATH...).")
    _write(folder, kept)
    return {"added": 0, "updated": 0, "removed": len(gone), "unchanged": len(kept)}


def update(folder: Path, progress: Progress | None = None, report: Report | None = None) -> dict:
    """Read again the indexed files whose content changed, remove the ones that are gone, and add the
    files that arrived since in the folders that were indexed."""
    say = report or (lambda line: None)
    parts = carried(folder)
    kept, changed, gone = [], [], []
    for p in parts:
        entry = p.entry or {"path": p.doc.path, "sha256": p.doc.sha256}
        if not Path(p.doc.path).is_file():
            gone.append(p.doc.path)
            say(f"removed {p.doc.path}: the file is gone")
        elif _unchanged(entry):
            kept.append(p)
        else:
            changed.append(p.doc.path)
            kept.append(p)
    # files added since to a folder that was indexed (with the filters it was indexed with)
    have = {p.doc.path for p in parts}
    added = [str(f) for d in read_manifest(folder).get("folders", []) if Path(d["path"]).is_dir()
             for f in collect([d["path"]], d.get("glob"), d.get("exclude")) if str(f) not in have]
    if not changed and not gone and not added:
        return {"added": 0, "updated": 0, "removed": 0, "unchanged": len(parts)}
    fresh = {}
    for path in changed:
        try:
            (doc,) = read_documents([path])
        except BadDocument as e:
            say(f"removed {e}")
            gone.append(path)
            continue
        fresh[path] = doc
    arrived = []
    for path in added:
        try:
            (doc,) = read_documents([path])
        except BadDocument as e:
            say(f"skipped {e}")
            continue
        say(f"added {path}: new in an indexed folder")
        arrived.append(doc)
    if not fresh and not gone and not arrived:  # only unreadable newcomers: nothing to write
        return {"added": 0, "updated": 0, "removed": 0, "unchanged": len(parts)}
    new = {p.doc.path: p for p in read_parts(list(fresh.values()) + arrived, progress=progress)}
    kept = [new.pop(p.doc.path, p) for p in kept if p.doc.path not in gone]
    if not kept and not new:
        raise IndexStale(f"every document of the index at {folder} is gone; build it anew with: python cli.py build PATH...")
    _write(folder, kept + list(new.values()))
    return {"added": len(new), "updated": len(fresh), "removed": len(gone), "unchanged": len(kept) - len(fresh)}


def commands(folder: Path | None = None, collection: str | None = None):
    """The library commands (add, remove, update) of the store in use, bound to it, and where they
    work: the PostgreSQL store when QA_STORE names one, else the embedded index at `folder`; in
    `collection` (default: the setting's). The CLI and the server's document routes both change
    documents through these."""
    from .collections import collection_name, folder_of, store_of
    from .config import settings
    from .store import is_database

    cfg = settings()
    name = collection_name(cfg.collection if collection is None else collection)
    if is_database(cfg.store):
        from .store import postgres

        url = store_of(cfg.store, name)
        return {c: functools.partial(getattr(postgres, c), url) for c in ("add", "remove", "update")}, \
            "the PostgreSQL store" + (f" (collection {name})" if name else "")
    folder = folder_of(Path(folder or cfg.index_dir), name)
    return {"add": functools.partial(add, folder), "remove": functools.partial(remove, folder),
            "update": functools.partial(update, folder)}, folder


def _matches(doc: Document, name: str, resolved: str) -> bool:
    """Whether `name` (a path, a file name, or a glob on path or title; `resolved` its absolute path) names `doc`."""
    path = doc.path
    if name in (path, Path(path).name) or resolved in (path, str(Path(path).resolve())):
        return True
    return fnmatch.fnmatch(path, name) or fnmatch.fnmatch(Path(path).name, name) or \
        bool(doc.title and fnmatch.fnmatch(doc.title.lower(), name.lower()))


def load(folder: Path, rebuild: bool = True, progress: Progress | None = None) -> Index:
    """The index at `folder`; brought up to date first when its documents or model changed (unless
    `rebuild` is False): changed documents re-read, vanished ones removed, the rest carried over."""
    manifest = read_manifest(folder)
    why = staleness(manifest)
    if why:
        if not rebuild:
            raise IndexStale(f"the index at {folder} is out of date ({why}); bring it up to date with: python cli.py update")
        if manifest.get("format_version") == FORMAT_VERSION and manifest.get("model_sha256") == MODEL_SHA256:
            update(folder, progress=progress)
        else:  # stored units and vectors are of another kind: read every document again
            paths = [d["path"] for d in manifest["documents"] if Path(d["path"]).exists()]
            if not paths:
                raise IndexStale(f"the index at {folder} is out of date and its documents are gone ({why}); build it anew")
            build(paths, folder, progress=progress)
        manifest = read_manifest(folder)
    return open_generation(folder, manifest)
