"""Finding and loading a sentence-label model directory.

A model directory holds ``framing-model.json`` whose ``kind`` says which implementation reads the rest.
The default model is the directory named in ``models/DEFAULT`` of this repository, unless the
``FRAMING_MODEL`` environment variable names another directory.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from framing.record import Article

if TYPE_CHECKING:
    from framing.attribution import SpanGuess

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"


class ModelError(RuntimeError):
    """A model directory that is missing or cannot be read."""


@dataclass
class Prediction:
    """A model's output for one article: (n_sentences, 4) label probabilities in ``LABELS`` order and,
    per sentence, the source and cue spans it found (empty for a model that finds none)."""

    probs: np.ndarray
    spans: list[list[SpanGuess]] = field(default_factory=list)


class SentenceModel(Protocol):
    """What scoring needs from a model: label probabilities for every sentence of every article."""

    kind: str
    info: dict[str, Any]

    @property
    def name(self) -> str: ...

    def predict(self, articles: list[Article]) -> list[Prediction]: ...

    def predict_proba(self, articles: list[Article]) -> list[np.ndarray]: ...


def default_model_dir() -> Path:
    """The directory ``load_model()`` reads when it is given none."""
    env = os.environ.get("FRAMING_MODEL")
    if env:
        return Path(env)
    pointer = MODELS_DIR / "DEFAULT"
    if not pointer.exists():
        raise ModelError(f"no default model: {pointer} is missing (pass --model DIR)")
    return MODELS_DIR / pointer.read_text(encoding="utf-8").strip()


def load_model(path: str | Path | None = None) -> SentenceModel:
    """Load the model in ``path`` (default: the shipped default model)."""
    directory = Path(path) if path is not None else default_model_dir()
    info_path = directory / "framing-model.json"
    if not info_path.exists():
        raise ModelError(f"{directory} is not a framing model directory (no framing-model.json)")
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ModelError(f"{info_path}: not valid JSON ({exc.msg})") from None
    kind = info.get("kind")
    if kind == "tfidf-logreg":
        from framing.baseline import BaselineModel

        return BaselineModel.load(directory)
    if kind == "transformer-window":
        from framing.transformer import TransformerModel

        return TransformerModel.load(directory)
    raise ModelError(f"{info_path}: unknown model kind {kind!r}")
