"""The batch command: JSON lines in, JSON lines out, conversations kept per `session`."""
from __future__ import annotations

import json
from typing import Callable, TextIO

from .asked import asked_from, write
from .config import settings
from .conversation import Conversation
from .errors import QAError
from .pipeline import ask_requests, check_k, check_question
from .records import Request
from .scope import make_scope

CHUNK = 256


def run_batch(src: TextIO, dst: TextIO, open_index: Callable) -> None:
    """Answer every request line; a bad line gets {"id", "error"} and the rest go on."""
    cfg = settings()
    requests = []
    for n, line in enumerate(src, start=1):
        if line.strip():
            requests.append(_parse(line, n, cfg.max_question_chars))
    index = open_index()
    sessions: dict[str, Conversation] = {}
    ordered = []
    for i in range(0, len(requests), CHUNK):
        part = requests[i:i + CHUNK]
        ordered.extend(ask_requests(index, part, sessions))
    for req, result in ordered:
        dst.write(json.dumps(result, ensure_ascii=False) + "\n")
    dst.flush()
    write(index.question_log, [asked_from(result, "batch") for _, result in ordered if "error" not in result])


def _parse(line: str, n: int, limit: int) -> Request:
    try:
        req = json.loads(line)
        if not isinstance(req, dict):
            raise ValueError("not an object")
    except ValueError:
        return Request(None, error=f"line {n} is not a JSON object.")
    try:
        return Request(check_question(req.get("question"), limit), id=req.get("id"), session=req.get("session"),
                       k=check_k(req.get("k")), scope=make_scope(req.get("doc"), req.get("since"), req.get("until")))
    except QAError as e:
        return Request(None, id=req.get("id"), error=str(e))
