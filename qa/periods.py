"""Dates and periods normalized against the document's dateline: Q4 2021, H1 2024, 2021-03, early 2021."""
from __future__ import annotations

import datetime as dt
import re

from .quantities import parse_number

ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4,
            "last": 4, "final": 4}
PARTS = {"early": "early", "earlier": "early", "beginning": "early", "start": "early", "mid": "mid", "middle": "mid",
         "late": "late", "later": "late", "end": "late"}


def _year_in(text: str) -> int | None:
    m = re.search(r"\b(1[5-9]\d\d|20\d\d|21\d\d)\b", text)
    return int(m.group(1)) if m else None


def normalize(text: str, base: dt.date | None, context_year: int | None = None) -> str | None:
    """A period label for a date expression: "the fourth quarter" (2021 in context) -> "Q4 2021";
    "the first half of 2024" -> "H1 2024"; "Early last year" (dated 2022-05-13) -> "early 2021";
    "the next 10 years" -> "2022-2032"; "earlier today" -> "2022-05-13"; "March 2021" -> "2021-03"."""
    low = text.lower().strip()
    words = re.findall(r"[a-z0-9]+", low)
    year = _year_in(low)
    if base is not None and year is None:
        if "last year" in low or "previous year" in low:
            year = base.year - 1
        elif "next year" in low:
            year = base.year + 1
        elif "this year" in low:
            year = base.year
    year = year or context_year
    part = next((PARTS[w] for w in words if w in PARTS), None)
    if "quarter" in words:
        n = next((ORDINALS[w] for w in words if w in ORDINALS), None)
        m = re.search(r"\bq([1-4])\b", low)
        n = n or (int(m.group(1)) if m else None)
        if n:
            return f"Q{n} {year}" if year else f"Q{n}"
    m = re.search(r"\bq([1-4])\b", low)
    if m:
        return f"Q{m.group(1)} {year}" if year else f"Q{m.group(1)}"
    if "half" in words:
        n = next((ORDINALS[w] for w in words if w in ORDINALS), None)
        n = 2 if n == 4 else n
        if n in (1, 2):
            return f"H{n} {year}" if year else f"H{n}"
    if base is not None:
        if "today" in words or "tonight" in words:
            return base.isoformat()
        if "yesterday" in words:
            return (base - dt.timedelta(days=1)).isoformat()
        m = re.search(r"\b(next|past|last|coming)\s+(\d+|[a-z]+)\s+years?\b", low)
        if m:
            n = parse_number([m.group(2)])
            if n:
                n = int(n)
                return f"{base.year}-{base.year + n}" if m.group(1) in ("next", "coming") else f"{base.year - n}-{base.year}"
    if "full year" in low or re.fullmatch(r"(the )?(fiscal )?year( of)? \d{4}", low):
        return f"FY {year}" if year else None
    parsed = _absolute(text, base)
    if parsed:
        return parsed
    if year and (_year_in(low) or part or "year" in words):
        return f"{part} {year}" if part else str(year)
    return None


def _absolute(text: str, base: dt.date | None) -> str | None:
    """A calendar date or month through dateparser: "March 2021" -> "2021-03", "May 13, 2022" -> "2022-05-13"."""
    weekday = any(d in text.lower() for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
    if not re.search(r"\d", text) and not (weekday and base):
        return None
    import dateparser

    settings = {"PREFER_DAY_OF_MONTH": "first", "PREFER_DATES_FROM": "past"}
    if base is not None:
        settings["RELATIVE_BASE"] = dt.datetime(base.year, base.month, base.day)
    d = dateparser.parse(text, languages=["en"], settings=settings)
    if d is None:
        return None
    has_day = re.search(r"\b\d{1,2}(st|nd|rd|th)?\b(?!\d)", re.sub(r"\b\d{4}\b", "", text))
    months = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    if weekday or has_day and any(m in text.lower() for m in months):
        return d.date().isoformat()
    if any(m in text.lower() for m in months):
        return f"{d.year}-{d.month:02d}"
    return str(d.year)


def previous_year(period: str) -> str | None:
    """The same period a year earlier: "Q4 2021" -> "Q4 2020", "FY 2021" -> "FY 2020", "2021" -> "2020"."""
    m = re.search(r"(\d{4})$", period)
    return period[: m.start()] + str(int(m.group(1)) - 1) if m else None


# a year, a decade ("the 1990s", "the 1970's"; "the 1700s" is a century), a century ("the 19th century",
# "the nineteenth century", "19th-century"); three-figure years ("911") are too often other figures
CENTURY_ORDINALS = {w: i + 1 for i, w in enumerate(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth fifteenth "
    "sixteenth seventeenth eighteenth nineteenth twentieth".split())} | {"twenty-first": 21}
NAMED_PERIOD = re.compile(r"\b(?:(\d{1,2})(?:st|nd|rd|th)|(" + "|".join(sorted(CENTURY_ORDINALS, key=len, reverse=True)) +
                          r"))[-\s]+centur(?:y|ies)\b|(?<![\d.,$£€¥#-])\b(1\d{3}|20\d{2})(?:'?(s))?\b(?![.,]\d|\s*(?:%|per\s?cent))",
                          re.I)


AFTER_PERIOD = re.compile(r"\b(?:after|since|from|post|beyond)[-\s]+(?:the\s+)?(?:(?:early|mid|late)[-\s]+)?$", re.I)
BEFORE_PERIOD = re.compile(r"\b(?:before|until|till|by|prior\s+to|pre|up\s+to|through)[-\s]+(?:the\s+)?(?:(?:early|mid|late)[-\s]+)?$",
                           re.I)
BETWEEN_PERIODS = re.compile(r"\bbetween\s+(?:the\s+)?$", re.I)


def years_named(text: str, open_ended: bool = False) -> list[tuple[int, int]]:
    """The spans of years (first, last) that the text names by a year, a decade or a century. With
    `open_ended`, a period said after "since", "before", "between" stands for all the years it opens or
    closes ("since 1904" is any year from 1904 on)."""
    out: list[tuple[int, int]] = []
    opened = None
    for m in NAMED_PERIOD.finditer(text):
        if m.group(1) or m.group(2):
            c = int(m.group(1)) if m.group(1) else CENTURY_ORDINALS[m.group(2).lower()]
            lo, hi = (c - 1) * 100 + 1, c * 100
        else:
            y = int(m.group(3))
            lo, hi = (y, y) if not m.group(4) else (y, y + 99) if y % 100 == 0 else (y - y % 10, y - y % 10 + 9)
        before = text[max(0, m.start() - 24):m.start()]
        if open_ended and opened is not None and re.fullmatch(r"\s*(?:and|to|-|–)\s*(?:the\s+)?", text[opened[2]:m.start()]):
            out[-1] = (opened[0], hi)  # "between 1000 and 1300"
            opened = None
            continue
        opened = None
        if open_ended and AFTER_PERIOD.search(before):
            hi = 9999
        elif open_ended and BEFORE_PERIOD.search(before):
            lo = 0
        elif open_ended and BETWEEN_PERIODS.search(before):
            opened = (lo, hi, m.end())
        out.append((lo, hi))
    return out
