"""Follow-up questions rewritten to stand alone, and questions that must be left alone."""
import pytest

from qa.conversation import Conversation


def after(*turns):
    c = Conversation()
    for q, answer, qtype in turns:
        c.remember(q, c.rewrite(q), answer, qtype)
    return c


LEADER = ("Who leads the car project?", "Lei Jun", "person")
REVENUE = ("What was the revenue for 2021?", "328.3 billion yuan", "money")


@pytest.mark.parametrize("turns,question,expected", [
    ([LEADER], "How many electric vehicle companies has he invested in?", "How many electric vehicle companies has Lei Jun invested in?"),
    ([LEADER], "And how many times did he visit Musk?", "How many times did Lei Jun visit Musk?"),
    ([LEADER], "What did she say?", "What did Lei Jun say?"),
    ([REVENUE], "And the adjusted net profit?", "What was the adjusted net profit for 2021?"),
    ([REVENUE], "What about the net profit?", "What was the net profit for 2021?"),
    ([REVENUE, ("And the adjusted net profit?", "22 billion yuan", "money")], "How much did it grow?",
     "How much did the adjusted net profit for 2021 grow?"),
    ([REVENUE], "How did that compare with a year earlier?", "How did the revenue for 2021 compare with a year earlier?"),
    # "its" is the thing last named: the previous answer when it is a name
    ([("Which company makes the Pixel phone?", "Google", "thing")], "Who is its chief executive?", "Who is Google's chief executive?"),
    # a time replaces the previous question's time
    ([("What was the club's loss before tax for the year?", "£9.8 million", "money")], "And the year before?",
     "What was the club's loss before tax for the year before?"),
    ([REVENUE], "And in 2019?", "What was the revenue in 2019?"),
    # "they": the previous question's plural subject
    ([("How many wolves lived in the park before the winter?", "40", "count")], "How were they counted?",
     "How were the wolves counted?"),
    # a bare fragment asks the previous question again, its answer in place
    ([("How much will the council spend on buses?", "50 million euros", "money")], "Over how many years?",
     "Over how many years will the council spend 50 million euros on buses?"),
    # the subject of a change is the amount asked about, otherwise the thing named
    ([("What was Line C's original budget?", "1.9 billion euros", "money")], "How much did it cost in the end?",
     "How much did Line C cost in the end?"),
    # an option is the thing asked about, with its command; it takes "of", not "'s"
    ([("What does git clone --jobs set?", "the number of submodules fetched at the same time", "thing")],
     "What is its default?", "What is the default of git clone --jobs?"),
    # two arguments of one verb are two things: "it" is not the option asked for
    ([("What does git clone --depth do?", "Create a shallow clone", "thing")], "Which option does it imply?",
     "Which option does git clone --depth imply?"),
    # a prepositional fragment takes the place of the phrase with the same preposition, or is added
    ([("Which setting makes git fetch always prune?", "fetch.prune", "thing")], "And for a single remote?",
     "Which setting makes git fetch always prune for a single remote?"),
    ([("How many trains will the city buy with the loan?", "40", "count")], "And with the grant?",
     "How many trains will the city buy with the grant?"),
    # a path answer is a thing "it" can stand for
    ([("Where does the tool write credentials?", "~/.git-credentials", "place")], "How is each credential written in it?",
     "How is each credential written in ~/.git-credentials?"),
])
def test_follow_ups_are_rewritten(turns, question, expected):
    assert after(*turns).rewrite(question) == expected


@pytest.mark.parametrize("question", [
    "When was the Xiaomi Car project announced?",
    "Who is the CEO of the Xiaomi car company?",
    "How many people work in the R&D team?",
    "What is the price of the Xiaomi car?",
])
def test_new_topics_are_left_alone(question):
    assert after(LEADER, REVENUE).rewrite(question) == question


@pytest.mark.parametrize("question", [
    "How many goats lived on the island before they were moved?",   # the antecedent is in the question
    "Which company built the bridge that opened in 2020?",           # a relative "that"
    "When did the museum say it would reopen?",
])
def test_pronouns_with_their_own_antecedent_are_left_alone(question):
    assert after(LEADER, REVENUE).rewrite(question) == question


def test_first_question_is_left_alone():
    assert Conversation().rewrite("How much did it grow?") == "How much did it grow?"


def test_state_is_a_value_that_round_trips():
    c = after(LEADER)
    again = Conversation.from_dict(c.to_dict())
    assert again == c
    assert again.rewrite("Where was he born?") == "Where was Lei Jun born?"


def test_a_question_finds_the_other_forms_of_its_words():
    """BM25 matches stems, and Snowball stems "leads" and "led" apart: the query adds the other forms."""
    from qa.lexical import with_other_forms

    assert with_other_forms(["lead", "project"]) == ["lead", "project", "led"]
    assert "bought" in with_other_forms(["buy"]) and "children" in with_other_forms(["child"])
    assert with_other_forms(["project"]) == ["project"]


def test_an_abbreviation_is_no_option():
    """"U.S." and "e.g." match the shape of a dotted setting, but name none: no "of" in place of "'s",
    and the abbreviation kept whole."""
    r = after(("How much did the U.S. spend on the metro?", "2 billion dollars", "money")).rewrite("When did it approve its budget?")
    assert "U.S.'s budget" in r and " of U.S" not in r and "U.S approve" not in r, r
