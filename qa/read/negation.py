"""What says "not": the words of denial a sentence answers a negated question with ("What is not
used for ...?" is answered by "... is not used", "... lacked", "unable", "pistonless", never by a
sentence that only says what is), and the negating prefixes a yes/no answer reads ("unencrypted")."""
from __future__ import annotations

import re

# "whether or not", "may or may not", "not only ... but": no question of what is not
NOT_A_DENIAL = re.compile(r"\bor\s+not\b|\bor\s+(?:may|might|can|could|will|would|do|does|did|is|are|was|were)\s*(?:n't|not)\b|"
                          r"\bnot\s+only\b|\bif\s+not\b|\bno\s+matter\b", re.I)
NEGATION_WORD = re.compile(r"\b(?:not|never|no|without|neither|nor|none|nothing|nobody|nowhere|no one|cannot)\b|n't\b", re.I)
# a sentence says "not" with a word of denial, a negating prefix or suffix ("unable", "non-Catholics",
# "inactive", "disqualified", "pistonless") as well as with "not"
DENIAL_WORD = re.compile(
    r"\b(?:fail\w*|lack\w*|refus\w*|reject\w*|den(?:y|ies|ied|ial)\w*|absen\w*|except\w*|exclu\w*|exempt\w*|prohibit\w*|"
    r"forb[ia]d\w*|ban|bans|banned|prevent\w*|avoid\w*|instead|rather|only|neglect\w*|omit\w*|ignor\w*|barred|"
    r"lost|loses?|losing|ceased?|stopp?\w*|abandon\w*|replac\w*|abolish\w*|"
    r"un(?!der|til|ion|it|iqu|iver|ifor|if[iy]|anim|cle|ison|less|ess)[a-z]{3,}|non-?(?!e\b|etheless|sense)[a-z]{3,}|"
    r"(?!(?:un|never|regard|nonethe|b)less\b)[a-z]{3,}less(?:ly|ness)?|"
    r"(?:in|im|il|ir)(?:activ|capab|sufficien|valid|effect|correct|abilit|possib|legal|relevan|adequa|complet|accura|"
    r"eligib|appropria|compatib|frequen|visib|direct|formal|dependen|consisten)\w*|"
    r"dis(?:allow|approv|agree|qualif|content|continu|abl|satisf|obey|prov|like|trust|regard|miss|honest|advantag|"
    r"band|mantl|card|credit|favou?r|pute)\w*|insignifican\w*)\b", re.I)
NEGATING_PREFIXES = ("un", "non", "non-")


def asks_not(question: str) -> bool:
    """The question asks what is not so ("What is not used for ...?", "Who had no real power?")."""
    return bool(NEGATION_WORD.search(NOT_A_DENIAL.sub(" ", question)))


def says_not(text: str) -> bool:
    """The text denies something: "not", "never", a word of refusal or lack, a negating prefix."""
    return bool(NEGATION_WORD.search(text) or DENIAL_WORD.search(text))


def stem(word: str) -> str:
    """A word's first letters, enough to find its other forms ("encrypt" -> "encry": "unencrypted")."""
    return word[: max(4, len(word) - 2)]


def denies_a_word(asked: list[str], said: list[str]) -> bool:
    """The sentence says one of the question's words with a negating prefix that the question does
    not ("unencrypted" for "Does it encrypt ...?")."""
    prefixed = lambda words, a: any(w.startswith(f"{p}{stem(a)}") for w in words for p in NEGATING_PREFIXES)  # noqa: E731
    return any(len(a) >= 5 and prefixed(said, a) and not prefixed(asked, a) for a in asked)
