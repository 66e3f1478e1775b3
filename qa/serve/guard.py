"""What every request passes before a route: the key and what it may do, the per-client rate limits
and the body-size cap, each refused with a JSON error; and the metrics of every request, refused
ones included.

Keys: the admin key (QA_API_KEY) opens everything; an ask key (QA_ASK_KEYS, QA_ASK_KEYS_FILE), which a
public page may carry, opens only asking and the caller's own conversations (ASK_ROUTES), in every
collection or, written KEY:COLLECTION[+COLLECTION...], in those alone (a product's widget asks that
product's documents). Each request's caller is put in the ASGI scope's state ("caller") for the routes."""
from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from ..collections import BadCollection, collection_name
from ..config import ServeSettings
from ..errors import QAError
from .metrics import Metrics

OPEN_PATHS = {"/healthz", "/readyz", "/", "/widget.js", "/favicon.ico", "/docs", "/openapi.json", "/unanswered"}  # no key asked
OPEN_PREFIXES = ("/static/",)
OPEN_PATTERN = re.compile(r"/v1/documents/[0-9a-f]{16}/view")  # a source's page: its link is signed instead
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
# what an ask key may call: asking, OpenAI's routes, and its own conversations
ASK_ROUTES = [("POST", re.compile(p)) for p in (r"/v1/ask", r"/v1/chat/completions", r"/v1/sessions",
                                               r"/v1/sessions/[^/]+/messages", r"/v1/answers/[^/]+/feedback")] + \
             [("GET", re.compile(p)) for p in (r"/v1/models", r"/v1/sessions/[^/]+")]


@dataclass(frozen=True)
class Caller:
    """Who sent a request: role "admin", "ask" or "open" (no keys configured), the owner name its
    conversations are kept under (a digest of an ask key; None for admin and open), and the collections
    it may ask (None: all; the default collection is None among them)."""

    role: str
    owner: str | None = None
    collections: frozenset | None = None

    @property
    def admin(self) -> bool:
        return self.role in ("admin", "open")

    def check_collection(self, name: str | None, default: str | None) -> None:
        """A KeyNotForCollection unless this caller may ask collection `name`; None, in the request or
        among the key's collections ("default"), is `default`: the collection the server was started on,
        as for the request's own "collection"."""
        if self.collections is None:
            return
        if (name or default) not in {default if c is None else c for c in self.collections}:
            raise KeyNotForCollection(f"this key may not ask collection {name or 'default'!r}.")


class KeyNotForCollection(QAError):
    """An ask key bound to other collections (403)."""


def ask_key(entry: str) -> tuple[str, frozenset | None]:
    """An ask key's entry, KEY or KEY:COLLECTION[+COLLECTION...]: the key and the collections it may ask."""
    key, bound, names = entry.partition(":")
    if not bound:
        return key, None
    try:
        return key, frozenset(collection_name(n.strip()) for n in names.split("+"))
    except BadCollection as e:
        raise BadCollection(f"an ask key (QA_ASK_KEYS, QA_ASK_KEYS_FILE) names a collection wrongly: {e}") from None


def caller_of(scope) -> Caller:
    return (scope.get("state") or {}).get("caller") or Caller("open")


def error_json(status: int, message: str, kind: str) -> dict:
    """Every error the server sends, whichever layer sends it: {"error": {message, type, code}}."""
    return {"error": {"message": message, "type": kind, "code": status}}


def error_body(status: int, message: str, kind: str) -> bytes:
    return json.dumps(error_json(status, message, kind)).encode()


class RateLimiter:
    """A token bucket per client: `per_minute` requests a minute, bursts up to the same number. The
    table holds at most `clients` addresses, the least recently seen let go first (a client let go
    comes back with a full bucket, which is what a client idle for a minute has anyway)."""

    def __init__(self, per_minute: int, clients: int = 10_000):
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self.clients = clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """0 when the request may go (a token taken), else the seconds until it may."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.pop(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate
            self._buckets[client] = (tokens - 1.0 if not wait else tokens, now)
            while len(self._buckets) > self.clients:
                self._buckets.popitem(last=False)
            return wait

    def waiting(self, client: str) -> float:
        """The seconds until `client` may go again, taking nothing."""
        with self._lock:
            tokens, last = self._buckets.get(client, (self.capacity, time.monotonic()))
        tokens = min(self.capacity, tokens + (time.monotonic() - last) * self.rate)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate


def key_owner(key: str) -> str:
    """The name an ask key's conversations are kept under: a digest, never the key itself."""
    return "key-" + hashlib.sha256(key.encode()).hexdigest()[:16]


def ask_keys(cfg: ServeSettings) -> dict[bytes, tuple[str, frozenset | None]]:
    """Each ask key with its owner name and collections; a BadCollection for an entry that names one wrongly."""
    return {key.encode(): (key_owner(key), collections) for key, collections in map(ask_key, cfg.ask_keys)}


class Guard:
    """Pure ASGI middleware (streaming responses pass through untouched)."""

    def __init__(self, app, cfg: ServeSettings, metrics: Metrics, keys: dict | None = None):
        self.app, self.cfg, self.metrics = app, cfg, metrics
        self.limiter = RateLimiter(cfg.rate_limit_per_minute, cfg.clients_tracked) if cfg.rate_limit_per_minute > 0 else None
        # wrong or missing keys, per client: past the allowance, even a right key waits (guessing is slow)
        self.failures = RateLimiter(cfg.auth_failures_per_minute, cfg.clients_tracked) if cfg.auth_failures_per_minute > 0 else None
        self.ask_keys = ask_keys(cfg) if keys is None else keys  # create_app parses them once, at start

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        t0 = time.perf_counter()
        status = {"code": 500, "refuse": None}

        async def send_counted(message):
            if status["refuse"]:  # the app answered a body cut off (too large, too slow): say so instead
                if message["type"] == "http.response.start":
                    status["code"] = status["refuse"][0]
                    await self._refuse(send, *status["refuse"])
                return
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            refusal = self._refusal(scope)
            if refusal:
                await self._refuse(send_counted, *refusal)
                return
            await self.app(scope, self._capped(scope, receive, status), send_counted)
        except BodyRefused:
            if status["code"] == status["refuse"][0]:
                return
            refusal, status["refuse"] = status["refuse"], None
            await self._refuse(send_counted, *refusal)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or ("static" if scope["path"].startswith(OPEN_PREFIXES) else "other")
            method = scope["method"] if scope["method"] in METHODS else "other"  # a label from a fixed set
            self.metrics.observe(method, path, status["code"], time.perf_counter() - t0)

    def _caller(self, given: bytes) -> Caller | None:
        """The caller a key names, or None for a wrong or missing key."""
        if self.cfg.api_key and secrets.compare_digest(given, self.cfg.api_key.encode()):
            return Caller("admin")
        found = None
        for key, owned in self.ask_keys.items():  # every key compared, in constant time each
            if secrets.compare_digest(given, key):
                found = owned
        return Caller("ask", *found) if found else None

    def _refusal(self, scope) -> tuple | None:
        path = scope["path"]
        headers = dict(scope.get("headers") or [])
        if scope["method"] == "OPTIONS":
            return None  # CORS preflight carries no credentials
        guarded = path not in OPEN_PATHS and not path.startswith(OPEN_PREFIXES) and not OPEN_PATTERN.fullmatch(path)
        client = (scope.get("client") or ("?", 0))[0]
        caller = Caller("open")
        if (self.cfg.api_key or self.ask_keys) and guarded:
            wait = self.failures.waiting(client) if self.failures is not None else 0.0
            if wait > 0:
                return 429, "too many failed API keys from this address; try again later.", "rate_limited", \
                    [(b"retry-after", str(max(1, math.ceil(wait))).encode())]
            auth = headers.get(b"authorization", b"").decode("latin-1")
            given = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
            caller = self._caller(given.encode("latin-1"))
            if caller is None:
                if self.failures is not None:
                    self.failures.take(client)
                return 401, "a valid API key is required: send it as 'Authorization: Bearer KEY'.", "unauthorized", \
                    [(b"www-authenticate", b"Bearer")]
            if caller.role == "ask" and not any(m == scope["method"] and p.fullmatch(path) for m, p in ASK_ROUTES):
                return 403, "this key may only ask questions; this needs the admin key.", "forbidden"
        scope.setdefault("state", {})["caller"] = caller
        if self.limiter is not None and guarded:
            wait = self.limiter.take(client)
            if wait > 0:
                return 429, "too many requests; try again later.", "rate_limited", \
                    [(b"retry-after", str(max(1, math.ceil(wait))).encode())]
        length = headers.get(b"content-length")
        cap = self._cap(scope)
        if length is not None and length.isdigit() and int(length) > cap:
            return 413, f"the request body is larger than {cap} bytes.", "request_too_large"
        return None

    def _cap(self, scope) -> int:
        """The body cap: documents uploaded to the admin's route may be larger than questions."""
        upload = scope["method"] == "POST" and scope["path"] == "/v1/documents"
        return self.cfg.max_upload_bytes if upload else self.cfg.max_body_bytes

    def _capped(self, scope, receive, status: dict):
        """The body read in pieces, refused once it passes the cap (a body sent without a length) or
        when a piece is slower than the read timeout (a client that trickles its body)."""
        seen = {"n": 0, "done": False}
        cap = self._cap(scope)

        async def capped():
            if seen["done"]:  # the body is in: what follows is the disconnect, waited for as long as it takes
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.cfg.read_timeout)
            except asyncio.TimeoutError:
                status["refuse"] = (408, f"the request body did not arrive within {self.cfg.read_timeout:g} s.",
                                    "request_timeout", [(b"connection", b"close")])
                raise BodyRefused() from None
            if message["type"] == "http.request":
                seen["n"] += len(message.get("body", b""))
                seen["done"] = not message.get("more_body", False)
                if seen["n"] > cap:
                    status["refuse"] = (413, f"the request body is larger than {cap} bytes.",
                                        "request_too_large")
                    raise BodyRefused()
            else:
                seen["done"] = True
            return message

        return capped

    async def _refuse(self, send, status: int, message: str, kind: str, extra=()):
        body = error_body(status, message, kind)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                *extra]})
        await send({"type": "http.response.body", "body": body})


class BodyRefused(Exception):
    """The body was cut off: status["refuse"] says why."""
