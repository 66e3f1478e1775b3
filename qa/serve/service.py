"""The bot as a long-lived service: the index and the models loaded once; questions answered on one
worker thread, off the event loop; questions that arrive together answered in one `ask_batch` call
(the same path as `cli.py batch`); conversations kept in SQLite beside the index; repeated
stand-alone questions answered from a small cache."""
from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import logging
import os
import re
import threading
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..collections import DEFAULT, collection_name, folder_of
from ..config import ServeSettings, settings
from ..conversation import Conversation
from ..asked import QuestionLogger, asked_from
from ..errors import BadDocument, QAError
from ..gaps import unanswered, with_nearest
from ..embed import default_encoder, question_encoder
from ..read.reader import default_reader
from ..records import Request
from ..pipeline import ask_requests, check_k, check_question, check_text, library_commands, open_index, select_facts
from ..scope import make_scope, rows_in

log = logging.getLogger(__name__)
RECENT_ANSWERS = 10_000


class UnknownSession(QAError):
    pass


class UnknownDocument(QAError):
    pass


UPLOAD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._()+-]{0,199}")


def upload_name(name: object) -> str:
    """An uploaded document's name: a plain file name (no folders, no leading dot), or a BadDocument."""
    if not isinstance(name, str) or not UPLOAD_NAME.fullmatch(name) or ".." in name:
        raise BadDocument("the document needs a plain file name (letters, digits, spaces, . _ ( ) + -; no folders), "
                          "e.g. \"handbook.pdf\".")
    return name


def uploads_folder(index_dir: Path | None, collection: str | None) -> Path:
    """Where a collection's uploaded documents are kept: QA_UPLOAD_DIR, else an `uploads` folder in its
    index folder (made on first use)."""
    base = Path(os.environ["QA_UPLOAD_DIR"]) if os.environ.get("QA_UPLOAD_DIR") else Path(index_dir or settings().index_dir)
    folder = folder_of(base, collection) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder.resolve()


def document_id(path: str) -> str:
    """A document's id in the API: stable for its path, and no path itself."""
    return hashlib.sha256(path.encode("utf-8", "surrogateescape")).hexdigest()[:16]


class Service:
    """What every route calls; loading it raises a QAError (one clear line) on a bad index or model."""

    def __init__(self, index_dir: Path | None = None, cfg: ServeSettings | None = None, collection: str | None = None):
        self.cfg = cfg or ServeSettings()
        self.limit = settings().max_question_chars
        self.index_dir = index_dir
        # the collection served (None: the default one); `collection` None takes the setting's
        self.collection = collection_name(settings().collection if collection is None else collection)
        question_encoder.start()
        default_reader.start()
        self.index = open_index(index_dir, rebuild=False, collection=self.collection or DEFAULT)
        question_encoder()
        default_encoder()  # a document pushed over HTTP is embedded by the build's encoder
        default_reader()
        # loads the rest, a follow-up's parser too. Everything is loaded before the server is ready:
        # loaded by the first request that needs it, spaCy's vocabulary (first conversation) and the
        # build's encoder (first upload) held the GIL for over 50 ms while /healthz waited (bench_hostile,
        # the stall watchdog's dumps)
        ask_requests(self.index, [Request("What is this about?", session="warm-up"),
                                  Request("And when?", session="warm-up")], {})
        self.sessions = self.index.session_store(self.cfg.session_idle_seconds)
        self.questions = QuestionLogger(self.index.question_log)  # written on its own thread, after answering
        self._cache: OrderedDict = OrderedDict()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="qa-answer")
        self._writing = threading.Lock()  # one document change at a time
        self._given: OrderedDict = OrderedDict()  # the last RECENT_ANSWERS answers, by id, for feedback
        # signs source links: from the admin key when there is one (links outlive a restart), else random
        self._link_key = hashlib.sha256(b"qa-bot links:" + (self.cfg.api_key or os.urandom(32).hex()).encode()).digest()
        self._queue: asyncio.Queue | None = None
        self._task: asyncio.Task | None = None
        self.cache_hits = 0
        self.on_cache_hit = None

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._drain())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        self._pool.shutdown(wait=True)
        self.questions.close()
        self.sessions.close()

    @property
    def ready(self) -> bool:
        return self._task is not None and not self._task.done()

    # -- questions -------------------------------------------------------------------------------
    def check(self, question: object, k: object = None) -> tuple[str, int | None]:
        q = check_question(question, self.limit)
        return q, check_k(k)

    async def answer(self, question: object, session: str | None = None, k: int | None = None,
                     must_exist: bool = False, conversation: Conversation | None = None,
                     scope: tuple = (None, None, None), owner: str | None = None) -> dict:
        """The answer object of CONTRACT.md; `session` continues (or, unless must_exist, starts) a stored
        conversation; `conversation` is one the caller holds (OpenAI's messages), used and not stored;
        `scope` (doc glob, since, until) limits the documents read; `owner`: the ask key asking, whose
        conversations alone it may continue (None: any)."""
        q, k = self.check(question, k)
        limits = make_scope(*scope)
        if limits is not None:
            rows_in(self.index, limits)  # refused here, as a 400, when no document is in scope
        if conversation is not None and conversation.turns:
            session = "transient-" + uuid.uuid4().hex
        if must_exist and self.sessions.get(session, owner) is None:
            raise UnknownSession(f"no conversation {session!r} (it may have expired); start one with POST /v1/sessions.")
        key = None
        if session is None and self.cfg.answer_cache:
            # the store's version is read off the event loop (on PostgreSQL it is a query), but not on the
            # worker, so that a cached answer never waits behind questions being read
            key = (await asyncio.to_thread(self.index.version), q, k, limits)
        if key in self._cache:
            self._cache.move_to_end(key)
            self.cache_hits += 1
            if self.on_cache_hit:
                self.on_cache_hit()
            return copy.deepcopy(self._cache[key])
        fut = asyncio.get_running_loop().create_future()
        held = conversation if session is not None and session.startswith("transient-") else None
        req = Request(q, session=session, k=k, scope=limits, cache_key=key, conversation=held)
        self._queue.put_nowait((req, fut))
        return await asyncio.wait_for(asyncio.shield(fut), self.cfg.request_timeout)

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.cfg.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            results = await loop.run_in_executor(self._pool, self._answer_isolated, [r for r, _ in batch])
            for (_, fut), res in zip(batch, results):
                if fut.done():
                    continue
                fut.set_exception(res) if isinstance(res, Exception) else fut.set_result(res)

    def _answer_isolated(self, requests: list[Request]) -> list:
        """The requests answered together; if that fails, each is answered alone, so that one request
        that fails (a fault of ours on its text) fails alone: an answer or an exception for each."""
        try:
            return self._answer_many(requests)
        except Exception as e:  # noqa: BLE001 - handed to the request that raised it, below
            if len(requests) == 1:
                return [e]
            log.warning("a batch of %d requests failed; answering each alone", len(requests), exc_info=True)
        out = []
        for r in requests:
            try:
                out += self._answer_many([r])
            except Exception as e:  # noqa: BLE001
                out.append(e)
        return out

    def _answer_many(self, requests: list[Request]) -> list[dict]:
        """On the worker thread: the requests answered together, conversations loaded and saved per turn."""
        self._follow_store()
        ids = sorted({r.session for r in requests if r.session is not None})
        held = {r.session: r.conversation for r in requests if r.conversation is not None}
        with self.sessions.turn(ids) as stored:  # in a shared database, these conversations are locked until saved
            convs = {sid: held.get(sid) or Conversation.from_dict(stored.get(sid) or {}) for sid in ids}
            out = []
            for req, res in ask_requests(self.index, requests, convs):
                res.pop("id", None)
                if req.conversation is not None:
                    res.pop("session", None)
                elif req.session is not None:
                    self.sessions.save(req.session, convs[req.session].to_dict())
                    res["session"] = req.session
                elif req.cache_key is not None:  # under the store's version read before answering
                    self._cache[req.cache_key] = copy.deepcopy(res)
                    while len(self._cache) > self.cfg.answer_cache:
                        self._cache.popitem(last=False)
                out.append(res)
        return out

    def _follow_store(self) -> None:
        """On the worker thread, before answering: an index another process changed since it was
        opened (`cli.py add`, `remove`, `update`, `build`) is opened again, so that the server answers
        from the documents as they are now. If the new one cannot be opened, the old one keeps serving."""
        if self.index.changed():
            try:
                self.index = open_index(self.index_dir, rebuild=False, collection=self.collection or DEFAULT)
            except QAError as e:
                log.warning("the index changed but could not be opened again (%s); still serving the one opened before", e)

    def give(self, answer: dict, via: str = "api") -> dict:
        """The answer with an id under which a user may rate it (POST /v1/answers/{id}/feedback), and
        each source with a link to a page that shows it in its document, and with the document's name
        where the server's path was; logged (`qa.asked`) as asked `via` a route."""
        answer["answer_id"] = uuid.uuid4().hex
        self.questions.record(asked_from(answer, via))
        for s in answer.get("sources", []):
            s["link"] = self.link(s["doc"], s["start"], s["end"])
            s["doc"] = Path(s["doc"]).name
        if answer.get("evidence"):
            answer["evidence"]["doc"] = Path(answer["evidence"]["doc"]).name
        # kept as JSON text, which the garbage collector does not walk (10,000 answers kept as dicts cost
        # each full collection 9.9 ms, as text 0.1 ms: measured), and as given, whatever happens to it next
        self._given[answer["answer_id"]] = json.dumps(answer, ensure_ascii=False)
        while len(self._given) > RECENT_ANSWERS:
            self._given.popitem(last=False)
        return answer

    async def feedback(self, answer_id: str, rating: str, comment: str | None, owner: str | None,
                       correction: str | None = None, answerable: bool | None = None) -> dict:
        """A user's rating of an answer given lately, kept with the question, the answer and its sources,
        and the right answer or that no page answers, where told."""
        given = self._given.get(answer_id)
        if given is None:
            raise UnknownSession(f"no recent answer {answer_id!r}; feedback is taken for the last {RECENT_ANSWERS:,} answers.")
        answer = json.loads(given)
        for text, what in ((comment, "the comment"), (correction, "the correction")):
            if text is not None:
                check_text(text, what)
        correction = " ".join(correction.split()) or None if correction is not None else None
        await asyncio.to_thread(self.sessions.add_feedback, answer, rating, comment, owner, correction, answerable)
        return {"answer_id": answer_id, "rating": rating}

    async def unanswered(self, since: float | None, limit: int) -> list[dict]:
        """The content-gap report (`qa.gaps`) of this collection, documents named as in answers. The
        entries given lately are written first, so that the report sees every question answered."""
        await asyncio.to_thread(self.questions.flush)
        index = self.index
        # grouped on a thread of its own (100,000 questions: about 2 s), not on the worker, where
        # questions would wait behind it; only the nearest passages are looked up there
        gaps = await asyncio.to_thread(unanswered, index, since, limit)
        gaps = await self._on_worker(lambda: with_nearest(self.index, gaps))
        out = []
        for g in gaps:
            for s in g.nearest:
                s["link"] = self.link(s["doc"], s["start"], s["end"])
                s["doc"] = Path(s["doc"]).name
            out.append(g.as_dict())
        return out

    # -- conversations, facts, documents ---------------------------------------------------------
    def new_session(self, owner: str | None = None) -> str:
        return self.sessions.create(owner)

    def session(self, sid: str, owner: str | None = None) -> dict:
        state = self.sessions.get(sid, owner)
        if state is None:
            raise UnknownSession(f"no conversation {sid!r} (it may have expired); start one with POST /v1/sessions.")
        conv = Conversation.from_dict(state)
        return {"id": sid, "turns": [{"question": t.question, "rewritten": t.rewritten, "answer": t.answer}
                                     for t in conv.turns]}

    async def facts(self, kind: str | None, subject: str | None, attribute: str | None) -> list[dict]:
        return await self._on_worker(lambda: [f.as_dict() for f in select_facts(self.index, kind, subject, attribute)])

    async def documents(self) -> list[dict]:
        """The catalogue, each document with its id (for DELETE) and its name, not a server path."""
        rows = await self._on_worker(lambda: self.index.catalogue())
        return [{"id": document_id(r["doc"]), **r, "doc": Path(r["doc"]).name} for r in rows]

    async def add_document(self, name: object, data: bytes) -> dict:
        """Keep an uploaded document in the uploads folder and add it to the index (a new generation,
        swapped in whole as `cli.py add` does); a document of that name is replaced. Refused: a name
        that is not a plain file name, and a file no reader takes (the index is left as it was)."""
        name = upload_name(name)
        folder = self.uploads()
        path = folder / name
        existed = path.exists()
        tmp = folder / f".{name}.{uuid.uuid4().hex}.part"
        tmp.write_bytes(data)
        old = path.read_bytes() if existed else None
        os.replace(tmp, path)
        try:
            summary = await self._change("add", [str(path)])
        except BaseException:
            path.write_bytes(old) if existed else path.unlink(missing_ok=True)
            raise
        return {"id": document_id(str(path)), "doc": name, **summary}

    async def delete_document(self, doc_id: str) -> dict:
        """Remove the document with this id from the index (and its upload, if it was uploaded)."""
        paths = await self._on_worker(lambda: [d.path for d in self.index.documents])
        path = next((p for p in paths if document_id(p) == doc_id), None)
        if path is None:
            raise UnknownDocument(f"no document {doc_id!r}; list them with GET /v1/documents.")
        summary = await self._change("remove", [path])
        if Path(path).parent == self.uploads():
            Path(path).unlink(missing_ok=True)
        return {"id": doc_id, "doc": Path(path).name, **summary}

    def link(self, path: str, start: int, end: int) -> str:
        """The page showing [start, end) of a document, signed so that it opens from a browser without a
        key (a link is the server's to give: it names one passage of one document, nothing else)."""
        doc_id = document_id(path)
        where = f"collection={self.collection}&" if self.collection else ""
        return f"/v1/documents/{doc_id}/view?{where}start={start}&end={end}&sig={self._sign(doc_id, start, end)}#passage"

    def _sign(self, doc_id: str, start: int, end: int) -> str:
        signed = f"{self.collection or DEFAULT}:{doc_id}:{start}:{end}"
        return hmac.new(self._link_key, signed.encode(), "sha256").hexdigest()[:24]

    async def view(self, doc_id: str, start: int, end: int, sig: str) -> tuple[str, str, int, int]:
        """A document's name and text and the passage to show, for a link this server gave."""
        if not hmac.compare_digest(sig.encode(), self._sign(doc_id, start, end).encode()):
            raise UnknownDocument("this link is not one this server gave; open the sources of a new answer.")
        rows = await self._on_worker(lambda: [d.path for d in self.index.documents])
        path = next((p for p in rows if document_id(p) == doc_id), None)
        text = await self._on_worker(lambda: self.index.document_text(path)) if path else None
        if text is None:
            raise UnknownDocument(f"no document {doc_id!r}; it may have been removed.")
        return Path(path).name, text, max(0, min(start, len(text))), max(0, min(end, len(text)))

    def uploads(self) -> Path:
        return uploads_folder(self.index_dir, self.collection)

    async def _change(self, command: str, paths: list[str]) -> dict:
        """A library command on a thread of its own, one change at a time: reading and embedding a
        document never holds up questions, which are answered from the old generation until the new
        one is whole (the worker follows the store before its next batch)."""
        def run():
            with self._writing:
                return library_commands(self.index_dir, self.collection or DEFAULT)[0][command](paths)

        return await asyncio.wait_for(asyncio.to_thread(run), self.cfg.request_timeout * 5)

    async def _on_worker(self, read):
        """`read` on the worker thread, after following the store: where the index is read or replaced."""
        def run():
            self._follow_store()
            return read()

        return await asyncio.get_running_loop().run_in_executor(self._pool, run)

    def about(self) -> dict:
        return {"collection": self.collection or DEFAULT, "index": Path(str(self.index.folder)).name, "documents": len(self.index.documents),  # no server paths
                "sentences": len(self.index.sentences), "facts": self.index.counts()["facts"]}
