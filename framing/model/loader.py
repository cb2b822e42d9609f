"""Finding and loading a sentence-label model directory.

A model directory holds ``framing-model.json`` whose ``kind`` says which implementation reads the rest.
The default model is the directory named in ``models/DEFAULT`` of this repository, unless the
``FRAMING_MODEL`` environment variable names another directory.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from framing.record import Article

if TYPE_CHECKING:
    from framing.attribution import SpanGuess

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
"""The repository's model folder; ``FRAMING_MODELS_DIR`` names another (``models_dir()``)."""

QUALITY_SET = "annotations-test"
"""The held-out set whose macro-F1 decides whether a model may replace the default."""


class ModelError(RuntimeError):
    """A model directory that is missing or cannot be read."""


@dataclass
class Prediction:
    """A model's output for one article: (n_sentences, 4) label probabilities in ``LABELS`` order and,
    per sentence, the source and cue spans it found (empty for a model that finds none)."""

    probs: np.ndarray
    spans: list[list[SpanGuess]] = field(default_factory=list)
    techniques: list[dict[str, Any]] | None = None
    """Propaganda technique spans of the article (``framing.techniques``); None when not computed."""


class SentenceModel(Protocol):
    """What scoring needs from a model: label probabilities for every sentence of every article."""

    kind: str
    info: dict[str, Any]

    @property
    def name(self) -> str: ...

    def predict(self, articles: list[Article]) -> list[Prediction]: ...

    def predict_proba(self, articles: list[Article]) -> list[np.ndarray]: ...


def models_dir() -> Path:
    """Where named models live and ``DEFAULT`` names the default one."""
    return Path(os.environ.get("FRAMING_MODELS_DIR") or MODELS_DIR)


def default_model_dir() -> Path:
    """The directory ``load_model()`` reads when it is given none."""
    env = os.environ.get("FRAMING_MODEL")
    if env:
        return Path(env)
    pointer = models_dir() / "DEFAULT"
    if not pointer.exists():
        raise ModelError(f"no default model: {pointer} is missing (pass --model DIR)")
    return models_dir() / pointer.read_text(encoding="utf-8").strip()


@dataclass
class ModelEntry:
    """A model directory under ``models_dir()`` as ``framing models list`` shows it."""

    name: str
    kind: str
    macro_f1: float | None
    is_default: bool
    info: dict[str, Any]


def list_models() -> list[ModelEntry]:
    """Every model directory under ``models_dir()``, with its held-out macro-F1 where it has one."""
    root = models_dir()
    pointer = root / "DEFAULT"
    default = pointer.read_text(encoding="utf-8").strip() if pointer.exists() else None
    out = []
    for info_path in sorted(root.glob("*/framing-model.json")):
        try:
            info = json.loads(info_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            continue
        out.append(ModelEntry(info_path.parent.name, str(info.get("kind")), macro_f1(info), info_path.parent.name == default, info))
    return out


def macro_f1(info: dict[str, Any]) -> float | None:
    """Held-out macro-F1 of a model on ``QUALITY_SET``, from its stored metrics."""
    try:
        return float(info["metrics"][QUALITY_SET]["labels"]["macro_f1"])
    except (KeyError, TypeError, ValueError):
        return None


def comparison(new: ModelEntry, current: ModelEntry) -> tuple[str, float, float] | None:
    """(held-out set, new macro-F1, current macro-F1) on the same data: ``QUALITY_SET`` first, else a set
    the new model was measured on together with the current one when it was retrained from it."""
    new_metrics = new.info.get("metrics") or {}
    sets = sorted((k for k, v in new_metrics.items() if isinstance(v, dict) and "labels" in v), key=lambda k: k != QUALITY_SET)
    # Retrained from the current model: the run measured both on exactly the same held-out articles,
    # which beats figures stored with the current model by another run (or another code version).
    same_run = (
        Path(str(new.info.get("continued_from", ""))).name == current.name
        and str(new.info.get("baseline_name", "")).startswith("previous model")
    )

    def f1(metrics: Any, name: str) -> float | None:
        try:
            value = float(metrics[name]["labels"]["macro_f1"])
        except (KeyError, TypeError, ValueError):
            return None
        return None if math.isnan(value) else value

    for name in sets:
        mine = f1(new_metrics, name)
        theirs = f1(new.info.get("baseline_metrics"), name) if same_run else None
        if theirs is None:
            theirs = f1(current.info.get("metrics"), name)
        if mine is not None and theirs is not None:
            return name, mine, theirs
    return None


def use_model(name: str, force: bool = False) -> ModelEntry:
    """Make ``name`` the default model. Refuses one whose held-out macro-F1 is lower than the current
    default's on the same data (or that cannot be compared), unless ``force``."""
    from framing.io import atomic_writer

    entries = {e.name: e for e in list_models()}
    if name not in entries:
        raise ModelError(f"no model named {name!r} in {models_dir()} (have: {', '.join(sorted(entries)) or 'none'})")
    new = entries[name]
    current = next((e for e in entries.values() if e.is_default), None)
    if current is not None and current.name != name and not force:
        compared = comparison(new, current)
        if compared is None:
            raise ModelError(f"cannot compare {name} with {current.name}: no held-out macro-F1 on the same data (use --force)")
        where, mine, theirs = compared
        if mine < theirs:
            raise ModelError(
                f"{name} has macro-F1 {mine:.3f} on {where}, lower than the current default {current.name} "
                f"({theirs:.3f}); use --force to switch anyway"
            )
    with atomic_writer(models_dir() / "DEFAULT") as handle:
        handle.write(name + "\n")
    new.is_default = True
    return new


def load_model(path: str | Path | None = None, backend: str = "onnx-int8", threads: int | None = None) -> SentenceModel:
    """Load the model in ``path`` (default: the shipped default model) for scoring.

    ``backend`` says how a transformer model runs: ``onnx-int8`` (the default: ONNX Runtime with int8
    weights, the fastest; held-out macro-F1 within 0.5 point of fp32, about 2 % of labels differ),
    ``onnx`` (ONNX Runtime fp32: torch's outputs) or ``torch``. The TF-IDF baseline ignores it.
    ``threads``: how many threads the model may use (default: every core this process may run on)."""
    from framing.onnx_model import BACKENDS

    if backend not in BACKENDS:
        raise ValueError(f"backend: one of {', '.join(BACKENDS)}, got {backend!r}")
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
    if kind == "transformer-window" and backend == "torch":
        import torch

        from framing.transformer import TransformerModel

        if threads:
            torch.set_num_threads(threads)
        return TransformerModel.load(directory)
    if kind == "transformer-window":
        from framing.onnx_model import OnnxModel

        return OnnxModel.load(directory, backend, threads)
    raise ModelError(f"{info_path}: unknown model kind {kind!r}")
