"""Evaluation of predicted sentence labels against gold labels, returned as data."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from framing.heads import sentence_targets
from framing.record import LABELS, MAIN_LABELS, Article


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
