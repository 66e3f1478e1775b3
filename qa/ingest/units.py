"""Split a document's extracted text into units (sentences, headline, dateline, headings) with exact
[start, end) offsets, each sentence with its spaCy tokens, entities and noun chunks."""
from __future__ import annotations

import re

from ..records import PATH_SEPARATOR, Document, Sentence, Token
from ..spans import reference_number

SENTENCE_END = (".", "!", "?", "\u201d", '"', "\u2019", ":", ";", "\u2026")


def paragraphs(text: str) -> list[tuple[int, int]]:
    """[start, end) of each paragraph: text between blank lines, whitespace trimmed."""
    spans, pos = [], 0
    for m in re.finditer(r"\n[ \t\r\f\v]*\n", text + "\n\n"):
        _add_trimmed(text, pos, min(m.start(), len(text)), spans)
        pos = m.end()
    return spans


def _add_trimmed(text: str, start: int, end: int, out: list) -> None:
    chunk = text[start:end]
    stripped = chunk.strip()
    if stripped:
        s = start + (len(chunk) - len(chunk.lstrip()))
        out.append((s, s + len(stripped)))


def _lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    out, pos = [], start
    for line in text[start:end].split("\n"):
        _add_trimmed(text, pos, pos + len(line), out)
        pos += len(line) + 1
    return out


def _is_markdown_heading(line: str) -> bool:
    return bool(re.match(r"#{1,6}\s", line))


def _is_title_like(line: str) -> bool:
    """One short line with no sentence-final punctuation: a headline or section heading."""
    words = line.split()
    return 0 < len(words) <= 16 and not line.rstrip().endswith(SENTENCE_END) and "\n" not in line


def _parse_dateline(line: str) -> str | None:
    """ISO date when the whole line is a date ("May 13, 2022"), else None."""
    if len(line) > 40 or not re.search(r"\d", line):
        return None
    import dateparser

    d = dateparser.parse(line, languages=["en"], settings={"STRICT_PARSING": True, "REQUIRE_PARTS": ["year"]})
    return d.date().isoformat() if d else None


def parse_date(text: str) -> str | None:
    """ISO date of a date written any common way ("2023-03-14", "14 March 2023"), else None."""
    import dateparser

    d = dateparser.parse(text.strip(), languages=["en"], settings={"REQUIRE_PARTS": ["year"]})
    return d.date().isoformat() if d else None


def split_units(doc: Document, nlp) -> tuple[list[Sentence], str | None, str | None]:
    """The document's units (sentences, headline, dateline, headings) with its title and date; the
    title and date the file's metadata gives win over those its text shows."""
    return split_many([doc], nlp)[0]


def split_many(docs: list[Document], nlp) -> list[tuple[list[Sentence], str | None, str | None]]:
    """`split_units` of many documents, spaCy run over all of them together (a call per short
    document cost more than its parsing)."""
    layouts = [_layout(doc) for doc in docs]
    prose = iter(nlp.pipe([doc.text[s:e] for doc, (_, spans, _, _) in zip(docs, layouts) for _, s, e in spans],
                          batch_size=64))
    whole = iter(nlp.pipe([u.text for units, _, _, _ in layouts for u in units], batch_size=64))
    out = []
    for doc, (units, spans, title, date) in zip(docs, layouts):
        for u in units:
            (one,) = _sentences(doc.path, doc.text, u.start, u.paragraph, next(whole), whole=True)
            u.tokens, u.entities, u.chunks = one.tokens, one.entities, one.chunks
        for pi, ps, _ in spans:
            units.extend(_sentences(doc.path, doc.text, ps, pi, next(prose)))
        units.sort(key=lambda u: u.start)
        _place(units, doc.pages)
        if doc.blocks:
            _place_in_blocks(units, doc)
        for u in units:
            if u.kind in ("term", "code"):  # said as written: one literal, whatever spaCy saw in it
                u.entities = [(u.start, u.end, "CODE")]
        for i, u in enumerate(units):
            u.position = i
        out.append((units, doc.title or title, doc.date or date))
    return out


def _layout(doc: Document) -> tuple[list[Sentence], list[tuple[int, int, int]], str | None, str | None]:
    """The units kept whole (headline, dateline, headings), the prose spans for spaCy to segment
    (paragraph, start, end), and the title and date the text shows."""
    if doc.blocks:
        return _block_layout(doc)
    text, units, title, date = doc.text, [], None, None
    para_spans = _outside(paragraphs(text), doc.skip, text)
    prose: list[tuple[int, int, int]] = []
    for pi, (ps, pe) in enumerate(para_spans):
        for ls, le in (_lines(text, ps, pe) if _line_units(text[ps:pe]) else [(ps, pe)]):
            line = text[ls:le]
            kind = None
            if _is_markdown_heading(line):
                ls = ls + len(re.match(r"#{1,6}\s+", line).group(0))
                line, kind = text[ls:le], "heading"
            elif date is None and not units and (iso := _parse_dateline(line)):
                date, kind = iso, "dateline"
            elif _is_title_like(line):
                kind = "heading"
            if kind is None:
                prose.append((pi, ls, le))
                continue
            if kind == "heading" and title is None and not any(u.kind == "sentence" for u in units) and not prose:
                kind, title = "headline", line
            units.append(Sentence(doc.path, ls, le, line, kind, pi))
    for ci, (cs, ce) in enumerate(doc.code):  # a code block is a unit of its own, never a paragraph's
        units.append(Sentence(doc.path, cs, ce, text[cs:ce], "code", len(para_spans) + ci))
    return units, prose, title, date


WHOLE_BLOCKS = {"headline": "headline", "heading": "heading", "term": "term", "code": "code", "row": "row"}


def _block_layout(doc: Document) -> tuple[list[Sentence], list[tuple[int, int, int]], str | None, str | None]:
    """The layout of a document read from its structure: headings, terms, code blocks and table rows
    are units kept whole; paragraphs and list items are prose, each its own paragraph (a block's
    number is its paragraph number, so that its path can be found again)."""
    units, prose, title = [], [], None
    for bi, b in enumerate(doc.blocks):
        if b.kind in WHOLE_BLOCKS:
            units.append(Sentence(doc.path, b.start, b.end, doc.text[b.start:b.end], WHOLE_BLOCKS[b.kind], bi))
            if b.kind == "headline" and title is None:
                title = units[-1].text
        else:
            prose.append((bi, b.start, b.end))
    return units, prose, title, None


def _outside(spans: list[tuple[int, int]], skip: tuple, text: str) -> list[tuple[int, int]]:
    """The parts of `spans` outside the `skip` spans (code, tables, front matter), trimmed."""
    if not skip:
        return spans
    out = []
    for s, e in spans:
        pos = s
        for ks, ke in skip:
            if ke <= pos or ks >= e:
                continue
            if ks > pos:
                _add_trimmed(text, pos, ks, out)
            pos = max(pos, ke)
        if pos < e:
            _add_trimmed(text, pos, e, out)
    return out


def _place(units: list[Sentence], pages: tuple) -> None:
    """Each unit's section (the heading, or the headline, it stands under) and page."""
    import bisect

    starts = [s for s, _ in pages]
    section = None
    for u in units:
        if u.kind in ("heading", "headline"):
            section = u.text
        u.section = section
        if pages:
            u.page = pages[max(0, bisect.bisect_right(starts, u.start) - 1)][1]




def _place_in_blocks(units: list[Sentence], doc: Document) -> None:
    """Each unit's section as the path of headings and terms its block stands under; inline code
    as entities of its own (label CODE) in place of whatever spaCy saw there ("--depth" is no
    CARDINAL)."""
    import bisect

    literals = sorted(doc.literals)
    starts = [a for a, _ in literals]
    for u in units:
        block = doc.blocks[u.paragraph]
        u.section = PATH_SEPARATOR.join(block.path) if block.path else None
        lo = bisect.bisect_left(starts, u.start)
        mine = [(a, b) for a, b in literals[lo:bisect.bisect_right(starts, u.end)] if b <= u.end]
        if mine:
            kept = [e for e in u.entities if not any(e[0] < b and a < e[1] for a, b in mine)]
            u.entities = sorted(kept + [(a, b, "CODE") for a, b in mine])


def _line_units(para: str) -> bool:
    """A paragraph whose lines stand alone: Markdown headings or list items, or title-like lines."""
    lines = [l.strip() for l in para.split("\n") if l.strip()]
    return len(lines) > 1 and any(_is_markdown_heading(l) or re.match(r"[-*+]\s|\d+[.)]\s", l) for l in lines)


def _sentences(path: str, text: str, offset: int, pi: int, parsed, whole: bool = False) -> list[Sentence]:
    """Sentences of a parsed paragraph (or the paragraph as one unit when `whole`), tokens included."""
    out = []
    noun_chunks = [(c.start, c.end, c.start_char, c.end_char) for c in parsed.noun_chunks]  # once, not per sentence
    for sent in ([parsed[:]] if whole else parsed.sents):
        s, e = offset + sent.start_char, offset + sent.end_char
        raw = text[s:e]
        s += len(raw) - len(raw.lstrip())
        e = s + len(raw.strip())
        if s >= e:
            continue
        toks = [t for t in sent if not t.is_space]
        first = sent.start
        tokens = [Token(offset + t.idx, offset + t.idx + len(t.text), t.text, t.lemma_.lower(), t.pos_, t.dep_,
                        t.head.i - first, t.ent_type_) for t in toks]
        ents = [(offset + x.start_char, offset + x.end_char, x.label_) for x in sent.ents
                if not reference_number(text, offset + x.start_char, offset + x.end_char)]
        chunks = [(offset + cs, offset + ce) for a, b, cs, ce in noun_chunks if a >= sent.start and b <= sent.end]
        out.append(Sentence(path, s, e, text[s:e], "sentence", pi, tokens=tokens, entities=ents, chunks=chunks))
    return out if whole else _merge_fragments(out, text)




def _merge_fragments(sents: list[Sentence], text: str) -> list[Sentence]:
    """Join a piece that spaCy cut off without a real sentence end (e.g. after "U.S.") to the one before."""
    merged: list[Sentence] = []
    for s in sents:
        prev = merged[-1] if merged else None
        if prev and (len(s.text.split()) < 3 and not s.text[0].isupper() or not prev.text.rstrip().endswith(SENTENCE_END)):
            merged[-1] = Sentence(prev.doc, prev.start, s.end, text[prev.start:s.end], "sentence", prev.paragraph,
                                  tokens=prev.tokens + [_shift(t, len(prev.tokens)) for t in s.tokens],
                                  entities=prev.entities + s.entities, chunks=prev.chunks + s.chunks)
        else:
            merged.append(s)
    return merged


def _shift(t: Token, n: int) -> Token:
    return Token(t.start, t.end, t.text, t.lemma, t.pos, t.dep, t.head + n, t.ent)
