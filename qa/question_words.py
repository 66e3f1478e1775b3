"""The words of a question tagged without spaCy: a small averaged-perceptron tagger and lexicon
distilled from spaCy's own analyses of the training questions (scripts/make_question_lexicon.py),
and date phrases found by pattern. Importing and loading spaCy costs about 2 s, most of a cold
`ask`; the reading of a question needs only its words' tags and lemmas."""
from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import ModelError

TAGGER = Path(__file__).parent / "models" / "question-tagger.json"
WEIGHTS = TAGGER.with_suffix(".npy")
WEIGHTS_SHA256 = "5aae4011adbd1640911dde0346fbc43742ac6662e4e5b6d022c81f441d295df9"
TAGGER_SHA256 = "68563349d12890b2a42e16a005954d44118d839bf79eb3a5c887e4409d744604"

# spaCy's tokenization of English, closely enough for questions: abbreviations, numbers with their
# separators, contractions split ("didn't" -> "did", "n't"), hyphens between letters split off.
TOKEN = re.compile(r"""
    (?:[A-Za-z]\.){2,}                      # U.S., e.g.
  | \d+(?:[.,:/]\d+)*(?:st|nd|rd|th|s)?     # 1,200  3.5  1990s  4th
  | [^\W\d_](?:[^\W_]|['\u2019](?![st]\b|re\b|ll\b|ve\b|d\b|m\b)[^\W\d_])*?(?=n['\u2019]t\b)  # do|n't
  | can(?=not\b)
  | (?<=can)not\b
  | n['\u2019]t\b
  | ['\u2019](?:s|re|ll|ve|d|m)\b
  | [^\W_](?:[^\W_]|\.(?=[^\W_]))*           # words, 0.5, www.x.com
  | \S
""", re.VERBOSE | re.IGNORECASE)
MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|"
          "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
ORDINAL = r"(?:first|second|third|fourth|1st|2nd|3rd|4th|last|final)"
DATE = re.compile(rf"""\b(?:
    (?:the\s+)?(?:early|late|mid|end\s+of|beginning\s+of|start\s+of)?\s*
    (?:{ORDINAL}\s+(?:fiscal\s+)?(?:quarter|half)(?:\s+of)?(?:\s+(?:fiscal\s+)?(?:year\s+)?\d{{4}})?
     | (?:(?:last|next|this|previous|the\s+past|the\s+next|the\s+last)\s+(?:\d+\s+)?(?:year|quarter|month|week|decade)s?)
     | (?:(?:{MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?)
     | (?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{MONTHS})(?:,?\s+\d{{4}})?)
     | (?:(?:{MONTHS})(?:\s+(?:of\s+)?\d{{4}})?)
     | (?:(?:fiscal\s+(?:year\s+)?|fy\s?|the\s+)?\d{{4}}(?:'?s)?(?![.,]\d))
     | (?:\d+\s+(?:years?|months?|weeks?|days?|decades?|centuries))
     | (?:q[1-4]|h[12])(?:\s+(?:of\s+)?\d{{4}})?
     | (?:today|yesterday|tomorrow)
    ))\b""", re.VERBOSE | re.IGNORECASE)


@dataclass
class Word:
    """The attributes of a spaCy token that the question reading uses."""

    text: str
    lemma_: str
    pos_: str
    tag_: str
    dep_: str
    is_stop: bool

    @property
    def lower_(self) -> str:
        return self.text.lower()

    @property
    def is_punct(self) -> bool:
        return self.pos_ == "PUNCT"

    @property
    def is_space(self) -> bool:
        return False


@dataclass
class Phrase:
    text: str
    label_: str


@dataclass
class TaggedQuestion:
    words: list[Word]
    ents: list[Phrase]

    def __iter__(self):
        return iter(self.words)


def _checked(path: Path, sha: str) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ModelError(f"the question tagger {path} is missing ({e.strerror}) - reinstall the project") from None
    if hashlib.sha256(data).hexdigest() != sha:
        raise ModelError(f"the question tagger {path} does not match its SHA-256 - reinstall the project")
    return data


@lru_cache(maxsize=1)
def tagger() -> dict:
    out = json.loads(_checked(TAGGER, TAGGER_SHA256))
    out["matrix"] = np.load(io.BytesIO(_checked(WEIGHTS, WEIGHTS_SHA256)))
    out["row"] = {f: i for i, f in enumerate(out["features"].split("\n"))}
    out["stop_words"] = set(out["stop_words"])
    for table in out["lemma"].values():
        table["index"] = set(table["index"])
    return out


def _norm(word: str) -> str:
    if "-" in word[1:]:
        return "!HYPHEN"
    if word.isdigit() and len(word) == 4:
        return "!YEAR"
    if word[:1].isdigit():
        return "!DIGITS"
    return word.lower()


def features(words: list[str], i: int, prev: str, prev2: str) -> list[str]:
    """The tagger's features of word i: the word, its affixes and shape, its neighbours, the two
    tags before it."""
    w = _norm(words[i])
    p1 = _norm(words[i - 1]) if i > 0 else "-START-"
    p2 = _norm(words[i - 2]) if i > 1 else "-START2-"
    n1 = _norm(words[i + 1]) if i + 1 < len(words) else "-END-"
    n2 = _norm(words[i + 2]) if i + 2 < len(words) else "-END2-"
    shape = ("X" if words[i][:1].isupper() else "x") + ("0" if i == 0 else "")
    return ["b", "w " + w, "s " + w[-3:], "p " + w[:1], "sh " + shape, "t " + prev, "tt " + prev + " " + prev2,
            "tw " + prev + " " + w, "pw " + p1, "ps " + p1[-3:], "p2 " + p2, "nw " + n1, "ns " + n1[-3:], "n2 " + n2]


def tag(question: str) -> TaggedQuestion:
    """The question's words with lemma, tags and stop-word flag, and its date phrases."""
    model = tagger()
    matrix, row, classes = model["matrix"], model["row"], model["classes"]
    texts = [m.group(0) for m in TOKEN.finditer(question)]
    words, prev, prev2 = [], "-START-", "-START2-"
    for i, text in enumerate(texts):
        rows = [r for r in (row.get(f) for f in features(texts, i, prev, prev2)) if r is not None]
        tag_ = classes[int(np.argmax(matrix[rows].sum(0, dtype=np.float32)))] if rows else "NN"
        low = text.lower().replace("\u2019", "'")
        known = model["analyses"].get(f"{low} {tag_}")
        lemma, pos = known or (None, model["tag_pos"].get(tag_, "X"))
        if lemma is None:
            lemma = low if pos not in ("NOUN", "VERB", "ADJ", "ADV") else _lemma(low, pos, tag_)
        words.append(Word(text, lemma, pos, tag_, "", low in model["stop_words"]))
        prev2, prev = prev, tag_
    _do_support(words, model)
    for w, nxt in zip(words, words[1:]):
        if w.pos_ in ("NOUN", "PROPN"):
            if nxt.pos_ in ("NOUN", "PROPN") and not nxt.text[:1].isdigit():
                w.dep_ = "compound"
            elif nxt.tag_ == "POS":
                w.dep_ = "poss"
    return TaggedQuestion(words, [Phrase(m.group(0).strip(), "DATE") for m in DATE.finditer(question) if m.group(0).strip()])


def _do_support(words: list[Word], model: dict) -> None:
    """After "do", "does" or "did" the question's verb stands bare after its subject ("Why did the
    mine on Redonda close?", "Which constituency does Chi Onwurah represent?"), where the tagger,
    reading left to right, often calls it a noun. Where no word after the auxiliary is tagged a verb,
    the last one that follows a noun or pronoun and may be a verb is retagged one."""
    k = next((i for i, w in enumerate(words) if w.lower_ in ("do", "does", "did")), None)
    if k is None or any(w.tag_.startswith("VB") or w.tag_ == "MD" for w in words[k + 1:]):
        return
    for j in range(len(words) - 1, k + 1, -1):
        w, before = words[j], words[j - 1]
        verb = model["analyses"].get(f"{w.lower_} VB")
        if w.tag_ in ("NN", "JJ") and before.pos_ in ("NOUN", "PROPN", "PRON") and verb:
            words[j] = Word(w.text, verb[0], "VERB", "VB", w.dep_, w.is_stop)
            return


def _lemma(low: str, pos: str, tag_: str) -> str:
    """spaCy's rule lemmatizer: a base form stays; else the suffix rules' forms that are known words,
    the exceptions first; else the first rule's form."""
    if tag_ in ("NN", "VB", "VBP", "JJ", "RB"):
        return low
    table = tagger()["lemma"][pos.lower()]
    forms, unknown = [], []
    for old, new in table["rules"]:
        if low.endswith(old):
            form = low[: len(low) - len(old)] + new
            if form:
                (forms if form in table["index"] or not form.isalpha() else unknown).append(form)
    forms = list(dict.fromkeys(forms))
    for form in table["exc"].get(low, []):
        if form not in forms:
            forms.insert(0, form)
    return (forms or unknown or [low])[0]
