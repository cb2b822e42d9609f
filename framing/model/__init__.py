"""Sentence-label models: what callers need (``load_model``, ``ModelSpec``, the ``SentenceModel``
protocol and its ``Prediction``), with one module per backend (``torch_model``, ``onnx_model``,
``baseline``), the token windows and decoding both transformer backends share, and the registry of
models under ``models/``."""

from framing.model.base import BACKENDS, ModelError, Prediction, SentenceModel, default_threads
from framing.model.decode import SpanGuess
from framing.model.loader import ModelSpec, default_model_dir, load_model, models_dir

__all__ = [
    "BACKENDS",
    "ModelError",
    "ModelSpec",
    "Prediction",
    "SentenceModel",
    "SpanGuess",
    "default_model_dir",
    "default_threads",
    "load_model",
    "models_dir",
]
