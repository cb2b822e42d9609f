"""Turning a window model's per-token outputs into character spans: source and cue spans from the
tagger's BIO probabilities, and propaganda-technique spans from the technique head. Both backends
(torch and ONNX Runtime) decode with these, so their spans are the same."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from framing.record import TechniqueSpan
from framing.taxonomy import TECHNIQUES

TAG_THRESHOLD = 0.5
"""A token starts or continues a span when that tag is its most likely one; a span is kept when its
mean tag probability is at least this."""

CONTINUE_THRESHOLD = {"source": 0.1, "cue": 0.2}
"""An open span also takes the next token when that token's probability of the span's role (B + I)
is at least this, even where "O" is its most likely tag: the tagger often trails off after the first
word of a long source ("46" of "46 percent", "My" of "My father"). Chosen on annotations-dev and 80
PolNeAR train articles (source exact F1 0.620 → 0.666 and 0.708 → 0.756 with the shipped default;
cue exact F1 best near 0.15–0.3); 1.0 turns it off."""


@dataclass
class SpanGuess:
    """A source or cue span found by the tagger, in article character offsets."""

    role: str  # "source" or "cue"
    start: int
    end: int
    score: float


def decode_tags(offsets: Sequence[tuple[int, int]], probs: np.ndarray, tags: Sequence[str], text: str | None = None) -> list[SpanGuess]:
    """Turn per-token tag probabilities (BIO over ``source`` and ``cue``) into character spans.

    The tagger's B/I choice is not trusted to split spans: consecutive tokens of one role form one span
    ("then" + "pointed out"), and so do spans of one role separated only by spaces when ``text`` is given.
    A word never breaks: a word piece glued to the previous one takes its role; punctuation does not
    glue, and a span never ends in punctuation ("Caddell:" → "Caddell").
    """
    out: list[SpanGuess] = []
    best = probs.argmax(-1) if len(probs) else np.zeros(0, dtype=int)
    role, start, end, scores = None, -1, -1, []  # the open span

    def close() -> None:
        stop = end
        # Trailing punctuation is never part of a name or a verb ("Caddell:", "says,"); an
        # abbreviation keeps its point ("the U.S.").
        while (
            text is not None
            and stop > start
            and (text[stop - 1] in ",;:!?" or (text[stop - 1] == "." and not re.search(r"(?:^|[\s.])\w\.$", text[start:stop])))
        ):
            stop -= 1
        if role is not None and scores and float(np.mean(scores)) >= TAG_THRESHOLD and stop > start:
            out.append(SpanGuess(role, start, stop, float(np.mean(scores))))

    prev_end, word_start = -2, -1
    for k, (s, e) in enumerate(offsets):
        if s < 0:
            continue
        glued = s == prev_end and text is not None and text[s : s + 1].isalnum() and text[s - 1 : s].isalnum()
        word_start = word_start if glued else s
        prev_end = e
        tag = tags[int(best[k])]
        if (
            tag == "O"
            and role is not None
            and float(probs[k, tags.index(f"B-{role}")] + probs[k, tags.index(f"I-{role}")]) >= CONTINUE_THRESHOLD[role]
        ):
            tag = f"I-{role}"
        if glued and role is not None:
            end, scores = e, [*scores, float(probs[k, tags.index(f"I-{role}")] + probs[k, tags.index(f"B-{role}")])]
            continue
        if glued and tag != "O":
            # A span that starts inside a word ("zelen" + "##sky") takes the whole word.
            s = word_start
        if tag == "O":
            close()
            role = None
            continue
        this_role = tag.split("-", 1)[1]
        p = float(probs[k, tags.index(f"B-{this_role}")] + probs[k, tags.index(f"I-{this_role}")])
        if role == this_role:
            end, scores = e, [*scores, p]
            continue
        close()
        role, start, end, scores = this_role, s, e, [p]
    close()
    if text is None:
        return out
    merged: list[SpanGuess] = []
    for g in out:
        last = merged[-1] if merged else None
        if last is not None and last.role == g.role and not text[last.end : g.start].strip():
            merged[-1] = SpanGuess(g.role, last.start, g.end, (last.score + g.score) / 2)
        else:
            merged.append(g)
    return merged


def decode_techniques(
    offsets: Sequence[tuple[int, int]], probs: np.ndarray, text: str, threshold: float | Sequence[float] = 0.5
) -> list[TechniqueSpan]:
    """Per technique, runs of consecutive tokens whose probability passes the threshold become spans
    (a run may bridge word pieces and the spaces between words); a span's ``prob`` is its mean."""
    out: list[dict[str, Any]] = []
    thresholds = np.broadcast_to(np.asarray(threshold, dtype=float), (len(TECHNIQUES),))
    real = [k for k, (s, _) in enumerate(offsets) if s >= 0]
    if not real:
        return []
    # Most sentences carry no technique: look only at the techniques some token passes.
    passing = np.flatnonzero((np.asarray(probs)[real] >= thresholds).any(axis=0))
    for t in passing:
        name = TECHNIQUES[t]
        start = end = -1
        scores: list[float] = []
        for k, (s, e) in enumerate(offsets):
            if s < 0:
                continue
            p = float(probs[k, t])
            if p >= thresholds[t]:
                if start < 0:
                    start, scores = s, []
                end = e
                scores.append(p)
            elif start >= 0:
                out.append({"start": start, "end": end, "technique": name, "prob": round(float(np.mean(scores)), 4)})
                start = -1
        if start >= 0:
            out.append({"start": start, "end": end, "technique": name, "prob": round(float(np.mean(scores)), 4)})
    out.sort(key=lambda x: (x["technique"], x["start"]))
    # A punctuation mark below the threshold should not split a phrase in two.
    merged: list[dict[str, Any]] = []
    for span in out:
        # Whole words only: a run of word pieces that starts or ends inside a word ("mp" of "Pompeo",
        # "tamount" of "tantamount") takes the whole word.
        span["start"], span["end"] = whole_words(text, span["start"], span["end"])
        last = merged[-1] if merged else None
        if (
            last is not None
            and last["technique"] == span["technique"]
            and span["start"] - last["end"] <= MAX_GAP
            and not text[last["end"] : span["start"]].strip(" ,'\"’”“-")
        ):
            last["end"] = max(last["end"], span["end"])
            last["prob"] = round((last["prob"] + span["prob"]) / 2, 4)
        else:
            merged.append(dict(span))
    merged.sort(key=lambda x: (x["start"], x["end"], x["technique"]))
    return [TechniqueSpan(x["start"], x["end"], x["technique"], x["prob"]) for x in merged if x["end"] - x["start"] >= MIN_TECHNIQUE_CHARS]


MIN_TECHNIQUE_CHARS = 3
"""Shorter technique spans (a stray "a", "of") are noise, not findings."""


def whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    """``start``-``end`` widened so that it neither starts nor ends inside a word."""
    while 0 < start < len(text) and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while 0 < end < len(text) and text[end].isalnum() and text[end - 1].isalnum():
        end += 1
    return start, end


MAX_GAP = 3
"""Spans of one technique closer than this many characters (spaces and punctuation only) are one span."""
