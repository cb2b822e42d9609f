"""The transformer sentence model: windows of consecutive sentences, one encoder pass, three heads.

Consecutive sentences of an article are packed into one token window (``[CLS] s1 s2 ... [SEP]``, up to
``max_tokens``), so every sentence sees its neighbours through attention and each token is encoded once
(``shared/notes/cpu-speed-budget.md``: sentence-plus-neighbours inputs would cost about 3×). Each sentence's
own tokens are mean-pooled and fed to a linear layer with one logit per question of ``framing.heads``.
A second linear layer tags every token (``TAGS``: begin/inside of a claim's source or cue, or outside), so
the attribution spans of ``framing.attribution`` come out of the same encoder pass.

Scoring runs the encoder in ONNX Runtime by default (``framing.ort_encoder``); training in torch.

On disk: ``framing-model.json`` (kind, window size, heads), the encoder as ``config.json`` +
``model.safetensors``, its tokenizer files, and ``head.safetensors``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from framing.attribution import SpanGuess, decode_tags
from framing.heads import HEADS, combine
from framing.model import Prediction
from framing.techniques import TECHNIQUES, decode_techniques
from framing.record import Article

KIND = "transformer-window"
TAGS: tuple[str, ...] = ("O", "B-source", "I-source", "B-cue", "I-cue")
IGNORE = -100


class WindowClassifier(nn.Module):
    """Encoder + mean pooling over each sentence's tokens + one logit per head, and a tag per token."""

    def __init__(self, encoder: nn.Module, hidden_size: int, n_heads: int = len(HEADS)) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(0.1)
        self.head = nn.Linear(hidden_size, n_heads)
        self.tagger = nn.Linear(hidden_size, len(TAGS))
        self.techniques: nn.Module | None = None
        """Optional multi-label token head for propaganda techniques (``technique_head``), trained on
        the frozen encoder by ``training/train_techniques.py``."""

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, sentence_ids: torch.Tensor, n_sentences: int, techniques: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """``sentence_ids`` (batch, tokens) holds each token's sentence number in its window, -1 for
        special and padding tokens. Returns sentence logits (batch, n_sentences, heads), token tag
        logits (batch, tokens, tags) and, when asked and present, technique logits (batch, tokens, 14)."""
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        slots = torch.arange(n_sentences, device=input_ids.device)
        member = (sentence_ids.unsqueeze(1) == slots.view(1, -1, 1)).to(hidden.dtype)  # (B, S, T)
        pooled = member @ hidden / member.sum(-1, keepdim=True).clamp(min=1.0)
        technique_logits = self.techniques(hidden) if techniques and self.techniques is not None else None
        hidden = self.dropout(hidden)
        return self.head(self.dropout(pooled)), self.tagger(hidden), technique_logits


def technique_head(hidden_size: int, n_techniques: int) -> nn.Module:
    """A small MLP over each token's encoder state: techniques need more than a linear cut."""
    return nn.Sequential(nn.Linear(hidden_size, 256), nn.GELU(), nn.Linear(256, n_techniques))


@dataclass
class Window:
    """Token ids of one window and, for each of its sentences, the (article, sentence) it came from.
    ``offsets`` are each token's character offsets in its article, ``NO_OFFSET`` for special tokens."""

    input_ids: list[int]
    sentence_ids: list[int]
    members: list[tuple[int, int]]
    offsets: list[tuple[int, int]] = field(default_factory=list)


NO_OFFSET = (-1, -1)
Tokens = list[tuple[int, tuple[int, int]]]
"""A sentence's word pieces: (token id, (start, end) in the article)."""


def build_windows(token_lists: list[list[Tokens]], cls_id: int, sep_id: int, max_tokens: int) -> list[Window]:
    """Pack each article's sentences, in order, into windows of at most ``max_tokens`` tokens.

    ``token_lists[a][s]`` are the word pieces of sentence ``s`` of article ``a`` (no special tokens). A
    sentence longer than a window is cut to fit: its label then rests on its first ``max_tokens - 2`` tokens.
    """
    windows: list[Window] = []
    budget = max_tokens - 2

    def close(ids: list[int], sids: list[int], offs: list[tuple[int, int]], members: list[tuple[int, int]]) -> None:
        windows.append(Window([cls_id, *ids, sep_id], [-1, *sids, -1], members, [NO_OFFSET, *offs, NO_OFFSET]))

    for a, sentences in enumerate(token_lists):
        ids: list[int] = []
        sids: list[int] = []
        offs: list[tuple[int, int]] = []
        members: list[tuple[int, int]] = []
        for s, tokens in enumerate(sentences):
            tokens = tokens[:budget] or [(sep_id, NO_OFFSET)]
            if ids and len(ids) + len(tokens) > budget:
                close(ids, sids, offs, members)
                ids, sids, offs, members = [], [], [], []
            sids.extend([len(members)] * len(tokens))
            ids.extend(t for t, _ in tokens)
            offs.extend(o for _, o in tokens)
            members.append((a, s))
        if members:
            close(ids, sids, offs, members)
    return windows


def collate(windows: list[Window], pad_id: int) -> dict[str, Any]:
    length = max(len(w.input_ids) for w in windows)
    n_sent = max(len(w.members) for w in windows)
    input_ids = torch.full((len(windows), length), pad_id, dtype=torch.long)
    sentence_ids = torch.full((len(windows), length), -1, dtype=torch.long)
    mask = torch.zeros((len(windows), length), dtype=torch.long)
    for i, w in enumerate(windows):
        n = len(w.input_ids)
        input_ids[i, :n] = torch.tensor(w.input_ids)
        sentence_ids[i, :n] = torch.tensor(w.sentence_ids)
        mask[i, :n] = 1
    return {"input_ids": input_ids, "attention_mask": mask, "sentence_ids": sentence_ids, "n_sentences": n_sent}


class TransformerModel:
    """Loads a saved window classifier and gives label probabilities for whole articles."""

    kind = KIND

    def __init__(self, network: WindowClassifier, tokenizer: Any, info: dict[str, Any]) -> None:
        self.network = network.eval()
        self.tokenizer = tokenizer
        self.info = info
        self.max_tokens = int(info.get("max_tokens", 256))
        self.batch_windows = int(info.get("batch_windows", 16))
        self.use_techniques = network.techniques is not None
        """Set False to skip the technique head (``framing score --no-techniques``)."""
        self.technique_thresholds = info.get("technique_thresholds", 0.5)

    @property
    def name(self) -> str:
        return str(self.info.get("name", KIND))

    def tokenize(self, articles: list[Article]) -> list[list[Tokens]]:
        flat = [a.text[s.start : s.end] for a in articles for s in a.sentences]
        if not flat:
            return [[] for _ in articles]
        enc = self.tokenizer(flat, add_special_tokens=False, truncation=True, max_length=self.max_tokens, return_offsets_mapping=True)
        out, pos = [], 0
        for a in articles:
            sentences = []
            for s in a.sentences:
                ids, offsets = enc["input_ids"][pos], enc["offset_mapping"][pos]
                sentences.append([(t, (s.start + o[0], s.start + o[1])) for t, o in zip(ids, offsets)])
                pos += 1
            out.append(sentences)
        return out

    def windows(self, articles: list[Article]) -> list[Window]:
        tok = self.tokenizer
        return build_windows(self.tokenize(articles), tok.cls_token_id, tok.sep_token_id, self.max_tokens)

    @torch.inference_mode()
    def predict(self, articles: list[Article]) -> list[Prediction]:
        """Per article, label probabilities for each sentence and the source/cue spans found in it."""
        heads = [np.zeros((len(a.sentences), len(HEADS)), dtype=np.float32) for a in articles]
        spans: list[list[list[SpanGuess]]] = [[[] for _ in a.sentences] for a in articles]
        techniques: list[list[dict[str, Any]]] = [[] for _ in articles]
        want_techniques = self.use_techniques and self.network.techniques is not None
        windows = self.windows(articles)
        # Similar lengths together: padding is compute thrown away.
        windows.sort(key=lambda w: len(w.input_ids))
        for i in range(0, len(windows), self.batch_windows):
            chunk = windows[i : i + self.batch_windows]
            batch = collate(chunk, self.tokenizer.pad_token_id)
            logits, tag_logits, technique_logits = self.network(**batch, techniques=want_techniques)
            probs = torch.sigmoid(logits).numpy()
            tag_probs = torch.softmax(tag_logits, dim=-1).numpy()
            tech_probs = torch.sigmoid(technique_logits).numpy() if technique_logits is not None else None
            for j, (w, p, tp) in enumerate(zip(chunk, probs, tag_probs)):
                positions: dict[int, list[int]] = {}  # each sentence slot's token positions, in one pass
                for k, sid in enumerate(w.sentence_ids):
                    if sid >= 0:
                        positions.setdefault(sid, []).append(k)
                for slot, (a, s) in enumerate(w.members):
                    heads[a][s] = p[slot]
                    tokens = positions.get(slot, [])
                    offsets = [w.offsets[k] for k in tokens]
                    spans[a][s] = decode_tags(offsets, tp[tokens], TAGS, articles[a].text)
                    if tech_probs is not None:
                        techniques[a].extend(decode_techniques(offsets, tech_probs[j][tokens], articles[a].text, self.technique_thresholds))
        return [Prediction(combine(h), sp, sorted(t, key=lambda x: (x["start"], x["end"])) if want_techniques else None) for h, sp, t in zip(heads, spans, techniques)]

    def predict_proba(self, articles: list[Article]) -> list[np.ndarray]:
        """Per article, an (n_sentences, 4) array of label probabilities in ``LABELS`` order."""
        return [p.probs for p in self.predict(articles)]

    def save(self, directory: str | Path, compact: bool = False) -> None:
        """Write the model directory. ``compact`` stores the encoder as ``encoder.safetensors`` with the
        word-embedding matrix in int8 (one scale per row) and every other weight in fp16: a quarter of
        the fp32 size, for shipping in the repository. It is read back into fp32."""
        if self.info.get("backend", "torch") != "torch":
            raise ValueError("save needs the model loaded with the torch backend (the ONNX graph is derived, not saved)")
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
    def load(cls, directory: str | Path, backend: str = "torch") -> TransformerModel:
        """Load a saved model. ``backend`` runs the encoder in torch (trainable) or, for scoring only, in
        ONNX Runtime (``onnx``, same outputs, faster; ``onnx-int8``, faster again, less exact)."""
        from framing.ort_encoder import BACKENDS, cached_encoder

        if backend not in BACKENDS:
            raise ValueError(f"backend: one of {', '.join(BACKENDS)}, got {backend!r}")

        directory = Path(directory)
        info = json.loads((directory / "framing-model.json").read_text(encoding="utf-8"))
        compact = (directory / "encoder.safetensors").exists()

        def torch_encoder() -> nn.Module:
            from transformers import AutoConfig, AutoModel

            if compact:
                encoder = AutoModel.from_config(AutoConfig.from_pretrained(directory))
                encoder.load_state_dict(expand_state(load_file(str(directory / "encoder.safetensors"))))
                return encoder
            return AutoModel.from_pretrained(directory, use_safetensors=True)

        hidden_size = int(json.loads((directory / "config.json").read_text(encoding="utf-8"))["hidden_size"])
        if backend == "torch":
            from transformers import AutoTokenizer

            encoder: nn.Module = torch_encoder()
            tokenizer = AutoTokenizer.from_pretrained(directory)
        else:
            # Scoring only: the graph comes from the cache when it can, and the tokenizer through the light
            # fast-tokenizer class (same ids and offsets as AutoTokenizer's, without its import cost).
            from transformers import PreTrainedTokenizerFast

            weights = directory / ("encoder.safetensors" if compact else "model.safetensors")
            encoder = cached_encoder(weights, directory / "config.json", backend == "onnx-int8", torch_encoder)
            tokenizer = PreTrainedTokenizerFast.from_pretrained(directory)
        network = WindowClassifier(encoder, hidden_size)
        layers = load_file(str(directory / "head.safetensors"))
        for name in ("head", "tagger"):
            getattr(network, name).load_state_dict({k.split(".", 1)[1]: v for k, v in layers.items() if k.startswith(name + ".")})
        if (directory / "techniques.safetensors").exists():
            network.techniques = technique_head(hidden_size, len(TECHNIQUES))
            network.techniques.load_state_dict(load_file(str(directory / "techniques.safetensors")))
        return cls(network, tokenizer, {**info, "backend": backend})


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
