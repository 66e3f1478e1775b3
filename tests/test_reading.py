"""The reading stage with the real reader (ONNX) over a small article the test writes: reranked
candidates, spans said as a person would (lists, yes/no, resolved dates), abstention."""
import subprocess
import sys

import pytest

from conftest import ROOT, article_index
from qa.pipeline import ask
from qa.read.reader import default_reader

ARTICLE = """Harbor Town

March 3, 2022

Harbor Town is a fishing port on the northern coast. The town council approved the northern route for the new railway in 2019. Construction of the railway began last year.

The old lighthouse was built in 1871 by the engineer Thomas Reid. It stands 40 meters tall and is painted red and white.

The annual herring festival takes place every June. It draws about 20,000 visitors to the harbor. Visitors enjoy folk music, smoked fish and rowing races.
"""


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    return article_index(tmp_path_factory, "harbor", ARTICLE)


def test_the_reader_finds_the_span_and_knows_a_passage_that_answers():
    q = "Who built the old lighthouse?"
    right, wrong = default_reader().read([q, q], ["The old lighthouse was built in 1871 by the engineer Thomas Reid.",
                                                   "The annual herring festival takes place every June."], ["", ""], ["", ""])
    assert "Thomas Reid" in right.text
    assert right.answers > wrong.answers


def test_reranked_sources_lead_with_the_answer_sentence(town):
    a = ask(town, "Who built the lighthouse?")
    assert "Thomas Reid" in a.answer and "Thomas Reid" in a.hits[0].sentence.text
    scores = [h.score for h in a.hits]
    assert scores == sorted(scores, reverse=True)
    s = a.hits[0].sentence
    assert a.evidence and s.start <= a.evidence[0] < a.evidence[1] <= s.end


def test_short_answers(town):
    assert "1871" in ask(town, "When was the lighthouse built?").answer
    assert "40 meters" in ask(town, "How tall is the lighthouse?").answer


def test_a_count_from_the_sentence_after_the_subject(town):
    assert "20,000" in ask(town, "How many people visit the herring festival?").answer


def test_a_list_answer_gives_the_whole_list(town):
    a = ask(town, "What do visitors enjoy at the festival?")
    assert all(x in a.answer for x in ("folk music", "smoked fish", "rowing races"))


@pytest.mark.xfail(reason="known miss: the reader ranks the 2019 sentence first", strict=False)
def test_a_relative_year_is_resolved_against_the_dateline(town):
    a = ask(town, "In what year did construction of the railway begin?")
    assert a.answer == "2021"
    assert "last year" in a.hits[0].sentence.text


def test_yes_no_questions(town):
    assert ask(town, "Was the lighthouse built by Thomas Reid?").answer.startswith("yes")


def test_abstains_on_what_the_article_does_not_say(town):
    price = ask(town, "What is the ticket price for the herring festival?")  # "ticket", "price": nowhere
    assert price.abstained and price.answer is None and price.hits


def test_reading_never_imports_torch():
    code = ("import sys; from qa.read.reader import default_reader; "
            "r = default_reader().read(['Who?'], ['Thomas Reid built it.'], [''], ['']); "
            "bad = [m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules]; "
            "print(r[0].text); sys.exit(1 if bad else 0)")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "Thomas Reid" in run.stdout


def test_a_tampered_reader_is_refused(tmp_path):
    from qa.errors import ModelError
    from qa.read.reader import READER_FILE, Reader

    bad = tmp_path / READER_FILE.name
    bad.write_bytes(READER_FILE.read_bytes()[:-10] + b"0" * 10)
    with pytest.raises(ModelError):
        Reader(bad)


def test_a_sentence_whose_best_span_is_the_question_s_own_figure_answers_nothing(town):
    """The reader's pick where a sentence holds no answer is often the question's own figure; such a
    sentence gets no span, while a figure the question does not say stays an answer."""
    from qa.question import analyze_batch
    from qa.read.reading import Readings, candidate_rows, echoes_a_figure
    from qa.records import Hit

    assert echoes_a_figure("How many of the 30,000 staff are paid by the hour?", "30,000")
    assert echoes_a_figure("What rate is paid on the £420 million loan?", "£420 million ($533 million)")
    assert not echoes_a_figure("How many visitors does the festival draw?", "about 20,000")
    assert not echoes_a_figure("What is the name of Bern's airport?", "Bern Airport")  # no figure: kept
    assert not echoes_a_figure("Over how many years is the investment $10 billion?", "10 years")  # another figure
    assert not echoes_a_figure("Over how many years is the investment $10 billion?", "10")  # not all of "$10 billion"
    sentence = next(s for s in town.sentences if "20,000 visitors" in s.text)
    at = sentence.text.index("20,000")
    span = (at, at + len("20,000"), 5.0)
    for question, answers in (("How many of the 20,000 visitors come from abroad?", False),
                              ("How many visitors does the festival draw?", True)):
        q = analyze_batch([question])[0]
        r = Readings([5.0], [1.0], [0.0], [[span]])
        _, choices, _ = candidate_rows(q, [Hit(sentence, 1.0)], r)
        assert (choices[0][0] is not None) is answers, question


QUOTED = """March 3, 2023

Early last year, Ana Ferreira officially announced that the city would build a tram network.
According to her, the network is now half finished.
\u201cI have ridden the test tram three times already and I am very happy with it,\u201d she said.
"""


def test_a_quotation_is_read_with_the_person_who_says_it(tmp_path_factory):
    """\u201cI have ridden ... three times\u201d answers a question about Ana Ferreira: the reader reads the
    sentence that names her (two before the quotation) as its context, since the one just before says
    only "her"."""
    from qa.read.reading import _speaker_before

    index = article_index(tmp_path_factory, "quoted", QUOTED)
    quote = next(s for s in index.sentences if s.text.startswith("\u201cI have"))
    from qa.retrieve import surroundings
    from qa.records import Hit

    near = surroundings(index, [[]], [[Hit(quote, 1.0)]], 1)[0]
    speaker = _speaker_before(near, quote, near.around(quote)[0])
    assert speaker is not None and "Ana Ferreira" in speaker.text
    a = ask(index, "How many times has Ana Ferreira ridden the test tram?")
    assert not a.abstained and "three" in a.answer, (a.answer, a.reason)
