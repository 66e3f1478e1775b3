"""What every request passes before a route: the API key, the per-client rate limit and the body-size
cap, each refused with a JSON error; and the metrics of every request, refused ones included."""
from __future__ import annotations

import json
import math
import secrets
import threading
import time

from ..config import ServeSettings
from .metrics import Metrics

OPEN_PATHS = {"/healthz", "/readyz", "/", "/widget.js", "/favicon.ico"}  # no key asked
OPEN_PREFIXES = ("/static/",)


def error_body(status: int, message: str, kind: str) -> bytes:
    return json.dumps({"error": {"message": message, "type": kind, "code": status}}).encode()


class RateLimiter:
    """A token bucket per client: `per_minute` requests a minute, bursts up to the same number."""

    def __init__(self, per_minute: int):
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """0 when the request may go, else the seconds until it may."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / self.rate


class Guard:
    """Pure ASGI middleware (streaming responses pass through untouched)."""

    def __init__(self, app, cfg: ServeSettings, metrics: Metrics):
        self.app, self.cfg, self.metrics = app, cfg, metrics
        self.limiter = RateLimiter(cfg.rate_limit_per_minute) if cfg.rate_limit_per_minute > 0 else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        t0 = time.perf_counter()
        status = {"code": 500, "too_large": False}

        async def send_counted(message):
            if status["too_large"]:  # the app answered a body cut off at the cap: say so instead
                if message["type"] == "http.response.start":
                    status["code"] = 413
                    await self._refuse(send, 413, f"the request body is larger than {self.cfg.max_body_bytes} bytes.",
                                       "request_too_large")
                return
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            refusal = self._refusal(scope)
            if refusal:
                await self._refuse(send_counted, *refusal)
                return
            await self.app(scope, self._capped(receive, status), send_counted)
        except BodyTooLarge:
            if status["code"] == 413:
                return
            status["code"] = 413
            await self._refuse(send_counted, 413, f"the request body is larger than {self.cfg.max_body_bytes} bytes.",
                               "request_too_large")
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or ("static" if scope["path"].startswith(OPEN_PREFIXES) else "other")
            self.metrics.observe(scope["method"], path, status["code"], time.perf_counter() - t0)

    def _refusal(self, scope) -> tuple | None:
        path = scope["path"]
        headers = dict(scope.get("headers") or [])
        if scope["method"] == "OPTIONS":
            return None  # CORS preflight carries no credentials
        guarded = path not in OPEN_PATHS and not path.startswith(OPEN_PREFIXES)
        if self.cfg.api_key and guarded:
            auth = headers.get(b"authorization", b"").decode("latin-1")
            given = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
            if not secrets.compare_digest(given.encode(), self.cfg.api_key.encode()):
                return 401, "a valid API key is required: send it as 'Authorization: Bearer KEY'.", "unauthorized", \
                    [(b"www-authenticate", b"Bearer")]
        if self.limiter and guarded:
            client = (scope.get("client") or ("?", 0))[0]
            wait = self.limiter.take(client)
            if wait > 0:
                return 429, "too many requests; try again later.", "rate_limited", \
                    [(b"retry-after", str(max(1, math.ceil(wait))).encode())]
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.cfg.max_body_bytes:
            return 413, f"the request body is larger than {self.cfg.max_body_bytes} bytes.", "request_too_large"
        return None

    def _capped(self, receive, status: dict):
        """The body read in pieces and refused once it passes the cap (a body sent without a length)."""
        seen = {"n": 0}

        async def capped():
            message = await receive()
            if message["type"] == "http.request":
                seen["n"] += len(message.get("body", b""))
                if seen["n"] > self.cfg.max_body_bytes:
                    status["too_large"] = True
                    raise BodyTooLarge()
            return message

        return capped

    async def _refuse(self, send, status: int, message: str, kind: str, extra=()):
        body = error_body(status, message, kind)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                *extra]})
        await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    pass
