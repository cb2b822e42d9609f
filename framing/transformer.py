"""The transformer sentence model: windows of consecutive sentences, one encoder pass, three heads.

Consecutive sentences of an article are packed into one token window (``[CLS] s1 s2 ... [SEP]``, up to
``max_tokens``), so every sentence sees its neighbours through attention and each token is encoded once
(``shared/notes/cpu-speed-budget.md``: sentence-plus-neighbours inputs would cost about 3×). Each sentence's
own tokens are mean-pooled and fed to a linear layer with one logit per question of ``framing.heads``.

On disk: ``framing-model.json`` (kind, window size, heads), the encoder as ``config.json`` +
``model.safetensors``, its tokenizer files, and ``head.safetensors``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from framing.heads import HEADS, combine
from framing.record import Article

KIND = "transformer-window"


class WindowClassifier(nn.Module):
    """Encoder + mean pooling over each sentence's tokens + one logit per head."""

    def __init__(self, encoder: nn.Module, hidden_size: int, n_heads: int = len(HEADS)) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(0.1)
        self.head = nn.Linear(hidden_size, n_heads)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, sentence_ids: torch.Tensor, n_sentences: int) -> torch.Tensor:
        """``sentence_ids`` (batch, tokens) holds each token's sentence number in its window, -1 for
        special and padding tokens. Returns logits of shape (batch, n_sentences, heads)."""
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        slots = torch.arange(n_sentences, device=input_ids.device)
        member = (sentence_ids.unsqueeze(1) == slots.view(1, -1, 1)).to(hidden.dtype)  # (B, S, T)
        pooled = member @ hidden / member.sum(-1, keepdim=True).clamp(min=1.0)
        return self.head(self.dropout(pooled))


@dataclass
class Window:
    """Token ids of one window and, for each of its sentences, the (article, sentence) it came from."""

    input_ids: list[int]
    sentence_ids: list[int]
    members: list[tuple[int, int]]


def build_windows(token_lists: list[list[list[int]]], cls_id: int, sep_id: int, max_tokens: int) -> list[Window]:
    """Pack each article's sentences, in order, into windows of at most ``max_tokens`` tokens.

    ``token_lists[a][s]`` are the word-piece ids of sentence ``s`` of article ``a`` (no special tokens). A
    sentence longer than a window is cut to fit: its label then rests on its first ``max_tokens - 2`` tokens.
    """
    windows: list[Window] = []
    budget = max_tokens - 2
    for a, sentences in enumerate(token_lists):
        ids: list[int] = []
        sids: list[int] = []
        members: list[tuple[int, int]] = []
        for s, tokens in enumerate(sentences):
            tokens = tokens[:budget] or [sep_id]
            if ids and len(ids) + len(tokens) > budget:
                windows.append(Window([cls_id, *ids, sep_id], [-1, *sids, -1], members))
                ids, sids, members = [], [], []
            sids.extend([len(members)] * len(tokens))
            ids.extend(tokens)
            members.append((a, s))
        if members:
            windows.append(Window([cls_id, *ids, sep_id], [-1, *sids, -1], members))
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

    @property
    def name(self) -> str:
        return str(self.info.get("name", KIND))

    def tokenize(self, articles: list[Article]) -> list[list[list[int]]]:
        texts = [[a.text[s.start : s.end] for s in a.sentences] for a in articles]
        flat = [t for ts in texts for t in ts]
        ids = self.tokenizer(flat, add_special_tokens=False, truncation=True, max_length=self.max_tokens)["input_ids"] if flat else []
        out, pos = [], 0
        for ts in texts:
            out.append(ids[pos : pos + len(ts)])
            pos += len(ts)
        return out

    def windows(self, articles: list[Article]) -> list[Window]:
        tok = self.tokenizer
        return build_windows(self.tokenize(articles), tok.cls_token_id, tok.sep_token_id, self.max_tokens)

    @torch.inference_mode()
    def head_probs(self, articles: list[Article]) -> list[np.ndarray]:
        out = [np.zeros((len(a.sentences), len(HEADS)), dtype=np.float32) for a in articles]
        windows = self.windows(articles)
        # Similar lengths together: padding is compute thrown away.
        windows.sort(key=lambda w: len(w.input_ids))
        for i in range(0, len(windows), self.batch_windows):
            chunk = windows[i : i + self.batch_windows]
            batch = collate(chunk, self.tokenizer.pad_token_id)
            probs = torch.sigmoid(self.network(**batch)).numpy()
            for w, p in zip(chunk, probs):
                for slot, (a, s) in enumerate(w.members):
                    out[a][s] = p[slot]
        return out

    def predict_proba(self, articles: list[Article]) -> list[np.ndarray]:
        """Per article, an (n_sentences, 4) array of label probabilities in ``LABELS`` order."""
        return [combine(p) for p in self.head_probs(articles)]

    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.network.encoder.save_pretrained(directory, safe_serialization=True)
        self.tokenizer.save_pretrained(directory)
        head = {k: v.detach().contiguous() for k, v in self.network.head.state_dict().items()}
        save_file(head, str(directory / "head.safetensors"))
        info = {**self.info, "kind": KIND, "heads": list(HEADS), "max_tokens": self.max_tokens}
        (directory / "framing-model.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, directory: str | Path) -> TransformerModel:
        from transformers import AutoModel, AutoTokenizer

        directory = Path(directory)
        info = json.loads((directory / "framing-model.json").read_text(encoding="utf-8"))
        encoder = AutoModel.from_pretrained(directory, use_safetensors=True)
        tokenizer = AutoTokenizer.from_pretrained(directory)
        network = WindowClassifier(encoder, encoder.config.hidden_size)
        network.head.load_state_dict(load_file(str(directory / "head.safetensors")))
        return cls(network, tokenizer, info)
