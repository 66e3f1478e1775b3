"""The question is read without spaCy: the distilled tagger must read questions it never saw as
spaCy does, for the parts of the reading that choose an answer."""
import json
from pathlib import Path

import pytest

from qa.question import analyze_parsed
from qa.question_words import TAGGER, tag

DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "squad" / "squad-v2.0-dev-half.json"


def _dev_questions(n: int) -> list[str]:
    out = []
    for art in json.loads(DEV.read_text())["data"]:
        for para in art["paragraphs"][::4]:
            out.extend(q["question"] for q in para["qas"][:2])
    return out[:n]


@pytest.mark.skipif(not DEV.exists(), reason="the SQuAD dev half is not beside the project")
def test_the_tagger_reads_unseen_questions_as_spacy_does():
    from qa.nlp import english

    questions = _dev_questions(600)
    agree = {"qtype": 0, "focus": 0, "plural": 0, "terms": 0}
    for q, doc in zip(questions, english().pipe(questions)):
        a, b = analyze_parsed(q, doc), analyze_parsed(q, tag(q))
        agree["qtype"] += a.qtype == b.qtype
        agree["focus"] += a.focus == b.focus
        agree["plural"] += a.plural == b.plural
        agree["terms"] += set(a.terms) == set(b.terms)
    share = {k: v / len(questions) for k, v in agree.items()}
    assert share["qtype"] >= 0.98 and share["focus"] >= 0.95 and share["plural"] >= 0.95, share
    assert share["terms"] >= 0.85, share


def test_words_tags_and_dates():
    q = tag("What was the adjusted net profit in the fourth quarter of 2021, and why didn't it grow?")
    words = {w.text: w for w in q}
    assert words["profit"].pos_ == "NOUN" and words["profit"].tag_ == "NN"
    assert words["was"].lemma_ == "be" and words["was"].is_stop
    assert words["n't"].lemma_ == "not" and words["did"].lemma_ == "do"
    assert words["grow"].pos_ == "VERB"
    assert [(e.text, e.label_) for e in q.ents] == [("the fourth quarter of 2021", "DATE")]
    q = analyze_parsed("How many people work in the car project's R&D team?",
                       tag("How many people work in the car project's R&D team?"))
    assert (q.qtype, q.focus, q.plural) == ("count", "people", True)


def test_a_damaged_tagger_is_refused(tmp_path, monkeypatch):
    import qa.question_words as qw
    from qa.errors import ModelError

    bad = tmp_path / "question-tagger.json"
    bad.write_bytes(TAGGER.read_bytes()[:-10] + b"0000000000")
    monkeypatch.setattr(qw, "TAGGER", bad)
    qw.tagger.cache_clear()
    try:
        with pytest.raises(ModelError, match="SHA-256"):
            qw.tagger()
    finally:
        qw.tagger.cache_clear()


@pytest.mark.parametrize("question, verb", [
    ("Why did the mine on Redonda close?", "close"),
    ("Which constituency does Chi Onwurah represent?", "represent"),
    ("When did the Xiaomi car project start?", "start"),
    ("How many people does the team employ in Europe?", "employ"),
])
def test_the_verb_after_do_support_is_a_verb(question, verb):
    """After "did"/"does" the verb stands bare at the end of the subject, where a left-to-right
    tagger calls it a noun: a noun would count as a word the documents must say."""
    from qa.question import analyze_batch

    q = analyze_batch([question])[0]
    assert q.tags[verb] == "VB", q.tags
    assert all(t != "VB" for w, t in q.tags.items() if w != verb)
