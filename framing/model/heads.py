"""Three binary decisions that make up the four sentence labels, in the guidelines' decision order.

No public corpus carries all four labels, but each speaks to one question of the decision order:
1. is the sentence a proposition at all (``other``)?
2. does the writer judge, infer or predict in their own voice (``editorial``)?
3. is the main content someone else's (``attributed``)?

A model predicts one probability per question, each trained only on data that answers it (a missing
target is masked), and the label distribution follows the decision order:

    P(other)            = p_other
    P(editorial)        = (1 - p_other) * p_editorial
    P(attributed_claim) = (1 - p_other) * (1 - p_editorial) * p_attributed
    P(reported_fact)    = (1 - p_other) * (1 - p_editorial) * (1 - p_attributed)
"""

from __future__ import annotations

import numpy as np

from framing.record import LABELS, Sentence

HEADS: tuple[str, ...] = ("other", "editorial", "attributed")


def targets_from_label(sentence: Sentence) -> dict[str, int]:
    """The head targets a fully labelled sentence implies; heads it says nothing about are left out."""
    label = sentence.label
    if label is None:
        return {}
    if label == "other":
        return {"other": 1}
    targets = {"other": 0, "editorial": int(label == "editorial_framing")}
    if label == "editorial_framing":
        # An editorial sentence may still attribute ("X alleges ..., which will surely ..."): its source
        # span tells; without one the sentence says nothing about attribution.
        if sentence.source is not None or sentence.cue is not None:
            targets["attributed"] = 1
    else:
        targets["attributed"] = int(label == "attributed_claim")
    return targets


def sentence_targets(sentence: Sentence) -> dict[str, int]:
    """Targets of a training sentence: explicit partial ``targets`` (weakly labelled corpora) win over
    those implied by a full label."""
    explicit = sentence.extra.get("targets")
    if isinstance(explicit, dict):
        return {k: int(v) for k, v in explicit.items() if k in HEADS and v is not None}
    return targets_from_label(sentence)


def combine(head_probs: np.ndarray) -> np.ndarray:
    """(n, 3) head probabilities in ``HEADS`` order → (n, 4) label probabilities in ``LABELS`` order."""
    p_other, p_edit, p_attr = head_probs[:, 0], head_probs[:, 1], head_probs[:, 2]
    prop = 1.0 - p_other
    out = np.empty((head_probs.shape[0], len(LABELS)), dtype=np.float64)
    out[:, LABELS.index("other")] = p_other
    out[:, LABELS.index("editorial_framing")] = prop * p_edit
    out[:, LABELS.index("attributed_claim")] = prop * (1.0 - p_edit) * p_attr
    out[:, LABELS.index("reported_fact")] = prop * (1.0 - p_edit) * (1.0 - p_attr)
    return out
