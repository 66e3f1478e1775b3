"""What says "not", and what says the opposite: the words of denial a sentence answers a negated
question with ("What is not used for ...?" is answered by "... is not used", "... lacked", "unable",
"pistonless", never by a sentence that only says what is), the negating prefixes a yes/no answer reads
("unencrypted"), and the opposite of a word the question turns on ("the first cells to arrive" does
not answer "What are the last cells to arrive?")."""
from __future__ import annotations

import re

# "whether or not", "may or may not", "not only ... but": no question of what is not
NOT_A_DENIAL = re.compile(r"\bor\s+not\b|\bor\s+(?:may|might|can|could|will|would|do|does|did|is|are|was|were)\s*(?:n't|not)\b|"
                          r"\bnot\s+only\b|\bif\s+not\b|\bno\s+matter\b|\b(?:nothing|none|no\s+one|nobody)\s+(?:but|else\s+but|other\s+than)\b|"
                          r"\bno\s+(?:more|less|fewer|later|earlier|sooner)\s+than\b", re.I)
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


# a clause of condition or time says when, not what is asked ("Which option makes it exit with status
# 2 when no matching refs are found?")
CONDITION = re.compile(r"\b(?:when|whenever|if|unless|because|while|although|though|once|until)\b", re.I)


def asks_not(question: str) -> bool:
    """The question asks what is not so ("What is not used for ...?", "Who had no real power?"); a
    "not" in a clause of condition or time does not count."""
    main = CONDITION.split(NOT_A_DENIAL.sub(" ", question), maxsplit=1)[0]
    return bool(NEGATION_WORD.search(main))


LIGHT_WORDS = {"the", "a", "an", "be", "been", "is", "are", "was", "were", "do", "does", "did", "have", "has", "had", "to",
               "of", "in", "on", "at", "for", "by", "with", "it", "its", "this", "that", "their", "his", "her", "any"}


def denied_word(question: str) -> str | None:
    """The word the question's "not" denies ("develop" in "Which entity did not develop ...?"; "view"
    in "What was not the view of ...?"), or None."""
    main = CONDITION.split(NOT_A_DENIAL.sub(" ", question), maxsplit=1)[0]
    m = re.search(r"(?:\b(?:not|never)|n't)\s+((?:[\w'-]+\s+){0,3}[\w'-]*)", main, re.I)
    return next((w.lower() for w in m.group(1).split() if w.lower() not in LIGHT_WORDS and len(w) >= 4), None) if m else None


def said_plainly(word: str, sentence: str) -> bool:
    """The sentence says the word (a form of it) and, wherever it does, denies nothing near it: "...
    developed by the Court" says plainly what "Which entity did not develop ...?" asks the opposite of."""
    toks = re.findall(r"[\w'-]+", sentence)
    at = [i for i, t in enumerate(toks) if t.lower().startswith(stem(word))]
    return bool(at) and not any(NEGATION_WORD.search(" ".join(toks[max(0, i - 4):i + 4]))
                                or DENIAL_WORD.search(" ".join(toks[max(0, i - 4):i])) for i in at)


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


# words whose opposite, said where the question's word is not, answers another question
OPPOSITE_PAIRS = [("maximum", "minimum"), ("max", "min"), ("largest", "smallest"), ("biggest", "smallest"),
                  ("highest", "lowest"), ("most", "least"), ("first", "last"), ("earliest", "latest"),
                  ("oldest", "newest"), ("oldest", "youngest"), ("increase", "decrease"), ("increased", "decreased"),
                  ("rise", "fall"), ("more", "less"), ("more", "fewer"), ("larger", "smaller"), ("higher", "lower"),
                  ("older", "younger"), ("earlier", "later"), ("upper", "lower"), ("inner", "outer"), ("above", "below"),
                  ("positive", "negative"), ("success", "failure"), ("win", "lose"), ("won", "lost"), ("strong", "weak"),
                  ("stronger", "weaker"), ("strongest", "weakest"), ("best", "worst"), ("better", "worse"),
                  ("longer", "shorter"), ("longest", "shortest"), ("import", "export"), ("imports", "exports"),
                  ("accept", "reject"), ("accepted", "rejected"), ("allow", "forbid"), ("legal", "illegal"),
                  ("public", "private"), ("male", "female"), ("men", "women"), ("internal", "external"),
                  ("reduce", "increase"), ("reduced", "increased"), ("reduces", "increases"), ("rare", "common"),
                  ("attract", "repel"), ("attractive", "repulsive"), ("before", "after"), ("start", "end"), ("begin", "end"),
                  ("north", "south"), ("east", "west"), ("northern", "southern"), ("eastern", "western"), ("early", "late"),
                  ("rich", "poor"), ("true", "false"), ("major", "minor"), ("ancient", "modern"), ("natural", "artificial"),
                  ("cheap", "expensive"), ("high", "low"), ("large", "small"), ("big", "small"), ("long", "short"),
                  ("old", "new"), ("hot", "cold"), ("wet", "dry"), ("open", "closed"), ("opened", "closed"),
                  ("support", "oppose"), ("easy", "difficult"), ("easiest", "hardest"), ("simple", "complex"),
                  ("gain", "loss"), ("rise", "decline"), ("inside", "outside"), ("top", "bottom"), ("fast", "slow"),
                  ("heavy", "light"), ("slowly", "quickly"), ("include", "exclude"), ("included", "excluded")]
OPPOSITES: dict[str, set[str]] = {}
for _a, _b in OPPOSITE_PAIRS:
    OPPOSITES.setdefault(_a, set()).add(_b)
    OPPOSITES.setdefault(_b, set()).add(_a)


def plain_words(text: str) -> set[str]:
    """The text's words in lower case, leaving out capitalized ones inside it (names: "West Francia")."""
    return {w.lower() for i, w in enumerate(re.findall(r"[A-Za-z]+", text)) if i == 0 or not w[0].isupper()}


FUNCTION_WORDS = {"like", "less", "till", "side", "deed"}  # "practices like circumcision": no opposite of "dislike"


def unprefixed(word: str) -> str | None:
    """The word a negating prefix is put before ("uncommon" -> "common", "inconsistent" ->
    "consistent"); None for a word that only begins like one ("inform", "discover", "unit")."""
    p = re.match(r"(?:non-?|un|in|im|il|ir|dis)", word)
    if p is None or len(word) - p.end() < 4 or not DENIAL_WORD.fullmatch(word):
        return None
    return word[p.end():]


def opposite_said(asked: frozenset[str], sentence: str) -> tuple[str, str] | None:
    """(the question's word, its opposite) where the sentence says the opposite and not the word
    itself, nor does the question say both: a word of the list above, or the question's word
    without its negating prefix ("common" for "What became uncommon ...?")."""
    said = plain_words(sentence)
    for w in sorted(asked):
        base = unprefixed(w)
        for o in sorted(OPPOSITES.get(w, set()) | ({base} if base and base not in FUNCTION_WORDS else set())):
            denied = re.search(r"(?:\bnot|\bno|n't)\s+(?:\w+ly\s+)?" + re.escape(o) + r"\b", sentence, re.I)
            if o in said and w not in said and o not in asked and not denied:  # "not equal" says "unequal"
                return w, o
    return None
