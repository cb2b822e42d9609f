"""Scoring: segment articles that need it, label every sentence, attach probabilities and sources."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from framing.attribution import attach
from framing.io import InputError
from framing.model import Prediction, SentenceModel, load_model
from framing.profile import article_profile
from framing.record import LABELS, Article, Sentence
from framing.segment import segment

ARTICLES_PER_BATCH = 32


def prepare(article: Article) -> Article:
    """Segment an article that has no sentences; keep the spans of one that has, and clear their
    labels, spans, probabilities and the profile so that what comes out is the model's alone."""
    article.profile, article.techniques = None, None
    article.extra.pop("profile", None)  # a stored one this version could not read
    article.extra.pop("techniques", None)
    if not article.sentences:
        article.sentences = [Sentence(start, end) for start, end in segment(article.text)]
    else:
        for s in article.sentences:
            s.label, s.source, s.cue, s.probs = None, None, None, None
    return article


def apply_probs(article: Article, probs: np.ndarray, model_name: str) -> Article:
    for sentence, row in zip(article.sentences, probs):
        sentence.probs = {label: float(p) for label, p in zip(LABELS, row)}
        sentence.label = LABELS[int(np.argmax(row))]
    article.meta["model"] = model_name
    return article


def batches(items: Iterable[Article | InputError], size: int) -> Iterator[list[Article] | InputError]:
    """Consecutive articles in lists of at most ``size``; an input error ends the list before it and
    passes through on its own, so output order is input order."""
    batch: list[Article] = []
    for item in items:
        if isinstance(item, InputError):
            if batch:
                yield batch
                batch = []
            yield item
            continue
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def score_articles(
    articles: Iterable[Article], model: SentenceModel | None = None, batch_size: int = ARTICLES_PER_BATCH
) -> Iterator[Article]:
    """Label every sentence of every article, in input order (lazily, a batch of articles at a time)."""
    for article, _ in score_with_predictions(articles, model, batch_size):
        yield article


def score_with_predictions(
    articles: Iterable[Article], model: SentenceModel | None = None, batch_size: int = ARTICLES_PER_BATCH
) -> Iterator[tuple[Article, Prediction]]:
    """Like ``score_articles``, with the model's raw output for each article beside it (evaluation
    measures the tagger's spans from it without a second pass)."""
    model = model or load_model()
    for batch in batches(articles, batch_size):
        assert isinstance(batch, list)  # ``articles`` holds no input errors
        yield from _score_batch([prepare(a) for a in batch], model)


def _score_batch(batch: list[Article], model: SentenceModel) -> Iterator[tuple[Article, Prediction]]:
    for article, prediction in zip(batch, model.predict(batch)):
        attach(apply_probs(article, prediction.probs, model.name), prediction.spans)
        article.techniques = prediction.techniques
        article.profile = article_profile(article)
        yield article, prediction


def score_items(
    items: Iterable[Article | InputError], model: SentenceModel, batch_size: int = ARTICLES_PER_BATCH
) -> Iterator[Article | InputError]:
    """Like ``score_articles`` over a mix of articles and input errors, for batches: errors pass through,
    and an article that makes the model fail becomes an ``InputError`` instead of ending the batch."""
    for batch in batches(items, batch_size):
        if isinstance(batch, InputError):
            yield batch
        else:
            yield from _safe_batch(batch, model)


def _safe_batch(batch: list[Article], model: SentenceModel) -> Iterator[Article | InputError]:
    try:
        scored = [article for article, _ in _score_batch([prepare(a) for a in batch], model)]
    except Exception:
        # Retry one by one so that only the article that fails is reported (a batch of one included: the
        # last article of a batch, or one between two input errors, must not end the whole batch).
        for article in batch:
            try:
                yield from (scored for scored, _ in _score_batch([prepare(article)], model))
            except Exception as exc:  # noqa: BLE001 - any failure of one article is reported, not fatal
                yield InputError(article.origin or str(article.meta.get("path", article.id)), f"scoring failed: {exc!r}", article.id)
        return
    yield from scored


def score_text(text: str, model: SentenceModel | None = None, article_id: str = "text") -> Article:
    """Segment and label one article given as plain text."""
    return next(score_articles([Article(id=article_id, text=text)], model))
