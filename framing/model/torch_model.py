"""The transformer sentence model in torch: an encoder over windows of consecutive sentences
(``framing.windows``), one encoder pass, three heads. Training uses it; scoring runs the same network
exported to ONNX Runtime by default (``framing.onnx_model``), or this one with ``--backend torch``.

Each sentence's own tokens are mean-pooled and fed to a linear layer with one logit per question of
``framing.heads``. A second linear layer tags every token (``TAGS``: begin/inside of a claim's source or
cue, or outside), so the attribution spans of ``framing.attribution`` come out of the same encoder pass,
and an optional MLP gives every token its propaganda techniques (``framing.model.decode``).

On disk: ``framing-model.json`` (kind, window size, heads), the encoder as ``config.json`` +
``model.safetensors`` (or the compact ``encoder.safetensors``), its tokenizer files, ``head.safetensors``
and, when trained, ``techniques.safetensors``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from framing.model.base import Prediction
from framing.model.heads import HEADS
from framing.model.windows import TAGS, Outputs, Window, WindowSpec, article_windows, build_windows, pad, predict_windows
from framing.record import Article
from framing.taxonomy import TECHNIQUES

__all__ = ["IGNORE", "KIND", "TAGS", "TransformerModel", "Window", "WindowClassifier", "build_windows", "collate", "technique_head"]

KIND = "transformer-window"
IGNORE = -100


class WindowClassifier(nn.Module):
    """Encoder + mean pooling over each sentence's tokens + one logit per head, and a tag per token."""

    def __init__(self, encoder: nn.Module, hidden_size: int, n_heads: int = len(HEADS)) -> None:
        super().__init__()
        self.encoder: Any = encoder  # a transformers model: its config and save_pretrained are used
        self.dropout = nn.Dropout(0.1)
        self.head = nn.Linear(hidden_size, n_heads)
        self.tagger = nn.Linear(hidden_size, len(TAGS))
        self.techniques: nn.Module | None = None
        """Optional multi-label token head for propaganda techniques (``technique_head``), trained with
        the encoder (``techniques: true`` in a config) or on the frozen encoder (``train_techniques``)."""

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, sentence_ids: torch.Tensor, n_sentences: int, techniques: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """``sentence_ids`` (batch, tokens) holds each token's sentence number in its window, -1 for
        special and padding tokens. Returns sentence logits (batch, n_sentences, heads), token tag
        logits (batch, tokens, tags) and, when asked and present, technique logits (batch, tokens, 14)."""
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        pooled = self.pool(hidden, sentence_ids, torch.arange(n_sentences, device=input_ids.device))
        technique_logits = self.techniques(hidden) if techniques and self.techniques is not None else None
        hidden = self.dropout(hidden)
        return self.head(self.dropout(pooled)), self.tagger(hidden), technique_logits

    @staticmethod
    def pool(hidden: torch.Tensor, sentence_ids: torch.Tensor, slots: torch.Tensor) -> torch.Tensor:
        """Mean of each sentence slot's token states: (batch, len(slots), hidden)."""
        member = (sentence_ids.unsqueeze(1) == slots.view(1, -1, 1)).to(hidden.dtype)  # (B, S, T)
        return member @ hidden / member.sum(-1, keepdim=True).clamp(min=1.0)


def technique_head(hidden_size: int, n_techniques: int) -> nn.Module:
    """A small MLP over each token's encoder state: techniques need more than a linear cut."""
    return nn.Sequential(nn.Linear(hidden_size, 256), nn.GELU(), nn.Linear(256, n_techniques))


def collate(windows: list[Window], pad_id: int) -> dict[str, Any]:
    """``framing.windows.pad`` as torch tensors, for the network's forward."""
    batch = pad(windows, pad_id)
    return {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in batch.items()}


class TransformerModel:
    """A saved window classifier in torch: trainable, and a scoring model (``predict``) like the ONNX one."""

    kind = KIND

    def __init__(self, network: WindowClassifier, tokenizer: Any, info: dict[str, Any]) -> None:
        self.network = network.eval()
        self.tokenizer = tokenizer
        self.info = info
        self.max_tokens = int(info.get("max_tokens", 256))
        self.use_techniques = network.techniques is not None
        """Set False to skip the technique head (``framing score --no-techniques``)."""
        self.technique_thresholds = info.get("technique_thresholds", 0.5)

    @property
    def name(self) -> str:
        return str(self.info.get("name", KIND))

    @property
    def spec(self) -> WindowSpec:
        tok = self.tokenizer
        return WindowSpec(
            tok.cls_token_id, tok.sep_token_id, tok.pad_token_id, self.max_tokens, technique_thresholds=self.technique_thresholds
        )

    def encode(self, texts: list[str]) -> list[tuple[list[int], list[tuple[int, int]]]]:
        enc = self.tokenizer(texts, add_special_tokens=False, truncation=True, max_length=self.max_tokens, return_offsets_mapping=True)
        return list(zip(enc["input_ids"], enc["offset_mapping"]))

    def windows(self, articles: list[Article]) -> list[Window]:
        return article_windows(articles, self.encode, self.spec)

    @torch.inference_mode()
    def run(self, batch: dict[str, Any], techniques: bool) -> Outputs:
        """A padded batch (``framing.windows.pad``) → sentence-head, tag and technique probabilities."""
        tensors = {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in batch.items()}
        logits, tag_logits, technique_logits = self.network(**tensors, techniques=techniques)
        return (
            torch.sigmoid(logits).numpy(),
            torch.softmax(tag_logits, dim=-1).numpy(),
            torch.sigmoid(technique_logits).numpy() if technique_logits is not None else None,
        )

    def predict(self, articles: list[Article]) -> list[Prediction]:
        """Per article, label probabilities for each sentence and the source/cue spans found in it."""
        techniques = self.use_techniques and self.network.techniques is not None
        return predict_windows(articles, self.spec, self.encode, self.run, techniques)

    def predict_proba(self, articles: list[Article]) -> list[np.ndarray]:
        """Per article, an (n_sentences, 4) array of label probabilities in ``LABELS`` order."""
        return [p.probs for p in self.predict(articles)]

    def save(self, directory: str | Path, compact: bool = False) -> None:
        """Write the model directory. ``compact`` stores the encoder as ``encoder.safetensors`` with the
        word-embedding matrix in int8 (one scale per row) and every other weight in fp16: a quarter of
        the fp32 size, for shipping in the repository. It is read back into fp32."""
        if self.info.get("backend", "torch") != "torch":
            raise ValueError("save needs the model loaded with the torch backend (a quantised copy is derived, not saved)")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if compact:
            self.network.encoder.config.save_pretrained(directory)
            save_file(compact_state(self.network.encoder.state_dict()), str(directory / "encoder.safetensors"))
            (directory / "model.safetensors").unlink(missing_ok=True)
        else:
            self.network.encoder.save_pretrained(directory, safe_serialization=True)
            (directory / "encoder.safetensors").unlink(missing_ok=True)
        self.tokenizer.save_pretrained(directory)
        layers = {
            f"{name}.{key}": value.detach().contiguous()
            for name in ("head", "tagger")
            for key, value in getattr(self.network, name).state_dict().items()
        }
        save_file(layers, str(directory / "head.safetensors"))
        if self.network.techniques is not None:
            state = {k: v.detach().contiguous() for k, v in self.network.techniques.state_dict().items()}
            save_file(state, str(directory / "techniques.safetensors"))
        else:
            (directory / "techniques.safetensors").unlink(missing_ok=True)
        info = {**self.info, "kind": KIND, "heads": list(HEADS), "tags": list(TAGS), "max_tokens": self.max_tokens}
        (directory / "framing-model.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")

    def quantized(self) -> TransformerModel:
        """The same model with every linear layer in dynamic int8 (torch): faster on CPUs with fast
        int8 dot products, at some cost in accuracy that ``benchmarks/score_speed.py`` measures."""
        if self.info.get("backend", "torch") != "torch":
            raise ValueError("quantized() needs the torch backend")
        network = torch.ao.quantization.quantize_dynamic(self.network, {nn.Linear}, dtype=torch.qint8)
        return TransformerModel(network, self.tokenizer, {**self.info, "backend": "torch-int8"})

    @classmethod
    def load(cls, directory: str | Path) -> TransformerModel:
        """Load a saved model into torch (to train it, or to score with ``--backend torch``);
        ``framing.load_model`` loads it for scoring with ONNX Runtime."""
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        directory = Path(directory)
        info = json.loads((directory / "framing-model.json").read_text(encoding="utf-8"))
        if (directory / "encoder.safetensors").exists():
            encoder = AutoModel.from_config(AutoConfig.from_pretrained(directory))
            encoder.load_state_dict(expand_state(load_file(str(directory / "encoder.safetensors"))))
        else:
            encoder = AutoModel.from_pretrained(directory, use_safetensors=True)
        network = WindowClassifier(encoder, encoder.config.hidden_size)
        layers = load_file(str(directory / "head.safetensors"))
        for name in ("head", "tagger"):
            getattr(network, name).load_state_dict({k.split(".", 1)[1]: v for k, v in layers.items() if k.startswith(name + ".")})
        if (directory / "techniques.safetensors").exists():
            network.techniques = technique_head(encoder.config.hidden_size, len(TECHNIQUES))
            network.techniques.load_state_dict(load_file(str(directory / "techniques.safetensors")))
        return cls(network, AutoTokenizer.from_pretrained(directory), {**info, "backend": "torch"})


_Q8 = ".int8"
_SCALE = ".scale"


def compact_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """fp32 encoder weights → int8 word embeddings (symmetric, per row) and fp16 everything else."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        value = value.detach().float()
        if key.endswith("word_embeddings.weight"):
            scale = value.abs().amax(dim=1, keepdim=True).clamp(min=1e-8) / 127.0
            out[key + _Q8] = torch.round(value / scale).to(torch.int8).contiguous()
            out[key + _SCALE] = scale.contiguous()
        elif value.is_floating_point():
            out[key] = value.half().contiguous()
        else:
            out[key] = value.contiguous()
    return out


def expand_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The inverse of ``compact_state``, in fp32."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key.endswith(_SCALE):
            continue
        if key.endswith(_Q8):
            base = key[: -len(_Q8)]
            out[base] = value.float() * state[base + _SCALE]
        else:
            out[key] = value.float() if value.is_floating_point() else value
    return out
