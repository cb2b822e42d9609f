"""Evaluation of predicted sentence labels against gold labels, returned as data."""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from framing.attribution import gold_spans
from framing.model import Prediction, SentenceModel, SpanGuess
from framing.model.heads import HEADS, sentence_targets
from framing.record import LABELS, MAIN_LABELS, Article, TechniqueSpan
from framing.taxonomy import TECHNIQUES


def evaluate_labels(gold: list[Article], pred: list[Article]) -> dict[str, Any]:
    """Per-class precision/recall/F1, macro-F1 over the three main labels, accuracy and the confusion
    matrix, over the sentences that carry a gold ``label``. ``pred`` must hold the same sentences."""
    y_true, y_pred = [], []
    for g, p in zip(gold, pred, strict=True):
        if len(g.sentences) != len(p.sentences):
            raise ValueError(f"{g.id}: {len(g.sentences)} gold sentences but {len(p.sentences)} predicted")
        for gs, ps in zip(g.sentences, p.sentences):
            if gs.label is not None:
                y_true.append(gs.label)
                y_pred.append(ps.label)
    if not y_true:
        return {"sentences": 0}
    p, r, f, support = precision_recall_fscore_support(y_true, y_pred, labels=list(LABELS), zero_division=0)
    return {
        "sentences": len(y_true),
        "per_class": {
            label: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(support[i])}
            for i, label in enumerate(LABELS)
        },
        "macro_f1": float(f1_score(y_true, y_pred, labels=list(MAIN_LABELS), average="macro", zero_division=0)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "confusion": {"labels": list(LABELS), "matrix": confusion_matrix(y_true, y_pred, labels=list(LABELS)).tolist()},
    }


HEAD_LABEL = {"editorial": "editorial_framing", "attributed": "attributed_claim", "other": "other"}


def evaluate_head(gold: list[Article], pred: list[Article], head: str) -> dict[str, Any]:
    """One binary question ("editorial vs rest") on a partially labelled source: the predicted label
    answers yes when it is the head's label. Returns F1 of the positive class and binary macro-F1."""
    y_true, y_pred = [], []
    for g, p in zip(gold, pred, strict=True):
        for gs, ps in zip(g.sentences, p.sentences):
            target = sentence_targets(gs).get(head)
            if target is None:
                continue
            y_true.append(int(target))
            y_pred.append(int(ps.label == HEAD_LABEL[head]))
    t, q = np.array(y_true), np.array(y_pred)
    if len(set(y_true)) < 2:
        # One class only (CheckThat! has no `other` sentences): F1 would be meaningless.
        return {"sentences": 0}
    prec, rec, f1, _ = precision_recall_fscore_support(t, q, labels=[1], zero_division=0)
    return {
        "sentences": len(y_true),
        "positive_share": float(t.mean()),
        "precision": float(prec[0]),
        "recall": float(rec[0]),
        "f1": float(f1[0]),
        "macro_f1": float(f1_score(t, q, average="macro", zero_division=0)),
    }


def evaluate_spans(gold: list[Article], found: list[list[list[SpanGuess]]]) -> dict[str, Any]:
    """Source and cue spans against gold spans, per role: exact-match and overlap precision/recall/F1.

    Only sentences whose gold marks spans count (``framing.attribution.gold_spans``); a gold span's
    trailing comma, colon or space is not counted as part of it. A predicted span
    overlapping a gold one of its role counts as an overlap hit (a gold span is recalled the same way).
    """
    out: dict[str, Any] = {}
    for role, c in span_counts(gold, found).items():
        if not c.gold:
            continue
        out[role] = {
            "gold": c.gold,
            "predicted": c.predicted,
            "exact": _prf(c.exact, c.predicted_distinct, c.gold_distinct),
            "overlap": _prf(c.overlap_predicted, c.predicted, c.gold, c.overlap_gold),
        }
    return out


@dataclass(frozen=True)
class SpanCounts:
    """What the span figures of one role are computed from (they add up over articles)."""

    exact: int
    """Distinct predicted spans that match a gold span exactly."""
    predicted_distinct: int
    gold_distinct: int
    overlap_predicted: int
    """Predicted spans that overlap a gold span of their role."""
    predicted: int
    overlap_gold: int
    """Gold spans that a predicted span of their role overlaps."""
    gold: int


def span_counts(gold: list[Article], found: list[list[list[SpanGuess]]]) -> dict[str, SpanCounts]:
    """Per role, the hit and span counts behind ``evaluate_spans``: for every role, gold spans or not
    (an article without a gold source still counts the sources predicted in it, when its counts are
    added to other articles')."""
    # (article number, start, end): offsets are only comparable within one article.
    pairs: dict[str, tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]] = {"source": ([], []), "cue": ([], [])}
    for a, (article, per_sentence) in enumerate(zip(gold, found, strict=True)):
        for sentence, guesses in zip(article.sentences, per_sentence):
            spans = gold_spans(sentence)
            if spans is None:
                continue
            for role, (g, p) in pairs.items():
                g.extend((a, *_trim(article.text, s, e)) for r, s, e in spans if r == role)
                p.extend((a, x.start, x.end) for x in guesses if x.role == role)
    out = {}
    for role, (g, p) in pairs.items():
        gold_set, pred_set = set(g), set(p)
        out[role] = SpanCounts(
            exact=len(gold_set & pred_set),
            predicted_distinct=len(pred_set),
            gold_distinct=len(gold_set),
            overlap_predicted=sum(any(a == ga and s < ge and gs < e for ga, gs, ge in g) for a, s, e in p),
            predicted=len(p),
            overlap_gold=sum(any(a == pa and s < pe and ps < e for pa, ps, pe in p) for a, s, e in g),
            gold=len(g),
        )
    return out


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    # PolNeAR's annotators often took the comma or colon after a name ("Caddell,"); our spans never do.
    while end > start + 1 and (text[end - 1].isspace() or text[end - 1] in ",;:―"):
        end -= 1
    return start, end


def _prf(hits: int, predicted: int, gold: int, gold_hits: int | None = None) -> dict[str, float]:
    precision = hits / predicted if predicted else 0.0
    recall = (hits if gold_hits is None else gold_hits) / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def calibration(gold: list[Article], pred: list[Article], bins: int = 10) -> dict[str, Any]:
    """Expected calibration error of the predicted label's probability, with the reliability curve."""
    conf, correct = [], []
    for g, p in zip(gold, pred, strict=True):
        for gs, ps in zip(g.sentences, p.sentences):
            if gs.label is not None and ps.probs:
                conf.append(max(ps.probs.values()))
                correct.append(float(gs.label == ps.label))
    if not conf:
        return {"ece": None, "bins": []}
    c, k = np.array(conf), np.array(correct)
    edges = np.linspace(0.0, 1.0, bins + 1)
    curve, ece = [], 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (c > lo) & (c <= hi) if lo > 0 else (c >= lo) & (c <= hi)
        if inside.any():
            gap = abs(c[inside].mean() - k[inside].mean())
            ece += inside.mean() * gap
            curve.append(
                {
                    "low": float(lo),
                    "high": float(hi),
                    "confidence": float(c[inside].mean()),
                    "accuracy": float(k[inside].mean()),
                    "count": int(inside.sum()),
                }
            )
    return {"ece": float(ece), "bins": curve}


def save_plots(result: dict[str, Any], calib: dict[str, Any], directory: str, prefix: str) -> list[str]:
    """Confusion matrix and reliability diagram as PNG files; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    matrix = np.array(result["confusion"]["matrix"])
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(LABELS)), [label.replace("_", "\n") for label in LABELS], fontsize=8)
    ax.set_yticks(range(len(LABELS)), LABELS, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    for i in range(len(LABELS)):
        for j in range(len(LABELS)):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", color="white" if matrix[i, j] > matrix.max() / 2 else "black")
    ax.set_title(f"{prefix}: macro-F1 {result['macro_f1']:.3f}")
    fig.tight_layout()
    paths.append(str(out / f"{prefix}-confusion.png"))
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect")
    xs = [b["confidence"] for b in calib["bins"]]
    ys = [b["accuracy"] for b in calib["bins"]]
    ax.plot(xs, ys, "o-", label=f"model (ECE {calib['ece']:.3f})")
    ax.set_xlabel("confidence of predicted label")
    ax.set_ylabel("accuracy")
    ax.legend()
    ax.set_title(f"{prefix}: reliability")
    fig.tight_layout()
    paths.append(str(out / f"{prefix}-reliability.png"))
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    return paths


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _overlap_score(pred: list[tuple[int, int]], gold: list[tuple[int, int]]) -> tuple[float, float]:
    """Σ over predicted spans of |s∩t|/|s| against every gold span (precision numerator), and the same
    with the roles swapped (recall numerator)."""
    p = sum(max(0, min(e, ge) - max(s, gs)) / (e - s) for s, e in pred for gs, ge in gold if e > s)
    r = sum(max(0, min(e, pe) - max(s, ps)) / (e - s) for s, e in gold for ps, pe in pred if e > s)
    return p, r


def span_metric(gold: dict[str, list[TechniqueSpan]], pred: dict[str, list[TechniqueSpan]]) -> dict[str, Any]:
    """The SemEval-2020 Task 11 span metric with partial-overlap credit, per article keyed by id:
    precision = Σ |s∩t|/|s| / |S|, recall = Σ |s∩t|/|t| / |T|, over merged spans. Returns the
    technique-agnostic figures (all spans merged regardless of technique), the technique-aware ones
    (only spans of the same technique overlap), and per technique."""

    def prf(p_num: float, r_num: float, n_pred: int, n_gold: int) -> dict[str, float]:
        precision = p_num / n_pred if n_pred else 0.0
        recall = r_num / n_gold if n_gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": precision, "recall": recall, "f1": f1, "predicted": n_pred, "gold": n_gold}

    totals = [0.0, 0.0, 0, 0]
    by_tech: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0, 0])
    for article_id in set(gold) | set(pred):
        g_all = _merge([(x.start, x.end) for x in gold.get(article_id, [])])
        p_all = _merge([(x.start, x.end) for x in pred.get(article_id, [])])
        pn, rn = _overlap_score(p_all, g_all)
        totals[0] += pn
        totals[1] += rn
        totals[2] += len(p_all)
        totals[3] += len(g_all)
        for name in TECHNIQUES:
            g = _merge([(x.start, x.end) for x in gold.get(article_id, []) if x.technique == name])
            p = _merge([(x.start, x.end) for x in pred.get(article_id, []) if x.technique == name])
            pn, rn = _overlap_score(p, g)
            acc = by_tech[name]
            acc[0] += pn
            acc[1] += rn
            acc[2] += len(p)
            acc[3] += len(g)
    per_technique = {name: prf(*by_tech[name]) for name in TECHNIQUES}  # type: ignore[arg-type]
    aware = [sum(v[i] for v in by_tech.values()) for i in range(4)]
    return {
        "span": prf(*totals),  # type: ignore[arg-type]
        "technique_aware": prf(*aware),  # type: ignore[arg-type]
        "per_technique": per_technique,
    }


def evaluate_model(model: SentenceModel, sets: dict[str, list[Article]], *, calibrate: bool = False) -> dict[str, Any]:
    """Score each set of gold articles with ``model`` and measure it, the same way for every kind of
    model and for every caller (``framing evaluate``, training, the benchmarks). Per set: the number of
    articles; ``labels`` (``evaluate_labels``) where the gold has labels; ``<head>_vs_rest`` for each
    head the gold speaks to; ``spans`` (source and cue) for a model that tags them; ``techniques`` (the
    SemEval-2020 span metric) where the gold lists technique spans and the model finds them; and, with
    ``calibrate``, ``calibration`` of the label probabilities."""
    return {name: measure(gold, score_set(model, gold), spans=tags_spans(model), calibrate=calibrate) for name, gold in sets.items()}


def tags_spans(model: SentenceModel) -> bool:
    """Whether ``model`` finds source and cue spans (a transformer's tagger); a model without a tagger
    still gives an empty list per sentence, which must not be scored as a tagger that found nothing."""
    return getattr(model, "kind", "") == "transformer-window"


Scored = list[tuple[Article, Prediction]]
"""A model's output on gold articles: each article as the model labelled it, with its raw prediction."""


def score_set(model: SentenceModel, gold: list[Article]) -> Scored:
    """``model``'s labels and predictions for copies of ``gold`` (the gold articles are not touched)."""
    from framing.score import score_with_predictions

    return list(score_with_predictions(copy.deepcopy(gold), model))


def measure(gold: list[Article], scored: Scored, *, spans: bool, calibrate: bool = False) -> dict[str, Any]:
    """One set's figures (see ``evaluate_model``) from a model's output on it; source and cue span
    figures when ``spans`` (``tags_spans`` of the model)."""
    pred = [article for article, _ in scored]
    result: dict[str, Any] = {"articles": len(gold)}
    labels = evaluate_labels(gold, pred)
    if labels.get("sentences"):
        result["labels"] = labels
        if calibrate:
            result["calibration"] = calibration(gold, pred)
    for head in HEADS:
        head_result = evaluate_head(gold, pred, head)
        if head_result.get("sentences"):
            result[f"{head}_vs_rest"] = head_result
    if spans:
        span_result = evaluate_spans(gold, [prediction.spans for _, prediction in scored])
        if span_result:
            result["spans"] = span_result
    gold_techniques = {g.id: g.techniques for g in gold if g.techniques is not None}
    if gold_techniques and any(p.techniques is not None for p in pred):
        result["techniques"] = span_metric(gold_techniques, {p.id: p.techniques or [] for p in pred if p.id in gold_techniques})
    return result


def headline(result: dict[str, Any]) -> list[tuple[str, float]]:
    """The figures the quality targets are stated in, from one set's result."""
    rows = []
    if "labels" in result:
        rows.append(("macro-F1 (3 main labels)", result["labels"]["macro_f1"]))
        rows += [(f"F1 {label}", v["f1"]) for label, v in result["labels"]["per_class"].items()]
    for head in HEADS:
        if f"{head}_vs_rest" in result:
            r = result[f"{head}_vs_rest"]
            rows += [(f"{head} vs rest F1", r["f1"]), (f"{head} vs rest macro-F1", r["macro_f1"])]
    for role, r in result.get("spans", {}).items():
        rows += [
            (f"{role} span exact P", r["exact"]["precision"]),
            (f"{role} span exact R", r["exact"]["recall"]),
            (f"{role} span exact F1", r["exact"]["f1"]),
            (f"{role} span overlap P", r["overlap"]["precision"]),
            (f"{role} span overlap R", r["overlap"]["recall"]),
            (f"{role} span overlap F1", r["overlap"]["f1"]),
        ]
    return rows
