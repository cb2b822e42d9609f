"""Finding and loading a sentence-label model directory.

A model directory holds ``framing-model.json`` whose ``kind`` says which implementation reads the rest.
The default model is the directory named in ``models/DEFAULT`` of this repository, unless the
``FRAMING_MODEL`` environment variable names another directory. A ``ModelSpec`` says which model to
load and how, so that worker processes and Ray actors load the same one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framing.model.base import BACKENDS, ModelError, SentenceModel

MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
"""The repository's model folder; ``FRAMING_MODELS_DIR`` names another (``models_dir()``)."""


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


@dataclass(frozen=True)
class ModelSpec:
    """Which model to load and how: enough for another process to load the same model."""

    directory: str
    backend: str = "onnx-int8"
    techniques: bool = True
    """False turns the technique head off (``--no-techniques``) where the model has one."""

    @classmethod
    def of(cls, directory: str | Path | None, backend: str = "onnx-int8", techniques: bool = True) -> ModelSpec:
        """The spec of ``directory``, or of the default model when it is None."""
        return cls(str(Path(directory) if directory is not None else default_model_dir()), backend, techniques)

    def load(self, threads: int | None = None) -> SentenceModel:
        model = load_model(self.directory, self.backend, threads)
        model.use_techniques = model.use_techniques and self.techniques
        return model


def load_model(path: str | Path | None = None, backend: str = "onnx-int8", threads: int | None = None) -> SentenceModel:
    """Load the model in ``path`` (default: the shipped default model) for scoring.

    ``backend`` says how a transformer model runs: ``onnx-int8`` (the default: ONNX Runtime with int8
    weights, the fastest; held-out macro-F1 within 0.5 point of fp32, about 2 % of labels differ),
    ``onnx`` (ONNX Runtime fp32: torch's outputs) or ``torch``. The TF-IDF baseline ignores it.
    ``threads``: how many threads the model may use (default: every core this process may run on)."""
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
    kind = info.get("kind") if isinstance(info, dict) else None
    if kind not in ("tfidf-logreg", "transformer-window"):
        raise ModelError(f"{info_path}: unknown model kind {kind!r}")
    missing = missing_files(directory, info)
    if missing:
        raise ModelError(f"{directory} is incomplete: {', '.join(missing)} missing (a training run that did not finish?)")
    try:
        return _load(directory, str(kind), backend, threads)
    except ModelError:
        raise
    except Exception as exc:  # noqa: BLE001 - safetensors, tokenizers, ONNX Runtime: each has its own errors
        # A truncated or damaged weights file: say which model, and what the reader said.
        raise ModelError(f"cannot read the model in {directory}: {type(exc).__name__}: {str(exc)[:300]}") from None


def missing_files(directory: Path, info: dict[str, Any]) -> list[str]:
    """The files a model of ``info``'s kind needs that ``directory`` lacks (a technique head its info
    declares included): an incomplete model is never loaded or made the default."""
    if info.get("kind") == "tfidf-logreg":
        needed = ["weights.safetensors", "vocabulary.json"]
    else:
        encoder = "encoder.safetensors" if (directory / "encoder.safetensors").exists() else "model.safetensors"
        needed = [encoder, "config.json", "head.safetensors", "tokenizer.json"]
        if info.get("techniques"):
            needed.append("techniques.safetensors")
    return [name for name in needed if not (directory / name).is_file()]


def _load(directory: Path, kind: str, backend: str, threads: int | None) -> SentenceModel:
    if kind == "tfidf-logreg":
        from framing.model.baseline import BaselineModel

        return BaselineModel.load(directory)
    if backend == "torch":
        import torch

        from framing.model.torch_model import TransformerModel

        if threads:
            torch.set_num_threads(threads)
        return TransformerModel.load(directory)
    from framing.model.onnx_model import OnnxModel

    return OnnxModel.load(directory, backend, threads)
