"""Sentence segmentation for news text, with character offsets into the original text.

The base segmenter is syntok (it scored the best boundary F1 on the annotated seed article of
pysbd, syntok, blingfire and spaCy's sentencizer: see ``benchmarks/segmenters.py``). On top of it sit
only the rules news text needs and syntok lacks:

* a date stamp that opens the article ("date 2025-05-25 The Kremlin ...") is its own unit (a dateline);
* an embedded post's signature ("pic.twitter.com/... — RT (@RT_com) May 25, 2025") is split from the
  post text it follows;
* a short line with no closing punctuation (a caption, a credit, a heading, "Read more: ...") ends at its
  line break, even when only a single newline follows;
* clauses cut at a semicolon are joined;
* a title or month abbreviation that syntok cut off ("Dr." | "No agreed.", "Sep." | "25th") is joined
  back to its sentence.

Sentences broken by a stray line break ("...in the E.U.\\npermanently.") stay whole: that is syntok's
own behaviour and the line rule above never fires before a lowercase continuation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import syntok.segmenter as syntok_segmenter

Span = tuple[int, int]

# "date 2025-05-25", "2025-05-25", "May 25, 2025", "25 May 2025" at the very start of an article.
_LEADING_DATE = re.compile(
    r"\s*(?:date\s+)?(?:\d{4}-\d{2}-\d{2}|"
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2},\s+\d{4}|"
    r"\d{1,2}\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+\d{4})"
    r"(?=\s+[A-Z\"“'‘])",
    re.IGNORECASE,
)
# The signature an embedded post carries when copied from a page: a pic.twitter.com link and/or
# "— Name (@handle) Month D, YYYY".
_POST_SIGNATURE = re.compile(
    r"(?:pic\.twitter\.com/\S+|https?://t\.co/\S+)(?:\s+[—–-]\s+[^\n]*?\(@\w+\)\s+\w+\.?\s+\d{1,2},\s+\d{4})?"
    r"|[—–]\s+[^\n—–]{1,80}?\(@\w+\)\s+\w+\.?\s+\d{1,2},\s+\d{4}"
)
_TERMINAL = tuple(".!?:;…\"”’')]")
_TITLES = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "gen",
        "sen",
        "sens",
        "rep",
        "reps",
        "gov",
        "lt",
        "col",
        "capt",
        "sgt",
        "maj",
        "adm",
        "st",
        "rev",
        "hon",
        "pres",
        "supt",
        "insp",
        "cmdr",
        "jr",
        "sr",
    ]
)
_MONTHS = frozenset(["jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"])
_SHORT_LINE_WORDS = 12


def segment(text: str) -> list[Span]:
    """Split ``text`` into sentences; return ``(start, end)`` character offsets, end exclusive.

    Every span is stripped of surrounding whitespace, spans are in order and never overlap, and
    every non-whitespace character of ``text`` falls inside exactly one span.
    """
    spans: list[Span] = []
    offset = 0
    match = _LEADING_DATE.match(text)
    if match:
        spans.append(_strip(text, match.start(), match.end()))
        offset = match.end()
    for start, end in _base_spans(text, offset):
        for part in _split_lines(text, start, end):
            spans.extend(_split_signatures(text, *part))
    spans = _join_titles(text, spans)
    return _cover(text, [s for s in spans if s[1] > s[0]])


def segment_sentences(text: str) -> list[str]:
    """The sentences of ``text`` as strings (convenience for exploring; offsets come from ``segment``)."""
    return [text[a:b] for a, b in segment(text)]


def _base_spans(text: str, offset: int) -> Iterator[Span]:
    # syntok reports token offsets relative to the string it was given.
    for paragraph in syntok_segmenter.analyze(text[offset:]):
        for sentence in paragraph:
            tokens = list(sentence)
            if not tokens:
                continue
            start = offset + tokens[0].offset
            last = tokens[-1]
            end = offset + last.offset + len(last.value)
            yield start, end


def _split_lines(text: str, start: int, end: int) -> Iterator[Span]:
    """Cut after a short line without closing punctuation when the next line starts a new unit."""
    cut = start
    for newline in re.finditer(r"\n", text[start:end]):
        pos = start + newline.start()
        line = text[cut:pos].strip()
        following = text[pos:end].lstrip()
        if not line or not following:
            continue
        heading = line.endswith(("…", "...")) and len(line.split()) <= _SHORT_LINE_WORDS
        if line.endswith(_TERMINAL) and not line.endswith(":") and not heading:
            # syntok keeps "E.U.\npermanently." together on purpose; a capital after a full stop
            # at a line end would already have been split by syntok itself. A short line that trails
            # off ("Clinton City…") is a section heading: syntok does not cut after an ellipsis.
            continue
        starts_new = following[0].isupper() or following[0].isdigit() or following[0] in "\"“‘'("
        if starts_new and (len(line.split()) <= _SHORT_LINE_WORDS or line.endswith(":")):
            yield _strip(text, cut, pos)
            cut = pos
    yield _strip(text, cut, end)


def _split_signatures(text: str, start: int, end: int) -> Iterator[Span]:
    cut = start
    for match in _POST_SIGNATURE.finditer(text, start, end):
        if match.start() > cut and text[cut : match.start()].strip():
            yield _strip(text, cut, match.start())
            cut = match.start()
        # A dated signature closes the post: what follows it is the article again.
        if match.group(0).rstrip()[-4:].isdigit():
            yield _strip(text, cut, match.end())
            cut = match.end()
    yield _strip(text, cut, end)


def _join_titles(text: str, spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for span in spans:
        if out:
            prev = text[out[-1][0] : out[-1][1]]
            last_word = prev.rsplit(None, 1)[-1] if prev.strip() else ""
            word = last_word[:-1].lower()
            joins = last_word.endswith(".") and (
                word in _TITLES or (word in _MONTHS and text[span[0]].isdigit())  # "Sep. 25th"
            )
            # A semicolon joins the clauses of one sentence (a list, a quote-within-a-quote).
            joins = joins or prev.endswith(";")
            # A closing quotation mark left on its own belongs to the sentence it closes.
            lone_quote = not text[span[0] : span[1]].strip("\"”’'») ")
            if lone_quote or (joins and "\n" not in text[out[-1][1] : span[0]]):
                out[-1] = (out[-1][0], span[1])
                continue
        out.append(span)
    return out


def _cover(text: str, spans: list[Span]) -> list[Span]:
    """Guarantee that no visible character is lost between spans (syntok drops nothing today, but a
    segmenter that silently loses text would corrupt every downstream offset)."""
    out: list[Span] = []
    pos = 0
    for start, end in sorted(spans):
        start = max(start, pos)
        if start >= end:
            continue
        gap = _strip(text, pos, start)
        if gap[1] > gap[0]:
            out.append(gap)
        out.append((start, end))
        pos = end
    tail = _strip(text, pos, len(text))
    if tail[1] > tail[0]:
        out.append(tail)
    return out


def _strip(text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
