"""Facts in the store: every figure, date and person of the seed article, normalized; a second article."""
import datetime as dt

import pytest

from qa.build import build
from qa.library import load
from qa.periods import normalize
from qa.pipeline import ask


def find(facts, **want):
    return [f for f in facts if all(getattr(f, k) == v for k, v in want.items())]


def amounts(f):
    return [(round(a["value"] / 1e6, 1), a.get("unit")) for a in f.normalized["amounts"]]


@pytest.mark.parametrize("value,expected", [
    ("85.6 billion yuan ($13.4 billion)", [(85600.0, "CNY"), (13400.0, "USD")]),
    ("4.5 billion yuan ($706.8 million)", [(4500.0, "CNY"), (706.8, "USD")]),
    ("328.3 billion yuan ($51.5 billion)", [(328300.0, "CNY"), (51500.0, "USD")]),
    ("22 billion yuan ($3.4 billion)", [(22000.0, "CNY"), (3400.0, "USD")]),
    ("$10 billion", [(10000.0, "USD")]),
    ("108 billion yuan ($19.6 billion)", [(108000.0, "CNY"), (19600.0, "USD")]),
])
def test_every_money_figure(loaded, value, expected):
    (f,) = find(loaded.facts(), kind="quantity", value=value)
    assert amounts(f) == expected


@pytest.mark.parametrize("value,number,unit,qualifier", [
    ("1,000", 1000, "people", "more than"), ("more than 10,000", 10000, "people", "more than"),
    ("nearly 10", 10, "companies", "nearly"), ("over 200", 200, "veterans", "more than"),
])
def test_every_count_with_its_qualifier(loaded, value, number, unit, qualifier):
    (f,) = find(loaded.facts(), kind="quantity", value=value)
    assert (f.normalized["value"], f.normalized["unit"], f.normalized["qualifier"]) == (number, unit, qualifier)


def test_twice_and_percentages(loaded):
    (f,) = find(loaded.facts(), kind="quantity", value="twice")
    assert f.normalized["value"] == 2
    assert sorted(f.normalized["value"] for f in find(loaded.facts(), kind="quantity", subject="percent")) == [21.4, 33.5, 39.6, 69.5]


@pytest.mark.parametrize("text,period", [
    ("Earlier today", "2022-05-13"), ("the fourth quarter", "Q4 2021"), ("the year 2021", "FY 2021"),
    ("March 2021", "2021-03"), ("the first half of 2024", "H1 2024"), ("the next 10 years", "2022-2032"),
    ("Early last year", "early 2021"),
])
def test_every_date_normalized_against_the_dateline(loaded, text, period):
    assert {f.normalized for f in find(loaded.facts(), kind="date", value=text)} == {period}


def test_people_and_organizations(loaded):
    people = {f.subject for f in find(loaded.facts(), kind="entity", attribute="person")}
    assert people == {"Lei Jun", "Wang Xiang", "Lu Weibing", "Liu De", "Hong Feng", "Li Xiaoshuang"}
    orgs = {f.subject for f in find(loaded.facts(), kind="entity", attribute="organization")}
    assert "Xiaomi" in orgs and "Xiaomi" not in people


def test_relations_and_derived(loaded):
    (rev,) = find(loaded.facts(), kind="relation", attribute="total revenue", period="Q4 2021", unit="CNY")
    assert rev.normalized["change"] == {"percent": 21.4, "basis": "year on year"}
    assert find(loaded.facts(), kind="relation", attribute="CEO", value="Lei Jun")
    assert find(loaded.facts(), kind="relation", attribute="mass production", period="H1 2024")
    (team,) = find(loaded.facts(), kind="relation", attribute="R&D team size")
    assert team.normalized["qualifier"] == "more than" and team.normalized["value"] == 1000
    (prior,) = find(loaded.facts(), kind="derived", attribute="total revenue", period="Q4 2020")
    assert round(prior.normalized["amounts"][0]["value"] / 1e9, 1) == 70.5 and "21.4%" in prior.formula
    (rest,) = find(loaded.facts(), kind="derived", attribute="total revenue", period="2021 excluding Q4")
    assert round(rest.normalized["amounts"][0]["value"] / 1e9, 1) == 242.7 and rest.formula == "328.3 billion - 85.6 billion = 242.7 billion"
    (grew,) = find(loaded.facts(), kind="derived", attribute="total revenue change", period="FY 2021")
    assert grew.value == "up about 82.4 billion yuan"


def test_questions_answered_from_facts(loaded):
    a = ask(loaded, "What was Xiaomi revenue in the fourth quarter of 2021?")
    assert "85.6 billion yuan ($13.4 billion)" in a.answer and "21.4%" in a.answer and a.facts
    d = ask(loaded, "What was Xiaomi revenue in the fourth quarter of 2020?")
    assert "70.5 billion" in d.answer and "computed" in d.answer and d.facts[0].kind == "derived"


def test_relative_dates():
    base = dt.date(2022, 5, 13)
    assert normalize("yesterday", base) == "2022-05-12"
    assert normalize("next year", base) == "2023"
    assert normalize("the past 5 years", base) == "2017-2022"
    assert normalize("late last year", base) == "late 2021"


def test_facts_of_another_article(tmp_path):
    doc = tmp_path / "acme.txt"
    doc.write_text("June 2, 2023\n\nAcme results\n\nAcme Corp reported on Friday that its net sales for the second "
                   "quarter reached $1.2 billion, an increase of 20% year-on-year. The company is led by Jane Doe as "
                   "chief executive. Its workforce exceeds 3,500 people.\n", encoding="utf-8")
    build([str(doc)], tmp_path / "index")
    facts = load(tmp_path / "index").facts()
    (sales,) = find(facts, kind="relation", attribute="net sales", unit="USD")
    assert sales.period == "Q2 2023" and amounts(sales) == [(1200.0, "USD")]
    assert find(facts, kind="relation", value="Jane Doe")
    assert find(facts, kind="derived", attribute="net sales", period="Q2 2022")
    (staff,) = find(facts, kind="quantity", value="3,500")
    assert staff.normalized["qualifier"] == "more than"
