"""One way in: ask(question) is ask_batch([question])[0], for the CLI, the chat and the server alike."""
from __future__ import annotations

from pathlib import Path

from .answer import abstain_features, choose_span, confidence, threshold
from .match import checks, coverage, missing, unmatched
from .config import Settings, settings
from .conversation import Conversation
from .errors import BadQuestion
from .index import Index, build, load
from .lookup import best_fact, say_fact
from .question import analyze_batch
from .question import Question
from .records import Answer, Hit
from .rerank import rerank
from .retrieve import retrieve_batch


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
    cutoff = threshold(cfg.abstain_below)
    rewritten = [c.rewrite(q) if c else q for q, c in zip(questions, sessions)]
    read = candidate_hits(index, rewritten, max(cfg.candidates, k or cfg.k), encoder)
    out = []
    for q, rw, (parsed, hits), conv in zip(questions, rewritten, read, sessions):
        fact = best_fact(parsed, index.facts, hits, index.dateline)
        choice, read_hits, feats = read_answer(index, parsed, hits, cfg.answer_sentences)
        conf = confidence(feats)
        unseen = feats["absent"] >= cfg.absent_abstain and feats["rarest_missing"] == 1.0
        if fact is not None and (fact.kind == "derived" or not unseen):
            out.append(_answer_from_fact(index, q, rw, parsed, fact, hits, k or cfg.k, conv))
            continue
        hits = read_hits
        abstain = choice.text is None or conf < cutoff or unseen
        ans = Answer(q, None if abstain else choice.text, abstain, conf, hits[: k or cfg.k], [], rw if rw != q else None, parsed.qtype,
                     feats)
        if conv is not None:
            conv.remember(q, rw, None if abstain else choice.text, parsed.qtype)
        out.append(ans)
    return out


def _answer_from_fact(index: Index, q: str, rw: str, parsed: Question, fact, hits: list[Hit], k: int, conv) -> Answer:
    """An answer read from a stored fact; its sentence is cited first."""
    text = say_fact(fact, parsed.qtype)
    first = next((h for h in hits if h.sentence.doc == fact.doc and h.sentence.start == fact.start), None)
    if first is None:
        sent = next(s for s in index.sentences if s.doc == fact.doc and s.start == fact.start)
        first = Hit(sent, hits[0].score if hits else 0.0)
    hits = [first] + [h for h in hits if h is not first]
    facts = [fact] + ([index.facts[i] for i in fact.derived_from] if fact.derived_from else [])
    if conv is not None:
        conv.remember(q, rw, text, parsed.qtype)
    return Answer(q, text, False, 0.9, hits[:k], facts, rw if rw != q else None, parsed.qtype, {"fact": fact.id})


def read_answer(index: Index, parsed: Question, hits: list[Hit], n_sentences: int, span_weights=None):
    """The best span, the hits with its sentence first, and the features the confidence is read from."""
    choice = choose_span(parsed, hits, n_sentences, span_weights)
    best = hits[0].score
    runner_up = hits[1].score if len(hits) > 1 else best - 6.0
    if choice.hit is not None:
        hits = [choice.hit] + [h for h in hits if h is not choice.hit]
    top = hits[0]
    around = [top.sentence, *index.neighbours(top.sentence)]
    feats = abstain_features(choice, top, coverage(parsed, around, index.idf),
                             coverage(parsed, [top.sentence], index.idf), parsed.qtype)
    feats.update(missing(parsed, around, index.idf))
    feats.update(checks(parsed, [top.sentence], parsed.text.split()))
    feats.update(unmatched(parsed, top.sentence, around, index.paragraph(top.sentence), index.idf))
    feats["margin"] = min(choice.margin, 5.0)
    feats["rr_top"] = max(best, -8.0) / 4  # the reranker's logit for its best sentence
    feats["rr_margin"] = min(best - runner_up, 6.0) / 4
    return choice, hits, feats


def fused_hits(index: Index, questions: list[str], n: int, encoder) -> list[tuple[Question, list[Hit]]]:
    """Each question read (answer type, words; typos corrected) and its n best sentences by fused score."""
    lexical = index.lexical[0]
    searched = [lexical.correct(q) for q in questions]
    return list(zip(analyze_batch(searched), retrieve_batch(index, searched, encoder.encode(searched), n)))


def candidate_hits(index: Index, questions: list[str], n: int, encoder) -> list[tuple[Question, list[Hit]]]:
    """Each question read and its n best sentences, fused then reranked."""
    return [(parsed, rerank(index, parsed, hits)) for parsed, hits in fused_hits(index, questions, n, encoder)]


def ask(index: Index, question: str, session: Conversation | None = None, **kw) -> Answer:
    return ask_batch(index, [question], [session], **kw)[0]
