"""The TF-IDF + logistic regression baseline: one shared bag of features, one logistic head per decision.

Features of a sentence are its lower-cased words and word bigrams, a few surface markers the guidelines
point at (a quotation opening or closing, a closing colon of a lead-in line, a missing full stop), and the
words of the neighbouring sentences with a ``p:`` / ``n:`` prefix, so a quote continuation or the text of
an embedded post can borrow the attribution of its lead-in.

On disk (no pickle): ``framing-model.json`` (kind, heads, feature settings), ``vocabulary.json`` and
``weights.safetensors`` (idf, and coefficients and intercept per head).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file
from sklearn.feature_extraction.text import TfidfVectorizer

from framing.model.base import Prediction
from framing.model.heads import HEADS, combine
from framing.record import Article

KIND = "tfidf-logreg"
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?|[\"“”‘’:?!]")
_OPEN_QUOTES = "\"“‘'"
_CLOSE_QUOTES = "\"”’'"


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def sentence_features(texts: list[str], i: int) -> list[str]:
    """Feature tokens of sentence ``i`` among the sentences ``texts`` of one article."""
    text = texts[i].strip()
    words = _words(text)
    feats = words + [f"{a}_{b}" for a, b in zip(words, words[1:])]
    if text[:1] in _OPEN_QUOTES:
        feats.append("__quote_open")
    if text.rstrip(".!?… ")[-1:] in _CLOSE_QUOTES or text[-1:] in _CLOSE_QUOTES:
        feats.append("__quote_close")
    if text.count('"') % 2 or (text.count("“") != text.count("”")):
        feats.append("__quote_unbalanced")
    if text.endswith(":"):
        feats.append("__ends_colon")
    if text[-1:] not in ".!?…\"”’')":
        feats.append("__no_full_stop")
    n = len(text.split())
    feats.append("__len_short" if n < 6 else "__len_long" if n > 35 else "__len_mid")
    if i == 0:
        feats.append("__first")
    for prefix, j in (("p", i - 1), ("n", i + 1)):
        if 0 <= j < len(texts):
            neighbour = texts[j].strip()
            feats.extend(f"{prefix}:{w}" for w in _words(neighbour))
            if neighbour.endswith(":"):
                feats.append(f"{prefix}:__ends_colon")
            if neighbour.count('"') % 2 or neighbour.count("“") != neighbour.count("”"):
                feats.append(f"{prefix}:__quote_unbalanced")
    return feats


def article_features(article: Article) -> list[list[str]]:
    texts = [article.text[s.start : s.end] for s in article.sentences]
    return [sentence_features(texts, i) for i in range(len(texts))]


def _identity(tokens: list[str]) -> list[str]:
    # Features are built by ``sentence_features``; the vectorizer only counts and weights them.
    return tokens


def make_vectorizer(vocabulary: dict[str, int] | None = None, min_df: int = 2, max_features: int | None = 60000) -> TfidfVectorizer:
    """The TF-IDF settings of the baseline, shared by training and loading."""
    return TfidfVectorizer(
        analyzer=_identity,
        sublinear_tf=True,
        min_df=min_df,
        max_features=max_features,
        vocabulary=vocabulary,
        dtype=np.float32,
    )


class BaselineModel:
    """TF-IDF features (scikit-learn) → one logistic regression per head → label probabilities."""

    kind = KIND
    use_techniques = False  # no technique head

    def __init__(self, vectorizer: TfidfVectorizer, coef: np.ndarray, intercept: np.ndarray, info: dict[str, Any]) -> None:
        self.vectorizer = vectorizer
        self.coef = coef.astype(np.float32)  # (heads, features)
        self.intercept = intercept.astype(np.float32)  # (heads,)
        self.info = info

    @property
    def name(self) -> str:
        return str(self.info.get("name", KIND))

    def head_probs(self, features: list[list[str]]) -> np.ndarray:
        x = self.vectorizer.transform(features)
        logits = np.asarray(x @ self.coef.T) + self.intercept
        return 1.0 / (1.0 + np.exp(-logits))

    def predict_proba(self, articles: list[Article]) -> list[np.ndarray]:
        """Per article, an (n_sentences, 4) array of label probabilities in ``LABELS`` order."""
        feats = [article_features(a) for a in articles]
        flat = [f for fs in feats for f in fs]
        if not flat:
            return [np.zeros((0, 4)) for _ in articles]
        probs = combine(self.head_probs(flat))
        out, pos = [], 0
        for fs in feats:
            out.append(probs[pos : pos + len(fs)])
            pos += len(fs)
        return out

    def predict(self, articles: list[Article]) -> list[Prediction]:
        """Label probabilities only: the baseline finds no source or cue spans."""
        return [Prediction(p, [[] for _ in range(len(p))]) for p in self.predict_proba(articles)]

    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        info = {**self.info, "kind": KIND, "heads": list(HEADS)}
        (directory / "framing-model.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        (directory / "vocabulary.json").write_text(
            json.dumps({t: int(i) for t, i in self.vectorizer.vocabulary_.items()}, ensure_ascii=False),
            encoding="utf-8",
        )
        save_file(
            {"idf": self.vectorizer.idf_.astype(np.float32), "coef": self.coef, "intercept": self.intercept},
            str(directory / "weights.safetensors"),
        )

    @classmethod
    def load(cls, directory: str | Path) -> BaselineModel:
        directory = Path(directory)
        info = json.loads((directory / "framing-model.json").read_text(encoding="utf-8"))
        vocabulary = json.loads((directory / "vocabulary.json").read_text(encoding="utf-8"))
        tensors = load_file(str(directory / "weights.safetensors"))
        if tensors["coef"].shape != (len(HEADS), len(vocabulary)):
            raise ValueError(
                f"{directory}: weights of shape {tensors['coef'].shape} do not fit {len(HEADS)} heads × {len(vocabulary)} features"
            )
        vectorizer = make_vectorizer(vocabulary)
        vectorizer.idf_ = tensors["idf"]
        return cls(vectorizer, tensors["coef"], tensors["intercept"], info)
