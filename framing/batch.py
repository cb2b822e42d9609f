"""Scoring a batch of inputs into an output: every article scored (on worker processes when the batch is
large), written as it comes, with the counts, the failures and the per-outlet totals kept on the way.
``framing score`` formats what this returns; it does no scoring of its own.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from framing.files import atomic_writer
from framing.io import ArticleTable, InputError, OutputWriter
from framing.model import ModelSpec, SentenceModel
from framing.parallel import score_parallel
from framing.profile import OutletTotals
from framing.record import Article


@dataclass
class BatchResult:
    """What a batch did: articles written, their labels, the inputs that failed and the outlet totals
    (the articles of a resumed run included). ``kept`` is the partial output an interrupted batch left
    for ``--resume``."""

    articles: int = 0
    labels: Counter[str] = field(default_factory=Counter)
    failures: list[InputError] = field(default_factory=list)
    outlets: OutletTotals = field(default_factory=OutletTotals)
    seconds: float = 0.0
    resumed: int = 0
    kept: Path | None = None

    @property
    def sentences(self) -> int:
        return sum(self.labels.values())


def score_into(
    writer: OutputWriter,
    items: Iterable[Article | InputError],
    model: SentenceModel,
    spec: ModelSpec,
    workers: int,
    result: BatchResult | None = None,
    on_item: Callable[[Article | InputError], None] | None = None,
    articles: ArticleTable | None = None,
) -> BatchResult:
    """Score ``items`` with ``model`` (or ``workers`` processes loading ``spec``) into ``writer``.

    Articles the writer already holds (``--resume``) are skipped. ``on_item`` sees every scored article
    and every failure as it comes (progress, messages). ``articles`` (``--articles``) gets a profile row
    for every article of the output, those of the interrupted run first, streamed as they come. On any
    exception, Ctrl-C included, the writer keeps what it has (``result.kept``), the article table is
    dropped (a resumed run writes it whole), and the exception goes on; pass ``result`` to read the
    counts then."""
    result = result if result is not None else BatchResult()
    for outlet, profile in writer.resumed.profiles:
        result.outlets.add(outlet, profile)
    result.resumed = sum(writer.done.values())
    if writer.done:
        items = (i for i in items if isinstance(i, InputError) or not writer.already_done(i))
    started = time.perf_counter()
    try:
        if articles is not None:
            for record in writer.resumed_records():
                articles.add_record(record)
        for item in score_parallel(items, model, spec, workers):
            if isinstance(item, InputError):
                result.failures.append(item)
            else:
                writer.write(item)
                if articles is not None:
                    articles.add(item)
                assert item.profile is not None  # scoring gives every article its profile
                result.outlets.add(item.meta.get("outlet"), item.profile)
                result.articles += 1
                result.labels.update(s.label for s in item.sentences if s.label)
            if on_item is not None:
                on_item(item)
    except BaseException as exc:
        result.kept = writer.abort(exc)
        if articles is not None:
            articles.abort(exc)
        raise
    try:
        writer.close()
    except BaseException as exc:
        if articles is not None:
            articles.abort(exc)
        raise
    if articles is not None:
        articles.close()
    result.seconds = time.perf_counter() - started
    return result


def outlets_path(output: Path | None) -> Path:
    """Where the per-outlet profiles of a batch written to ``output`` go."""
    return output.with_name(output.name + ".outlets.json") if output else Path("framing-outlets.json")


def errors_path(output: Path | None) -> Path:
    """Where the failed inputs of a batch written to ``output`` are listed."""
    return output.with_name(output.name + ".errors.jsonl") if output else Path("framing-errors.jsonl")


def write_outlets(path: Path, outlets: OutletTotals) -> None:
    with atomic_writer(path) as handle:
        json.dump(outlets.to_list(), handle, indent=2, ensure_ascii=False)


def write_errors(path: Path, failures: list[InputError]) -> None:
    with atomic_writer(path) as handle:
        for failure in failures:
            handle.write(json.dumps(failure.to_dict(), ensure_ascii=False) + "\n")


def write_side_files(result: BatchResult, output: Path | None, errors: Path | None = None) -> tuple[Path | None, Path | None]:
    """The per-outlet profiles and the list of failed inputs, beside ``output`` (or in ``errors``); returns
    where each went. A batch written to standard output leaves none in the current directory (its
    failures were printed) unless ``errors`` names a file; a clean run removes an earlier run's list."""
    outlets = outlets_path(output) if output is not None else None
    if outlets is not None and result.outlets:
        write_outlets(outlets, result.outlets)
    elif outlets is not None:
        outlets.unlink(missing_ok=True)  # an earlier run's totals would describe this one wrongly
        outlets = None
    failed = errors or (errors_path(output) if output is not None else None)
    if failed is not None:
        if result.failures:
            write_errors(failed, result.failures)
        else:
            failed.unlink(missing_ok=True)  # a list from an earlier run would describe this one wrongly
    return outlets, failed
