"""Propaganda techniques as framing cues: the 14 techniques of the Propaganda Techniques Corpus
(SemEval-2020 Task 11), found as character spans by a multi-label token head on the same encoder pass
(``framing.transformer``), and the SemEval-2020 span metric to measure them.

A scored article carries ``techniques``: ``[{"start", "end", "technique", "prob"}, ...]`` with offsets into
its text and the technique names exactly as in PTC's label files. Spans may overlap, and one stretch of
text may carry two techniques.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

TECHNIQUES: tuple[str, ...] = (
    "Appeal_to_Authority",
    "Appeal_to_fear-prejudice",
    "Bandwagon,Reductio_ad_hitlerum",
    "Black-and-White_Fallacy",
    "Causal_Oversimplification",
    "Doubt",
    "Exaggeration,Minimisation",
    "Flag-Waving",
    "Loaded_Language",
    "Name_Calling,Labeling",
    "Repetition",
    "Slogans",
    "Thought-terminating_Cliches",
    "Whataboutism,Straw_Men,Red_Herring",
)


def decode_techniques(
    offsets: Sequence[tuple[int, int]], probs: np.ndarray, text: str, threshold: float | Sequence[float] = 0.5
) -> list[dict[str, Any]]:
    """Per technique, runs of consecutive tokens whose probability passes the threshold become spans
    (a run may bridge word pieces and the spaces between words); a span's ``prob`` is its mean."""
    out: list[dict[str, Any]] = []
    thresholds = np.broadcast_to(np.asarray(threshold, dtype=float), (len(TECHNIQUES),))
    real = [k for k, (s, _) in enumerate(offsets) if s >= 0]
    if not real:
        return out
    # Most sentences carry no technique: look only at the techniques some token passes.
    passing = np.flatnonzero((np.asarray(probs)[real] >= thresholds).any(axis=0))
    for t in passing:
        name = TECHNIQUES[t]
        start = end = -1
        scores: list[float] = []
        for k, (s, e) in enumerate(offsets):
            if s < 0:
                continue
            p = float(probs[k, t])
            if p >= thresholds[t]:
                if start < 0:
                    start, scores = s, []
                end = e
                scores.append(p)
            elif start >= 0:
                out.append({"start": start, "end": end, "technique": name, "prob": round(float(np.mean(scores)), 4)})
                start = -1
        if start >= 0:
            out.append({"start": start, "end": end, "technique": name, "prob": round(float(np.mean(scores)), 4)})
    out.sort(key=lambda x: (x["technique"], x["start"]))
    # A punctuation mark below the threshold should not split a phrase in two.
    merged: list[dict[str, Any]] = []
    for span in out:
        last = merged[-1] if merged else None
        if last is not None and last["technique"] == span["technique"] and span["start"] - last["end"] <= MAX_GAP and not text[last["end"] : span["start"]].strip(" ,'\"’”“-"):
            last["end"] = max(last["end"], span["end"])
            last["prob"] = round((last["prob"] + span["prob"]) / 2, 4)
        else:
            merged.append(dict(span))
    merged.sort(key=lambda x: (x["start"], x["end"], x["technique"]))
    return merged


MAX_GAP = 3
"""Spans of one technique closer than this many characters (spaces and punctuation only) are one span."""


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


def span_metric(gold: dict[str, list[dict[str, Any]]], pred: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
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
        g_all = _merge([(x["start"], x["end"]) for x in gold.get(article_id, [])])
        p_all = _merge([(x["start"], x["end"]) for x in pred.get(article_id, [])])
        pn, rn = _overlap_score(p_all, g_all)
        totals[0] += pn
        totals[1] += rn
        totals[2] += len(p_all)
        totals[3] += len(g_all)
        for name in TECHNIQUES:
            g = _merge([(x["start"], x["end"]) for x in gold.get(article_id, []) if x["technique"] == name])
            p = _merge([(x["start"], x["end"]) for x in pred.get(article_id, []) if x["technique"] == name])
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
