"""One way in: ask(question) is ask_batch([question])[0], for the CLI, the chat and the server alike."""
from __future__ import annotations

from pathlib import Path

from .answer import choose_span, confidence
from .match import coverage
from .config import Settings, settings
from .conversation import Conversation
from .errors import BadQuestion
from .index import Index, build, load
from .question import analyze_batch
from .records import Answer
from .retrieve import rerank, retrieve_batch


def check_question(question: object, limit: int) -> str:
    """The question, stripped, or a BadQuestion that says what is wrong with it."""
    if not isinstance(question, str) or not question.strip():
        raise BadQuestion("the question is empty; ask something, e.g. \"When does mass production start?\"")
    q = " ".join(question.split())
    if len(q) > limit:
        raise BadQuestion(f"the question is too long ({len(question):,} characters; the limit is {limit:,}).")
    return q


def open_index(folder: Path | None = None, cfg: Settings | None = None, rebuild: bool = True, progress=None) -> Index:
    """The index at `folder`; the default folder is built from the seed documents on first use."""
    cfg = cfg or settings()
    folder = Path(folder or cfg.index_dir)
    if not (folder / "CURRENT").exists() and folder.resolve() == cfg.index_dir.resolve():
        seeds = sorted(str(p) for p in cfg.seeds_dir.glob("*") if p.suffix.lower() in (".txt", ".md", ".markdown"))
        if seeds:
            build(seeds, folder, progress=progress)
    return load(folder, rebuild=rebuild, progress=progress)


def ask_batch(index: Index, questions: list[str], sessions: list[Conversation | None] | None = None,
              k: int | None = None, encoder=None, cfg: Settings | None = None) -> list[Answer]:
    """Answers to `questions` (already checked), each read in the light of its conversation, if any."""
    cfg = cfg or settings()
    sessions = sessions or [None] * len(questions)
    if encoder is None:
        from .embed import default_encoder

        encoder = default_encoder()
    rewritten = [c.rewrite(q) if c else q for q, c in zip(questions, sessions)]
    lexical = index.lexical[0]
    searched = [lexical.correct(q) for q in rewritten]
    vectors = encoder.encode(searched)
    hits_all = retrieve_batch(index, searched, vectors, max(cfg.candidates, k or cfg.k))
    out = []
    for q, rw, parsed, hits, conv in zip(questions, rewritten, analyze_batch(searched), hits_all, sessions):
        hits = rerank(index, parsed, hits)
        choice = choose_span(parsed, hits, cfg.answer_sentences)
        if choice.hit is not None:
            hits = [choice.hit] + [h for h in hits if h is not choice.hit]
        top = hits[0]
        cover = coverage(parsed, [top.sentence, *index.neighbours(top.sentence)], index.idf)
        conf = confidence(choice, top, cover)
        abstain = choice.text is None or conf < cfg.abstain_below
        ans = Answer(q, choice.text, abstain, conf, hits[: k or cfg.k], [], rw if rw != q else None, parsed.qtype,
                     {**choice.features, "cover": cover, "dense": top.dense, "fused": top.score,
                      "span_score": choice.score, "cover_top": coverage(parsed, [top.sentence], index.idf)})
        if conv is not None:
            conv.remember(q, rw, None if abstain else choice.text)
        out.append(ans)
    return out


def ask(index: Index, question: str, session: Conversation | None = None, **kw) -> Answer:
    return ask_batch(index, [question], [session], **kw)[0]
