"""The collections one server serves, each a Service of its own, and a collection made by its first
uploaded document."""
from __future__ import annotations

import asyncio
import gc
from pathlib import Path

from ..build import build
from ..collections import DEFAULT, UnknownCollection, collection_name, embedded_names, folder_of, store_of
from ..config import settings
from .. import postgres
from ..store import is_database
from .service import Service, document_id, upload_name, uploads_folder


class Collections:
    """The collections one server serves: the one it was started on (the default for requests that
    name none) and the others of its store, each its own Service (index, sessions, answer cache,
    worker thread; the models are shared), opened on first use. A document uploaded to a collection
    that does not exist yet makes it."""

    def __init__(self, default: Service):
        self.default = default
        self._open: dict[str, Service] = {}
        self._lock: asyncio.Lock | None = None

    def served(self) -> list[Service]:
        return [self.default, *self._open.values()]

    async def get(self, name: object, create: bool = False) -> Service:
        """The Service of collection `name` (None: the default); an UnknownCollection (404) if it
        was never built, unless `create` (an upload), which builds it empty of all but what comes."""
        name = collection_name(name)
        if name is None or name == self.default.collection:
            return self.default
        if name in self._open:
            return self._open[name]
        async with self.lock():
            if name not in self._open:
                try:
                    svc = await asyncio.to_thread(Service, self.default.index_dir, self.default.cfg, name)
                except UnknownCollection:
                    if not create:
                        raise UnknownCollection(f"no collection {name!r}; the server has: "
                                                f"{', '.join(self.names())}.") from None
                    return NewCollection(self, name)
                await svc.start()
                self._open[name] = svc
        return self._open[name]

    def names(self) -> list[str]:
        """The collections of the store: the default one and those built beside it."""
        if is_database(settings().store):
            named = postgres.collection_names(settings().store)
        else:
            named = embedded_names(Path(self.default.index_dir or settings().index_dir))
        return [DEFAULT, *named]

    def lock(self) -> asyncio.Lock:
        """Held while a collection is opened or made (made on the event loop's first use)."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def start(self) -> None:
        await self.default.start()
        # the models and the index loaded by now live as long as the server: frozen, a full collection
        # on the answering thread (holding the GIL) does not walk them while the event loop waits
        gc.collect()
        gc.freeze()

    async def stop(self) -> None:
        for svc in self.served():
            await svc.stop()


class NewCollection:
    """A collection that does not exist yet, as an upload sees it: its first document builds it."""

    def __init__(self, shelf: Collections, name: str):
        self.shelf, self.collection = shelf, name

    async def add_document(self, name: object, data: bytes) -> dict:
        """Build the collection from this one document (as `cli.py --collection NAME build` would), then
        serve it; one collection made at a time, and a second upload that raced this one is added to it."""
        name = upload_name(name)
        shelf, cfg = self.shelf, self.shelf.default.cfg
        base = Path(shelf.default.index_dir or settings().index_dir)
        async with shelf.lock():
            if self.collection in shelf._open:
                made = shelf._open[self.collection]
            else:
                path = uploads_folder(shelf.default.index_dir, self.collection) / name
                path.write_bytes(data)

                def run():
                    if is_database(settings().store):
                        postgres.build([str(path)], store_of(settings().store, self.collection))
                    else:
                        build([str(path)], folder_of(base, self.collection))
                    return Service(shelf.default.index_dir, cfg, self.collection)

                try:
                    svc = await asyncio.wait_for(asyncio.to_thread(run), cfg.request_timeout * 5)
                except BaseException:
                    path.unlink(missing_ok=True)
                    raise
                await svc.start()
                shelf._open[self.collection] = svc
                return {"id": document_id(str(path)), "doc": name, "added": 1, "updated": 0, "removed": 0, "unchanged": 0}
        return await made.add_document(name, data)
