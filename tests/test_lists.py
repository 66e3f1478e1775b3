"""Lists said whole and by their names, and questions whose words the documents do not use, over a
small article the test writes (the real spaCy parse, the real reader)."""
import pytest

from conftest import article_index
from qa.lexical import correct
from qa.pipeline import ask
from qa.question import analyze_batch

ARTICLE = """Coastal Rail opens new bridge

May 2, 2023

The Kessel bridge was built by a consortium led by Dutch contractor Van Dam Bouw, together with Belgium's Stevin Group, Germany's Rheinbau AG and French engineering firm Arcadis Ponts. The project was approved with a budget of 240 million euros, but its final cost reached 310 million euros. The bridge was originally due to open in 2021.

The loan was provided by three lenders - Norden Bank, Hallam Capital and the Swiss pension fund Alpenkasse - and will be repaid over 20 years.
"""


@pytest.fixture(scope="module")
def bridge(tmp_path_factory):
    return article_index(tmp_path_factory, "bridge", ARTICLE)


def test_a_list_joined_by_together_with_is_one_list_said_by_its_names(bridge):
    a = ask(bridge, "Which companies built the Kessel bridge?")
    assert a.answer == "Van Dam Bouw, Stevin Group, Rheinbau AG and Arcadis Ponts"
    s = a.hits[0].sentence
    assert s.text[a.evidence[0] - s.start: a.evidence[1] - s.start].startswith("Dutch contractor Van Dam Bouw, together with")


def test_a_list_member_keeps_the_name_in_apposition(bridge):
    assert ask(bridge, "Which lenders provided the loan?").answer == "Norden Bank, Hallam Capital and Alpenkasse"


def test_a_question_word_the_documents_lack_is_not_corrected_into_another(bridge):
    # "original" is an English word: it must not become the article's "originally"
    assert bridge.correct("What was the bridge's original budget?") == "What was the bridge's original budget?"
    assert bridge.correct("Who led the consortuim?") == "Who led the consortium?"
    assert "240 million euros" in ask(bridge, "What was the bridge's original budget?").answer


def test_correction_leaves_dictionary_words_alone():
    docs = {"production", "originally", "starts"}
    fixed = correct("when does mass prodution start in the original plan",
                    lambda ws: {w for w in ws if w in docs}, lambda: sorted(docs))
    assert fixed == "when does mass production start in the original plan"


@pytest.mark.parametrize("q,qtype,focus", [
    ("What was Line C's original budget?", "money", "budget"),
    ("What was Northgate Athletic's total annual revenue?", "money", "revenue"),
    ("Which city hosts the festival?", "place", "city"),
])
def test_the_focus_noun_past_a_possessive_and_its_modifiers(q, qtype, focus):
    parsed = analyze_batch([q])[0]
    assert (parsed.qtype, parsed.focus) == (qtype, focus)
