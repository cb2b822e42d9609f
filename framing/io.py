"""Reading articles from files, directories and standard input; writing outputs atomically.

Every reader yields ``Article`` or ``InputError`` items: a bad file or line becomes an error that names
it and says what is wrong, and the items after it are still read.
"""

from __future__ import annotations

import csv
import fcntl
import functools
import glob
import hashlib
import io
import os
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framing.files import atomic_writer, cache_dir, read_cached, write_cached
from framing.record import LABELS, Article, ArticleProfile, LineError, RecordError, iter_jsonl
from framing.segment import segment

DEFAULT_MAX_CHARS = 1_000_000
"""Longest article accepted (about 150,000 words, ten times a long feature): anything longer is
almost always a whole site dump or a concatenation, and would hold a batch up for minutes."""

TEXT_SUFFIXES = {".txt", ".text", ".md"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
HTML_SUFFIXES = {".html", ".htm"}
TABLE_SUFFIXES = {".csv", ".parquet"}
INPUT_SUFFIXES = TEXT_SUFFIXES | JSONL_SUFFIXES | HTML_SUFFIXES | TABLE_SUFFIXES


@dataclass
class InputError(Exception):
    """An input that could not be turned into an article; ``source`` names the file (and line).

    Readers yield it as an item (a batch goes on); ``decode_text`` raises it."""

    source: str
    message: str
    article_id: str | None = None

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"

    @property
    def where(self) -> str:
        """The source, with the article id when the source alone does not name the article."""
        if self.article_id and self.article_id not in self.source:
            return f"{self.source} (id {self.article_id!r})"
        return self.source

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "id": self.article_id, "error": self.message}


Item = Article | InputError


@dataclass
class Columns:
    """Which columns of a CSV or Parquet table hold the article text and id; the others go to ``meta``."""

    text: str = "text"
    id: str = "id"


def read_inputs(paths: Iterable[str], *, max_chars: int = DEFAULT_MAX_CHARS, columns: Columns | None = None) -> Iterator[Item]:
    """Articles from ``.txt`` files, ``.html`` pages (main text extracted), ``.jsonl`` article records,
    ``.csv`` / ``.parquet`` tables with a text column, directories and globs of them, or ``-``."""
    columns = columns or Columns()
    for raw in paths:
        if raw == "-":
            yield from _checked(_read_stdin(), max_chars)
            continue
        files, problem = _expand(raw)
        if problem is not None:
            yield problem
        for file in files:
            yield from _checked(_read_file(file, columns), max_chars)


def _expand(raw: str) -> tuple[list[Path], InputError | None]:
    """The files an input path names (a file, a directory's input files, a glob's matches), or the error
    that says there are none; ``read_inputs`` reads them and ``count_inputs`` counts them."""
    path = Path(raw)
    if not path.exists() and glob.has_magic(raw):
        matches = sorted(Path(m) for m in glob.glob(raw, recursive=True) if Path(m).is_file())
        return matches, None if matches else InputError(raw, "no file matches this pattern")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in INPUT_SUFFIXES)
        return files, None if files else InputError(str(path), "directory holds no .txt, .html, .jsonl, .csv or .parquet files")
    if path.is_file():
        return [path], None
    return [], InputError(str(path), "no such file or directory")


def count_inputs(paths: Iterable[str]) -> int | None:
    """How many items ``read_inputs`` will yield for ``paths``, counted cheaply (for a progress bar), or
    None when that is unknown: standard input, a CSV table (a quoted field may hold line breaks, so only a
    full parse tells its rows). A text or HTML file is one; a JSONL file, its non-blank lines; a Parquet
    table, the row count in its footer. Inputs that will fail are counted like the others (they are items
    too)."""
    total = 0
    for raw in paths:
        if raw == "-":
            return None
        files, problem = _expand(raw)
        total += problem is not None  # the error that says so is an item too
        for file in files:
            n = _count_file(file)
            if n is None:
                return None
            total += n
    return total


def _count_file(path: Path) -> int | None:
    suffix = path.suffix.lower()
    try:
        if suffix in JSONL_SUFFIXES:
            lines = 0
            with open(path, "rb") as handle:
                for line in handle:
                    lines += bool(line.strip())
            return lines
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(path).metadata.num_rows)
        if suffix == ".csv":
            return None
    except (OSError, ValueError):
        return 1  # unreadable: one error item
    return 1


def _read_file(path: Path, columns: Columns) -> Iterator[Item]:
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        for item in _from_lines(iter_jsonl(path)):
            if isinstance(item, Article):
                # Where it came from: two files may use the same ids, and a refused record is named by it.
                item.meta.setdefault("path", str(path))
            yield item
        return
    if suffix in TABLE_SUFFIXES:
        yield from _read_table(path, columns)
        return
    if suffix not in TEXT_SUFFIXES | HTML_SUFFIXES:
        yield InputError(str(path), f"unsupported file type {path.suffix!r}: give .txt, .html, .jsonl, .csv or .parquet")
        return
    try:
        text = decode_text(path.read_bytes(), str(path))
        meta: dict[str, Any] = {"path": str(path)}
        if suffix in HTML_SUFFIXES:
            text, found = extract_html(text, str(path))
            meta.update(found)
    except InputError as exc:
        yield exc
        return
    if suffix in TEXT_SUFFIXES and "title" not in meta:
        title = _first_line_title(text)
        if title:
            meta["title"] = title
    yield Article(id=path.stem, text=text, meta=meta)


def _first_line_title(text: str) -> str | None:
    """The first line of a plain-text article, when more text follows it: its headline (a newsroom's
    text exports start with it). It stays a sentence of the article too, labelled like any headline."""
    body = text.strip()
    first, newline, rest = body.partition("\n")
    first = first.strip()
    if not newline or not rest.strip() or not first or len(first) > 300:
        return None
    # A hard-wrapped paragraph also has a first line: a headline is set apart by an empty line, or is a
    # unit of its own for the segmenter (a short line without closing punctuation).
    if rest.startswith(("\n", "\r\n")) or rest.lstrip(" \t").startswith("\n"):
        return first
    spans = segment(body[: len(first) + 1 + min(len(rest), 2000)])
    return first if spans and spans[0][1] <= len(body.partition("\n")[0]) else None


MIN_HTML_WORDS = 15


def extract_html(html: str, name: str) -> tuple[str, dict[str, Any]]:
    """The main text of an HTML page (boilerplate, menus and comments removed, by trafilatura) and its
    title, author, date and site name where the page states them."""
    import trafilatura

    document = trafilatura.bare_extraction(html, include_comments=False, include_tables=False, with_metadata=True)
    text = str(getattr(document, "text", None) or "") if document is not None else ""
    words = len(text.split())
    # Fewer words than a short news item: a menu or an error page, not an article.
    if words < MIN_HTML_WORDS:
        raise InputError(name, f"no article text found in this HTML page ({words} words outside menus and boilerplate)")
    meta = {}
    for key in ("title", "author", "date", "sitename", "url"):
        value = getattr(document, key, None)
        if value:
            meta["outlet" if key == "sitename" else key] = str(value)
    return text, meta


def _csv_rows(path: Path) -> Iterator[dict[str, Any]]:
    # csv's default field limit (131,072 characters) is below --max-chars: a long article would end the
    # table; let check_article refuse it on its own instead.
    csv.field_size_limit(max(csv.field_size_limit(), 16 * DEFAULT_MAX_CHARS))
    with open(path, encoding="utf-8-sig", newline="") as handle:
        # strict: a quote left open is an error where it shows, not the next rows merged into one field.
        yield from csv.DictReader(handle, strict=True)


def _read_table(path: Path, columns: Columns) -> Iterator[Item]:
    """One article per row of a CSV or Parquet table, read in chunks so a large table is never held whole."""
    name = str(path)
    try:
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            table = pq.ParquetFile(path)
            header = table.schema_arrow.names
            rows: Iterator[dict[str, Any]] = (row for batch in table.iter_batches(batch_size=1024) for row in batch.to_pylist())
        else:
            with open(path, encoding="utf-8-sig", newline="") as handle:
                header = next(csv.reader(handle), [])
            rows = _csv_rows(path)
    except (OSError, ValueError, UnicodeDecodeError, csv.Error) as exc:
        yield InputError(name, f"cannot read table: {exc}")
        return
    if columns.text not in header:
        yield InputError(name, f"no text column {columns.text!r} (columns: {', '.join(map(str, header))}); pass --text-col")
        return
    number = 0
    try:
        for number, row in enumerate(rows, start=1):
            where = f"{name} row {number}"
            text = row.get(columns.text)
            raw_id = row.get(columns.id) if columns.id in header else None
            article_id = str(raw_id) if raw_id not in (None, "") else f"{path.stem}-{number}"
            if not isinstance(text, str):
                yield InputError(where, f"column {columns.text!r} is empty or not text", article_id)
                continue
            if None in row or any(v is None for k, v in row.items() if k is not None):
                # A row with more or fewer fields than the header: a quote opened in it (or before) has
                # swallowed line breaks, and its fields are not where the header says.
                yield InputError(
                    where, f"its fields do not line up with the {len(header)} columns of the header (an unclosed quote?)", article_id
                )
                continue
            meta = {
                k: v
                for k, v in row.items()
                if k not in (columns.text, columns.id) and v not in (None, "") and isinstance(v, (str, int, float, bool))
            }
            meta["path"] = name
            meta["row"] = number
            yield Article(id=article_id, text=text, meta=meta, origin=where)
    except (UnicodeDecodeError, csv.Error) as exc:
        yield InputError(f"{name} row {number + 1}", f"cannot read the rest of the table: {exc}")


def _read_stdin() -> Iterator[Item]:
    data = sys.stdin.buffer.read()
    if data.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"{"):
        # JSONL lines are decoded one by one: one bad byte fails its line, not the whole input.
        yield from _from_lines(iter_jsonl("<stdin>", lines=io.BytesIO(data.removeprefix(b"\xef\xbb\xbf"))))
        return
    try:
        text = decode_text(data, "<stdin>")
    except InputError as exc:
        yield exc
        return
    yield Article(id="stdin", text=text, meta={"path": "-"})


def _from_lines(items: Iterator[Article | LineError]) -> Iterator[Item]:
    for item in items:
        if isinstance(item, LineError):
            yield InputError(f"{item.path} line {item.line}", item.reason)
        else:
            yield item


def decode_text(data: bytes, name: str) -> str:
    """Bytes of a text article → str; raises ``InputError`` for binary or undecodable content."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data[:8192]:
        utf16 = _utf16_without_bom(data)
        if utf16 is not None:
            return utf16
        raise InputError(name, "binary file (contains NUL bytes), not a text article")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            name,
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); re-encode it, e.g. `iconv -f cp1252 -t utf-8`",
        ) from None


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text saved without a byte-order mark (Windows tools do): mostly Latin text has a NUL in
    every other byte, on the odd bytes for little-endian and the even ones for big-endian."""
    head = data[:8192]
    if len(head) < 4 or len(data) % 2:
        return None
    odd, even = head[1::2].count(0) / (len(head) // 2), head[0::2].count(0) / (len(head) // 2)
    encoding = "utf-16-le" if odd > 0.6 and even < 0.05 else "utf-16-be" if even > 0.6 and odd < 0.05 else None
    if encoding is None:
        return None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


_TAG = re.compile(r"<(?:html|body|div|p|span|script|head|meta|a|br|!doctype)\b[^>]*>", re.IGNORECASE)
LANGUAGE_MIN_LETTERS = 40
"""Texts with fewer letters (about eight English words) are not given to the language identifier: on a
few words it is unreliable, and refusing a one-line English article is worse than scoring a stray line."""
LANGUAGE_SAMPLE_CHARS = 4000
"""The language is identified on the start of the article: enough for a sure answer, at a fixed cost."""
NOT_ENGLISH_BELOW = 1e-10
"""Refuse an article when langid gives English a probability below this (lowercased text). Measured:
none of 4,804 English headlines and sentences (BASIL titles, CheckThat! train, BABE; of every length)
fell below 1e-6; Spanish, French, German, Italian, Portuguese, Dutch, Polish, Turkish and Swedish texts
of 9-16 words are all below 1e-26, and Russian is 0."""


class LanguageIdentifier:
    """English or not, by langid.py's naive Bayes model over byte n-grams (97 languages; the model ships
    inside the ``langid`` package, nothing is downloaded).

    langid.py decompresses and unpickles its model on every load (1.3 s here), more than scoring a short
    batch takes; the unpacked arrays are cached once in the cache directory (``FRAMING_CACHE_DIR``, the
    ONNX graphs' one) and read back in milliseconds, verified like the graphs (this user's alone, SHA-256
    recorded beside them). A cache that cannot be written only costs the slow load."""

    def __init__(self, arrays: dict[str, Any]) -> None:
        import array

        import numpy as np

        self.classes: list[str] = [str(c) for c in arrays["classes"]]
        self.english = self.classes.index("en")
        self.nb_pc = np.asarray(arrays["nb_pc"], dtype=np.float64)
        self.nb_ptc = np.asarray(arrays["nb_ptc"], dtype=np.float32)
        # An array.array reads single items from Python several times faster than a numpy array.
        nextmove = np.asarray(arrays["nextmove"])
        self.nextmove = array.array("H" if nextmove.dtype == np.uint16 else "I", nextmove.tobytes())
        offsets, features = arrays["out_offsets"].tolist(), arrays["out_features"].tolist()
        self.output = {int(state): tuple(features[offsets[i] : offsets[i + 1]]) for i, state in enumerate(arrays["out_states"].tolist())}

    def identify(self, text: str) -> tuple[str, float]:
        """The most likely language of ``text`` (an ISO 639-1 code) and the probability of English.

        The text is lowercased first: Title Case headlines ("Nebraska, Oklahoma File Federal Suit Against
        Colorado") otherwise read as Esperanto or Spanish to the model."""
        import numpy as np

        state, seen = 0, Counter[int]()
        nextmove = self.nextmove
        for byte in text.lower().encode("utf-8", "surrogatepass"):
            state = nextmove[(state << 8) + byte]
            seen[state] += 1
        counts: Counter[int] = Counter()
        for state, n in seen.items():
            for feature in self.output.get(state, ()):
                counts[feature] += n
        logp = self.nb_pc.copy()
        if counts:
            index = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            values = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            logp += values @ self.nb_ptc[index]
        probs = np.exp(logp - logp.max())
        probs /= probs.sum()
        return self.classes[int(np.argmax(probs))], float(probs[self.english])

    @staticmethod
    def unpack() -> dict[str, Any]:
        """langid.py's shipped model as plain arrays (the slow load)."""
        import base64
        import bz2
        import pickle

        import numpy as np
        from langid.langid import model

        nb_ptc, nb_pc, nb_classes, nextmove, output = pickle.loads(bz2.decompress(base64.b64decode(model)))
        states = sorted(output)
        lengths = [len(output[s]) for s in states]
        return {
            "nb_ptc": np.asarray(nb_ptc, dtype=np.float32).reshape(-1, len(nb_pc)),
            "nb_pc": np.asarray(nb_pc, dtype=np.float64),
            "classes": np.asarray(nb_classes, dtype=str),
            # 9,117 states in 1.1.6: two bytes a transition.
            "nextmove": np.asarray(nextmove, dtype=np.uint16 if max(nextmove) < 2**16 else np.uint32),
            "out_states": np.asarray(states, dtype=np.int64),
            "out_offsets": np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            "out_features": np.asarray([f for s in states for f in output[s]], dtype=np.int64),
        }

    @classmethod
    def load(cls) -> LanguageIdentifier:
        """From the cache when it holds a trusted copy, else unpacked (and cached)."""
        import importlib.metadata

        import numpy as np

        path = cache_dir() / f"langid-{importlib.metadata.version('langid')}.npz"
        data = read_cached(path)
        if data is not None:
            try:
                with np.load(io.BytesIO(data), allow_pickle=False) as stored:
                    return cls({name: stored[name] for name in stored.files})
            except (OSError, ValueError, KeyError, EOFError):
                pass  # a cache this version cannot read: unpacked and written again
        arrays = cls.unpack()
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        write_cached(path, buffer.getvalue())
        return cls(arrays)


@functools.cache
def language_identifier() -> LanguageIdentifier:
    """The process's language identifier, loaded on first use (a batch of one-line texts never loads it)."""
    return LanguageIdentifier.load()


def not_english(text: str) -> str | None:
    """Why ``text`` is not English ("does not look like English (...)"), or None when it is, or too short to tell."""
    sample = text[:LANGUAGE_SAMPLE_CHARS]
    if sum(ch.isalpha() for ch in sample) < LANGUAGE_MIN_LETTERS:
        return None
    language, english = language_identifier().identify(sample)
    if english >= NOT_ENGLISH_BELOW:
        return None
    return f"does not look like English (langid reads it as {language!r}; probability of English {english:.0e})"


def check_article(article: Article, max_chars: int = DEFAULT_MAX_CHARS) -> str | None:
    """Why ``article`` cannot be scored, or None when it can."""
    text = article.text
    if not text.strip():
        return "empty article (no text)"
    if len(text) > max_chars:
        return (
            f"article has {len(text):,} characters, above the limit of {max_chars:,} "
            "(raise it with --max-chars if this really is one article)"
        )
    if len(_TAG.findall(text[:20000])) >= 3:
        return "looks like HTML, not plain text: extract the article text first"
    controls = sum(1 for ch in text[:20000] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > 0.01 * min(len(text), 20000):
        return "binary or corrupted text (many control characters)"
    return not_english(text)


def _checked(items: Iterator[Item], max_chars: int) -> Iterator[Item]:
    for item in items:
        if isinstance(item, Article):
            problem = check_article(item, max_chars)
            if problem:
                yield InputError(item.origin or str(item.meta.get("path", item.id)), problem, item.id)
                continue
        yield item


def write_jsonl(path: str | Path, articles: Iterable[Article]) -> int:
    """Write article records as JSONL, atomically; return how many were written."""
    count = 0
    with atomic_writer(path) as handle:
        for article in articles:
            handle.write(article.to_json() + "\n")
            count += 1
    return count


SENTENCE_COLUMNS = [
    "article_id",
    "sentence_index",
    "start",
    "end",
    "sentence",
    "label",
    *(f"p_{label}" for label in LABELS),
    "source",
    "cue",
    "title",
    "outlet",
    "source_kind",
    "source_resolved",
    "cue_loaded",
    "techniques",
]
"""The columns of ``--format csv|parquet`` (and of the Ray engine's output, which adds ``error``)."""

_SENTENCE_TYPES = {"sentence_index": "int", "start": "int", "end": "int", "cue_loaded": "bool"} | {
    f"p_{label}": "float" for label in LABELS
}


def sentence_rows(article: Article) -> Iterator[dict[str, Any]]:
    """One flat row per sentence, for the tabular output formats.

    ``title`` and ``outlet`` come from ``meta`` ("" when it has none), probabilities are rounded to 4
    decimals as in the JSONL records, ``source_resolved`` is the full name behind a source ("He" → "Yury
    Dashkin, ..."), and ``techniques`` names the techniques whose spans overlap the sentence, joined with
    ";" in the order of their first span ("" when none does; empty, None, when the article was scored
    without the technique head)."""
    title, outlet = _text(article.meta.get("title")), _text(article.meta.get("outlet"))
    for i, s in enumerate(article.sentences):
        row: dict[str, Any] = {
            "article_id": article.id,
            "sentence_index": i,
            "start": s.start,
            "end": s.end,
            "sentence": article.text[s.start : s.end],
            "label": s.label,
        }
        for label in LABELS:
            p = None if s.probs is None else s.probs.get(label)
            row[f"p_{label}"] = None if p is None else round(float(p), 4)
        row["source"] = s.source.text if s.source else None
        row["cue"] = s.cue.text if s.cue else None
        row["title"] = title
        row["outlet"] = outlet
        row["source_kind"] = s.source.kind if s.source else None
        row["source_resolved"] = s.source.resolved if s.source else None
        row["cue_loaded"] = s.cue.loaded if s.cue else None
        row["techniques"] = None if article.techniques is None else ";".join(sentence_techniques(article, s.start, s.end))
        yield row


def sentence_techniques(article: Article, start: int, end: int) -> list[str]:
    """The techniques whose spans overlap ``start``-``end``, each once, in the order of their first span."""
    found = sorted((t.start, t.end, t.technique) for t in article.techniques or [] if t.start < end and start < t.end)
    return list(dict.fromkeys(name for _, _, name in found))


def table_schema(columns: list[str], types: dict[str, str]) -> Any:
    """A pyarrow schema for rows of ``columns``: the listed ``types`` (int, float, bool), strings for the
    rest. Stated, not inferred, so that every Parquet file (or Ray block) of one output has the same
    schema even when a column is empty in one of them."""
    import pyarrow as pa

    kinds = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}
    return pa.schema([(c, kinds[types[c]] if c in types else pa.string()) for c in columns])


def sentence_schema(extra: tuple[str, ...] = ()) -> Any:
    """The Parquet schema of sentence rows, with ``extra`` string columns after them (Ray's ``error``)."""
    return table_schema([*SENTENCE_COLUMNS, *extra], _SENTENCE_TYPES)


ARTICLE_COLUMNS = [
    "article_id",
    "title",
    "outlet",
    "date",
    "sentences",
    *(f"{label}_{what}" for label in LABELS for what in ("count", "share")),
    "claims",
    "named_share",
    "anonymous_share",
    "unattributed_share",
    "not_found_share",
    "top_source",
    "top_source_kind",
    "top_source_claims",
    "loaded_cues",
    "technique_spans",
    "summary",
]
"""The columns of ``framing score --articles``: one row per scored article, its profile flattened."""

_ARTICLE_TYPES = (
    {"sentences": "int", "claims": "int", "top_source_claims": "int", "loaded_cues": "int", "technique_spans": "int"}
    | {f"{label}_count": "int" for label in LABELS}
    | {f"{label}_share": "float" for label in LABELS}
    | {f"{kind}_share": "float" for kind in ("named", "anonymous", "unattributed", "not_found")}
)


def article_row(article_id: str, meta: dict[str, Any], profile: ArticleProfile | None) -> dict[str, Any]:
    """An article's row of ``ARTICLE_COLUMNS``. Shares are rounded to 4 decimals; ``technique_spans`` is
    empty when the article was scored without the technique head, and every profile column is empty when
    there is no profile (a stored profile this version cannot read)."""
    row: dict[str, Any] = {
        "article_id": article_id,
        "title": _text(meta.get("title")),
        "outlet": _text(meta.get("outlet")),
        "date": _text(meta.get("date")),
    }
    if profile is None:
        return row
    row["sentences"] = profile.sentences
    for label in LABELS:
        count = profile.labels.get(label)
        row[f"{label}_count"] = count.count if count else 0
        row[f"{label}_share"] = round(count.share, 4) if count else 0.0
    attribution = profile.attribution
    row["claims"] = attribution.claims
    for kind in ("named", "anonymous", "unattributed", "not_found"):
        row[f"{kind}_share"] = round(getattr(attribution, kind), 4)
    top = profile.sources[0] if profile.sources else None
    row["top_source"] = top.name if top else ""
    row["top_source_kind"] = top.kind if top else ""
    row["top_source_claims"] = top.claims if top else 0
    row["loaded_cues"] = sum(1 for cue in profile.framing_cues if cue.kind == "loaded_attribution")
    row["technique_spans"] = None if profile.techniques is None else profile.techniques.spans
    row["summary"] = profile.summary
    return row


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class TableWriter:
    """Streams rows of fixed columns to a CSV or Parquet file (by its suffix), written atomically: the
    file appears whole when ``close`` is called, and ``abort`` leaves nothing (or the earlier file)."""

    PARQUET_ROWS = 8192
    """Rows held before a Parquet row group is written: memory stays flat for any batch."""

    def __init__(self, path: str | Path, columns: list[str], types: dict[str, str], fmt: str | None = None) -> None:
        self.path = Path(path)
        self.fmt = fmt or self.path.suffix.lower().lstrip(".")
        if self.fmt not in ("csv", "parquet"):
            raise ValueError(f"{self.path}: give a .csv or .parquet file")
        if self.path.is_dir():
            raise ValueError(f"{self.path} is a directory: give a file name")
        self.columns, self.types = columns, types
        self._cm = atomic_writer(self.path, "wb" if self.fmt == "parquet" else "w")
        self._handle = self._cm.__enter__()
        self._rows: list[dict[str, Any]] = []
        self._csv: csv.DictWriter | None = None
        self._parquet: Any = None
        if self.fmt == "csv":
            self._csv = csv.DictWriter(self._handle, fieldnames=columns)
            self._csv.writeheader()

    def write(self, rows: Iterable[dict[str, Any]]) -> None:
        if self._csv is not None:
            self._csv.writerows(rows)
            return
        self._rows.extend(rows)
        if len(self._rows) >= self.PARQUET_ROWS:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = table_schema(self.columns, self.types)
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(self._handle, schema)
        if self._rows:
            self._parquet.write_table(pa.Table.from_pylist(self._rows, schema=schema))
            self._rows = []

    def close(self) -> None:
        if self.fmt == "parquet":
            self._flush()
            self._parquet.close()
        self._cm.__exit__(None, None, None)

    def abort(self, exc: BaseException) -> None:
        try:
            self._cm.__exit__(type(exc), exc, exc.__traceback__)
        except BaseException:
            pass


class ArticleTable(TableWriter):
    """``framing score --articles OUT.csv``: one row of ``ARTICLE_COLUMNS`` per scored article."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path, ARTICLE_COLUMNS, _ARTICLE_TYPES)

    def add(self, article: Article) -> None:
        self.write([article_row(article.id, article.meta, article.profile)])

    def add_record(self, record: dict[str, Any]) -> None:
        """A row from a stored JSONL record (the articles a resumed batch had already written)."""
        meta: dict[str, Any] = record["meta"] if isinstance(record.get("meta"), dict) else {}
        try:
            profile = ArticleProfile.from_dict(record["profile"]) if isinstance(record.get("profile"), dict) else None
        except RecordError:
            profile = None
        self.write([article_row(str(record["id"]), meta, profile)])


def article_key(article: Article) -> str:
    """What identifies an article in a batch, for ``--resume``: its id and a digest of its text. Not the
    path it came from, which can be spelled many ways (relative, absolute, through a link)."""
    return _key(article.id, article.text)


def _key(article_id: Any, text: Any) -> str:
    digest = hashlib.sha256(str(text).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{article_id}\x00{digest}"


def partial_path(path: str | Path) -> Path:
    """Where a JSONL output grows while a batch runs; it is renamed to ``path`` when the batch ends."""
    path = Path(path)
    return path.with_name(path.name + ".partial")


@dataclass
class Resumed:
    """What an interrupted batch had already written: the keys of its articles, and per article its
    outlet and profile (so per-outlet totals cover the whole batch)."""

    keys: Counter[str]
    """How many articles of each key are done (a key may repeat: ids need not be unique)."""
    profiles: list[tuple[str, ArticleProfile]]
    size: int = 0
    """Bytes of the partial output that hold these articles (what was kept of it)."""


def read_partial(path: Path) -> Resumed:
    """Read an interrupted JSONL output and cut off a last line that the kill left half-written. Only the
    last line: a bad line before good ones is not a kill's doing, and cutting there would drop the good
    records after it, so it is an error to look at."""
    import json

    keys: Counter[str] = Counter()
    profiles: list[tuple[str, ArticleProfile]] = []
    good = 0
    with open(path, "rb") as handle:
        lines = handle.readlines()
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
            meta = record.get("meta")
            meta = meta if isinstance(meta, dict) else {}
            key = _key(record["id"], record["text"])
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            if number == len(lines) and not line.endswith(b"\n"):
                break
            raise ValueError(
                f"{path} line {number} is not a scored record (not left by a kill): fix or delete that line, then --resume"
            ) from None
        if not line.endswith(b"\n"):
            break
        keys[key] += 1
        if meta.get("outlet") and isinstance(record.get("profile"), dict):
            try:
                profiles.append((str(meta["outlet"]), ArticleProfile.from_dict(record["profile"])))
            except RecordError:
                pass  # a profile this version cannot read: the outlet totals miss one article
        good += len(line)
    with open(path, "r+b") as handle:
        handle.truncate(good)
    return Resumed(keys, profiles, good)


class OutputWriter:
    """Streams scored articles to JSONL, CSV or Parquet.

    A JSONL file grows in ``OUT.partial``, one flushed line per article, and is renamed to ``OUT`` when
    the batch ends; if the batch is killed, ``OUT.partial`` stays and ``resume=True`` continues it
    (``done`` then holds the keys of the articles it already has). CSV and Parquet are written to a
    temporary file and moved into place at the end."""

    SYNC_EVERY = 64

    def __init__(self, path: str | Path | None, fmt: str = "jsonl", resume: bool = False) -> None:
        """``path`` None writes to standard output (not atomic: a pipe has no place to rename into)."""
        if fmt not in ("jsonl", "csv", "parquet"):
            raise ValueError(f"unknown output format {fmt!r}: use jsonl, csv or parquet")
        if path is None and fmt == "parquet":
            raise ValueError("parquet output needs a file: pass -o OUT.parquet")
        if resume and (path is None or fmt != "jsonl"):
            raise ValueError("--resume needs a JSONL output file (-o OUT.jsonl); convert to CSV or Parquet afterwards")
        self.path, self.fmt = (Path(path) if path is not None else None), fmt
        if self.path is not None and self.path.is_dir():
            # Found now, not when the whole batch is scored and the output cannot be moved into place.
            raise ValueError(f"{self.path} is a directory: give a file name for the output (-o {self.path / ('scored.' + fmt)})")
        self.resumed = Resumed(Counter(), [])
        self._written = 0
        self._partial: Path | None = None
        self._cm: Any = None
        if fmt == "jsonl" and self.path is not None:
            self._partial = partial_path(self.path)
            self._partial.parent.mkdir(parents=True, exist_ok=True)
            if resume and not self._partial.exists() and self.path.exists():
                # A finished output: resuming it appends what is new (nothing, if the inputs are the same).
                os.replace(self.path, self._partial)
            if resume and self._partial.exists():
                self._handle = open(self._partial, "a", encoding="utf-8", newline="")
                self._lock()  # before reading: the cut of a half-written last line must not hit a live writer
                self.resumed = read_partial(self._partial)
            else:
                try:
                    # "x": of two runs started at once, the second finds the first's file, never truncates it.
                    self._handle = open(self._partial, "x", encoding="utf-8", newline="")
                except FileExistsError:
                    raise ValueError(
                        f"{self._partial} holds an interrupted run: add --resume to continue it, or delete it to start over"
                    ) from None
                self._lock()
        elif fmt == "parquet":
            assert self.path is not None
            self._table: TableWriter | None = TableWriter(self.path, SENTENCE_COLUMNS, _SENTENCE_TYPES, "parquet")
        else:
            self._cm = atomic_writer(self.path) if self.path is not None else nullcontext(sys.stdout)
            self._handle = self._cm.__enter__()
        self._csv: csv.DictWriter | None = None
        if fmt == "csv":
            self._csv = csv.DictWriter(self._handle, fieldnames=SENTENCE_COLUMNS)
            self._csv.writeheader()

    def _lock(self) -> None:
        """Hold an exclusive lock on the partial output for as long as this writer lives (the system
        drops it when the process ends, however it ends): a second writer is refused."""
        try:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._handle.close()
            raise ValueError(
                f"{self._partial} is being written by another framing score right now; wait for it to end, then --resume"
            ) from None

    @property
    def done(self) -> Counter[str]:
        return self.resumed.keys

    def resumed_records(self) -> Iterator[dict[str, Any]]:
        """The records the interrupted run had written (``--resume``), read back one line at a time."""
        import json

        if self._partial is None or not self.resumed.size:
            return
        left = self.resumed.size
        with open(self._partial, "rb") as handle:
            for line in handle:
                if left <= 0:
                    break
                left -= len(line)
                yield json.loads(line)

    def already_done(self, article: Article) -> bool:
        """True (once per recorded copy) for an article the interrupted run already wrote."""
        key = article_key(article)
        if self.resumed.keys[key] > 0:
            self.resumed.keys[key] -= 1
            return True
        return False

    def write(self, article: Article) -> None:
        if self.fmt == "jsonl":
            self._handle.write(article.to_json() + "\n")
            self._handle.flush()
            self._written += 1
            if self._partial is not None and self._written % self.SYNC_EVERY == 0:
                os.fsync(self._handle.fileno())
        elif self._csv is not None:
            self._csv.writerows(sentence_rows(article))
        else:
            assert self._table is not None
            self._table.write(sentence_rows(article))

    def close(self) -> None:
        if self.fmt == "parquet":
            assert self._table is not None
            self._table.close()
        elif self._partial is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            assert self.path is not None
            os.replace(self._partial, self.path)
        else:
            self._cm.__exit__(None, None, None)

    def abort(self, exc: BaseException) -> Path | None:
        """Stop after a failure; returns the partial JSONL output kept for ``--resume``, if any."""
        if self._partial is not None:
            try:
                self._handle.flush()
                self._handle.close()
            except OSError:
                pass
            return self._partial
        if self.fmt == "parquet":
            assert self._table is not None
            self._table.abort(exc)
            return None
        try:
            self._cm.__exit__(type(exc), exc, exc.__traceback__)
        except BaseException:
            pass
        return None
