"""Figures normalized: money with currency, percentages and changes, counts with their qualifier."""
from __future__ import annotations

from dataclasses import dataclass

SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9, "b": 1e9,
          "trillion": 1e12, "hundred": 1e2, "dozen": 12}
CURRENCIES = {"$": "USD", "us$": "USD", "dollar": "USD", "dollars": "USD", "usd": "USD", "yuan": "CNY", "rmb": "CNY",
              "cny": "CNY", "renminbi": "CNY", "€": "EUR", "euro": "EUR", "euros": "EUR", "eur": "EUR", "£": "GBP",
              "pound": "GBP", "pounds": "GBP", "gbp": "GBP", "¥": "JPY", "yen": "JPY", "jpy": "JPY", "won": "KRW",
              "rupee": "INR", "rupees": "INR", "hk$": "HKD"}
WORD_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                "ten": 10, "eleven": 11, "twelve": 12, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
                "hundred": 100, "once": 1, "twice": 2, "thrice": 3, "a": 1}
QUALIFIERS = {"nearly": "nearly", "almost": "nearly", "about": "about", "around": "about", "approximately": "about",
              "roughly": "about", "some": "about", "over": "more than", "more than": "more than", "above": "more than",
              "exceeds": "more than", "exceed": "more than", "exceeded": "more than", "beyond": "more than",
              "under": "less than", "less than": "less than", "fewer than": "less than", "below": "less than",
              "up to": "at most", "at least": "at least", "at most": "at most"}
INCREASE = {"increase", "rise", "growth", "grow", "up", "gain", "jump", "climb", "surge", "higher"}
DECREASE = {"decrease", "decline", "fall", "drop", "down", "loss", "lower", "shrink", "plunge"}


@dataclass
class Amount:
    """One figure: its value, unit (a currency code, %, or a counted noun) and qualifier."""

    value: float
    unit: str | None = None
    qualifier: str | None = None

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def parse_number(words: list[str]) -> float | None:
    """85.6 billion -> 85.6e9; 1,000 -> 1000; twice -> 2; ten -> 10."""
    value, scale = None, 1.0
    for w in words:
        low = w.lower().replace(",", "")
        try:
            value = float(low)
            continue
        except ValueError:
            pass
        if low in SCALES and value is not None:
            scale *= SCALES[low]
        elif low in WORD_NUMBERS and value is None:
            value = float(WORD_NUMBERS[low])
    return None if value is None else value * scale


def qualifier_of(words: list[str]) -> str | None:
    text = " ".join(w.lower() for w in words)
    for phrase in sorted(QUALIFIERS, key=len, reverse=True):
        if f" {phrase} " in f" {text} ":
            return QUALIFIERS[phrase]
    return None


def currency_of(words: list[str]) -> str | None:
    for w in words:
        low = w.lower()
        if low in CURRENCIES:
            return CURRENCIES[low]
        for sym in ("us$", "hk$", "$", "€", "£", "¥"):
            if low.startswith(sym):
                return CURRENCIES[sym]
    return None


def money(words: list[str]) -> Amount | None:
    v = parse_number([w.lstrip("$€£¥") for w in words])
    return None if v is None else Amount(v, currency_of(words), qualifier_of(words))


def percent(words: list[str]) -> Amount | None:
    v = parse_number([w.rstrip("%") for w in words if w != "%"] + [])
    return None if v is None else Amount(v, "%", qualifier_of(words))


def direction(lemmas: set[str]) -> int:
    """+1 for an increase, -1 for a decrease, 0 when the words say neither."""
    return 1 if lemmas & INCREASE else -1 if lemmas & DECREASE else 0
