"""The document library: documents added, removed and updated without reading the others again.

A change writes a new generation (atomically, as a build does) from the live one: documents that
stay are carried over as they are stored (their rows copied inside SQLite, their vectors and term
counts sliced; no parsing, embedding or tokenizing), new or changed files are read and embedded,
removed ones are left out. The live generation stays whole until the new one replaces it, so a crash
at any point leaves the old index.

The writing stages (reading documents, writing a generation) are imported where a change is made, not
at import: opening an index for a question goes through `load`, and a question's start-up should not
load the build."""
from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol

from .config import FORMAT_VERSION, MODEL_SHA256
from .errors import BadDocument, IndexStale
from .index import Index, Progress, _unchanged, live_generation, open_generation, read_manifest, staleness
from .records import Document

if TYPE_CHECKING:
    from .generation import Kept, Part

Report = Callable[[str], None]


class Shelf(Protocol):
    """What the library commands ask of a store: the documents indexed (without their text) with their
    manifest entries, the folders they were collected from, and one change written atomically."""

    name: str  # how messages name the store ("the index at index/", "the PostgreSQL store")

    def indexed(self) -> list[tuple[Document, dict | None]]: ...
    def folders(self) -> list[dict]: ...
    def change(self, new: list[Part], gone: set[str], folders: list[dict] | None = None) -> None:
        """Drop the documents at the paths `gone`, write `new` (a document already indexed is replaced),
        keep the rest as stored; all at once or not at all."""


class EmbeddedShelf:
    """The embedded store at `folder`: a change writes a new generation from the live one, carrying the
    documents that stay as they are stored."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.name = f"the index at {folder}"
        self._carried: list[Kept] | None = None

    def carried(self) -> list[Kept]:
        """Every document of the live generation, ready to be carried into the next one, in index order."""
        if self._carried is None:
            manifest = read_manifest(self.folder)
            if manifest.get("format_version") != FORMAT_VERSION or manifest.get("model_sha256") != MODEL_SHA256:
                raise IndexStale(f"the index at {self.folder} was built by another version of the bot or model; "
                                 "build it anew with: python cli.py build PATH...")
            from .generation import kept_documents  # at use (see the module's docstring)

            self._carried = kept_documents(live_generation(self.folder))
        return self._carried

    def indexed(self) -> list[tuple[Document, dict | None]]:
        return [(k.doc, k.entry) for k in self.carried()]

    def folders(self) -> list[dict]:
        return read_manifest(self.folder).get("folders", [])

    def change(self, new: list[Part], gone: set[str], folders: list[dict] | None = None) -> None:
        from .generation import write_generation  # at use

        fresh = {p.doc.path: p for p in new}
        kept = [fresh.pop(k.doc.path, k) for k in self.carried() if k.doc.path not in gone]  # a changed document keeps its place
        write_generation(self.folder, kept + list(fresh.values()), live=live_generation(self.folder), folders=folders)
        self._carried = None


def _counts(added: int = 0, updated: int = 0, removed: int = 0, unchanged: int = 0) -> dict:
    return {"added": added, "updated": updated, "removed": removed, "unchanged": unchanged}


def add(shelf: Shelf, paths: list[str], progress: Progress | None = None, report: Report | None = None,
        glob: str | None = None, exclude: list[str] | None = None) -> dict:
    """Add files and folders; a file already indexed is read again only when its content changed."""
    from .build import folders_of, read_documents, read_parts  # at use

    say = report or (lambda line: None)
    have = {d.path: d for d, _ in shelf.indexed()}
    docs = read_documents(paths, say, glob, exclude)
    fresh = [d for d in docs if d.path not in have or have[d.path].sha256 != d.sha256]
    if not fresh:
        return _counts(unchanged=len(have))
    shelf.change(read_parts(fresh, progress=progress), set(), folders_of(paths, glob, exclude))
    updated = sum(d.path in have for d in fresh)
    return _counts(added=len(fresh) - updated, updated=updated, unchanged=len(have) - updated)


def remove(shelf: Shelf, names: list[str]) -> dict:
    """Remove the documents each name matches: its path, its file name, or a glob on path or title."""
    docs = [d for d, _ in shelf.indexed()]
    gone = set()
    for name in names:
        resolved = str(Path(name).resolve())
        hit = {d.path for d in docs if _matches(d, name, resolved)}
        if not hit:
            raise BadDocument(f"no indexed document matches {name!r}; list them with: python cli.py docs")
        gone |= hit
    if len(gone) == len(docs):
        raise BadDocument("that would remove every document; build a new index instead (python cli.py build PATH...).")
    shelf.change([], gone)
    return _counts(removed=len(gone), unchanged=len(docs) - len(gone))


def update(shelf: Shelf, progress: Progress | None = None, report: Report | None = None) -> dict:
    """Read again the indexed files whose content changed, remove the ones that are gone, and add the
    files that arrived since in the folders that were indexed."""
    from .build import read_documents, read_parts  # at use
    from .ingest.files import collect

    say = report or (lambda line: None)
    docs = shelf.indexed()
    changed, gone = [], set()
    for d, entry in docs:
        if not Path(d.path).is_file():
            gone.add(d.path)
            say(f"removed {d.path}: the file is gone")
        elif not _unchanged(entry or {"path": d.path, "sha256": d.sha256}):
            changed.append(d.path)
    # files added since to a folder that was indexed (with the filters it was indexed with)
    have = {d.path for d, _ in docs}
    added = [str(f) for d in shelf.folders() if Path(d["path"]).is_dir()
             for f in collect([d["path"]], d.get("glob"), d.get("exclude")) if str(f) not in have]
    if not changed and not gone and not added:
        return _counts(unchanged=len(docs))
    fresh = []
    for path in changed:
        try:
            fresh += read_documents([path])
        except BadDocument as e:
            say(f"removed {e}")
            gone.add(path)
    arrived = []
    for path in added:
        try:
            arrived += read_documents([path])
        except BadDocument as e:
            say(f"skipped {e}")
            continue
        say(f"added {path}: new in an indexed folder")
    if not fresh and not gone and not arrived:  # only unreadable newcomers: nothing to write
        return _counts(unchanged=len(docs))
    if len(gone) == len(docs) and not arrived:
        raise IndexStale(f"every document of {shelf.name} is gone; build it anew with: python cli.py build PATH...")
    shelf.change(read_parts(fresh + arrived, progress=progress), gone)
    return _counts(added=len(arrived), updated=len(fresh), removed=len(gone), unchanged=len(docs) - len(gone) - len(fresh))


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
            update(EmbeddedShelf(folder), progress=progress)
        else:  # stored units and vectors are of another kind: read every document again
            paths = [d["path"] for d in manifest["documents"] if Path(d["path"]).exists()]
            if not paths:
                raise IndexStale(f"the index at {folder} is out of date and its documents are gone ({why}); build it anew")
            from .build import build  # at use

            build(paths, folder, progress=progress)
        manifest = read_manifest(folder)
    return open_generation(folder, manifest)
