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


def test_first_question_is_left_alone():
    assert Conversation().rewrite("How much did it grow?") == "How much did it grow?"


def test_state_is_a_value_that_round_trips():
    c = after(LEADER)
    again = Conversation.from_dict(c.to_dict())
    assert again == c
    assert again.rewrite("Where was he born?") == "Where was Lei Jun born?"
