"""The reader, round two: go on from the shipped reader with constraint negatives, and never lose progress.

    .venv/bin/python scripts/train_reader_round2.py --minutes 120 --lr 3e-5 --freeze-layers 0

- State lives outside the checkout (default ~/.cache/qa-bot/reader-round2/, or $QA_TRAIN_DIR): a
  checkpoint every --save-every minutes; the same command resumes it, in this session or a later one on
  the same machine. Where there is no checkpoint, training starts from the weights last shipped
  (qa/models/reader-int8.onnx read back to float weights: `--check-start` measures that this start
  scores what the shipped file does), so a lost folder costs at most the stage since the last shipped reader.
- Data: every pair of the first pass (scripts/train_reader.py's generator, the same seed), the
  paragraph-mate negatives for every answerable question, and constraint negatives
  (scripts/constraint_negatives.py): the question with a year, quarter, month, ordinal, figure, person,
  role, organization or place swapped for another the paragraph mentions elsewhere, asked of the answer
  sentence (no answer there). Shuffled, length-bucketed batches; the learning rate decays over
  --minutes of training time (the machine is shared; a stage must end when planned).
- A stage that ends is exported (ONNX int8), measured on the held-out dev half beside the shipped file
  in the same run, and shipped to qa/models/ only if it beats it (--no-ship to only measure).
- `--slice-steps N`: the frozen-against-unfrozen measurement: N steps from the shipped start with the
  lowest 2 layers frozen and with every layer trainable, each measured on the held-out questions.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import constraint_negatives as cn  # noqa: E402
import train_reader as tr  # noqa: E402

ROOT = tr.ROOT
WORK = Path(os.environ.get("QA_TRAIN_DIR", Path.home() / ".cache" / "qa-bot" / "reader-round2"))
P_CONSTRAINT = 0.35                           # an answerable question's chance of a constraint negative
CONSTRAINT_FILE = "pairs-constraint.json"
ALL_MATES_FILE = "pairs-mates-all.json"


def shipped_state(path: Path = None) -> dict:
    """The shipped int8 reader read back to float weights, as a state dict of make_model()'s Reader:
    (q - zero point) x scale, per output channel; a MatMul's weight is the Linear's transposed."""
    import numpy as np
    import onnx
    import torch
    from onnx import numpy_helper

    from qa.read.reader import READER_FILE

    m = onnx.load(str(path or READER_FILE))
    init = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    out = {k: v for k, v in init.items() if v.dtype == np.float32 and not k.endswith("_scale")}

    def deq(base):
        return (init[base + "_quantized"].astype(np.float32) - init[base + "_zero_point"].astype(np.float32)) * init[base + "_scale"]

    for k in init:
        if k.endswith("_quantized") and k.startswith("bert.embeddings."):
            out[k[: -len("_quantized")]] = deq(k[: -len("_quantized")])
    for node in m.graph.node:
        if node.op_type == "MatMulInteger":
            w = node.input[1][: -len("_quantized")]
            if w.endswith("weight_Transposed"):
                name = w[: -len("_Transposed")]
            else:  # '/bert/encoder/layer.0/attention/self/query/MatMul_output_0_...' names its Linear
                name = node.output[0].lstrip("/").split("/MatMul")[0].replace("/", ".") + ".weight"
            out[name] = deq(w).T
    return {k: torch.from_numpy(np.array(v)) for k, v in out.items()}


def shipped_model():
    model = tr.make_model()
    state = shipped_state()
    missing = set(model.state_dict()) - set(state) - {"bert.embeddings.position_ids"}
    if missing:
        raise SystemExit(f"the shipped reader lacks weights for {sorted(missing)[:3]}...")
    model.load_state_dict(state, strict=False)
    return model


def entity_tagger():
    """spaCy's small English model with only its entity recogniser (persons, organizations, places)."""
    from qa.nlp import english

    nlp = english()
    nlp.select_pipes(enable=[n for n in ("tok2vec", "ner") if n in nlp.pipe_names])
    return nlp


def constraint_pairs(questions: set[str], rng, splitter, tagger) -> tuple[list[dict], dict]:
    """Constraint negatives for answerable questions among `questions` (each with chance P_CONSTRAINT):
    (pairs, count by kind)."""
    out, kinds = [], {}
    t0 = time.time()
    for n, (title, paras, qas) in enumerate(tr.full_articles()):
        chosen = [x for x in qas if not x[2] and x[0] in questions and rng.random() < P_CONSTRAINT]
        if not chosen:
            continue
        sents = [[s.text.strip() for s in doc.sents if s.text.strip()] for doc in splitter.pipe(paras)]
        tagged = {}
        for q, k, _, ans, _ in chosen:
            s, t = ans[0]
            para = paras[k]
            i = next((j for j, x in enumerate(sents[k]) if t in x and para.find(x) <= s < para.find(x) + len(x)), None)
            if i is None:
                continue
            if k not in tagged:
                tagged[k] = [(x, [(e.start_char, e.end_char, e.label_) for e in d.ents]) for x, d in zip(sents[k], tagger.pipe(sents[k]))]
            window = " ".join(sents[k][max(0, i - 1): i + 2])
            elsewhere = [tagged[k][j] for j in range(len(sents[k])) if abs(j - i) > 1]
            if not elsewhere:
                continue
            qd = tagger(q)
            got = cn.constraint_swap(q, [(e.start_char, e.end_char, e.label_) for e in qd.ents], window, elsewhere, rng)
            if got:
                kind, q2 = got
                kinds[kind] = kinds.get(kind, 0) + 1
                x = sents[k]
                out.append(dict(q=q2, b=x[i - 1] if i else "", c=x[i], a=x[i + 1] if i + 1 < len(x) else "",
                                label=0, span=None, kind=kind))
        if n % 50 == 0:
            print(f"  constraint negatives: {n} articles, {len(out):,} pairs, {time.time() - t0:.0f} s", flush=True)
    return out, kinds


def stage_pairs(work: Path) -> tuple[list[dict], dict]:
    """The round's pairs (cached in the work folder): the first pass, paragraph-mates for every answerable
    question, constraint negatives."""
    pairs = tr.prepare(work)
    questions = {p["q"] for p in pairs if p["label"]}
    mates_file, cons_file = work / ALL_MATES_FILE, work / CONSTRAINT_FILE
    if not mates_file.exists():
        mates_file.write_text(json.dumps(tr.mate_pairs(questions, random.Random(tr.SEED + 1), tr.sentence_splitter())))
    if not cons_file.exists():
        cons, kinds = constraint_pairs(questions, random.Random(tr.SEED + 2), tr.sentence_splitter(), entity_tagger())
        cons_file.write_text(json.dumps({"pairs": cons, "kinds": kinds}))
    mates = json.loads(mates_file.read_text())
    cons = json.loads(cons_file.read_text())
    info = {"first_pass": len(pairs), "mates": len(mates), "constraint": len(cons["pairs"]), "constraint_kinds": cons["kinds"]}
    return pairs + mates + cons["pairs"], info


def freeze(model, layers: int) -> None:
    if layers:
        for p in (p for m in [model.bert.embeddings, *model.bert.encoder.layer[:layers]] for p in m.parameters()):
            p.requires_grad_(False)


def run_stage(args, work: Path):
    """Train (or resume) the stage; return (model, state)."""
    import torch
    from tqdm import tqdm

    from qa.read.reader_input import tokenizer

    torch.manual_seed(tr.SEED)
    torch.set_num_threads(args.threads)
    pairs, info = stage_pairs(work)
    print(f"{len(pairs):,} pairs: {info}", flush=True)
    tok = tokenizer()
    ckpt = work / "checkpoint.pt"
    model = shipped_model() if not ckpt.exists() else tr.make_model()
    freeze(model, args.freeze_layers)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.01)
    if ckpt.exists():
        saved = torch.load(ckpt, weights_only=False)
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["opt"])
        st = saved["state"]
        print(f"resumed from {ckpt}: step {st['steps']}, {st['trained_s'] / 60:.1f} of {st['minutes']} min", flush=True)
    else:
        st = {"steps": 0, "trained_s": 0.0, "minutes": args.minutes, "lr": args.lr, "freeze_layers": args.freeze_layers,
              "start": "shipped reader-int8.onnx read back to float", "data": info, "batch": args.batch}
        print(f"no checkpoint in {work}: starting from the shipped reader", flush=True)
    st["minutes"] = max(st["minutes"], args.minutes)   # a longer budget extends a stopped stage
    plan = tr.batches(pairs, args.batch, random.Random(tr.SEED + 200))
    budget, lr, warm = st["minutes"] * 60, st["lr"], 50
    print(f"stage: {len(plan):,} batches of {args.batch}, peak lr {lr}, {st['minutes']} min of training; "
          f"resume with the same command (state in {work})", flush=True)
    model.train()
    last = time.time()
    bar = tqdm(total=len(plan), initial=st["steps"], desc="reader round 2", unit="step", mininterval=30)
    ema = None
    stop = min(len(plan), args.max_steps or len(plan))
    while st["trained_s"] < budget and st["steps"] < stop:
        t0 = time.time()
        for g in opt.param_groups:
            g["lr"] = lr * min((st["steps"] + 1) / warm, max(0.0, 1 - st["trained_s"] / budget))
        loss = tr.step_loss(model, tr.tensors(pairs, plan[st["steps"]], tok))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad()
        st["steps"] += 1
        st["trained_s"] += time.time() - t0
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        bar.update(1)
        bar.set_postfix(loss=f"{ema:.3f}", min=f"{st['trained_s'] / 60:.0f}")
        done = st["trained_s"] >= budget or st["steps"] >= stop
        if time.time() - last > args.save_every * 60 or done:
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": st}, work / "checkpoint.tmp")
            os.replace(work / "checkpoint.tmp", ckpt)
            last = time.time()
            bar.write(f"checkpoint: step {st['steps']} of {len(plan)}, {st['trained_s'] / 60:.1f} min, in {ckpt}; "
                      "the same command resumes it")
    bar.close()
    st["pairs_seen"] = min(len(pairs), st["steps"] * args.batch)
    return model, st


def constraint_held_out(onnx_path: Path, n_questions: int = 600) -> dict:
    """Per kind of constraint, on dev-half questions: AUC of span-vs-no-answer, the question against its
    constraint-swapped self, both asked of the answer sentence (what a reader must tell apart when the
    question names another year, person or role than the passage)."""
    import numpy as np

    from qa.nlp import english
    from qa.read.reader import Reader

    reader, rng, nlp = Reader(onnx_path, check=False), random.Random(tr.SEED), english()
    items = []
    for title, text, qas in tr.squad_articles(tr.SQUAD / tr.DEV_FILE):
        units = tr.article_units(title, text)
        for q, impossible, ans, _ in qas:
            if impossible or not ans:
                continue
            i = tr.holding(units, ans[0][0], ans[0][0] + len(ans[0][1]))
            if i is None:
                continue
            u = units[i]
            rel = lambda x: [(a - x.start, b - x.start, lab) for a, b, lab in x.entities]  # noqa: E731
            window = " ".join(x.text for x in units[max(0, i - 1): i + 2])
            elsewhere = [(x.text, rel(x)) for j, x in enumerate(units) if x.paragraph == u.paragraph and abs(j - i) > 1]
            got = cn.constraint_swap(q, [(e.start_char, e.end_char, e.label_) for e in nlp(q).ents], window, elsewhere, rng) if elsewhere else None
            if got:
                items.append((got[0], q, got[1], units[i - 1].text if i else "", u.text, units[i + 1].text if i + 1 < len(units) else ""))
    rng.shuffle(items)
    items = items[:n_questions]
    reads = reader.read([x[1] for x in items] + [x[2] for x in items], [x[4] for x in items] * 2,
                        [x[3] for x in items] * 2, [x[5] for x in items] * 2)
    pos = np.array([r.span - r.null for r in reads[: len(items)]])
    neg = np.array([r.span - r.null for r in reads[len(items):]])
    out = {}
    for kind in sorted({x[0] for x in items}) + ["all"]:
        k = np.array([kind in ("all", x[0]) for x in items])
        if k.sum() >= 10:
            out[kind] = {"n": int(k.sum()), "auc": round(float((pos[k][:, None] > neg[k][None, :]).mean()), 4),
                         "pair_margin_lower": round(float((neg[k] < pos[k]).mean()), 4)}
    return out


def figures_of(onnx_path: Path, n: int) -> dict:
    return {**tr.held_out(onnx_path, n), "constraint": constraint_held_out(onnx_path, n)}


def beats(new: dict, old: dict) -> bool:
    """Ship only a reader better on the held-out questions: the sum of span F1, AUC answers and AUC
    unanswerable higher, none of them lower by more than 0.005."""
    keys = ("span_f1", "auc_answers", "auc_unanswerable")
    return sum(new[k] for k in keys) > sum(old[k] for k in keys) and all(new[k] >= old[k] - 0.005 for k in keys)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=WORK)
    ap.add_argument("--minutes", type=float, default=120, help="training time of the stage (the lr decays over it)")
    ap.add_argument("--lr", type=float, default=3e-5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--freeze-layers", type=int, default=0)
    ap.add_argument("--save-every", type=float, default=5)
    ap.add_argument("--held-out", type=int, default=600)
    ap.add_argument("--no-ship", action="store_true")
    ap.add_argument("--max-steps", type=int, default=None, help="stop after this many steps (a slice)")
    ap.add_argument("--check-start", action="store_true", help="held-out figures of the float start beside the shipped file")
    ap.add_argument("--prepare-only", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args.work.mkdir(parents=True, exist_ok=True)
    from qa.read.reader import READER_FILE

    if args.prepare_only:
        print(json.dumps(stage_pairs(args.work)[1]), flush=True)
        return
    if args.check_start:
        (args.work / "start").mkdir(exist_ok=True)
        fp32, _ = tr.export(shipped_model(), args.work / "start")
        print(json.dumps({"float start": figures_of(fp32, args.held_out), "shipped": figures_of(READER_FILE, args.held_out)}), flush=True)
        return
    model, st = run_stage(args, args.work)
    out = args.work / f"stage-{st['steps']}"
    out.mkdir(exist_ok=True)
    _, int8 = tr.export(model, out)
    figures = {"new": figures_of(int8, args.held_out), "shipped": figures_of(READER_FILE, args.held_out)}
    print(json.dumps(figures), flush=True)
    record = {"round2": st, "figures": figures}
    (out / "figures.json").write_text(json.dumps(record, indent=1))
    if args.no_ship or not beats(figures["new"], figures["shipped"]):
        print(f"not shipped ({'--no-ship' if args.no_ship else 'it does not beat the shipped reader'}): {int8}", flush=True)
        return
    import shutil

    from qa.read.reader import READER_CARD, sha256

    shutil.copyfile(int8, READER_FILE)
    card = json.loads(READER_CARD.read_text())
    card.update(sha256=sha256(READER_FILE), round2=record)
    READER_CARD.write_text(json.dumps(card, indent=1) + "\n")
    print(f"shipped {READER_FILE} ({READER_FILE.stat().st_size / 1e6:.1f} MB); update READER.md with {out / 'figures.json'}", flush=True)


if __name__ == "__main__":
    main()
