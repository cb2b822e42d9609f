"""The article record: the one data type of the pipeline, read and written as the guidelines' JSONL.

A line of the file is one article::

    {"id": "...", "text": "...", "meta": {...},
     "sentences": [{"start": 17, "end": 232, "label": "editorial_framing",
                    "source": {"start": 17, "end": 59, "text": "..."},
                    "cue": {"start": 60, "end": 72, "text": "..."},
                    "probs": {"attributed_claim": 0.1, ...}}]}

Offsets are character offsets into ``text``, end exclusive. Predictions add ``probs`` to each sentence;
everything a later stage adds (a profile, technique spans) goes into this record, never a second format.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LABELS: tuple[str, ...] = ("attributed_claim", "editorial_framing", "reported_fact", "other")
"""Sentence labels, in the fixed order used for probability vectors and model outputs."""

MAIN_LABELS: tuple[str, ...] = LABELS[:3]
"""The three labels macro-F1 is reported over (``other`` is not a proposition)."""

SOURCE_KINDS: tuple[str, ...] = ("person", "organisation", "media", "anonymous", "unattributed")
"""Who a claim comes from: a named person, an organisation or official body, a media outlet, an unnamed
source ("officials said"), or nobody at all (a hedge: "is said to", "reportedly")."""


class RecordError(ValueError):
    """A record that does not follow the guidelines' format; the message says where and why."""


@dataclass
class Span:
    """A span of the article text (a claim's source or cue).

    Predicted spans say more: a source its ``kind`` (one of ``SOURCE_KINDS``) and, when the text names
    it elsewhere in full, the ``resolved`` name ("He" → "Yury Dashkin, commander of ..."); a cue whether
    it is ``loaded`` ("boasted", "admitted"); both the tagger's ``score``.
    """

    start: int
    end: int
    text: str
    kind: str | None = None
    resolved: str | None = None
    loaded: bool | None = None
    score: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"start": self.start, "end": self.end, "text": self.text}
        for key in ("kind", "resolved", "loaded"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.score is not None:
            out["score"] = round(float(self.score), 4)
        out.update(self.extra)
        return out


@dataclass
class Sentence:
    """One sentence: offsets into the article text, its label and, for predictions, its probabilities."""

    start: int
    end: int
    label: str | None = None
    source: Span | None = None
    cue: Span | None = None
    probs: dict[str, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    """Fields this version does not interpret, kept so that a read → write round trip loses nothing."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"start": self.start, "end": self.end}
        if self.label is not None:
            out["label"] = self.label
        if self.source is not None:
            out["source"] = self.source.to_dict()
        if self.cue is not None:
            out["cue"] = self.cue.to_dict()
        if self.probs is not None:
            out["probs"] = {k: round(float(v), 4) for k, v in self.probs.items()}
        out.update(self.extra)
        return out


@dataclass
class Article:
    """A news article with its sentences."""

    id: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict)
    sentences: list[Sentence] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def sentence_text(self, sentence: Sentence) -> str:
        return self.text[sentence.start : sentence.end]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "text": self.text, "meta": self.meta}
        out["sentences"] = [s.to_dict() for s in self.sentences]
        out.update(self.extra)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: Any, where: str = "record") -> Article:
        """Build and validate an article; ``where`` prefixes every error ("file.jsonl line 3")."""
        return _parse_article(data, where)


def _parse_article(data: Any, where: str) -> Article:
    if not isinstance(data, dict):
        raise RecordError(f"{where}: expected a JSON object, got {type(data).__name__}")
    for key in ("id", "text"):
        if key not in data:
            raise RecordError(f"{where}: missing field '{key}' (an article needs 'id' and 'text')")
    article_id = data["id"]
    if isinstance(article_id, int) and not isinstance(article_id, bool):
        article_id = str(article_id)
    if not isinstance(article_id, str) or not article_id:
        raise RecordError(f"{where}: field 'id' must be a non-empty string, got {article_id!r}")
    text = data["text"]
    if not isinstance(text, str):
        raise RecordError(f"{where}: field 'text' must be a string, got {type(text).__name__}")
    meta = data.get("meta") or {}
    if not isinstance(meta, dict):
        raise RecordError(f"{where}: field 'meta' must be an object, got {type(meta).__name__}")
    raw_sentences = data.get("sentences") or []
    if not isinstance(raw_sentences, list):
        raise RecordError(f"{where}: field 'sentences' must be a list")
    sentences = [
        _parse_sentence(raw, text, f"{where}: sentences[{i}]") for i, raw in enumerate(raw_sentences)
    ]
    for i in range(1, len(sentences)):
        if sentences[i].start < sentences[i - 1].end:
            raise RecordError(
                f"{where}: sentences[{i}] starts at {sentences[i].start}, inside or before "
                f"sentences[{i - 1}] which ends at {sentences[i - 1].end}; sentences must be in order "
                "and must not overlap"
            )
    known = {"id", "text", "meta", "sentences"}
    extra = {k: v for k, v in data.items() if k not in known}
    return Article(id=article_id, text=text, meta=meta, sentences=sentences, extra=extra)


def _parse_sentence(raw: Any, text: str, where: str) -> Sentence:
    if not isinstance(raw, dict):
        raise RecordError(f"{where}: expected an object with 'start' and 'end'")
    start, end = _offsets(raw, text, where)
    label = raw.get("label")
    if label is not None and label not in LABELS:
        raise RecordError(f"{where}.label: {label!r} is not one of {', '.join(LABELS)}")
    spans: dict[str, Span | None] = {}
    for name in ("source", "cue"):
        value = raw.get(name)
        if value is None:
            spans[name] = None
            continue
        if not isinstance(value, dict):
            raise RecordError(f"{where}.{name}: expected an object with 'start', 'end' and 'text'")
        s_start, s_end = _offsets(value, text, f"{where}.{name}")
        if s_start < start or s_end > end:
            raise RecordError(
                f"{where}.{name}: span {s_start}-{s_end} lies outside its sentence {start}-{end}"
            )
        if "text" in value and value["text"] != text[s_start:s_end]:
            raise RecordError(
                f"{where}.{name}.text: {value['text']!r} does not match text[{s_start}:{s_end}] = "
                f"{text[s_start:s_end]!r}"
            )
        kind = value.get("kind")
        if kind is not None and kind not in SOURCE_KINDS:
            raise RecordError(f"{where}.{name}.kind: {kind!r} is not one of {', '.join(SOURCE_KINDS)}")
        span_extra = {k: v for k, v in value.items() if k not in ("start", "end", "text", "kind", "resolved", "loaded", "score")}
        spans[name] = Span(s_start, s_end, text[s_start:s_end], kind, value.get("resolved"), value.get("loaded"), value.get("score"), span_extra)
    probs = raw.get("probs")
    if probs is not None:
        if not isinstance(probs, dict) or set(probs) - set(LABELS):
            raise RecordError(f"{where}.probs: expected an object keyed by {', '.join(LABELS)}")
        for key, value in probs.items():
            if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0 or math.isnan(value):
                raise RecordError(f"{where}.probs.{key}: {value!r} is not a probability")
        probs = {k: float(v) for k, v in probs.items()}
    known = {"start", "end", "label", "source", "cue", "probs"}
    extra = {k: v for k, v in raw.items() if k not in known}
    return Sentence(start, end, label, spans["source"], spans["cue"], probs, extra)


def _offsets(raw: dict[str, Any], text: str, where: str) -> tuple[int, int]:
    start, end = raw.get("start"), raw.get("end")
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise RecordError(f"{where}.{name}: expected an integer offset, got {value!r}")
    assert isinstance(start, int) and isinstance(end, int)
    if not 0 <= start < end <= len(text):
        raise RecordError(
            f"{where}: offsets {start}-{end} are not a non-empty span inside the text "
            f"(length {len(text)})"
        )
    return start, end


@dataclass
class LineError:
    """A line of a JSONL file that could not be read as an article."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return self.message


def iter_jsonl(path: str | Path, *, lines: Iterator[str] | None = None) -> Iterator[Article | LineError]:
    """Read articles from a JSONL file, yielding a ``LineError`` for each bad line instead of stopping.

    ``lines`` replaces reading ``path`` (used for standard input); ``path`` then only names the source.
    """
    name = str(path)
    if lines is None:
        with open(path, encoding="utf-8", errors="strict", newline="") as handle:
            yield from _iter_lines(name, handle)
    else:
        yield from _iter_lines(name, lines)


def _iter_lines(name: str, lines: Any) -> Iterator[Article | LineError]:
    number = 0
    while True:
        number += 1
        try:
            line = next(lines)
        except StopIteration:
            return
        except UnicodeDecodeError as exc:
            yield LineError(name, number, f"{name} line {number}: not valid UTF-8 ({exc.reason})")
            return
        if not line.strip():
            continue
        where = f"{name} line {number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            yield LineError(name, number, f"{where}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        try:
            yield Article.from_dict(data, where)
        except RecordError as exc:
            yield LineError(name, number, str(exc))


def read_jsonl(path: str | Path) -> list[Article]:
    """Read every article of a JSONL file; raise ``RecordError`` at the first bad line."""
    articles = []
    for item in iter_jsonl(path):
        if isinstance(item, LineError):
            raise RecordError(item.message)
        articles.append(item)
    return articles
