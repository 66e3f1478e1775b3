"""Saying the reader's span as a person would: yes/no, resolved dates, conversions, trimmed edges."""
import datetime as dt

import pytest

from qa.read.say import is_yes_no, resolved_date, trim, wants_year_or_date, yes_or_no


@pytest.mark.parametrize("q,expected", [
    ("Has the council approved the stadium?", True),
    ("Was an Italian firm among the builders?", True),
    ("Did sales fall?", True),
    ("What was revenue?", False),
    ("Is it true who built it?", False),
    ("When does production start?", False),
    ("Are remote-tracking branches created when I clone with --bare?", True),  # a clause of time
    ("Do you know when the line opens?", False),                                # asked through "know"
    ("Can a packet be lost and if so, then when does it come back?", False),    # a wh-question of its own
    ("Are there any regions where the treaty does not apply?", False),          # "where" names what is asked
])
def test_yes_no_questions_are_recognized(q, expected):
    assert is_yes_no(q) is expected


def test_yes_or_no_follows_negation_on_one_side():
    assert yes_or_no("Did the council approve the plan?", "The council approved the plan on Monday.") == "yes"
    assert yes_or_no("Did the council approve the plan?", "The council did not approve the plan.") == "no"
    assert yes_or_no("Did the council not approve the plan?", "The council did not approve the plan.") == "yes"
    assert yes_or_no("Did the council approve the plan?", "The council didn't approve the plan.") == "no"
    assert yes_or_no("Did the council approve the plan?", "The council rejected the plan.") == "no"


def test_a_negating_prefix_denies_the_question_word():
    said = "Using this helper will store your passwords unencrypted on disk."
    assert yes_or_no("Does the helper encrypt the passwords it saves?", said) == "no"
    assert yes_or_no("Does the helper not encrypt the passwords it saves?", said) == "yes"
    assert yes_or_no("Is the author unknown?", "The author is unknown.") == "yes"  # the question says it too
    assert yes_or_no("Is the author known?", "The author is unknown.") == "no"
    assert yes_or_no("Does the store open on Sundays?", "Unusually, the store opens on Sundays.") == "yes"


def test_relative_dates_resolve_against_the_dateline():
    base = dt.date(2022, 5, 13)
    assert resolved_date("last year", base) == "2021"
    assert resolved_date("early last year", base) == "early 2021"
    assert resolved_date("early next year", base) == "early 2023"
    assert resolved_date("next spring", dt.date(2024, 11, 14)) == "spring 2025"
    assert resolved_date("last March", base) == "2022-03"
    assert resolved_date("March 2021", base) is None   # already absolute
    assert resolved_date("last year", None) is None     # no dateline, nothing to resolve against


def test_date_questions():
    assert wants_year_or_date("In what year did it open?", "thing")
    assert wants_year_or_date("When did it open?", "date")
    assert not wants_year_or_date("Who opened it?", "person")


def test_edges_are_trimmed():
    assert trim("the first half of 2024,") == "first half of 2024"
    assert trim("Xiaomi's") == "Xiaomi"
    assert trim("the") == "the"
    assert trim("Shoreditch, London.") == "Shoreditch, London"
    assert trim("Merit Network, Inc.") == "Merit Network, Inc."
    assert trim("the U.S.") == "U.S."
    assert trim(".") == ""
