"""Annotations in and out: Label Studio and doccano exports, a simple CSV, and our JSONL.

``import_file`` turns an export into article records with labelled sentences (and source/cue spans),
reporting every row or span it could not use and why; ``export_tasks`` turns scored records into
pre-annotated tasks, so annotators correct the model instead of starting blank.

Label Studio: the text is in ``data.text``; each labelled region (``type: labels``) is a sentence with its
label, a ``source`` / ``cue`` span inside one, or a propaganda-technique span (PTC names), which goes to the
record's ``techniques``. doccano (sequence labelling JSONL): ``text`` with
``label: [[start, end, name], ...]`` or ``entities: [{start_offset, end_offset, label}, ...]``.
CSV: ``article_id, sentence, label`` rows, sentences of one article in order.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framing.record import LABELS, Article, LineError, RecordError, Sentence, Span, TechniqueSpan, iter_jsonl
from framing.taxonomy import LABEL_STYLE, TECHNIQUES

SPAN_ROLES = ("source", "cue")
FORMATS = ("labelstudio", "doccano", "csv", "jsonl")


@dataclass
class Skipped:
    """Something in an export that was not imported, and why."""

    where: str
    reason: str


@dataclass
class Imported:
    articles: list[Article] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def sentences(self) -> int:
        return sum(1 for a in self.articles for s in a.sentences if s.label)


def import_file(path: str | Path, fmt: str) -> Imported:
    """Read an annotation export (``fmt`` one of ``FORMATS``) into article records."""
    path = Path(path)
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    result = Imported()
    if fmt == "jsonl":
        for item in iter_jsonl(path):
            if isinstance(item, LineError):
                result.skipped.append(Skipped(f"{item.path} line {item.line}", item.reason))
                continue
            item = confirmed_only(item)
            if not any(s.label for s in item.sentences):
                result.skipped.append(Skipped(f"{path} article {item.id}", "no labelled sentence"))
            else:
                result.articles.append(item)
        return result
    if fmt == "csv":
        return _import_csv(path, result)
    for where, raw in _records(path, fmt):
        try:
            text, regions, article_id = _regions(raw, fmt, where, result.skipped)
        except (KeyError, TypeError, ValueError) as exc:
            result.skipped.append(Skipped(where, f"not a {fmt} task: {exc}"))
            continue
        article = _article(article_id, text, regions, where, result.skipped)
        if article is not None:
            result.articles.append(article)
    return result


def confirmed_only(article: Article) -> Article:
    """A record exported from a review (``meta.reviewed_by``) keeps labels and spans only on the sentences
    the reviewer relabelled or confirmed (``reviewed: true``): the rest are the model's guesses, not
    human labels, and must not be trained on as if they were."""
    if not article.meta.get("reviewed_by"):
        return article
    # The report lets a reviewer remove wrong technique spans but not add missed ones: what is left is
    # the model's output, not a complete annotation to train the technique head on.
    article.techniques = None
    article.extra.pop("techniques", None)
    for s in article.sentences:
        if s.extra.get("reviewed") is not True:
            s.label, s.source, s.cue = None, None, None
        elif "model_label" in s.extra or "rejected_source" in s.extra or "rejected_cue" in s.extra:
            # Relabelled, or a span rejected: the right span was not marked.
            s.extra["spans_marked"] = False
    return article


def _records(path: Path, fmt: str) -> Iterator[tuple[str, Any]]:
    text = path.read_text(encoding="utf-8")
    if fmt == "labelstudio":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not a Label Studio JSON export ({exc.msg} at line {exc.lineno})") from None
        except RecursionError:
            raise ValueError(f"{path}: not a Label Studio JSON export (nested too deeply)") from None
        for i, task in enumerate(data if isinstance(data, list) else [data]):
            yield f"{path} task {i + 1}", task
        return
    # Lines end at "\n" only: U+2028 or U+0085 inside a text are part of it (str.splitlines would cut there).
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            yield f"{path} line {number}", json.loads(line)
        except json.JSONDecodeError as exc:
            yield f"{path} line {number}", {"__error__": f"not valid JSON ({exc.msg})"}
        except RecursionError:
            yield f"{path} line {number}", {"__error__": "JSON nested too deeply"}


Region = tuple[int, int, str]


def _regions(raw: Any, fmt: str, where: str, skipped: list[Skipped]) -> tuple[str, list[Region], str]:
    """The text, labelled regions and id of one task; a region that cannot be placed is skipped alone
    (listed in ``skipped``), a task that is not one raises ``ValueError``."""
    if not isinstance(raw, dict):
        raise ValueError(f"expected a JSON object, got {type(raw).__name__}")
    if "__error__" in raw:
        raise ValueError(raw["__error__"])
    if fmt == "labelstudio":
        data = raw.get("data")
        text = data.get("text") if isinstance(data, dict) else None
        if not isinstance(text, str):
            raise ValueError("data.text is missing or not a string")
        annotations = [a for a in raw.get("annotations") or [] if isinstance(a, dict) and not a.get("was_cancelled")]
        # The latest annotation wins; with none, the task's predictions (an uncorrected pre-annotation) are not imported.
        results = annotations[-1].get("result") if annotations else []
        regions = []
        for n, r in enumerate(results if isinstance(results, list) else []):
            if not isinstance(r, dict) or r.get("type") != "labels":
                continue
            placed = _place(text, r.get("value"))
            if isinstance(placed, str):
                skipped.append(Skipped(f"{where} region {n + 1}", placed))
                continue
            start, end, labels = placed
            regions += [(start, end, str(label)) for label in labels]
        assert isinstance(data, dict)
        article_id = str(data.get("id") or raw.get("id") or where)
        return text, regions, article_id
    text = raw.get("text")
    if not isinstance(text, str):
        raise ValueError("text is missing or not a string")
    regions = []
    listed = (
        raw["label"]
        if isinstance(raw.get("label"), list)
        else [[x.get("start_offset"), x.get("end_offset"), x.get("label")] for x in raw.get("entities") or [] if isinstance(x, dict)]
    )
    for n, item in enumerate(listed):
        try:
            s, e, name = item
            regions.append((int(s), int(e), str(name)))
        except (TypeError, ValueError):
            skipped.append(Skipped(f"{where} span {n + 1}", f"not a [start, end, label] span: {str(item)[:60]}"))
    return text, regions, str(raw.get("article_id") or raw.get("id") or where)


def _place(text: str, value: Any) -> tuple[int, int, list[Any]] | str:
    """A Label Studio region's (start, end, labels) in the text, or why it cannot be placed. Current Label
    Studio counts code points, older exports UTF-16 units (an emoji counts twice): the reading whose
    offsets hold the region's own text wins, code points first."""
    if not isinstance(value, dict):
        return "region value is not an object"
    try:
        start, end = int(value["start"]), int(value["end"])
    except (KeyError, TypeError, ValueError):
        return "region without integer start and end"
    labels = value.get("labels")
    if not isinstance(labels, list):
        return "region without a list of labels"
    readings = [(start, end)]
    to_py = _from_utf16(text)
    if to_py is not None and 0 <= start <= end < len(to_py):
        readings.append((to_py[start], to_py[end]))
    expected = value.get("text")
    if not any(0 <= a <= b <= len(text) for a, b in readings):
        return f"offsets outside the text ({start}-{end}; the text has {len(text)} characters)"
    for a, b in readings:
        if 0 <= a <= b <= len(text) and (not isinstance(expected, str) or text[a:b] == expected):
            return a, b, labels
    shown = expected[:40] if isinstance(expected, str) else ""
    return f"offsets {start}-{end} do not hold the region's text {shown!r} (as code points or UTF-16 units)"


def _from_utf16(text: str) -> list[int] | None:
    """Python offset of every UTF-16 offset of ``text``, or None when the two agree (no astral characters)."""
    if all(ord(c) <= 0xFFFF for c in text):
        return None
    out = []
    for i, c in enumerate(text):
        out.extend([i, i + 1] if ord(c) > 0xFFFF else [i])
    out.append(len(text))
    return out


def _article(article_id: str, text: str, regions: list[Region], where: str, skipped: list[Skipped]) -> Article | None:
    sentences: list[Sentence] = []
    spans: list[Region] = []
    techniques: list[TechniqueSpan] = []
    for start, end, label in sorted(regions):
        here = f"{where} span {start}-{end}"
        if not 0 <= start < end <= len(text):
            skipped.append(Skipped(here, f"offsets outside the text (length {len(text)})"))
        elif label in TECHNIQUES:
            techniques.append(TechniqueSpan(start, end, label))
        elif label in SPAN_ROLES:
            spans.append((start, end, label))
        elif label not in LABELS:
            skipped.append(Skipped(here, f"label {label!r} is not one of {', '.join(LABELS + SPAN_ROLES)} or a PTC technique name"))
        elif sentences and start < sentences[-1].end:
            skipped.append(Skipped(here, f"overlaps the sentence at {sentences[-1].start}-{sentences[-1].end}"))
        else:
            sentences.append(Sentence(start, end, label))
    for start, end, role in spans:
        owner = next((s for s in sentences if s.start <= start and end <= s.end), None)
        if owner is None:
            skipped.append(Skipped(f"{where} span {start}-{end}", f"{role} span lies in no labelled sentence"))
        elif getattr(owner, role) is not None:
            skipped.append(Skipped(f"{where} span {start}-{end}", f"second {role} span in one sentence"))
        else:
            setattr(owner, role, Span(start, end, text[start:end]))
    if not sentences:
        skipped.append(Skipped(where, "no labelled sentence"))
        return None
    if not spans:
        for s in sentences:
            s.extra["spans_marked"] = False
    try:
        article = Article.from_dict(Article(article_id, text, {"annotated_from": where}, sentences).to_dict(), where)
        article.techniques = techniques or None
        return article
    except RecordError as exc:
        skipped.append(Skipped(where, str(exc)))
        return None


def _import_csv(path: Path, result: Imported) -> Imported:
    rows: dict[str, list[tuple[str, str]]] = {}
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"article_id", "sentence", "label"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))} (need article_id, sentence, label)")
        for number, row in enumerate(reader, start=2):
            where = f"{path} line {number}"
            sentence, label = (row["sentence"] or "").strip(), (row["label"] or "").strip()
            if not row["article_id"]:
                result.skipped.append(Skipped(where, "empty article_id"))
            elif not sentence:
                result.skipped.append(Skipped(where, "empty sentence"))
            elif label not in LABELS:
                result.skipped.append(Skipped(where, f"label {label!r} is not one of {', '.join(LABELS)}"))
            else:
                rows.setdefault(row["article_id"], []).append((sentence, label))
    for article_id, items in rows.items():
        text, sentences = "", []
        for sentence, label in items:
            if text:
                text += " "
            sentences.append(Sentence(len(text), len(text) + len(sentence), label, extra={"spans_marked": False}))
            text += sentence
        result.articles.append(Article(article_id, text, {"annotated_from": str(path)}, sentences))
    return result


def _label_studio_config() -> str:
    """The labeling interface for exported tasks, built from the label and technique lists so it cannot
    drift from them; sentence labels take the report's colours."""
    labels = [(label, LABEL_STYLE[label]["colour"]) for label in LABELS] + [("source", "#F0E442"), ("cue", "#CC79A7")]
    lines = [
        "<View>",
        '  <Header value="Label every sentence (guidelines: shared/annotation/GUIDELINES.md); mark the source and cue of claims."/>',
        '  <Labels name="label" toName="text">',
        *(f'    <Label value="{value}" background="{colour}"/>' for value, colour in labels),
        "  </Labels>",
        '  <Labels name="technique" toName="text">',
        *(f'    <Label value="{t}" background="#6A3D9A"/>' for t in TECHNIQUES),
        "  </Labels>",
        '  <Text name="text" value="$text" granularity="word"/>',
        "</View>",
    ]
    return "\n".join(lines) + "\n"


LABEL_STUDIO_CONFIG = _label_studio_config()


def _regions_of(article: Article) -> list[Region]:
    out: list[Region] = [(t.start, t.end, t.technique) for t in article.techniques or []]
    for s in article.sentences:
        if s.label:
            out.append((s.start, s.end, s.label))
        for role in SPAN_ROLES:
            span = getattr(s, role)
            if span is not None:
                out.append((span.start, span.end, role))
    return out


SUGGESTION_FIELDS = ("article_id", "sentence_index", "start", "end", "sentence")


def is_suggestions(path: str | Path) -> bool:
    """Whether ``path`` is the output of ``framing suggest -o`` (sentence suggestions) rather than article
    records: its first record has the fields of a suggestion and no article ``text``."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.strip():
                try:
                    first = json.loads(line)
                except (ValueError, RecursionError):
                    return False
                return isinstance(first, dict) and "text" not in first and all(k in first for k in SUGGESTION_FIELDS)
    return False


def suggestion_articles(path: str | Path) -> list[Article]:
    """The articles to annotate for the suggestions of ``framing suggest -o``: one per article holding
    suggested sentences, its whole text, and only the suggested sentences, with the model's label.

    One task per article, not per sentence, because the guidelines label a sentence in its article: "He
    said" needs the sentence that names him, a quote may run on over sentences without repeating its
    source, and a dateline or caption is known by where it stands. The annotator sees the article and
    corrects the pre-labelled (suggested) sentences; ``framing import`` then gives those sentences at their
    offsets in the real text, so training sees them with their neighbours. ``meta.suggested`` lists the
    sentence indices and uncertainties.

    Suggestions written without the article text (before ``framing suggest`` stored it) can only become
    one task per sentence, holding the sentence alone, with id ``ARTICLE#INDEX``. A line that is not a
    suggestion, or whose offsets do not hold its sentence, raises ``ValueError`` naming the line."""
    groups: dict[tuple[str, str], Article] = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path} line {number}"
            try:
                raw = json.loads(line)
            except (ValueError, RecursionError) as exc:
                raise ValueError(f"{where}: not valid JSON ({exc})") from None
            article_id, index, start, end, sentence, label, text = _suggestion(raw, where)
            if not text:
                text, start, end = sentence, 0, len(sentence)
                article_id, meta = f"{article_id}#{index}", {"article_id": article_id, "sentence_index": index}
            else:
                meta = {}
            article = groups.setdefault((article_id, text), Article(article_id, text, {**meta, "suggested": []}))
            if any(index == s["sentence_index"] for s in article.meta["suggested"]):
                continue  # the same suggestion twice
            article.meta["suggested"].append({"sentence_index": index, "uncertainty": raw.get("uncertainty")})
            probs = raw.get("probs") if isinstance(raw.get("probs"), dict) else None
            article.sentences.append(Sentence(start, end, label or None, probs=probs))
    for article in groups.values():
        article.sentences.sort(key=lambda s: s.start)
        article.meta["suggested"].sort(key=lambda s: s["sentence_index"])
    return list(groups.values())


def _suggestion(raw: Any, where: str) -> tuple[str, int, int, int, str, str, str]:
    if not isinstance(raw, dict) or any(k not in raw for k in SUGGESTION_FIELDS):
        raise ValueError(f"{where}: not a suggestion of framing suggest (needs {', '.join(SUGGESTION_FIELDS)})")
    index, start, end, sentence = raw["sentence_index"], raw["start"], raw["end"], raw["sentence"]
    label, text = raw.get("label") or "", raw.get("article_text") or ""
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in (index, start, end)) or not isinstance(sentence, str):
        raise ValueError(f"{where}: sentence_index, start and end must be integers and sentence a string")
    if not isinstance(label, str) or (label and label not in LABELS):
        raise ValueError(f"{where}: label {label!r} is not one of {', '.join(LABELS)}")
    if not isinstance(text, str):
        raise ValueError(f"{where}: article_text is not a string")
    if text and not (0 <= start < end <= len(text) and text[start:end] == sentence):
        raise ValueError(f"{where}: offsets {start}-{end} do not hold the sentence in article_text")
    return str(raw["article_id"]), index, start, end, sentence, label, text


def read_task_input(path: str | Path) -> list[Article]:
    """What ``framing export-tasks`` turns into tasks: scored article records, or the suggestions of
    ``framing suggest -o`` (``suggestion_articles``)."""
    from framing.record import read_jsonl

    return suggestion_articles(path) if is_suggestions(path) else read_jsonl(path)


def export_tasks(articles: list[Article], fmt: str) -> str:
    """Pre-annotated tasks: Label Studio JSON (predictions, to correct in its editor) or doccano JSONL."""
    if fmt == "labelstudio":
        tasks = []
        for a in articles:
            result = [
                {
                    "id": f"r{i}",
                    "from_name": "technique" if label in TECHNIQUES else "label",
                    "to_name": "text",
                    "type": "labels",
                    "value": {"start": s, "end": e, "text": a.text[s:e], "labels": [label]},  # code points, as Label Studio counts
                }
                for i, (s, e, label) in enumerate(_regions_of(a))
            ]
            model = str(a.meta.get("model", "framing"))
            tasks.append(
                {"data": {"id": a.id, "text": a.text, "meta": a.meta}, "predictions": [{"model_version": model, "result": result}]}
            )
        return json.dumps(tasks, ensure_ascii=False, indent=1) + "\n"
    if fmt == "doccano":
        return "".join(
            # doccano replaces "id" with its own number on export: the article id travels as "article_id".
            json.dumps(
                {"id": a.id, "article_id": a.id, "text": a.text, "label": [[s, e, label] for s, e, label in _regions_of(a)]},
                ensure_ascii=False,
            )
            + "\n"
            for a in articles
        )
    raise ValueError(f"unknown task format {fmt!r}: use labelstudio or doccano")
