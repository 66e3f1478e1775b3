"""Reading a question against its candidates: the learned reranker, and the abstention signals
(negation on one side, question words the passage lacks, nouns the documents never mention)."""
import pytest

from qa.index import build, load
from qa.pipeline import ask, candidate_hits
from qa.embed import default_encoder

ARTICLE = """Harbor Town

Harbor Town is a fishing port on the northern coast. The town council approved the northern route for the new railway in 2019. Construction began a year later.

The old lighthouse was built in 1871 by the engineer Thomas Reid. It stands 40 meters tall and is painted red and white.

The annual herring festival takes place every June. It draws about 20,000 visitors to the harbor.
"""


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    folder = tmp_path_factory.mktemp("town")
    doc = folder / "harbor.txt"
    doc.write_text(ARTICLE, encoding="utf-8")
    build([str(doc)], folder / "index")
    return load(folder / "index")


def test_reranked_hits_are_sorted_and_the_answer_sentence_leads(town):
    (q, hits), = candidate_hits(town, ["Who built the lighthouse?"], 40, default_encoder())
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert "Thomas Reid" in hits[0].sentence.text


def test_paragraph_holds_its_sentences_in_order(town):
    first = next(s for s in town.sentences if s.text.startswith("The old lighthouse"))
    para = town.paragraph(first)
    assert [s.text[:12] for s in para] == ["The old ligh", "It stands 40"]


def test_answers_and_abstains(town):
    assert "Thomas Reid" in ask(town, "Who built the old lighthouse?").answer
    assert "1871" in ask(town, "When was the lighthouse built?").answer
    price = ask(town, "What is the ticket price for the herring festival?")  # "ticket", "price": nowhere in the text
    assert price.abstained and price.answer is None and price.hits


def test_a_negated_question_needs_a_negated_sentence(town):
    plain = ask(town, "Which route did the town council approve?")
    negated = ask(town, "Which route did the town council not approve?")
    assert negated.features["neg_q_only"] == 1.0 and plain.features["neg_q_only"] == 0.0
    assert negated.confidence < plain.confidence


def test_a_name_from_another_passage_counts_against_the_answer(town):
    a = ask(town, "When did Thomas Reid approve the railway route?")
    assert a.features["elsewhere"] > 0  # "Thomas Reid" is in the documents, not in this paragraph
    assert a.confidence < ask(town, "When did the council approve the railway route?").confidence


def test_a_swapped_year_counts_against_the_answer(town):
    right = ask(town, "What did the town council approve in 2019?")
    swapped = ask(town, "What did the town council approve in 2017?")  # the sentence says 2019
    assert swapped.features["num_swap"] == 1.0 and right.features["num_swap"] == 0.0
    assert swapped.confidence < right.confidence
