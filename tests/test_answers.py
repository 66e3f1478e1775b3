"""Answers from the real model over the seed article and a small article the test writes itself."""
import pytest

from qa.build import build
from qa.library import load
from qa.pipeline import ask, ask_batch

CASES = [
    ("When does mass production start?", "first half of 2024"),
    ("Who is the CEO of the Xiaomi car company?", "Lei Jun"),
    ("When was the Xiaomi Car project announced?", "March 2021"),
    ("How much is Xiaomi investing in the car project?", "$10 billion"),
    ("What key areas will the R&D team focus on?", "autonomous driving and smart cockpits"),
    ("when does mass prodution start", "first half of 2024"),
]


@pytest.mark.parametrize("question,expected", CASES)
def test_short_answers_on_the_seed(loaded, question, expected):
    a = ask(loaded, question)
    assert not a.abstained
    assert expected in a.answer
    assert len(a.answer.split()) <= 12
    assert a.answer in a.hits[0].sentence.text or expected in a.hits[0].sentence.text


def test_abstains_when_the_article_does_not_say(loaded):
    a = ask(loaded, "Which company will supply the batteries?")
    assert a.abstained and a.answer is None and a.hits


def test_batch_equals_single(loaded):
    qs = [q for q, _ in CASES[:3]]
    assert [a.answer for a in ask_batch(loaded, qs)] == [ask(loaded, q).answer for q in qs]


def test_another_article(tmp_path):
    doc = tmp_path / "bridge.txt"
    doc.write_text("Golden Gate Bridge\n\nThe Golden Gate Bridge opened in May 1937. It was designed by Joseph Strauss. "
                   "The bridge is 2,737 meters long and cost $35 million to build.\n", encoding="utf-8")
    build([str(doc)], tmp_path / "index")
    index = load(tmp_path / "index")
    assert "1937" in ask(index, "When did the bridge open?").answer
    assert "Joseph Strauss" in ask(index, "Who designed the bridge?").answer
    assert "35 million" in ask(index, "How much did the bridge cost?").answer
