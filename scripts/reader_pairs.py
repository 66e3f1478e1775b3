"""The reader's training pairs, made from the SQuAD training files (scripts/train_reader.py trains on
them; scripts/train_reader_round2.py adds its negatives to them): the answer sentence with its
neighbours and span, and the negatives described in train_reader.py's docstring. Also the dev half read
as the bot reads it, for the held-out figures.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SQUAD = ROOT.parent / "shared" / "data" / "squad"
DEV_FILE = "squad-v2.0-dev-half.json"
SEED = 13
PAIRS_FILE = "pairs-full.json"


# ---------------------------------------------------------------- the dev half, read as the bot reads it
def squad_articles(path: Path):
    """(title, text, [(question, is_impossible, [(abs_start, text)], [(abs_start, text)] plausible)])."""
    from qa.evaluate import squad_articles as articles

    for art in articles(path):
        t = art["text"]
        yield art["title"], t, [(q["question"], q["impossible"], [(a, t[a:b]) for a, b in q["spans"]],
                                 [(a, t[a:b]) for a, b in q["plausible"]]) for q in art["qs"]]


def article_units(title: str, text: str):
    """The article's sentences as the bot splits them (qa.ingest)."""
    from qa.ingest import split_units
    from qa.nlp import english
    from qa.records import Document

    doc = Document(path=title, text=text, sha256=hashlib.sha256(text.encode()).hexdigest())
    units, _, _ = split_units(doc, english())
    return units


def holding(units, start: int, end: int):
    """Index of the unit that holds [start, end), or None."""
    for i, u in enumerate(units):
        if u.start <= start and end <= u.end:
            return i
    return None


# ---------------------------------------------------------------- the whole SQuAD training set
FULL_FILES = ["squad-v1.0-train.json", "squad-v2.0-train-part.json", "squad-v2.0-train-extra.json"]
# Negatives drawn for an answerable question (each with this chance): the question over the paragraph
# with its answer sentence removed (a neighbour read as the candidate, its context closing the gap), a
# top BM25 sentence of the article without the answer, and the question with a name or figure swapped.
P_REMOVED, P_HARD, P_SWAP = 0.22, 0.10, 0.08
NULLS = 3                                     # negatives of a real unanswerable question
CAPS = re.compile(r"\b(?:[A-Z][\w'’.-]*[a-z0-9][\w'’.-]*|[A-Z]{2,})(?:\s+(?:of\s+|the\s+|de\s+)?(?:[A-Z][\w'’.-]*[a-z0-9]|[A-Z]{2,}))*")
NUMBER = re.compile(r"\b\d{1,3}(?:,\d{3})+\b|\b\d+(?:\.\d+)?\b")


def sentence_splitter():
    """spaCy's rule-based sentencizer on a blank English pipeline: thousands of paragraphs a second,
    where the bot's parser-based split would take most of an hour over 19,000 paragraphs."""
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def full_articles():
    """(title, [paragraph text], [(question, paragraph index, is_impossible, [(start, text)], [(start, text)]
    plausible)]) over the three training files, duplicates dropped: an answerable question of a SQuAD 2.0
    file whose text v1.0 already asks of the same article is left out (v1.0 holds 42 of train-part's 43
    articles); every real unanswerable question is kept."""
    seen: set[tuple[str, str]] = set()
    key = lambda title, q: (title.lower(), " ".join(q.lower().split()))  # noqa: E731
    for name in FULL_FILES:
        for a in json.load(open(SQUAD / name, encoding="utf-8"))["data"]:
            paras, qas = [], []
            for p in a["paragraphs"]:
                k = len(paras)
                paras.append(p["context"])
                for q in p["qas"]:
                    impossible = bool(q.get("is_impossible")) or not q.get("answers")
                    if not impossible:
                        if key(a["title"], q["question"]) in seen:
                            continue
                        seen.add(key(a["title"], q["question"]))
                    qas.append((q["question"], k, impossible,
                                [(x["answer_start"], x["text"]) for x in q.get("answers", [])],
                                [(x["answer_start"], x["text"]) for x in q.get("plausible_answers", [])]))
            yield a["title"], paras, qas


def swapped(question: str, sentence: str, near: str, pool: dict[str, list[str]], rng) -> str | None:
    """The question with one name or figure that its answer sentence holds replaced by another of the
    same shape (a capitalised phrase of as many words, a number of the same kind) from the article that
    the sentence and its neighbours never mention: SQuAD 2.0's "entity swap", found by shape instead of
    by a tagger so that it runs over 90,000 questions in seconds."""
    found = []
    for m in CAPS.finditer(question):
        if m.start() == 0 and " " not in m.group():
            continue  # the question's first word is capitalised anyway
        if m.group() in sentence:
            found.append((m, "cap%d" % len(m.group().split())))
    for m in NUMBER.finditer(question):
        if m.group() in sentence:
            found.append((m, "year" if re.fullmatch(r"1\d{3}|20\d{2}", m.group()) else "num"))
    if not found:
        return None
    m, kind = rng.choice(found)
    low = near.lower()
    others = [x for x in pool.get(kind, ()) if x.lower() not in low and x.lower() not in question.lower()]
    if not others:
        return None
    return question[:m.start()] + rng.choice(others) + question[m.end():]


def full_pairs_for_article(title, paras, qas, rng, nlp):
    """Training pairs of one article: every answerable question's answer sentence (with its neighbours),
    negatives drawn as P_REMOVED, P_HARD and P_SWAP say, NULLS for each unanswerable one."""
    from qa.lexical import Lexical

    units = []   # (paragraph, start in the paragraph, text)
    for k, doc in enumerate(nlp.pipe(paras)):
        for s in doc.sents:
            t = s.text.strip()
            if t:
                units.append((k, paras[k].index(t, s.start_char), t))
    text = lambda j: units[j][2] if 0 <= j < len(units) else ""  # noqa: E731
    pair = lambda q, j, label=0, span=None, b=None, a=None: dict(  # noqa: E731
        q=q, b=text(j - 1) if b is None else b, c=text(j), a=text(j + 1) if a is None else a, label=label, span=span)
    lex = Lexical.build([u[2] for u in units])
    pool: dict[str, list[str]] = {}
    for _, _, t in units:
        for m in CAPS.finditer(t):
            pool.setdefault("cap%d" % len(m.group().split()), []).append(m.group())
        for m in NUMBER.finditer(t):
            pool.setdefault("year" if re.fullmatch(r"1\d{3}|20\d{2}", m.group()) else "num", []).append(m.group())
    pool = {k: sorted(set(v)) for k, v in pool.items()}

    def holding(k, start, end):
        for j, (pk, s, t) in enumerate(units):
            if pk == k and s <= start and end <= s + len(t):
                return j
        return None

    out = []
    for q, k, impossible, ans, plausible in qas:
        ranked = None
        def top(ok):
            nonlocal ranked
            if ranked is None:
                sc = lex.scores(q)
                ranked = sorted(range(len(units)), key=lambda j: -sc[j])[:6]
            return [j for j in ranked if ok(j)]
        if impossible:
            negs = [j for s, t in plausible[:1] for j in [holding(k, s, s + len(t))] if j is not None]
            mates = [j for j in range(len(units)) if units[j][0] == k and j not in negs]
            if mates:
                negs.append(rng.choice(mates))
            negs += top(lambda j: j not in negs)[: NULLS - len(negs)]
            out += [pair(q, j) for j in dict.fromkeys(negs)]
            continue
        s, t = ans[0]
        i = holding(k, s, s + len(t))
        if i is None:
            continue  # the answer crosses a sentence boundary
        off = s - units[i][1]
        out.append(pair(q, i, 1, (off, off + len(t))))
        golds = {x[1].lower() for x in ans}
        ok = lambda j: j != i and not any(g in units[j][2].lower() for g in golds)  # noqa: E731
        if rng.random() < P_REMOVED:
            # the paragraph without its answer sentence: a neighbour is the candidate, and its context
            # skips the removed sentence, so nothing the model reads holds the answer
            side = [j for j in (i - 1, i + 1) if 0 <= j < len(units) and units[j][0] == k and ok(j)]
            if side:
                j = rng.choice(side)
                out.append(pair(q, j, b=text(j - 1) if j < i else text(i - 1),
                                a=text(i + 1) if j < i else text(j + 1)))
                if any(g in (out[-1]["b"] + " " + out[-1]["a"]).lower() for g in golds):
                    out.pop()  # the answer's words also occur in what is left
        if rng.random() < P_HARD:
            hard = top(ok)[:3]
            if hard:
                out.append(pair(q, rng.choice(hard)))
        if rng.random() < P_SWAP:
            near = " ".join(text(j) for j in (i - 1, i, i + 1))
            q2 = swapped(q, units[i][2], near, pool, rng)
            if q2:
                out.append(pair(q2, i))
    return out


P_MATE = 0.15                                 # second stage: a paragraph-mate negative's chance
MATES_FILE = "pairs-mates.json"


def mate_pairs(questions: set[str], rng, nlp) -> list[dict]:
    """Paragraph-mate negatives: for an answerable question among `questions` (with chance P_MATE), another
    sentence of its paragraph without the answer, read with its real neighbours (which may hold the
    answer: the model must learn that the answer is in the candidate, not beside it). The first stage's
    pairs lacked them, and the answer sentence's AUC against its paragraph-mates fell from 0.938 to 0.853."""
    out = []
    for title, paras, qas in full_articles():
        units = None
        for q, k, impossible, ans, _ in qas:
            if impossible or q not in questions or rng.random() >= P_MATE:
                continue
            if units is None:
                units = [[s.text.strip() for s in doc.sents if s.text.strip()] for doc in nlp.pipe(paras)]
            sents = units[k]
            golds = {t.lower() for _, t in ans}
            mates = [j for j, t in enumerate(sents) if not any(g in t.lower() for g in golds)]
            if mates and len(sents) > 1:
                j = rng.choice(mates)
                out.append(dict(q=q, b=sents[j - 1] if j else "", c=sents[j], a=sents[j + 1] if j + 1 < len(sents) else "",
                                label=0, span=None))
    return out


def prepare(work: Path) -> list[dict]:
    """The pairs of the whole training set (FULL_FILES), cached in the work folder (a minute to make)."""
    cache = work / PAIRS_FILE
    if cache.exists():
        return json.loads(cache.read_text())
    rng, nlp = random.Random(SEED), sentence_splitter()
    pairs, t0 = [], time.time()
    for n, (title, paras, qas) in enumerate(full_articles()):
        pairs += full_pairs_for_article(title, paras, qas, rng, nlp)
        if n % 50 == 0:
            print(f"  {n} articles, {len(pairs):,} pairs, {time.time() - t0:.0f} s", flush=True)
    cache.write_text(json.dumps(pairs))
    return pairs
