"""The batch command: JSON lines in, JSON lines out, conversations kept per `session`."""
from __future__ import annotations

import json
import logging
from typing import Callable, TextIO

from .config import settings
from .conversation import Conversation
from .errors import QAError
from .pipeline import ask_batch, check_question
from .scope import make_scope

CHUNK = 256
MAX_K = 50  # sources a request may ask for
log = logging.getLogger(__name__)


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
        ordered.extend(answer_requests(index, part, sessions))
    for req, result in ordered:
        dst.write(json.dumps(result, ensure_ascii=False) + "\n")
    dst.flush()


def _parse(line: str, n: int, limit: int) -> dict:
    try:
        req = json.loads(line)
        if not isinstance(req, dict):
            raise ValueError("not an object")
    except ValueError:
        return {"id": None, "error": f"line {n} is not a JSON object."}
    try:
        req["question"] = check_question(req.get("question"), limit)
        k = req.get("k")
        if k is not None and (not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K):
            raise QAError(f"k must be a whole number from 1 to {MAX_K}.")
        req["scope"] = make_scope(req.get("doc"), req.get("since"), req.get("until"))
    except QAError as e:
        return {"id": req.get("id"), "error": str(e)}
    return req


def answer_requests(index, part: list[dict], sessions: dict) -> list[tuple[dict, dict]]:
    """Each request ({"question", "session"?, "k"?, "id"?, "scope"?}) with its answer object. Questions with a
    session are asked in input order (a follow-up needs the turn before it), their conversations taken
    from and left in `sessions`; questions without one are asked together, in one batch."""
    results: dict[int, dict] = {}
    free = [(i, r) for i, r in enumerate(part) if "error" not in r and r.get("session") is None]
    if free:
        try:
            answers = ask_batch(index, [r["question"] for _, r in free], k=max(r.get("k") or settings().k for _, r in free),
                                scopes=[r.get("scope") for _, r in free])
        except Exception:  # noqa: BLE001 - one request failed the batch: each asked alone, so only it fails
            log.warning("a batch of %d questions failed; asking each alone", len(free), exc_info=True)
            answers = [_one(index, r, None) for _, r in free]
        for (i, r), a in zip(free, answers):
            results[i] = a if isinstance(a, dict) else _shape(r, a)
    for i, r in enumerate(part):
        if "error" in r:
            results[i] = _error({"id": r.get("id")}, r["error"])
        elif r.get("session") is not None:
            conv = sessions.setdefault(str(r["session"]), Conversation())
            a = _one(index, r, conv)
            results[i] = a if isinstance(a, dict) else _shape(r, a)
    return [(r, results[i]) for i, r in enumerate(part)]


def _one(index, r: dict, conv):
    """One request's answer, or its error object."""
    try:
        return ask_batch(index, [r["question"]], [conv], k=r.get("k"), scopes=[r.get("scope")])[0]
    except QAError as e:
        return _error(r, str(e))
    except Exception:  # noqa: BLE001 - a fault of ours on this question must not end the others
        log.exception("the question %r could not be answered", r.get("question"))
        return _error(r, "this question could not be answered (an internal error; the log has the details).")


def _error(r: dict, message: str) -> dict:
    return {"id": r.get("id"), "question": r.get("question"), "answer": None, "abstained": True,
            "confidence": 0.0, "sources": [], "facts": [], "error": message}


def _shape(req: dict, a) -> dict:
    return {"id": req.get("id"), **a.as_dict(req.get("k") or settings().k)}
