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
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

from framing.taxonomy import LABELS, MAIN_LABELS, SOURCE_KINDS, TECHNIQUES

__all__ = [
    "LABELS",
    "MAIN_LABELS",
    "SOURCE_KINDS",
    "Article",
    "ArticleProfile",
    "Attribution",
    "FramingCue",
    "LabelCount",
    "LineError",
    "RecordError",
    "Sentence",
    "SourceCount",
    "Span",
    "TechniqueCounts",
    "TechniqueSpan",
    "iter_jsonl",
    "read_jsonl",
]


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
class TechniqueSpan:
    """A stretch of the article text that carries a propaganda technique (one of ``TECHNIQUES``);
    ``prob`` is the model's mean probability over it (absent in gold annotations)."""

    start: int
    end: int
    technique: str
    prob: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"start": self.start, "end": self.end, "technique": self.technique}
        if self.prob is not None:
            out["prob"] = self.prob
        return out

    @classmethod
    def from_dict(cls, data: Any) -> TechniqueSpan:
        if not isinstance(data, dict):
            raise RecordError(f"expected an object, got {type(data).__name__}")
        start, end, technique, prob = data.get("start"), data.get("end"), data.get("technique"), data.get("prob")
        if not (_is_int(start) and _is_int(end) and 0 <= start <= end):
            raise RecordError(f"offsets {start!r}-{end!r} are not a span")
        if not isinstance(technique, str) or technique not in TECHNIQUES:
            raise RecordError(f"technique {technique!r} is not one of the {len(TECHNIQUES)} techniques")
        if prob is not None and not _is_number(prob):
            raise RecordError(f"prob {prob!r} is not a number")
        return cls(start, end, technique, None if prob is None else float(prob))


@dataclass
class LabelCount:
    count: int
    share: float


@dataclass
class SourceCount:
    """A source of an article's claims, with its kind and how many claims it carries."""

    name: str
    kind: str
    claims: int


@dataclass
class Attribution:
    """How an article's claims are sourced: their number, the share with a named, an anonymous or no
    source (a hedge), or a source the model did not find, and the count per kind."""

    claims: int
    named: float
    anonymous: float
    unattributed: float
    not_found: float
    by_kind: dict[str, int]


@dataclass
class FramingCue:
    """A word that carries framing, in sentence ``sentence`` (a loaded attribution cue: "boasted")."""

    sentence: int
    start: int
    end: int
    text: str
    kind: str


@dataclass
class TechniqueCounts:
    """Technique spans per technique, their number, and the share of editorial sentences carrying one."""

    counts: dict[str, int]
    spans: int
    editorial_with_technique: float


@dataclass
class ArticleProfile:
    """How an article sources and frames the news (``framing.profile.article_profile`` computes it)."""

    sentences: int
    labels: dict[str, LabelCount]
    sources: list[SourceCount]
    attribution: Attribution
    framing_cues: list[FramingCue]
    techniques: TechniqueCounts | None
    summary: str

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "sentences": self.sentences,
            "labels": {k: asdict(v) for k, v in self.labels.items()},
            "sources": [asdict(x) for x in self.sources],
            "attribution": asdict(self.attribution),
            "framing_cues": [asdict(x) for x in self.framing_cues],
        }
        if self.techniques is not None:
            out["techniques"] = asdict(self.techniques)
        out["summary"] = self.summary
        return out

    @classmethod
    def from_dict(cls, data: Any) -> ArticleProfile:
        """A stored profile; ``RecordError`` when its shape or types are not a profile's."""
        try:
            techniques = data.get("techniques")
            profile = cls(
                sentences=data["sentences"],
                labels={label: LabelCount(**data["labels"][label]) for label in LABELS},
                sources=[SourceCount(**x) for x in data["sources"]],
                attribution=Attribution(**data["attribution"]),
                framing_cues=[FramingCue(**x) for x in data["framing_cues"]],
                techniques=None if techniques is None else TechniqueCounts(**techniques),
                summary=data["summary"],
            )
        except (AttributeError, KeyError, TypeError) as exc:
            raise RecordError(f"not a profile ({exc!r})") from None
        a, t = profile.attribution, profile.techniques
        if not isinstance(a.by_kind, dict) or (t is not None and not isinstance(t.counts, dict)):
            raise RecordError("not a profile (wrong value types)")
        numbers = [
            profile.sentences,
            a.claims,
            *(x.count for x in profile.labels.values()),
            *(x.claims for x in profile.sources),
            *a.by_kind.values(),
            *(n for c in profile.framing_cues for n in (c.sentence, c.start, c.end)),
            *((t.spans, *t.counts.values()) if t is not None else ()),
        ]
        shares = [a.named, a.anonymous, a.unattributed, a.not_found, *(x.share for x in profile.labels.values())]
        shares += [t.editorial_with_technique] if t is not None else []
        texts = [profile.summary, *(x.name for x in profile.sources), *(x.kind for x in profile.sources), *a.by_kind]
        texts += [x for c in profile.framing_cues for x in (c.text, c.kind)] + (list(t.counts) if t is not None else [])
        if not (all(_is_int(n) for n in numbers) and all(_is_number(x) for x in shares) and all(isinstance(x, str) for x in texts)):
            raise RecordError("not a profile (wrong value types)")
        return profile


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass
class Article:
    """A news article with its sentences, and what scoring adds: technique spans and a profile."""

    id: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict)
    sentences: list[Sentence] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    """Fields this version does not interpret (and stored techniques or profiles it cannot read), kept
    so that a read → write round trip loses nothing."""
    techniques: list[TechniqueSpan] | None = None
    profile: ArticleProfile | None = None
    origin: str | None = field(default=None, repr=False, compare=False)
    """Where the record was read ("file.jsonl line 3", "table.csv row 2"), for messages; never written."""

    def sentence_text(self, sentence: Sentence) -> str:
        return self.text[sentence.start : sentence.end]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "text": self.text, "meta": self.meta}
        out["sentences"] = [s.to_dict() for s in self.sentences]
        out.update(self.extra)
        if self.techniques is not None:
            out["techniques"] = [t.to_dict() for t in self.techniques]
        if self.profile is not None:
            out["profile"] = self.profile.to_dict()
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
    sentences = [_parse_sentence(raw, text, f"{where}: sentences[{i}]") for i, raw in enumerate(raw_sentences)]
    for i in range(1, len(sentences)):
        if sentences[i].start < sentences[i - 1].end:
            raise RecordError(
                f"{where}: sentences[{i}] starts at {sentences[i].start}, inside or before "
                f"sentences[{i - 1}] which ends at {sentences[i - 1].end}; sentences must be in order "
                "and must not overlap"
            )
    known = {"id", "text", "meta", "sentences"}
    extra = {k: v for k, v in data.items() if k not in known}
    article = Article(id=article_id, text=text, meta=meta, sentences=sentences, extra=extra)
    # Techniques and a profile that this version can read become typed; others stay as they were, in
    # ``extra`` (a later scoring pass replaces them).
    raw = extra.get("techniques")
    if isinstance(raw, list):
        try:
            article.techniques = [TechniqueSpan.from_dict(t) for t in raw]
            del extra["techniques"]
        except RecordError:
            pass
    if "profile" in extra:
        try:
            article.profile = ArticleProfile.from_dict(extra["profile"])
            del extra["profile"]
        except RecordError:
            pass
    return article


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
            raise RecordError(f"{where}.{name}: span {s_start}-{s_end} lies outside its sentence {start}-{end}")
        if "text" in value and value["text"] != text[s_start:s_end]:
            raise RecordError(f"{where}.{name}.text: {value['text']!r} does not match text[{s_start}:{s_end}] = {text[s_start:s_end]!r}")
        kind = value.get("kind")
        if kind is not None and kind not in SOURCE_KINDS:
            raise RecordError(f"{where}.{name}.kind: {kind!r} is not one of {', '.join(SOURCE_KINDS)}")
        span_extra = {k: v for k, v in value.items() if k not in ("start", "end", "text", "kind", "resolved", "loaded", "score")}
        spans[name] = Span(
            s_start, s_end, text[s_start:s_end], kind, value.get("resolved"), value.get("loaded"), value.get("score"), span_extra
        )
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
        raise RecordError(f"{where}: offsets {start}-{end} are not a non-empty span inside the text (length {len(text)})")
    return start, end


@dataclass
class LineError:
    """A line of a JSONL file that could not be read as an article."""

    path: str
    line: int
    message: str
    """What is wrong, prefixed with where ("file.jsonl line 3: ...")."""

    def __str__(self) -> str:
        return self.message

    @property
    def reason(self) -> str:
        """What is wrong, without where."""
        return self.message.removeprefix(f"{self.path} line {self.line}: ")


def iter_jsonl(path: str | Path, *, lines: Iterable[str | bytes] | None = None) -> Iterator[Article | LineError]:
    """Read articles from a JSONL file, yielding a ``LineError`` for each bad line instead of stopping:
    a line that is not UTF-8, not JSON (or nested too deeply to read), not valid Unicode (a lone
    surrogate escape), or not an article record fails alone, and the lines after it are still read.

    ``lines`` replaces reading ``path`` (used for standard input); ``path`` then only names the source.
    """
    name = str(path)
    if lines is None:
        with open(path, "rb") as handle:
            # Split on "\n" only: U+2028 and U+0085 are text inside a record, not line ends.
            yield from _iter_lines(name, handle)
    else:
        yield from _iter_lines(name, lines)


def _iter_lines(name: str, lines: Iterable[str | bytes]) -> Iterator[Article | LineError]:
    for number, raw in enumerate(lines, start=1):
        where = f"{name} line {number}"
        if isinstance(raw, bytes):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield LineError(name, number, f"{where}: not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})")
                continue
        else:
            line = raw
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            yield LineError(name, number, f"{where}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        except RecursionError:
            yield LineError(name, number, f"{where}: JSON nested too deeply to be an article record")
            continue
        # A lone surrogate escape ("\\ud800") is valid JSON but not text: it could never be written back.
        if "\\ud" in line.lower() and not _encodable(data):
            yield LineError(name, number, f"{where}: holds an unpaired surrogate escape (\\ud800-\\udfff), not valid Unicode text")
            continue
        try:
            article = Article.from_dict(data, where)
            article.origin = where
            yield article
        except RecordError as exc:
            yield LineError(name, number, str(exc))
        except RecursionError:
            yield LineError(name, number, f"{where}: nested too deeply to be an article record")


def _encodable(data: Any) -> bool:
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def read_jsonl(path: str | Path) -> list[Article]:
    """Read every article of a JSONL file; raise ``RecordError`` at the first bad line."""
    articles = []
    for item in iter_jsonl(path):
        if isinstance(item, LineError):
            raise RecordError(item.message)
        articles.append(item)
    return articles
