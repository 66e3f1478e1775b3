"""The eval command: score the bot on a gold JSON-lines file or a SQuAD file, as ../shared/eval/score.py does."""
from __future__ import annotations

import hashlib
import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .conversation import Conversation
from .errors import BadDocument
from .build import build
from .index import live_generation
from .library import load
from .batch import CHUNK
from .collections import store_of
from .config import settings
from .pipeline import ask_batch, check_question, open_index
from . import postgres
from .store import is_database

SHORT_WORDS = 12


def norm(s: str) -> str:
    """The scorer's normalization: lower case, 1,000 -> 1000, only letters, digits, . % $ ' kept."""
    s = s.lower().replace("\u2019", "'").replace("\u2018", "'")
    s = re.sub(r"(?<=\d),(?=\d{3})", "", s)
    s = re.sub(r"[^a-z0-9.%$' ]+", " ", s)
    s = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", s)
    return " ".join(s.split())


def squad_tokens(s: str) -> list[str]:
    """SQuAD's answer normalization: lower case, no punctuation, no articles."""
    s = "".join(c for c in s.lower() if c.isalnum() or c.isspace())
    return [w for w in s.split() if w not in ("a", "an", "the")]


def squad_f1(pred: str, gold: str) -> float:
    """Token-overlap F1 = 2PR / (P + R) over SQuAD-normalized tokens."""
    p, g = squad_tokens(pred), squad_tokens(gold)
    if not p or not g:
        return float(p == g)
    common = sum(min(p.count(w), g.count(w)) for w in set(p))
    if common == 0:
        return 0.0
    prec, rec = common / len(p), common / len(g)
    return 2 * prec * rec / (prec + rec)


@dataclass
class Row:
    """One scored question: what was asked, what the bot said, and how it scored."""

    id: str
    group: str
    question: str
    answer: str | None
    abstained: bool
    confidence: float
    answerable: bool
    correct: float = 0.0      # gold: answer correct; squad: F1
    exact: float = 0.0        # gold: short; squad: EM
    rank: int | None = None   # rank of the first supporting source (0 = top), None if none
    extra: dict = field(default_factory=dict)


def _cached_index(docs: list[Path], folder: Path, progress=None):
    """The index of `docs`, built once: in the embedded `folder`, or, on PostgreSQL, in a collection of
    its own named by the documents (the store's default collection is never touched by an eval)."""
    cfg = settings()
    if is_database(cfg.store):
        key = "\n".join(sorted(str(Path(d).resolve()) for d in docs)) + "\n" + folder.name
        name = "eval-" + hashlib.sha256(key.encode()).hexdigest()[:16]
        if not postgres.has_collection(cfg.store, name):
            postgres.build([str(d) for d in docs], store_of(cfg.store, name), progress=progress)
        return open_index(collection=name, progress=progress)
    try:
        live_generation(folder)
    except Exception:
        build([str(d) for d in docs], folder, progress=progress)
    return load(folder, progress=progress)


def read_gold(path: Path) -> list[dict]:
    """The gold file's questions; a line that is not a question object is refused, naming the line."""
    gold = []
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except UnicodeDecodeError:
        raise BadDocument(f"{path}: not UTF-8 text; a gold file is JSON lines.") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            g = json.loads(line)
        except ValueError:
            raise BadDocument(f"{path} line {n}: not JSON; each line is an object with an id and a question.") from None
        if not isinstance(g, dict) or not isinstance(g.get("question"), str) or "id" not in g:
            raise BadDocument(f"{path} line {n}: each line is an object with an \"id\" and a \"question\".")
        gold.append(g)
    return gold


def eval_gold(gold_path: Path, docs: list[Path], work: Path, progress=None) -> list[Row]:
    gold = read_gold(gold_path)
    index = _cached_index(docs, work / "gold-index", progress)
    sessions: dict[str, Conversation] = {}
    free = [g for g in gold if "session" not in g]
    answers = dict(zip([g["id"] for g in free], ask_batch(index, [check_question(g["question"], 10**6) for g in free], k=10)))
    for g in gold:
        if "session" in g:
            conv = sessions.setdefault(g["session"], Conversation())
            answers[g["id"]] = ask_batch(index, [g["question"]], [conv], k=10)[0]
    rows = []
    for g in gold:
        a = answers[g["id"]]
        text = "" if a.abstained else (a.answer or "")
        r = Row(g["id"], g.get("session", ""), g["question"], a.answer, a.abstained, a.confidence, g.get("answerable", True))
        if r.answerable:
            if "answers_all" in g:
                good = not a.abstained and all(norm(x) in norm(text) for x in g["answers_all"])
            else:
                good = not a.abstained and any(norm(x) in norm(text) for x in g.get("answers", []))
            r.correct, r.exact = float(good), float(good and len(text.split()) <= SHORT_WORDS)
            r.rank = next((i for i, h in enumerate(a.hits) if any(norm(s) in norm(h.sentence.text) for s in g.get("support", []))), None)
        rows.append(r)
    return rows


def squad_articles(path: Path) -> list[dict]:
    """Each article as one text (paragraphs joined by a blank line) with gold character spans."""
    try:
        data = json.load(open(path, encoding="utf-8"))["data"]
    except (ValueError, KeyError, TypeError):
        raise BadDocument(f"{path}: not a SQuAD file (a JSON object whose \"data\" lists articles).") from None
    arts = []
    for a in data:
        text, qs = "", []
        for p in a["paragraphs"]:
            if text:
                text += "\n\n"
            off = len(text)
            text += p["context"]
            for q in p["qas"]:
                spans = [(off + x["answer_start"], off + x["answer_start"] + len(x["text"])) for x in q.get("answers", [])]
                plausible = [(off + x["answer_start"], off + x["answer_start"] + len(x["text"])) for x in q.get("plausible_answers", [])]
                qs.append({"id": q["id"], "question": q["question"], "spans": spans, "plausible": plausible,
                           "texts": [x["text"] for x in q.get("answers", [])],
                           "impossible": bool(q.get("is_impossible")) or not spans})
        arts.append({"title": a["title"], "text": text, "qs": qs})
    return arts


def eval_squad(path: Path, work: Path, pooled: bool = False, limit: int = 0, progress=None) -> list[Row]:
    arts = squad_articles(path)[: limit or None]
    for art in arts:
        art["doc"] = work / (re.sub(r"[^A-Za-z0-9_.-]+", "_", art["title"]) + ".txt")
        if not art["doc"].exists() or art["doc"].read_text(encoding="utf-8") != art["text"]:
            art["doc"].write_text(art["text"], encoding="utf-8")
    groups = [arts] if pooled else [[a] for a in arts]
    rows = []
    for gi, group in enumerate(groups):
        if progress:
            progress("articles", gi, len(groups))
        name = "pooled" if pooled else group[0]["doc"].stem
        index = _cached_index([a["doc"] for a in group], work / f"index-{name}")
        qs = [(a, q) for a in group for q in a["qs"]]
        answers = []
        for i in range(0, len(qs), CHUNK):  # the batch command's chunks, so that figures agree exactly
            answers += ask_batch(index, [check_question(q["question"], 10**6) for _, q in qs[i:i + CHUNK]], k=10)
        for (art, q), a in zip(qs, answers):
            said = "" if a.abstained else (a.answer or "")
            r = Row(q["id"], art["title"], q["question"], a.answer, a.abstained, a.confidence, not q["impossible"])
            if r.answerable:
                r.exact = max(float(squad_tokens(said) == squad_tokens(t)) for t in q["texts"])
                r.correct = max(squad_f1(said, t) for t in q["texts"])
                r.rank = next((i for i, h in enumerate(a.hits[:10]) if Path(h.sentence.doc).name == art["doc"].name
                               and any(h.sentence.start <= st < h.sentence.end for st, _ in q["spans"])), None)
                r.extra["f1_raw"] = max(squad_f1(a.answer or "", t) for t in q["texts"])
            r.extra["features"] = a.features
            r.extra["qtype"] = a.qtype
            rows.append(r)
    if progress:
        progress("articles", len(groups), len(groups))
    return rows


def summary_squad(rows: list[Row], mode: str) -> str:
    ans = [r for r in rows if r.answerable]
    imp = [r for r in rows if not r.answerable]
    n = max(len(ans), 1)
    p1 = sum(r.rank == 0 for r in ans) / n
    mrr = sum(1 / (r.rank + 1) for r in ans if r.rank is not None) / n
    r5 = sum(r.rank is not None and r.rank < 5 for r in ans) / n
    line = (f"squad[{mode}]: P@1={p1:.3f} MRR={mrr:.3f} R@5={r5:.3f} answer_EM={sum(r.exact for r in ans) / n:.3f}"
            f" answer_F1={sum(r.correct for r in ans) / n:.3f}")
    if imp:
        line += (f" abstain_on_unanswerable={sum(r.abstained for r in imp) / len(imp):.3f}"
                 f" abstain_on_answerable={sum(r.abstained for r in ans) / n:.3f}")
    return line


def summary_gold(rows: list[Row]) -> str:
    ans = [r for r in rows if r.answerable]
    imp = [r for r in rows if not r.answerable]
    n = max(len(ans), 1)
    return (f"gold: answer_acc={sum(r.correct for r in ans) / n:.3f} short_acc={sum(r.exact for r in ans) / n:.3f}"
            f" support_at1={sum(r.rank == 0 for r in ans) / n:.3f}"
            f" abstain_acc={sum(r.abstained for r in imp) / max(len(imp), 1):.3f} questions={len(rows)}")


def reliability(rows: list[Row], bins: int = 10) -> list[tuple[float, float, int, float]]:
    """Per confidence bin [lo, hi): (lo, hi, count, share right). Right = answerable and F1 >= 0.5 /
    correct, for answered questions; unanswerable questions are right only when abstained."""
    out = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        sel = [r for r in rows if lo <= r.confidence < hi or (b == bins - 1 and r.confidence == 1.0)]
        right = sum((r.answerable and r.correct >= 0.5) for r in sel)
        out.append((lo, hi, len(sel), right / len(sel) if sel else 0.0))
    return out


def temp_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="qa-eval-"))


def run_eval(file: Path, docs: list[Path], pooled: bool, limit: int, plot: Path | None, progress=None) -> dict:
    """Score a gold JSON-lines file or a SQuAD file; the figures, per-group rows and the reliability table."""
    work = temp_workdir()
    if file.suffix == ".jsonl":
        rows = eval_gold(file, docs, work, progress)
        summary = summary_gold(rows)
    else:
        rows = eval_squad(file, work, pooled, limit, progress)
        summary = summary_squad(rows, "pooled" if pooled else "per-article")
    groups: dict[str, list[Row]] = {}
    for r in rows:
        groups.setdefault(r.group or "-", []).append(r)
    table = [{"group": g, "questions": len(rs), "answered": sum(not r.abstained for r in rs),
              "top1": sum(r.rank == 0 for r in rs if r.answerable) / max(sum(r.answerable for r in rs), 1),
              "score": sum(r.correct for r in rs if r.answerable) / max(sum(r.answerable for r in rs), 1)} for g, rs in groups.items()]
    bins = reliability(rows)
    if plot:
        reliability_plot(bins, plot)
    return {"summary": summary, "groups": table,
            "reliability": [{"from": lo, "to": hi, "questions": n, "right": round(right, 3)} for lo, hi, n, right in bins]}


def reliability_plot(bins, path: Path) -> None:
    """How often answers are right at each confidence: bars against the diagonal."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    mids = [(lo + hi) / 2 for lo, hi, _, _ in bins]
    ax.bar(mids, [r for *_, r in bins], width=0.09, label="share right")
    ax.plot([0, 1], [0, 1], "k--", label="perfect calibration")
    for m, (_, _, n, r) in zip(mids, bins):
        ax.text(m, r + 0.02, str(n), ha="center", fontsize=7)
    ax.set_xlabel("confidence")
    ax.set_ylabel("answers right (F1 >= 0.5 / correct)")
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
