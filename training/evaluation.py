"""Scoring held-out sets with a model and measuring it: the same code for every kind of model."""

from __future__ import annotations

import copy
from typing import Any

from framing.evaluate import evaluate_head, evaluate_labels, evaluate_spans
from framing.heads import HEADS
from framing.model import SentenceModel
from framing.record import Article
from framing.score import score_articles


def evaluate_all(model: SentenceModel, held_out: dict[str, list[Article]]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, gold in held_out.items():
        pred = list(score_articles(copy.deepcopy(gold), model))
        result: dict[str, Any] = {"articles": len(gold)}
        labels = evaluate_labels(gold, pred)
        if labels.get("sentences"):
            result["labels"] = labels
        for head in HEADS:
            head_result = evaluate_head(gold, pred, head)
            if head_result.get("sentences"):
                result[f"{head}_vs_rest"] = head_result
        if getattr(model, "kind", "") == "transformer-window":
            spans = evaluate_spans(gold, [p.spans for p in model.predict(copy.deepcopy(gold))])
            if spans:
                result["spans"] = spans
        results[name] = result
    return results
