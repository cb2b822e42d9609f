"""What every model gives and what callers may rely on: the ``SentenceModel`` protocol, its
``Prediction`` for one article, and the error a model directory raises when it cannot be read."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from framing.model.decode import SpanGuess
from framing.record import Article, TechniqueSpan

BACKENDS: tuple[str, ...] = ("onnx-int8", "onnx", "torch")
"""How a transformer model runs. ``onnx-int8`` (ONNX Runtime, int8 weights) is the default: the fastest
backend whose held-out macro-F1 stays within 0.5 point of fp32 (``benchmarks/score_speed.py``);
``onnx`` gives torch's fp32 outputs; ``torch`` runs the network in torch itself."""


class ModelError(RuntimeError):
    """A model directory that is missing or cannot be read."""


@dataclass
class Prediction:
    """A model's output for one article: (n_sentences, 4) label probabilities in ``LABELS`` order and,
    per sentence, the source and cue spans it found (empty for a model that finds none)."""

    probs: np.ndarray
    spans: list[list[SpanGuess]] = field(default_factory=list)
    techniques: list[TechniqueSpan] | None = None
    """Propaganda technique spans of the article; None when not computed."""


class SentenceModel(Protocol):
    """What scoring needs from a model: label probabilities for every sentence of every article."""

    kind: str
    info: dict[str, Any]
    use_techniques: bool
    """Whether ``predict`` also finds propaganda-technique spans (a model without a technique head
    keeps it False)."""

    @property
    def name(self) -> str: ...

    def predict(self, articles: list[Article]) -> list[Prediction]: ...

    def predict_proba(self, articles: list[Article]) -> list[np.ndarray]: ...


def default_threads() -> int:
    """The cores this process may run on (a container's or a job's share, not the host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
