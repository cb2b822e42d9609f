"""Which sentences to annotate next: the ones the model is least sure of, spread over different wording.

Uncertainty is one minus the margin between the two most probable labels. From the most uncertain
sentences (a pool of ``POOL`` × n), sentences are picked greedily by maximal marginal relevance: each pick
trades its uncertainty against its TF-IDF cosine similarity to what is already picked, so fifty picks are
not fifty variants of one boilerplate line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from framing.record import LABELS, Article

POOL = 5


@dataclass
class Suggestion:
    article_id: str
    sentence_index: int
    start: int
    end: int
    sentence: str
    label: str
    uncertainty: float
    probs: dict[str, float]
    article_text: str = ""
    """The whole text of the sentence's article, so that ``framing export-tasks`` can give the annotator
    the sentence in its article (who "he" is, whether a quote runs on) from the suggestions alone."""

    def to_dict(self) -> dict[str, object]:
        return {**self.__dict__, "probs": {k: round(v, 4) for k, v in self.probs.items()}}


def suggest(articles: list[Article], n: int = 50, diversity: float = 0.3) -> list[Suggestion]:
    """The ``n`` sentences of scored ``articles`` whose annotation would help most (see module doc)."""
    candidates: list[Suggestion] = []
    for a in articles:
        for i, s in enumerate(a.sentences):
            if not s.probs:
                continue
            top = sorted((s.probs.get(label, 0.0) for label in LABELS), reverse=True)
            candidates.append(
                Suggestion(a.id, i, s.start, s.end, a.text[s.start : s.end], s.label or "", 1.0 - (top[0] - top[1]), dict(s.probs), a.text)
            )
    if not candidates or n <= 0:
        return []
    candidates.sort(key=lambda c: -c.uncertainty)
    pool = candidates[: max(n * POOL, n)]
    vectors = TfidfVectorizer(sublinear_tf=True).fit_transform([c.sentence for c in pool])
    similarity = (vectors @ vectors.T).toarray()
    uncertainty = np.array([c.uncertainty for c in pool])
    chosen: list[int] = []
    closest = np.zeros(len(pool))
    for _ in range(min(n, len(pool))):
        score = (1 - diversity) * uncertainty - diversity * closest
        score[chosen] = -np.inf
        pick = int(np.argmax(score))
        chosen.append(pick)
        closest = np.maximum(closest, similarity[pick])
    return [pool[i] for i in chosen]
