"""Does the reader's span hold the kind of answer asked for? Read on real sentences of the seed index."""
from qa.read.typed import fit, typed_choice


def _sentence(index, words):
    return next(s for s in index.sentences if words in s.text)


def _span(sent, words):
    i = sent.text.index(words)
    return i, i + len(words)


def test_a_name_fits_who_and_not_when(loaded):
    sent = _sentence(loaded, "led by Lei Jun as CEO")
    s, e = _span(sent, "Lei Jun")
    assert fit(sent, s, e, "person") == 1.0
    assert fit(sent, s, e, "date") == 0.0
    assert fit(sent, s, e, "reason") == 0.0  # untyped questions are not judged


def test_a_sum_of_money_fits_how_much_and_not_a_percentage(loaded):
    sent = _sentence(loaded, "85.6 billion yuan")
    s, e = _span(sent, "85.6 billion yuan")
    assert fit(sent, s, e, "money") == 1.0
    assert fit(sent, s, e, "percent") < 1.0
    # the figure among many other words does not fit
    s2, _ = _span(sent, "The report revealed")
    assert fit(sent, s2, e, "money") == 0.0


def test_a_span_of_the_wanted_kind_stands_in_only_when_the_reader_nearly_chose_it(loaded):
    sent = _sentence(loaded, "led by Lei Jun as CEO")
    wrong = (*_span(sent, "core members"), 6.0)
    right = (*_span(sent, "Lei Jun"), 4.5)
    assert typed_choice(sent, [wrong, right], "person")[:2] == right[:2]
    far = (*right[:2], 1.0)
    assert typed_choice(sent, [wrong, far], "person")[:2] == wrong[:2]
    assert typed_choice(sent, [wrong, right], "reason")[:2] == wrong[:2]


def test_how_long_wants_a_span_of_time_not_a_point_in_it(loaded):
    span = _sentence(loaded, "over the next 10 years")
    point = _sentence(loaded, "in the first half of 2024")
    assert fit(span, *_span(span, "10 years"), "duration") == 1.0
    assert fit(point, *_span(point, "the first half of 2024"), "duration") == 0.5
    assert fit(point, *_span(point, "the first half of 2024"), "date") == 1.0
