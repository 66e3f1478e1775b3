"""The neural reader: the project's fine-tuned MiniLM, run with onnxruntime (never torch).

For each (question, candidate sentence with neighbours) it gives the best answer span inside the
candidate, that span's score (start logit + end logit), and the "this passage answers" logit.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..embed import Lanes, Once, sha256
from ..errors import ModelError
from .reader_input import build_inputs, pad

MODELS = Path(__file__).resolve().parent.parent / "models"
READER_FILE = MODELS / "reader-int8.onnx"
READER_CARD = MODELS / "reader.json"   # {"sha256": ..., ...}: the checksum checked at load
MAX_ANSWER_TOKENS = 30
N_BEST = 5


@dataclass
class Reading:
    """What the reader makes of one candidate: the best span (character offsets in the candidate
    sentence, None when it reads nothing) and its score (start + end logits), the no-answer score
    (start + end at [CLS]), and the passage's "answers the question" logit."""

    start: int | None
    end: int | None
    text: str
    span: float
    answers: float
    null: float = 0.0
    alternatives: list[tuple[int, int, float]] = field(default_factory=list)  # the n best spans, best first



def best_spans(start: np.ndarray, end: np.ndarray, first: int, n: int, k: int = N_BEST) -> list[tuple[int, int, float]]:
    """The k best (i, j, start[i] + end[j]) with i <= j < i + 30, positions first..first+n-1, best first."""
    s = start[first: first + n]
    e = end[first: first + n]
    grid = s[:, None] + e[None, :]
    i, j = np.indices(grid.shape)
    grid = np.where((j >= i) & (j - i < MAX_ANSWER_TOKENS), grid, -np.inf).ravel()
    k = min(k, int(np.isfinite(grid).sum()))
    top = np.argpartition(-grid, k - 1)[:k]
    top = top[np.argsort(-grid[top])]
    return [(*divmod(int(f), n), float(grid[f])) for f in top]


class Reader:
    """The ONNX reader, loaded once; `read` takes parallel lists of questions, candidates and neighbours.

    It runs on `lanes` one-thread sessions side by side (`Lanes`), which take a call's pairs, longest
    first, whenever they are free (measured on 8 pairs: 97-109 ms against 120-142 ms for one
    two-thread session)."""

    def __init__(self, path: Path = READER_FILE, check: bool = True, lanes: int = 2):
        if not path.is_file():
            raise ModelError(f"the reader model is missing at {path} - reinstall the project (pip install -e .)")
        want = None
        if check:
            want = json.loads(READER_CARD.read_text())["sha256"]
            if sha256(path) != want:
                raise ModelError(f"the reader model at {path} does not match its recorded SHA-256 - reinstall the project")
        self._lanes = Lanes(path, lanes, want, "reader")

    def read(self, questions: list[str], candidates: list[str], before: list[str], after: list[str],
             batch: int = 1) -> list[Reading]:
        """One pair at a time by default: the int8 model quantizes its activations with a range taken
        over the whole batch (padding included), so a pair read in a batch scores differently with
        different batch-mates; alone, it always scores the same (and, unpadded, is faster on CPU)."""
        inputs = build_inputs(questions, candidates, before, after)
        order = sorted(range(len(inputs)), key=lambda i: -len(inputs[i].ids))  # longest first
        parts = [order[k:k + batch] for k in range(0, len(order), batch)]
        outputs = self._lanes.run(parts, lambda session, part: self._pass(session, [inputs[i] for i in part]))
        result: dict[int, Reading] = {}
        for part, (start, end, answers) in outputs:
            for r, i in enumerate(part):
                x = inputs[i]
                null = float(start[r][0] + end[r][0])
                if not x.offsets:
                    result[i] = Reading(None, None, "", -20.0, float(answers[r]), null)
                    continue
                spans = [(x.offsets[a][0], x.offsets[b][1], sc) for a, b, sc in best_spans(start[r], end[r], x.first, len(x.offsets))]
                cs, ce, score = spans[0]
                result[i] = Reading(cs, ce, candidates[i][cs:ce], score, float(answers[r]), null, spans)
        return [result[i] for i in range(len(inputs))]

    @staticmethod
    def _pass(session, inputs: list) -> list:
        """One pass of the model over some inputs: start logits, end logits, "answers" logits."""
        ids, mask, types, _ = pad(inputs)
        return session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})


@Once
def default_reader() -> Reader:
    """The one reader of this process, loaded on first use."""
    return Reader()
