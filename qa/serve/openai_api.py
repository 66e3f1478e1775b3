"""OpenAI's chat-completions format, in and out: the last user message is the question, the earlier
turns are the conversation; the answer comes back as the text a chat client shows (the answer, then
the cited sentences) with the structured answer beside it, whole or as server-sent chunks."""
from __future__ import annotations

import json
import re
import time
import uuid
from typing import Iterator

from ..conversation import KEPT_TURNS, Conversation
from ..errors import BadQuestion
from ..pipeline import check_text

MODEL_ID = "qa-bot"
NO_ANSWER = "The documents do not answer this."
MAX_MESSAGES = 200
MAX_HISTORY_CHARS = 32_000


def text_of(content) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return " ".join(p.text or "" for p in content if p.type in ("text", "input_text"))


def question_and_history(messages) -> tuple[str, Conversation]:
    """The last user message, and the conversation the earlier user and assistant turns make: only
    the last KEPT_TURNS of them are read again (a follow-up refers to those), so the cost is bounded
    whatever the history's length; a history over MAX_MESSAGES messages or MAX_HISTORY_CHARS
    characters is refused with the limits said."""
    if len(messages) > MAX_MESSAGES:
        raise BadQuestion(f"the conversation has {len(messages):,} messages; at most {MAX_MESSAGES} are accepted "
                          f"(only the last {KEPT_TURNS} turns are read), so send the recent ones.")
    texts = [text_of(m.content) for m in messages]
    size = sum(len(t) for t in texts)
    if size > MAX_HISTORY_CHARS:
        raise BadQuestion(f"the conversation holds {size:,} characters; at most {MAX_HISTORY_CHARS:,} are accepted, "
                          "so send the recent turns.")
    for n, t in enumerate(texts, 1):
        check_text(t, f"message {n}")
    users = [i for i, m in enumerate(messages) if m.role == "user"]
    if not users:
        raise BadQuestion("the messages hold no user message to answer.")
    last = users[-1]
    earlier = [m for m in messages[:last] if m.role in ("user", "assistant")]
    exchanges = []
    for i, m in enumerate(earlier):
        q = " ".join(text_of(m.content).split()) if m.role == "user" else ""
        if not q:
            continue
        reply = next((text_of(x.content) for x in earlier[i + 1:i + 2] if x.role == "assistant"), "")
        said = reply.split("\n\n", 1)[0].strip()
        cited = re.search(r"^\[1\] [^\n]*?\(\d+-\d+\): (.*)$", reply, re.M)  # the first source, as reply_text writes it
        exchanges.append((q, None if not said or said == NO_ANSWER else said, cited.group(1) if cited else ""))
    conv = Conversation.replayed(exchanges)
    return text_of(messages[last].content), conv


def reply_text(answer: dict) -> str:
    """What a chat client shows: the answer (or that the documents do not answer), then the sources."""
    head = NO_ANSWER if answer["abstained"] else answer["answer"]
    label = "Nearest passages" if answer["abstained"] else "Sources"
    cites = [f"[{i}] {s['doc']} ({s['start']}-{s['end']}): {s['text']}" for i, s in enumerate(answer["sources"][:3], 1)]
    return head + ("\n\n" + label + ":\n" + "\n".join(cites) if cites else "")


def _usage(question: str, text: str) -> dict:
    p, c = len(question.split()), len(text.split())
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def completion(answer: dict, model: str | None) -> dict:
    text = reply_text(answer)
    return {"id": "chatcmpl-" + uuid.uuid4().hex, "object": "chat.completion", "created": int(time.time()),
            "model": model or MODEL_ID,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": _usage(answer["question"], text), "sources": answer["sources"], "qa": answer}


def stream(answer: dict, model: str | None) -> Iterator[str]:
    """Server-sent events in OpenAI's chunk format: the role, the text a few words at a time, the finish
    (carrying the sources), then [DONE]."""
    base = {"id": "chatcmpl-" + uuid.uuid4().hex, "object": "chat.completion.chunk", "created": int(time.time()),
            "model": model or MODEL_ID}

    def event(delta: dict, finish: str | None = None, **extra) -> str:
        body = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return "data: " + json.dumps(body, ensure_ascii=False) + "\n\n"

    yield event({"role": "assistant", "content": ""})
    words = reply_text(answer).split(" ")
    for i in range(0, len(words), 4):
        yield event({"content": " ".join(words[i:i + 4]) + (" " if i + 4 < len(words) else "")})
    yield event({}, "stop", sources=answer["sources"], qa=answer)
    yield "data: [DONE]\n\n"


def models() -> dict:
    return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "qa-bot"}]}
