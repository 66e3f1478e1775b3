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
import json
import math
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MAX_ANSWER_TOKENS = 30
# the pairs; the round-two script reads the dev half and the article helpers from here too
from reader_pairs import (  # noqa: E402,F401
    DEV_FILE, MATES_FILE, NULLS, P_HARD, P_REMOVED, P_SWAP, SEED, SQUAD, article_units, full_articles, holding,
    mate_pairs, prepare, sentence_splitter, squad_articles,
)
from reader_ship import export, held_out, install, write_card  # noqa: E402,F401


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


if __name__ == "__main__":
    main()
