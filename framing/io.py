"""Reading articles from files, directories and standard input; writing outputs atomically.

Every reader yields ``Article`` or ``InputError`` items: a bad file or line becomes an error that names
it and says what is wrong, and the items after it are still read.
"""

from __future__ import annotations

import csv
import fcntl
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

from framing.files import atomic_writer
from framing.record import LABELS, Article, ArticleProfile, LineError, RecordError, iter_jsonl

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
        path = Path(raw)
        if not path.exists() and glob.has_magic(raw):
            matches = sorted(Path(m) for m in glob.glob(raw, recursive=True) if Path(m).is_file())
            if not matches:
                yield InputError(raw, "no file matches this pattern")
            for file in matches:
                yield from _checked(_read_file(file, columns), max_chars)
        elif path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in INPUT_SUFFIXES)
            if not files:
                yield InputError(str(path), "directory holds no .txt, .html, .jsonl, .csv or .parquet files")
            for file in files:
                yield from _checked(_read_file(file, columns), max_chars)
        elif path.is_file():
            yield from _checked(_read_file(path, columns), max_chars)
        else:
            yield InputError(str(path), "no such file or directory")


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
    yield Article(id=path.stem, text=text, meta=meta)


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
    try:
        text = decode_text(data, "<stdin>")
    except InputError as exc:
        yield exc
        return
    if text.lstrip().startswith("{"):
        yield from _from_lines(iter_jsonl("<stdin>", lines=iter(io.StringIO(text))))
    else:
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
_ENGLISH = frozenset(
    [
        "the",
        "of",
        "and",
        "to",
        "a",
        "in",
        "is",
        "that",
        "for",
        "on",
        "with",
        "as",
        "was",
        "by",
        "it",
        "at",
        "from",
        "he",
        "said",
        "his",
        "be",
        "are",
        "have",
        "has",
        "this",
        "an",
        "not",
        "but",
        "they",
        "were",
        "their",
        "who",
        "its",
        "will",
        "had",
        "been",
        "which",
        "would",
        "or",
        "after",
        "more",
        "also",
        "than",
    ]
)


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
    words = re.findall(r"[^\W\d_]+", text[:20000].lower())
    if len(words) >= 20:
        share = sum(w in _ENGLISH for w in words) / len(words)
        if share < 0.08:
            return f"does not look like English (only {share:.0%} of words are common English words)"
    return None


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


SENTENCE_COLUMNS = (
    ["article_id", "sentence_index", "start", "end", "sentence", "label"] + [f"p_{label}" for label in LABELS] + ["source", "cue"]
)


def sentence_rows(article: Article) -> Iterator[dict[str, Any]]:
    """One flat row per sentence, for the tabular output formats."""
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
            row[f"p_{label}"] = None if s.probs is None else s.probs.get(label)
        row["source"] = s.source.text if s.source else None
        row["cue"] = s.cue.text if s.cue else None
        yield row


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


def read_partial(path: Path) -> Resumed:
    """Read an interrupted JSONL output and cut off a last line that the kill left half-written."""
    import json

    keys: Counter[str] = Counter()
    profiles: list[tuple[str, ArticleProfile]] = []
    good = 0
    with open(path, "rb") as handle:
        for line in handle:
            try:
                record = json.loads(line)
                meta = record.get("meta") or {}
                key = _key(record["id"], record["text"])
            except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
                break
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
    return Resumed(keys, profiles)


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
        else:
            self._cm = atomic_writer(self.path, "wb" if fmt == "parquet" else "w") if self.path is not None else nullcontext(sys.stdout)
            self._handle = self._cm.__enter__()
        self._csv: csv.DictWriter | None = None
        self._rows: list[dict[str, Any]] = []
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
            self._rows.extend(sentence_rows(article))

    def close(self) -> None:
        if self.fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pylist(self._rows) if self._rows else pa.table({c: [] for c in SENTENCE_COLUMNS})
            pq.write_table(table, self._handle)
        if self._partial is not None:
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
        try:
            self._cm.__exit__(type(exc), exc, exc.__traceback__)
        except BaseException:
            pass
        return None
