"""One way in: ask(question) is ask_batch([question])[0], for the CLI, the chat and the server alike."""
from __future__ import annotations

import functools
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

from .collections import UnknownCollection, collection_name, folder_of, store_of
from .config import Settings, settings
from .cores import one_blas_thread
from .embed import question_encoder
from .errors import BadQuestion, QAError
from .library import EmbeddedShelf, add, load, remove, update
from .question import Question, analyze_batch
from .read.combine import signals, threshold
from .read.reading import question_words, read_batch
from .records import Answer, FactQuery, Hit, Request
from .retrieve import retrieve_batch, surroundings
from .scope import Scope, rows_in
from .store import DocumentStore, is_database

if TYPE_CHECKING:
    from .conversation import Conversation

log = logging.getLogger(__name__)


# NUL and the other control characters but tab, newline and carriage return; lone UTF-16 surrogates
# (what invalid UTF-8 decodes to with surrogateescape, or a JSON "\ud800"), which no tokenizer can encode
NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def check_text(text: str, what: str) -> None:
    """A BadQuestion naming the first character of `text` that is not text, if any."""
    bad = NOT_TEXT.search(text)
    if bad:
        c = ord(bad.group())
        kind = "a lone surrogate or a byte that is not UTF-8" if 0xD800 <= c <= 0xDFFF else "a control character"
        raise BadQuestion(f"{what} holds {kind} (U+{c:04X} at character {bad.start() + 1}); send plain text.")


def check_question(question: object, limit: int) -> str:
    """The question, stripped, or a BadQuestion that says what is wrong with it."""
    if not isinstance(question, str) or not question.strip():
        raise BadQuestion("the question is empty; ask something, e.g. \"When does mass production start?\"")
    check_text(question, "the question")
    q = " ".join(question.split())
    if len(q) > limit:
        raise BadQuestion(f"the question is too long ({len(question):,} characters; the limit is {limit:,}).")
    return q


MAX_K = 50  # sources a request may ask for


def check_k(k: object) -> int | None:
    """The number of sources asked for (None: the default), or a BadQuestion: a whole number from 1 to
    MAX_K (not a boolean, not negative)."""
    if k is not None and (not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K):
        raise BadQuestion(f"k must be a whole number from 1 to {MAX_K}.")
    return k


def open_index(folder: Path | None = None, cfg: Settings | None = None, rebuild: bool = True, progress=None,
               collection: str | None = None) -> DocumentStore:
    """The index of `collection` (default: the setting's; "default" names the default one) at `folder`;
    the default collection of the default folder is built from the seed documents on first use."""
    cfg = cfg or settings()
    name = collection_name(cfg.collection if collection is None else collection)
    if is_database(cfg.store):
        from . import postgres  # at use: the embedded store's questions load no database driver

        if name is not None and not postgres.has_collection(cfg.store, name):
            raise UnknownCollection(f"no collection {name!r} in the PostgreSQL store; make it with: "
                                    f"python cli.py --collection {name} build PATH...")
        return postgres.open_index(store_of(cfg.store, name), rebuild=rebuild, progress=progress)
    base = Path(folder or cfg.index_dir)
    folder = folder_of(base, name)
    if name is not None and not (folder / "CURRENT").exists():
        raise UnknownCollection(f"no collection {name!r} in {base}; make it with: "
                                f"python cli.py --collection {name} build PATH...")
    if not (folder / "CURRENT").exists() and folder.resolve() == cfg.index_dir.resolve():
        seeds = sorted(str(p) for p in cfg.seeds_dir.glob("*") if p.suffix.lower() in (".txt", ".md", ".markdown"))
        if seeds:
            from .build import build  # at use: only the first start builds

            build(seeds, folder, progress=progress)
    return load(folder, rebuild=rebuild, progress=progress)


def ask_batch(index: DocumentStore, questions: list[str], sessions: list[Conversation | None] | None = None,
              k: int | None = None, encoder=None, cfg: Settings | None = None, reader=None,
              scopes: list[Scope | None] | None = None) -> list[Answer]:
    """Answers to `questions` (already checked), each read in the light of its conversation, if any,
    and from the documents its scope allows: rewrite -> retrieve -> read -> answer."""
    cfg = cfg or settings()
    one_blas_thread()
    sessions = sessions or [None] * len(questions)
    only = [rows_in(index, s) if s else None for s in (scopes or [None] * len(questions))]
    rewritten = [c.rewrite(q) if c else q for q, c in zip(questions, sessions)]
    parsed, hits = retrieve(index, rewritten, max(cfg.candidates, k or cfg.k), encoder, only)
    out = []
    near = surroundings(index, [question_words(p) for p in parsed], hits, cfg.read_candidates)
    for q, rw, p, r, conv in zip(questions, rewritten, parsed, read_batch(parsed, hits, near, cfg, reader), sessions):
        out.append(Answer(question=q, answer=r.text, abstained=r.abstained, confidence=r.confidence,
                          hits=r.hits[: k or cfg.k], facts=r.facts, rewritten=rw if rw != q else None, qtype=p.qtype,
                          features=r.features, evidence=r.evidence, others=r.others, reason=r.reason))
        if conv is not None:
            conv.remember(q, rw, r.text, p.qtype, r.hits[0].sentence.text if r.hits else "")
    return out


def retrieve(index: DocumentStore, questions: list[str], n: int, encoder=None,
             only: list | None = None) -> tuple[list[Question], list[list[Hit]]]:
    """Each question read (answer type, words; typos corrected) and its n best sentences by fused score
    (among the rows `only` allows, where given). The questions are read before the encoder is asked
    for: in a cold start that reading overlaps the encoder's load (on its thread) instead of waiting."""
    searched = [index.correct(q) for q in questions]
    parsed = analyze_batch(searched)
    encoder = encoder or question_encoder()
    return parsed, retrieve_batch(index, searched, encoder.encode(searched), n, only)


def select_facts(index: DocumentStore, kind: str | None = None, subject: str | None = None, attribute: str | None = None) -> list:
    """The stored facts of one kind, whose subject and attribute contain the given words (case ignored)."""
    return index.facts(FactQuery(kind=kind, subject=subject, attribute=attribute))


def ask(index: DocumentStore, question: str, session: Conversation | None = None, **kw) -> Answer:
    """One question; keywords as ask_batch's (`scopes` a one-element list)."""
    return ask_batch(index, [question], [session], **kw)[0]


def ask_requests(index: DocumentStore, part: list[Request], sessions: dict) -> list[tuple[Request, dict]]:
    """The batch command's and the server's way in: each request with its answer object. Questions
    with a session are asked in input order (a follow-up needs the turn before it), their
    conversations taken from and left in `sessions`; questions without one are asked together, in one
    batch; a request refused before (its `error`) is answered with its error."""
    from .conversation import Conversation  # at use: only a request with a session needs one

    results: dict[int, dict] = {}
    free = [(i, r) for i, r in enumerate(part) if r.error is None and r.session is None]
    if free:
        try:
            answers = ask_batch(index, [r.question for _, r in free], k=max(r.k or settings().k for _, r in free),
                                scopes=[r.scope for _, r in free])
        except Exception:  # noqa: BLE001 - one request failed the batch: each asked alone, so only it fails
            log.warning("a batch of %d questions failed; asking each alone", len(free), exc_info=True)
            answers = [_one(index, r, None) for _, r in free]
        for (i, r), a in zip(free, answers):
            results[i] = a if isinstance(a, dict) else _shape(r, a)
    for i, r in enumerate(part):
        if r.error is not None:
            results[i] = _error(Request(None, id=r.id), r.error)
        elif r.session is not None:
            conv = sessions.setdefault(str(r.session), Conversation())
            a = _one(index, r, conv)
            results[i] = a if isinstance(a, dict) else _shape(r, a)
    return [(r, results[i]) for i, r in enumerate(part)]


def _one(index, r: Request, conv):
    """One request's answer, or its error object."""
    try:
        return ask_batch(index, [r.question], [conv], k=r.k, scopes=[r.scope])[0]
    except QAError as e:
        return _error(r, str(e))
    except Exception:  # noqa: BLE001 - a fault of ours on this question must not end the others
        log.exception("the question %r could not be answered", r.question)
        return _error(r, "this question could not be answered (an internal error; the log has the details).")


def _error(r: Request, message: str) -> dict:
    return {"id": r.id, "question": r.question, "answer": None, "abstained": True,
            "confidence": 0.0, "sources": [], "facts": [], "error": message}


def _shape(req: Request, a) -> dict:
    return {"id": req.id, **a.as_dict(req.k or settings().k)}


def explain(answer: Answer) -> tuple[float, list[tuple[str, float]]]:
    """Why an answer's confidence is what it is: the confidence below which the bot abstains, and the
    features that moved it most (described, with their signed contribution), for the chat's /why."""
    return threshold(settings().abstain_below), signals(answer.features) if answer.features else []


def library_commands(folder: Path | None = None, collection: str | None = None):
    """The library commands (add, remove, update) of the store in use, bound to it, and where they
    work: the PostgreSQL store when QA_STORE names one, else the embedded index at `folder`; in
    `collection` (default: the setting's). The CLI and the server's document routes both change
    documents through these."""
    cfg = settings()
    name = collection_name(cfg.collection if collection is None else collection)
    if is_database(cfg.store):
        from . import postgres  # at use

        shelf = postgres.Shelf(store_of(cfg.store, name), name)
    else:
        shelf = EmbeddedShelf(folder_of(Path(folder or cfg.index_dir), name))
    return {"add": functools.partial(add, shelf), "remove": functools.partial(remove, shelf),
            "update": functools.partial(update, shelf)}, shelf.name
