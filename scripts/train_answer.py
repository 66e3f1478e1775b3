"""Fit the two small combiners over the reader's scores (reranker, confidence) on a SQuAD 2.0 file,
cross-validated by article.

Usage: python scripts/train_answer.py ../shared/data/squad/squad-v2.0-dev-half.json [--work DIR]
Writes qa/models/combiners.json and prints held-out-article figures (never the training ones): each
fold's questions are answered by the real reading stage (qa.read.reading.read_one) with weights fitted
on the other folds' articles. The neural reader itself never sees this file (scripts/train_reader.py).
"""
from __future__ import annotations

import argparse
import json
import pickle
import sys
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from qa.config import settings  # noqa: E402
from qa.embed import question_encoder  # noqa: E402
from qa.evaluate import _cached_index, squad_articles, squad_f1  # noqa: E402
from qa.pipeline import retrieve  # noqa: E402
from qa.read.combine import WEIGHTS_FILE, confidence_features, linear  # noqa: E402
from qa.read.reader import READER_FILE, default_reader, sha256  # noqa: E402
from qa.read.reading import Readings, candidate_rows, question_words, read_candidates, read_one  # noqa: E402
from qa.retrieve import surroundings  # noqa: E402
from qa.read.say import is_yes_no  # noqa: E402

FOLDS = 4


def collect(path: Path, work: Path, n_read: int, limit: int = 0):
    """Per question: article number, gold texts (empty if unanswerable), its surroundings, parsed question, fused
    hits, whether each hit holds the gold answer's start, and the reader's scores (cached per reader)."""
    # the readings follow the retrieval's candidate order, so the cache is per reader and question encoder
    cache = work / f"read-{sha256(READER_FILE)[:12]}-{type(question_encoder()).__name__}-{n_read}-{limit}.pkl"
    readings = pickle.loads(cache.read_bytes()) if cache.exists() else {}
    out = []
    enc, reader = question_encoder(), default_reader()
    for ai, art in enumerate(squad_articles(path)[: limit or None]):
        doc = work / (art["title"].replace("/", "_") + ".txt")
        if not doc.exists():
            doc.write_text(art["text"], encoding="utf-8")
        index = _cached_index([doc], work / f"index-{doc.stem}")
        parsed, hits = retrieve(index, [q["question"] for q in art["qs"]], 40, enc)
        near = surroundings(index, [question_words(p) for p in parsed], hits, n_read)
        if ai not in readings:
            readings[ai] = read_candidates(parsed, hits, near, n_read, reader)
        for q, p, hs, r, around in zip(art["qs"], parsed, hits, readings[ai], near):
            holds = [any(h.sentence.start <= st < h.sentence.end for st, _ in q["spans"]) for h in hs]
            out.append((ai, [] if q["impossible"] else q["texts"], around, p, hs, holds, r))
        print(f"article {ai + 1}: {len(art['qs'])} questions", file=sys.stderr, flush=True)
    cache.write_bytes(pickle.dumps(readings))
    return out


def standardized(X):
    """Feature dicts as a standardized matrix, with what maps weights on it back to the raw features."""
    vec = DictVectorizer(sparse=False)
    A = vec.fit_transform(X)
    mu, sd = A.mean(0), A.std(0) + 1e-9
    return (A - mu) / sd, (vec.feature_names_, mu, sd)


def raw_weights(coef, bias: float, scale) -> dict:
    """Weights fitted on standardized features, as weights (and "__bias__") for the raw ones."""
    names, mu, sd = scale
    coef = coef / sd
    w = {name: float(c) for name, c in zip(names, coef)}
    w["__bias__"] = float(bias - np.dot(coef, mu))
    return w


def fit_standardized(X, y, C=1.0):
    """A logistic regression fitted on standardized features, its weights returned for the raw ones."""
    A, scale = standardized(X)
    m = LogisticRegression(C=C, max_iter=5000).fit(A, y)
    return raw_weights(m.coef_[0], m.intercept_[0], scale)


def rows_of(it):
    _, _, _, parsed, hits, _, r = it
    return candidate_rows(parsed, hits[: len(r.answers)], r)[0]


def fit_rerank(items, keep, listwise=True, C=1.0):
    """Weights that put a candidate holding the answer first. Listwise (the default): a softmax over
    each answerable question's read candidates, fitted to give the ones that hold the answer the most
    mass (what P@1 and MRR reward); pointwise: a logistic regression over candidates one at a time."""
    X, y, groups = [], [], []
    for it in items:
        if it[1] and keep(it[0]):
            rows = rows_of(it)
            groups.append((len(X), len(X) + len(rows)))
            X += rows
            y += it[5][: len(rows)]
    if not listwise:
        return fit_standardized(X, np.array(y), C)
    from scipy.optimize import minimize

    A, scale = standardized(X)
    y = np.array(y, dtype=float)
    groups = [(a, b) for a, b in groups if y[a:b].any()]  # a question none of whose candidates holds the answer teaches nothing
    sizes = [b - a for a, b in groups]
    seg = np.repeat(np.arange(len(groups)), sizes)  # the question of each kept row
    first = np.cumsum([0] + sizes[:-1])  # where each question's rows start among the kept ones
    keep_rows = np.concatenate([np.arange(a, b) for a, b in groups])
    A, y = A[keep_rows], y[keep_rows]
    lam = 1.0 / (C * len(groups))

    def loss(w):
        z = A @ w
        e = np.exp(z - np.maximum.reduceat(z, first)[seg])
        tot = np.add.reduceat(e, first)
        pos = np.add.reduceat(e * y, first)
        f = -np.mean(np.log(pos / tot)) + lam * (w @ w) / 2
        p = e / tot[seg] - e * y / pos[seg]  # d(-log pos/tot)/dz
        return f, A.T @ p / len(groups) + lam * w

    w = minimize(loss, np.zeros(A.shape[1]), jac=True, method="L-BFGS-B").x
    return raw_weights(w, 0.0, scale)  # a bias would be the same for every candidate of a question


def fit_confidence(items, keep, rerank_w, label):
    X, y = [], []
    for it in items:
        if not keep(it[0]):
            continue
        rows = rows_of(it)
        scores = [linear(rerank_w, r) for r in rows]
        best = int(np.argmax(scores))
        X.append(confidence_features(rows, scores, best, it[3].qtype, is_yes_no(it[3].text)))
        y.append(bool(it[1]) and (label == "answerable" or it[5][best]))
    return fit_standardized(X, np.array(y))


def answer_fold(items, w):
    """Each question answered by the reading stage with weights w: (answerable, rank of the first
    source holding the answer, F1 of the answer, confidence)."""
    cfg = replace(settings(), abstain_below=-1.0)  # record every answer; abstention is applied afterwards
    out = []
    for ai, gold, near, parsed, hits, holds, r in items:
        hs = [replace(h) for h in hits]
        held = {id(h): x for h, x in zip(hs, holds)}
        res = read_one(near, parsed, hs, r, cfg, w)
        rank = next((k for k, h in enumerate(res.hits[:10]) if held[id(h)]), None)
        f1 = max((squad_f1(res.text or "", g) for g in gold), default=None)
        out.append((bool(gold), rank, f1, res.confidence, res.abstained))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("squad", type=Path)
    ap.add_argument("--work", type=Path, default=Path("/tmp/squadwork"))
    ap.add_argument("--max-false-abstain", type=float, default=0.08)
    ap.add_argument("--label", choices=("answerable", "right"), default="answerable",
                    help="confidence target: answerable, or answerable with the top candidate right")
    ap.add_argument("--limit-articles", type=int, default=0, help="only the first N articles (a quick check)")
    ap.add_argument("--read", type=int, default=0,
                    help="score as if the reader read only the first N candidates (N below the configured count)")
    ap.add_argument("--no-write", action="store_true", help="print the held-out figures only")
    ap.add_argument("--gold", type=Path, nargs="*", default=[],
                    help="gold files (docs.json beside them names their documents) whose answerable questions the "
                         "threshold must keep too: at most --max-false-abstain abstained on in each")
    ap.add_argument("--pointwise", action="store_true", help="fit the reranker one candidate at a time (as before)")
    a = ap.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    n_read = settings().read_candidates
    items = collect(a.squad, a.work, n_read, a.limit_articles)
    if 0 < a.read < n_read:
        n_read = a.read
        items = [(*it[:6], Readings(*(getattr(it[6], f.name)[:n_read] for f in fields(Readings)))) for it in items]
    fold_of = {ai: ai % FOLDS for ai in {it[0] for it in items}}
    held = []
    for k in range(FOLDS):
        keep = lambda ai: fold_of[ai] != k  # noqa: E731
        rw = fit_rerank(items, keep, not a.pointwise)
        cw = fit_confidence(items, keep, rw, a.label)
        held += answer_fold([it for it in items if fold_of[it[0]] == k], {"rerank": rw, "confidence": cw, "threshold": 0.0})
    ans = [h for h in held if h[0]]
    p1 = np.mean([r == 0 for _, r, *_ in ans])
    mrr = np.mean([1 / (r + 1) if r is not None else 0.0 for _, r, *_ in ans])
    f1 = np.mean([f for _, _, f, _, _ in ans])
    conf_ans = np.sort([c for _, _, _, c, x in ans if not x])
    threshold = float(conf_ans[int(a.max_false_abstain * len(ans))])
    # the "not in the documents" rule abstains on its own: count it as abstained at any threshold
    abst = lambda h: h[4] or h[3] < threshold  # noqa: E731
    imp = [h for h in held if not h[0]]
    imp_abst = float(np.mean([abst(h) for h in imp]))
    ans_abst = float(np.mean([abst(h) for h in ans]))
    f1_kept = float(np.mean([0.0 if abst(h) else h[2] for h in ans]))
    print(f"held-out-article ({FOLDS} folds, reader on {n_read} candidates): P@1 = {p1:.3f}, MRR = {mrr:.3f}, "
          f"span F1 (no abstention) = {f1:.3f} over {len(ans)} answerable")
    print(f"held-out abstention: threshold {threshold:.3f}: unanswerable abstained {imp_abst:.3f}, "
          f"answerable abstained {ans_abst:.3f}, answer_F1 with abstention {f1_kept:.3f}")
    rw = fit_rerank(items, lambda ai: True, not a.pointwise)
    cw = fit_confidence(items, lambda ai: True, rw, a.label)
    model = {"rerank": rw, "confidence": cw, "threshold": threshold, "trained_on": a.squad.name,
             "reader_sha256": sha256(READER_FILE), "confidence_label": a.label,
             "held_out": {"p1": round(float(p1), 4), "mrr": round(float(mrr), 4), "span_f1": round(float(f1), 4),
                          "answer_f1": round(f1_kept, 4), "abstain_unanswerable": round(imp_abst, 4),
                          "abstain_answerable": round(ans_abst, 4)}}
    if a.gold:
        model = with_gold_threshold(model, held, a)
    if a.no_write:
        return
    WEIGHTS_FILE.write_text(json.dumps(model, indent=1, sort_keys=True) + "\n")
    print(f"wrote {WEIGHTS_FILE}")


def gold_confidences(model: dict, gold: list[Path], work: Path) -> dict[str, list[tuple]]:
    """Per gold file: (answerable, confidence, abstained by a rule) of each question, answered with
    the weights fitted on the dev half (the gold files never fit a weight) and no threshold."""
    import os

    from qa.evaluate import eval_gold
    from qa.read import combine

    saved = WEIGHTS_FILE.read_text() if WEIGHTS_FILE.exists() else None
    WEIGHTS_FILE.write_text(json.dumps({**model, "threshold": -1.0}))
    combine.weights.cache_clear()
    os.environ["QA_ABSTAIN_BELOW"] = "-1"
    try:
        names = json.loads((gold[0].parent / "docs.json").read_text())
        out = {}
        for f in gold:
            docs = [(ROOT / d).resolve() for d in names[f.name]]  # docs.json's paths are the project's
            rows = eval_gold(f, docs, work / f"gold-{f.stem}")
            out[f.name] = [(r.answerable, r.confidence, r.abstained) for r in rows]
            print(f"{f.name}: {len(rows)} questions", file=sys.stderr, flush=True)
        return out
    finally:
        del os.environ["QA_ABSTAIN_BELOW"]
        if saved is not None:
            WEIGHTS_FILE.write_text(saved)
        combine.weights.cache_clear()


def with_gold_threshold(model: dict, held: list, a) -> dict:
    """The threshold that keeps at most --max-false-abstain of the answerable questions abstained on
    in every set at once (the dev half's held-out answers and each gold file), as high as that allows;
    reported held out by file too: each gold file's rate at the threshold the other sets choose."""
    gold = gold_confidences(model, a.gold, a.work)
    sets = {"dev half": [(h[0], h[3], h[4]) for h in held], **gold}

    def rate(rows, t, answerable):
        xs = [ab or c < t for ok, c, ab in rows if ok == answerable]
        return float(np.mean(xs)) if xs else 0.0

    def highest(names):
        ts = sorted({c for n in names for _, c, _ in sets[n]} | {0.0})
        ok = [t for t in ts if all(rate(sets[n], t, True) <= a.max_false_abstain for n in names)]
        return max(ok) if ok else 0.0

    for tt in (0.10, 0.13, 0.16, 0.20, 0.25, 0.30):  # the trade-off, for the record
        print(f"  at {tt:.2f}: " + "; ".join(f"{n} {rate(r, tt, True):.3f}/{rate(r, tt, False):.3f}" for n, r in sets.items())
              + " (answerable / unanswerable abstained)")
    t = highest(list(sets))
    print(f"threshold {t:.3f}: at most {a.max_false_abstain:.2f} of the answerable questions abstained on in every set")
    for n, rows in sets.items():
        print(f"  {n}: answerable abstained {rate(rows, t, True):.3f}, unanswerable abstained {rate(rows, t, False):.3f}")
    pooled = [r for n, rows in gold.items() for r in rows]
    print(f"  gold files together: unanswerable abstained {rate(pooled, t, False):.3f}")
    held_out = {}
    for n in gold:
        tn = highest([m for m in sets if m != n])
        held_out[n] = {"threshold": round(tn, 4), "answerable_abstained": round(rate(sets[n], tn, True), 4),
                       "unanswerable_abstained": round(rate(sets[n], tn, False), 4)}
        print(f"  held out {n}: threshold {tn:.3f} from the other sets: answerable abstained "
              f"{held_out[n]['answerable_abstained']:.3f}, unanswerable abstained {held_out[n]['unanswerable_abstained']:.3f}")
    model = dict(model, threshold=t)
    model["held_out"] = dict(model["held_out"], abstain_unanswerable=round(rate(sets["dev half"], t, False), 4),
                             abstain_answerable=round(rate(sets["dev half"], t, True), 4))
    model["threshold_fit"] = {"max_false_abstain": a.max_false_abstain, "gold": [f.name for f in a.gold],
                              "held_out_by_file": held_out}
    return model


if __name__ == "__main__":
    main()
