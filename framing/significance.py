"""Is a model better than another on the same gold articles, or is the difference noise?

A paired bootstrap over articles: both models' outputs on one resample of the articles (drawn with
replacement) give one difference, and 2,000 resamples give its spread. Articles, not sentences, are
resampled because the sentences of one article are not independent (one outlet, one writer, one story).

Every figure here is a sum of per-article counts (a confusion matrix, span hits), so a resample is a
weighted sum of each article's counts and the metric is computed from the sums: exactly what
``framing.evaluate`` reports for the whole set, and fast enough for thousands of resamples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from framing.evaluate import HEAD_LABEL, Scored, span_counts
from framing.model.heads import HEADS, sentence_targets
from framing.record import LABELS, MAIN_LABELS, Article

SAMPLES = 2000
MIN_ARTICLES = 10
"""Fewer articles give no interval: resampling three articles says little about the next three hundred,
and one article gives an interval of width zero."""


@dataclass(frozen=True)
class Difference:
    """One metric of a model minus the same metric of a baseline, on the same articles."""

    metric: str
    model: float
    baseline: float
    low: float
    """2.5th percentile of the difference over the resamples."""
    high: float
    """97.5th percentile."""
    not_better: float
    """Share of resamples where the model is not better than the baseline: above 0.95, the model is
    worse at the 5 % level, one-sided (the adoption rule's test for "not worse")."""

    @property
    def difference(self) -> float:
        return self.model - self.baseline

    @property
    def verdict(self) -> str:
        """``better`` or ``worse`` when the 95 % interval leaves out zero, else ``within noise``."""
        return "better" if self.low > 0 else "worse" if self.high < 0 else "within noise"

    def __str__(self) -> str:
        return f"{self.difference:+.3f} [{self.low:+.3f}, {self.high:+.3f}] {self.verdict}"

    def as_dict(self) -> dict[str, float | str]:
        """The fields with the difference and the verdict, as written to JSON."""
        return {**asdict(self), "difference": self.difference, "verdict": self.verdict}


_LABEL = {label: i for i, label in enumerate(LABELS)}
_SPAN_FIELDS = ("exact", "predicted_distinct", "gold_distinct", "overlap_predicted", "predicted", "overlap_gold", "gold")


def _layout() -> dict[str, slice]:
    """Which columns of an article's count vector hold what: the label confusion matrix, each head's
    2 × 2 table (tn, fp, fn, tp), each span role's ``_SPAN_FIELDS``."""
    sizes = {"labels": len(LABELS) ** 2, **{head: 4 for head in HEADS}, "source": len(_SPAN_FIELDS), "cue": len(_SPAN_FIELDS)}
    columns, start = {}, 0
    for name, size in sizes.items():
        columns[name] = slice(start, start + size)
        start += size
    return columns


_COLUMNS = _layout()


def _article_counts(gold: list[Article], scored: Scored, spans: bool) -> np.ndarray:
    """(n_articles, n_counts): per article, the counts ``_COLUMNS`` lays out."""
    counts = np.zeros((len(gold), _COLUMNS["cue"].stop))
    for a, (g, (p, prediction)) in enumerate(zip(gold, scored, strict=True)):
        for gs, ps in zip(g.sentences, p.sentences, strict=True):
            if gs.label is not None and ps.label is not None:
                counts[a, _COLUMNS["labels"].start + _LABEL[gs.label] * len(LABELS) + _LABEL[ps.label]] += 1
            targets = sentence_targets(gs)
            for head in HEADS:
                if targets.get(head) is not None:
                    counts[a, _COLUMNS[head].start + 2 * int(targets[head]) + int(ps.label == HEAD_LABEL[head])] += 1
        if spans:
            for role, c in span_counts([g], [prediction.spans]).items():
                counts[a, _COLUMNS[role]] = [getattr(c, f) for f in _SPAN_FIELDS]
    return counts


def _f1(tp: np.ndarray, predicted: np.ndarray, gold: np.ndarray) -> np.ndarray:
    # 2PR/(P+R) = 2·tp/(predicted+gold); 0 where nothing was predicted or expected (sklearn's zero_division=0).
    denominator = predicted + gold
    return np.divide(2 * tp, denominator, out=np.zeros_like(denominator, dtype=float), where=denominator > 0)


def _pair_f1(hits_p: np.ndarray, predicted: np.ndarray, hits_g: np.ndarray, gold: np.ndarray) -> np.ndarray:
    precision = np.divide(hits_p, predicted, out=np.zeros_like(predicted, dtype=float), where=predicted > 0)
    recall = np.divide(hits_g, gold, out=np.zeros_like(gold, dtype=float), where=gold > 0)
    return np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(precision), where=precision + recall > 0)


def _metrics(totals: np.ndarray) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """The metrics these counts support, each a function of summed counts (resamples × counts), named as
    ``framing.evaluate.headline`` names them. ``totals`` (the whole set's sums) decides which apply."""
    metrics: dict[str, Callable[[np.ndarray], np.ndarray]] = {}
    n = len(LABELS)
    if totals[_COLUMNS["labels"]].sum() > 0:

        def macro_f1(s: np.ndarray) -> np.ndarray:
            confusion = s[:, _COLUMNS["labels"]].reshape(-1, n, n)
            per_class = [
                _f1(confusion[:, i, i], confusion[:, :, i].sum(1), confusion[:, i, :].sum(1)) for i in (_LABEL[m] for m in MAIN_LABELS)
            ]
            return np.mean(per_class, axis=0)

        metrics["macro-F1 (3 main labels)"] = macro_f1
    for head in HEADS:
        table = totals[_COLUMNS[head]]
        if table[:2].sum() == 0 or table[2:].sum() == 0:
            continue  # one class only: no F1 (as evaluate_head)

        def head_f1(s: np.ndarray, cols: slice = _COLUMNS[head]) -> np.ndarray:
            tn, fp, fn, tp = (s[:, cols.start + i] for i in range(4))
            return _f1(tp, tp + fp, tp + fn)

        def head_macro(s: np.ndarray, cols: slice = _COLUMNS[head]) -> np.ndarray:
            tn, fp, fn, tp = (s[:, cols.start + i] for i in range(4))
            return (_f1(tp, tp + fp, tp + fn) + _f1(tn, tn + fn, tn + fp)) / 2

        metrics[f"{head} vs rest F1"] = head_f1
        metrics[f"{head} vs rest macro-F1"] = head_macro
    for role in ("source", "cue"):
        if totals[_COLUMNS[role]][_SPAN_FIELDS.index("gold")] == 0:
            continue

        def exact(s: np.ndarray, cols: slice = _COLUMNS[role]) -> np.ndarray:
            hits, predicted, gold = (s[:, cols.start + _SPAN_FIELDS.index(f)] for f in ("exact", "predicted_distinct", "gold_distinct"))
            return _pair_f1(hits, predicted, hits, gold)

        def overlap(s: np.ndarray, cols: slice = _COLUMNS[role]) -> np.ndarray:
            hp, predicted, hg, gold = (
                s[:, cols.start + _SPAN_FIELDS.index(f)] for f in ("overlap_predicted", "predicted", "overlap_gold", "gold")
            )
            return _pair_f1(hp, predicted, hg, gold)

        metrics[f"{role} span exact F1"] = exact
        metrics[f"{role} span overlap F1"] = overlap
    return metrics


def compare(
    gold: list[Article], model: Scored, baseline: Scored, *, spans: bool, samples: int = SAMPLES, seed: int = 0
) -> list[Difference]:
    """Each metric both outputs support on ``gold`` (``score_set`` of each model), as model minus
    baseline with its 95 % paired-bootstrap interval over articles; the span figures only when
    ``spans`` (both models tag spans: ``framing.evaluate.tags_spans``). Same seed, same resamples.
    Empty below ``MIN_ARTICLES`` articles."""
    if len(gold) < MIN_ARTICLES:
        return []
    counts_m, counts_b = _article_counts(gold, model, spans), _article_counts(gold, baseline, spans)
    rng = np.random.default_rng(seed)
    # Each resample as how often it drew each article: its sums are a weights × counts product.
    draws = np.stack([np.bincount(rng.integers(0, len(gold), len(gold)), minlength=len(gold)) for _ in range(samples)]).astype(float)
    total_m, total_b = counts_m.sum(0, keepdims=True), counts_b.sum(0, keepdims=True)
    out = []
    for name, metric in _metrics(total_m[0]).items():
        diffs = metric(draws @ counts_m) - metric(draws @ counts_b)
        out.append(
            Difference(
                metric=name,
                model=float(metric(total_m)[0]),
                baseline=float(metric(total_b)[0]),
                low=float(np.percentile(diffs, 2.5)),
                high=float(np.percentile(diffs, 97.5)),
                not_better=float(np.mean(diffs <= 0)),
            )
        )
    return out
