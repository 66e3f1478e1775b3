"""Fit the reranker, the span scorer and the abstention model on a SQuAD 2.0 file, cross-validated by article.

Usage: python scripts/train_answer.py ../shared/data/squad/squad-v2.0-dev-half.json [--work DIR]
Writes qa/answer_model.json and prints held-out-article figures (never the training ones)."""
from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from qa.answer import MODEL_FILE, answer_text, linear, span_features  # noqa: E402
from qa.config import settings  # noqa: E402
from qa.embed import default_encoder  # noqa: E402
from qa.evaluate import _cached_index, squad_articles, squad_f1  # noqa: E402
from qa.match import question_words  # noqa: E402
from qa.pipeline import fused_hits, read_answer  # noqa: E402
from qa.rerank import candidate_features  # noqa: E402
from qa.spans import candidates  # noqa: E402

FOLDS = 4
# Read by the "not in the documents at all" rule, not by the model: on SQuAD a word the article lacks is
# mostly a paraphrase, and the model would learn to trust it.
RULE_ONLY = {"absent", "rarest_missing"}
N_SENTENCES = 5  # sentences whose spans train the span scorer; answers read settings().answer_sentences


def collect(path: Path, work: Path):
    """Per question: article number, gold texts (empty if unanswerable), index, parsed question, fused hits,
    and whether each hit holds the gold answer's start."""
    out = []
    enc = default_encoder()
    for ai, art in enumerate(squad_articles(path)):
        doc = work / (art["title"].replace("/", "_") + ".txt")
        if not doc.exists():
            doc.write_text(art["text"], encoding="utf-8")
        index = _cached_index([doc], work / f"index-{doc.stem}")
        for q, (parsed, hits) in zip(art["qs"], fused_hits(index, [q["question"] for q in art["qs"]], 40, enc)):
            holds = [any(h.sentence.start <= st < h.sentence.end for st, _ in q["spans"]) for h in hits]
            out.append((ai, [] if q["impossible"] else q["texts"], index, parsed, hits, holds))
        print(f"article {ai + 1}: {len(art['qs'])} questions", file=sys.stderr)
    return out


def span_rows(items):
    X, y, group = [], [], []
    for ai, gold, _, parsed, hits, _ in items:
        if not gold:
            continue
        qlem = question_words(parsed)
        top = hits[0].score
        for rank, h in enumerate([h for h in hits if h.sentence.kind == "sentence"][:N_SENTENCES]):
            for sp in candidates(h.sentence):
                f = span_features(parsed, h.sentence, sp, qlem, rank, h.score - top)
                if f["repeated"] >= 1.0:
                    continue
                X.append(f)
                y.append(max(squad_f1(answer_text(h.sentence, sp), g) for g in gold) >= 0.5)
                group.append(ai)
    return X, np.array(y), np.array(group)


def fit(X, y, C):
    vec = DictVectorizer()
    m = LogisticRegression(C=C, max_iter=2000).fit(vec.fit_transform(X), y)
    w = {name: float(c) for name, c in zip(vec.feature_names_, m.coef_[0]) if abs(c) > 1e-6}
    w["__bias__"] = float(m.intercept_[0])
    return w


def fit_standardized(X, y, C):
    """A logistic regression fitted on standardized features, its weights returned for the raw ones."""
    vec = DictVectorizer(sparse=False)
    A = vec.fit_transform(X)
    mu, sd = A.mean(0), A.std(0) + 1e-9
    m = LogisticRegression(C=C, max_iter=5000).fit((A - mu) / sd, y)
    coef = m.coef_[0] / sd
    w = {name: float(c) for name, c in zip(vec.feature_names_, coef)}
    w["__bias__"] = float(m.intercept_[0] - np.dot(coef, mu))
    return w


def fit_rerank(items, fold_of):
    """Reranker weights (all articles) and the items with hits reordered by held-out-article weights;
    prints held-out P@1 and MRR over the answerable questions."""
    feats = [candidate_features(index, parsed, hits) for _, _, index, parsed, hits, _ in items]

    def rows(keep):
        X = [f for it, fs in zip(items, feats) if it[1] and keep(it[0]) for f in fs]
        y = np.array([h for it in items if it[1] and keep(it[0]) for h in it[5]])
        return X, y

    reranked = list(items)
    for k in range(FOLDS):
        w = fit_standardized(*rows(lambda ai: fold_of[ai] != k), C=1.0)
        for i, (it, fs) in enumerate(zip(items, feats)):
            if fold_of[it[0]] == k:
                scored = sorted(((linear(w, f), h, held) for f, h, held in zip(fs, it[4], it[5])), key=lambda t: -t[0])
                reranked[i] = (*it[:4], [replace(h, score=s) for s, h, _ in scored], [held for *_, held in scored])
    ranks = [next((r for r, held in enumerate(it[5][:10]) if held), None) for it in reranked if it[1]]
    p1 = np.mean([r == 0 for r in ranks])
    mrr = np.mean([1 / (r + 1) if r is not None else 0.0 for r in ranks])
    print(f"held-out-article rerank: P@1 = {p1:.3f}, MRR = {mrr:.3f} over {len(ranks)} answerable")
    return fit_standardized(*rows(lambda ai: True), C=1.0), reranked, (p1, mrr)


def answer_all(items, span_w):
    """Answer every question with the given span weights: (answer, abstain features, F1 if answerable)."""
    rows = []
    for ai, gold, index, parsed, hits, _ in items:
        choice, _, feats = read_answer(index, parsed, hits, settings().answer_sentences, span_w)
        f1 = max((squad_f1(choice.text or "", g) for g in gold), default=None)
        rows.append((ai, feats, f1))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("squad", type=Path)
    ap.add_argument("--work", type=Path, default=Path("/tmp/squadwork"))
    ap.add_argument("--max-false-abstain", type=float, default=0.085)
    a = ap.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    items = collect(a.squad, a.work)
    fold_of = {ai: ai % FOLDS for ai in {it[0] for it in items}}
    rerank_w, items, (p1, mrr) = fit_rerank(items, fold_of)
    X, y, group = span_rows(items)
    held = []
    for k in range(FOLDS):
        train = np.array([fold_of[g] != k for g in group])
        w = fit([x for x, t in zip(X, train) if t], y[train], C=1.0)
        held += answer_all([it for it in items if fold_of[it[0]] == k], w)
    f1s = [f1 for _, _, f1 in held if f1 is not None]
    print(f"held-out-article span F1 (no abstention) = {np.mean(f1s):.3f} over {len(f1s)} answerable")
    # abstention, cross-validated by article on held-out span choices
    AX = [{k: v for k, v in f.items() if k not in RULE_ONLY} for _, f, _ in held]
    Ay = np.array([f1 is not None for _, _, f1 in held])
    Ag = np.array([ai for ai, _, _ in held])
    probs = np.zeros(len(AX))
    for k in range(FOLDS):
        tr = np.array([fold_of[g] != k for g in Ag])
        w = fit_standardized([x for x, t in zip(AX, tr) if t], Ay[tr], C=1.0)
        for i in np.where(~tr)[0]:
            z = w["__bias__"] + sum(w.get(n, 0.0) * v for n, v in AX[i].items())
            probs[i] = 1 / (1 + math.exp(-z))
    ans_p = np.sort(probs[Ay])
    threshold = float(ans_p[int(a.max_false_abstain * len(ans_p))])
    imp_abst = float(np.mean(probs[~Ay] < threshold))
    ans_abst = float(np.mean(probs[Ay] < threshold))
    f1_kept = np.mean([f1 if p >= threshold else 0.0 for (_, _, f1), p in zip(held, probs) if f1 is not None])
    print(f"held-out abstention: threshold {threshold:.3f}: unanswerable abstained {imp_abst:.3f}, "
          f"answerable abstained {ans_abst:.3f}, answer_F1 with abstention {f1_kept:.3f}")
    model = {"rerank": rerank_w, "span": fit(X, y, C=1.0), "abstain": fit_standardized(AX, Ay, C=1.0), "threshold": threshold,
             "trained_on": a.squad.name, "held_out": {"rerank_p1": round(float(p1), 4), "rerank_mrr": round(float(mrr), 4),
                                                     "span_f1": round(float(np.mean(f1s)), 4),
                                                     "abstain_unanswerable": round(imp_abst, 4),
                                                     "abstain_answerable": round(ans_abst, 4)}}
    MODEL_FILE.write_text(json.dumps(model, indent=1, sort_keys=True))
    print(f"wrote {MODEL_FILE}")


if __name__ == "__main__":
    main()
