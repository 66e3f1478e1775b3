"""Write qa/word-forms.json: the English words whose inflections Snowball stems apart ("lead" and
"led", "buy" and "bought", "child" and "children"), from lemminflect's lexicon (MIT licence).

BM25 matches Snowball stems, and a stemmer cannot know that "led" is a form of "lead": a question
asks "Who leads the project?" of "The project is led by ...". The table maps each such stem to the
stems of the word's other forms, and a query adds them (qa/lexical.py). Regenerate with
    pip install lemminflect==0.2.3 && python scripts/make_word_forms.py
lemminflect is not needed at run time (it costs two seconds to import).
"""
from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import Stemmer
import lemminflect
from lemminflect import config


def main() -> None:
    stem = Stemmer.Stemmer("english").stemWord
    with gzip.open(config.inflection_lu_fn, "rt", encoding="utf-8") as f:
        lemmas = {(row[0], row[1]) for row in csv.reader(f)}
    groups: dict[str, set[str]] = {}
    for lemma, pos in sorted(lemmas):
        if pos not in ("verb", "noun") or not lemma.isalpha() or not lemma.islower():
            continue  # names ("Aarons") and multi-word entries are not what a question inflects
        forms = {lemma}
        for spelled in lemminflect.getAllInflections(lemma, upos=pos.upper()).values():
            forms.update(spelled)
        stems = {stem(w.lower()) for w in forms if w.isalpha()}
        if len(stems) > 1:
            for s in stems:
                groups.setdefault(s, set()).update(stems - {s})
    table = {s: sorted(others) for s, others in sorted(groups.items())}
    out = Path(__file__).resolve().parent.parent / "qa" / "word-forms.json"
    out.write_text(json.dumps(table, separators=(",", ":")) + "\n")
    print(f"{len(table)} stems with other forms -> {out}")


if __name__ == "__main__":
    main()
