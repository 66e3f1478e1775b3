"""The HTTP application: routes that each call one function of the Service, JSON errors everywhere."""
from __future__ import annotations

import asyncio
import html
import os
import signal
import threading
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path
from typing import Optional

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.asyncexitstack import AsyncExitStackMiddleware
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..config import ServeSettings
from ..collections import BadCollection, UnknownCollection, collection_name
from ..errors import BadDocument, BadQuestion, DocumentTooLarge, QAError
from ..gaps import since_time
from ..ingest.bounded import stop_all as stop_reading
from . import openai_api, watchdog
from .guard import Guard, KeyNotForCollection, ask_keys, caller_of, error_json
from .metrics import Metrics
from .schemas import (AnswerOut, AskRequest, ChatCompletion, ChatRequest, DocumentChange, DocumentOut, ErrorBody,
                      FeedbackIn, FeedbackSaved, Gap, Health, MessageRequest, ModelList, SessionCreated, SessionOut)
from .service import Service, UnknownDocument, UnknownSession
from .shelf import Collections

STATIC = Path(__file__).resolve().parent / "static"
SWAGGER_ASSETS = str(files("fastapi_offline") / "static")  # Swagger UI 5.32's bundle, stylesheet and icon
InCollection = Query(None, max_length=63, description="The collection (default: the one the server was started on); "
                                                     "GET /v1/collections lists them.")
ERRORS = {s: {"model": ErrorBody} for s in (400, 401, 403, 404, 408, 413, 415, 422, 429, 500, 504)}


def create_app(service: Service, cfg: ServeSettings | None = None) -> FastAPI:
    cfg = cfg or service.cfg
    metrics = Metrics()
    shelf = Collections(service)

    async def served(collection: str | None, request: Request | None = None) -> Service:
        """The Service of `collection`, if the caller's key may ask it (a 403 before anything is opened)."""
        if request is not None:
            caller_of(request.scope).check_collection(collection_name(collection), service.collection)
        svc = await shelf.get(collection)
        svc.on_cache_hit = metrics.cache_hits.inc
        return svc

    @asynccontextmanager
    async def lifespan(app):
        _on_stop_signals(stop_reading)
        await shelf.start()
        await _warm(app)
        unwatch = watchdog.watch(asyncio.get_running_loop(), cfg.stall_ms, cfg.stall_log) if cfg.stall_ms > 0 else None
        yield
        if unwatch:
            unwatch()
        await shelf.stop()

    app = FastAPI(title="qa-bot", version="1", lifespan=lifespan, responses=ERRORS, docs_url=None, redoc_url=None,
                  description="Ask questions about the indexed documents; answers cite the sentence they come from.")
    v1 = APIRouter(prefix="/v1")

    async def answered(svc: Service, coro, via: str) -> dict:
        a = await coro
        metrics.answered(a)
        return svc.give(a, via)

    @v1.post("/ask", response_model=AnswerOut, response_model_exclude_unset=True, summary="Answer one question")
    async def ask(req: AskRequest, request: Request):
        # a session is one the server made (POST /v1/sessions), for this caller
        svc = await served(req.collection, request)
        return await answered(svc, svc.answer(req.question, req.session, req.k, must_exist=req.session is not None,
                                              scope=(req.doc, req.since, req.until), owner=owner(request)),
                              "session" if req.session else "api")

    @v1.post("/sessions", response_model=SessionCreated, status_code=201, summary="Start a conversation")
    async def new_session(request: Request, collection: Optional[str] = InCollection):
        return {"id": (await served(collection, request)).new_session(owner(request))}

    @v1.post("/sessions/{sid}/messages", response_model=AnswerOut, response_model_exclude_unset=True,
             summary="Ask the next question of a conversation")
    async def message(sid: str, req: MessageRequest, request: Request, collection: Optional[str] = InCollection):
        svc = await served(collection, request)
        return await answered(svc, svc.answer(req.question, sid, req.k, must_exist=True, owner=owner(request)), "session")

    @v1.get("/sessions/{sid}", response_model=SessionOut, summary="A conversation's turns")
    async def session(sid: str, request: Request, collection: Optional[str] = InCollection):
        return (await served(collection, request)).session(sid, owner(request))

    @v1.post("/answers/{answer_id}/feedback", response_model=FeedbackSaved, status_code=201,
             summary="Rate an answer (up or down, with an optional comment)")
    async def feedback(answer_id: str, req: FeedbackIn, request: Request, collection: Optional[str] = InCollection):
        return await (await served(collection, request)).feedback(answer_id, req.rating, req.comment, owner(request),
                                                                  req.correction, req.answerable)

    @v1.get("/unanswered", response_model=list[Gap], response_model_exclude_none=True,
            summary="What customers asked that the documents do not answer",
            description="The questions logged in this collection that were abstained on, answered with low "
                        "confidence (below QA_LOW_CONFIDENCE) or marked wrong, grouped by meaning (one group: one "
                        "question asked several ways), biggest group first, each with the passages nearest to it. "
                        "Admin key only.")
    async def unanswered(since: Optional[str] = Query(None, max_length=32, description="Only questions asked on or "
                                                      "after this date (2026-12-01, or 2026-12-01T09:30, UTC)."),
                         limit: int = Query(20, ge=1, le=1000, description="At most this many groups"),
                         collection: Optional[str] = InCollection):
        return await (await served(collection)).unanswered(since_time(since), limit)

    @v1.get("/collections", response_model=list[str], summary="The collections this server serves")
    async def collections():
        return await asyncio.to_thread(shelf.names)

    @v1.get("/facts", response_model=list[dict], summary="Facts taken from the documents")
    async def facts(type: Optional[str] = Query(None, description="entity, quantity, date, relation or derived"),
                    subject: Optional[str] = None, attribute: Optional[str] = None,
                    limit: int = Query(100, ge=1, le=1000, description="At most this many facts"),
                    offset: int = Query(0, ge=0, description="Facts to skip first (paging)"),
                    collection: Optional[str] = InCollection):
        return (await (await served(collection)).facts(type, subject, attribute))[offset:offset + limit]

    @v1.get("/documents", response_model=list[DocumentOut], summary="The indexed documents")
    async def documents(limit: int = Query(100, ge=1, le=1000, description="At most this many documents"),
                        offset: int = Query(0, ge=0, description="Documents to skip first (paging)"),
                        collection: Optional[str] = InCollection):
        return (await (await served(collection)).documents())[offset:offset + limit]

    @v1.post("/documents", response_model=DocumentChange, status_code=201, summary="Add or replace a document",
             description="A multipart form with the file as `file` (any format the bot reads: text, Markdown, "
                         "HTML, PDF, DOCX; told by content), or JSON `{\"name\": \"notes.txt\", \"text\": \"...\"}`. "
                         "Admin key only; at most QA_MAX_UPLOAD_BYTES. The index changes as a whole, as `cli.py add` does; "
                         "a document sent to a collection that does not exist yet makes it.")
    async def upload(request: Request, collection: Optional[str] = InCollection):
        service = await shelf.get(collection, create=True)
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == "multipart/form-data":
            form = await request.form(max_files=1, max_fields=4)
            f = form.get("file")
            if f is None or isinstance(f, str):
                raise BadDocument("send the document as the form's \"file\" field.")
            return await service.add_document(form.get("name") or f.filename, await f.read())
        if kind == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise BadDocument("the body is not JSON.") from None
            if not isinstance(body, dict) or not isinstance(body.get("text"), str) or not body["text"].strip():
                raise BadDocument('send the document as {"name": "notes.txt", "text": "..."}.')
            try:
                data = body["text"].encode("utf-8")
            except UnicodeEncodeError:
                raise BadDocument("the text holds a lone surrogate; send plain text.") from None
            return await service.add_document(body.get("name"), data)
        return _error(415, "send a multipart form with the file as \"file\", or JSON with a name and the text.",
                      "unsupported_media_type")

    @v1.get("/documents/{doc_id}/view", response_class=HTMLResponse, include_in_schema=False)
    async def view(doc_id: str, start: int = Query(..., ge=0), end: int = Query(..., ge=0), sig: str = Query(...),
                   collection: Optional[str] = InCollection):
        """The page a source's `link` opens: the document's text with the passage marked (a page, like
        /docs, not an API route; signed by the server, so it opens from a browser without a key)."""
        name, text, a, b = await (await served(collection)).view(doc_id, start, end, sig)
        return HTMLResponse(render_view(name, text, a, b))

    @v1.delete("/documents/{doc_id}", response_model=DocumentChange, summary="Remove a document")
    async def delete_document(doc_id: str, collection: Optional[str] = InCollection):
        return await (await served(collection)).delete_document(doc_id)

    @v1.post("/chat/completions", response_model=ChatCompletion, summary="OpenAI-compatible chat completion",
             responses={200: {"content": {"text/event-stream": {}}}})
    async def chat_completions(req: ChatRequest, request: Request):
        # off the event loop: replaying the history parses its turns
        question, conv = await asyncio.wait_for(asyncio.to_thread(openai_api.question_and_history, req.messages),
                                                service.cfg.request_timeout)
        svc = await served(req.collection, request)
        a = await answered(svc, svc.answer(question, conversation=conv), "openai")
        if req.stream:
            return StreamingResponse(openai_api.stream(a, req.model), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache"})
        return openai_api.completion(a, req.model)

    @v1.get("/models", response_model=ModelList, summary="OpenAI-compatible model list")
    async def models():
        return openai_api.models()

    app.include_router(v1)

    @app.get("/healthz", response_model=Health, response_model_exclude_none=True, summary="Alive")
    async def healthz():
        return {"status": "ok"}

    @app.get("/readyz", response_model=Health, response_model_exclude_none=True, summary="Models and index loaded",
             responses={503: {"model": ErrorBody}})
    async def readyz():
        if not service.ready:
            return _error(503, "not ready yet.", "not_ready")
        return {"status": "ready", **service.about()}  # the default collection's

    @app.get("/metrics", summary="Prometheus metrics", response_class=Response,
             responses={200: {"content": {"text/plain": {}}}})
    async def prometheus():
        return Response(metrics.text(), media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.get("/docs", include_in_schema=False)
    async def docs():
        """Swagger UI 5 (which reads OpenAPI 3.1, the version FastAPI writes) from the fastapi-offline
        package's assets: the docs page works with no network."""
        return get_swagger_ui_html(openapi_url="/openapi.json", title="qa-bot API",
                                   swagger_js_url="/static/docs/swagger-ui-bundle.js",
                                   swagger_css_url="/static/docs/swagger-ui.css",
                                   swagger_favicon_url="/static/docs/favicon.png")

    app.mount("/static/docs", StaticFiles(directory=SWAGGER_ASSETS), name="docs-assets")

    @app.get("/", include_in_schema=False)
    async def page():
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/unanswered", include_in_schema=False)
    async def unanswered_page():
        """The admins' page of GET /v1/unanswered (the page holds nothing; its report asks for the admin key)."""
        return FileResponse(STATIC / "unanswered.html", media_type="text/html")

    @app.get("/widget.js", include_in_schema=False)
    async def widget():
        return FileResponse(STATIC / "widget.js", media_type="text/javascript")

    _errors(app)
    # parsed now: the middleware is made on the first request, too late to refuse to start
    app.add_middleware(Guard, cfg=cfg, metrics=metrics, keys=ask_keys(cfg))
    if cfg.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(cfg.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    return app


def render_view(name: str, text: str, start: int, end: int) -> str:
    """A plain page of the document's text, the passage [start, end) marked and scrolled to."""
    esc = html.escape
    return ("<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content='width=device-width'>"
            f"<title>{esc(name)}</title><style>body{{font:16px/1.6 system-ui,sans-serif;max-width:46em;margin:2em auto;"
            "padding:0 1em;white-space:pre-wrap}mark{background:#ffe58a;padding:0 2px}h1{font-size:1.1em;white-space:normal}"
            f"</style><h1>{esc(name)}</h1><div>{esc(text[:start])}<mark id=passage>{esc(text[start:end])}</mark>"
            f"{esc(text[end:])}</div></html>")


def owner(request: Request) -> str | None:
    """Whose conversations the caller may use: an ask key's own; None (all) for the admin key."""
    caller = caller_of(request.scope)
    return None if caller.admin else caller.owner


def _on_stop_signals(action) -> None:
    """`action` first when the process is told to stop (SIGTERM, SIGINT), then the handler that was
    there (uvicorn's, which stops taking requests and drains the ones in flight). Installed once the
    server runs, in its main thread, where uvicorn has installed its own."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGINT):
        before = signal.getsignal(sig)

        def handler(number, frame, before=before):
            action()
            if callable(before):
                before(number, frame)

        signal.signal(sig, handler)


def _error(status: int, message: str, kind: str, headers: dict | None = None, **extra) -> JSONResponse:
    body = error_json(status, message, kind)
    body["error"].update(extra)
    return JSONResponse(body, status, headers=headers)


# a document past one of these is too large (413); past the time or memory its reading may take, one
# the server could not process (422)
PROCESSING_LIMITS = {"QA_READ_SECONDS", "QA_READ_MEMORY_MB"}


def _errors(app: FastAPI) -> None:
    """Every failure as a JSON error body; never a stack trace."""

    @app.exception_handler(KeyNotForCollection)
    async def not_for_this_key(_: Request, e: KeyNotForCollection):
        return _error(403, str(e), "forbidden")

    @app.exception_handler(BadCollection)
    @app.exception_handler(BadQuestion)
    async def bad_question(_: Request, e: BadQuestion):
        return _error(422, str(e), "invalid_question")

    @app.exception_handler(UnknownSession)
    @app.exception_handler(UnknownDocument)
    @app.exception_handler(UnknownCollection)
    async def unknown_session(_: Request, e: QAError):
        return _error(404, str(e), "not_found")

    @app.exception_handler(DocumentTooLarge)
    async def too_large(_: Request, e: DocumentTooLarge):
        status = 422 if e.limit in PROCESSING_LIMITS else 413
        return _error(status, str(e), "document_refused", limit=e.limit)

    @app.exception_handler(QAError)
    async def qa_error(_: Request, e: QAError):
        return _error(400, str(e), "bad_request")

    @app.exception_handler(asyncio.TimeoutError)
    async def timeout(_: Request, e):
        return _error(504, "the answer took too long; try again.", "timeout")

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, e: RequestValidationError):
        first = e.errors()[0] if e.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x != "body")
        return _error(422, f"{where or 'request'}: {first.get('msg', 'invalid')}".strip(), "invalid_request")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, e: StarletteHTTPException):
        return _error(e.status_code, str(e.detail), "not_found" if e.status_code == 404 else "http_error",
                      getattr(e, "headers", None))

    @app.exception_handler(Exception)
    async def crash(_: Request, e: Exception):
        return _error(500, "internal error; the server's log has the details.", "internal_error")


def app_from_env() -> FastAPI:
    """For `uvicorn --factory` workers: the index folder from QA_INDEX_DIR."""
    return create_app(Service(Path(os.environ["QA_INDEX_DIR"]) if os.environ.get("QA_INDEX_DIR") else None))


async def _warm(app: FastAPI) -> None:
    """Everything FastAPI and Starlette make on first use, made before the first request: the routes'
    validators (built on the first request that reaches each router), the OpenAPI document (on the
    first /openapi.json: 140 ms) and anyio's thread backend (imported by the first file served). Each
    was made on the event loop, where /healthz waited 20-140 ms behind it (the stall watchdog's
    dumps). Asked of the router itself (in the exit stack FastAPI gives each request), behind no key,
    limiter or metric."""
    app.openapi()
    router = AsyncExitStackMiddleware(app.router)
    for path in ("/healthz", "/v1/models", "/widget.js"):
        scope = {"type": "http", "http_version": "1.1", "method": "GET", "scheme": "http", "path": path,
                 "raw_path": path.encode(), "root_path": "", "query_string": b"", "headers": [],
                 "client": ("127.0.0.1", 0), "server": ("127.0.0.1", 0), "app": app}

        messages = iter([{"type": "http.request", "body": b"", "more_body": False}])

        async def receive(messages=messages) -> dict:  # the request, then the client gone
            return next(messages, {"type": "http.disconnect"})

        async def send(message: dict) -> None:
            pass

        await router(scope, receive, send)
