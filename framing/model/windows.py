"""Token windows of consecutive sentences, and turning a window model's outputs back into predictions.

Consecutive sentences of an article are packed into one token window (``[CLS] s1 s2 ... [SEP]``, up to
``max_tokens``), so every sentence sees its neighbours through attention and each token is encoded once
(``shared/notes/cpu-speed-budget.md``: sentence-plus-neighbours inputs would cost about 3×).

This module has no torch in it: the torch model (``framing.transformer``) and the ONNX Runtime model
(``framing.onnx_model``) differ only in the ``run`` function that maps a padded batch to probabilities,
and scoring with ONNX Runtime never imports torch (about 2 s off every start).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from framing.model.base import Prediction
from framing.model.decode import SpanGuess, decode_tags, decode_techniques
from framing.model.heads import HEADS, combine
from framing.record import Article, TechniqueSpan

TAGS: tuple[str, ...] = ("O", "B-source", "I-source", "B-cue", "I-cue")
NO_OFFSET = (-1, -1)
Tokens = list[tuple[int, tuple[int, int]]]
"""A sentence's word pieces: (token id, (start, end) in the article)."""

Encode = Callable[[list[str]], list[tuple[list[int], list[tuple[int, int]]]]]
"""Texts → per text, word-piece ids and their character offsets in it (no special tokens, truncated)."""

Outputs = tuple[np.ndarray, np.ndarray, "np.ndarray | None"]
"""What a window model gives for a padded batch: sentence-head probabilities (windows, sentence slots,
heads), tag probabilities (windows, tokens, tags) and technique probabilities (windows, tokens,
techniques) or None."""

Run = Callable[[dict[str, Any], bool], Outputs]
"""A padded batch (``pad``) and whether to compute techniques → ``Outputs``."""


@dataclass
class Window:
    """Token ids of one window and, for each of its sentences, the (article, sentence) it came from.
    ``offsets`` are each token's character offsets in its article, ``NO_OFFSET`` for special tokens."""

    input_ids: list[int]
    sentence_ids: list[int]
    members: list[tuple[int, int]]
    offsets: list[tuple[int, int]] = field(default_factory=list)


SCORING_BATCH_WINDOWS = 1
"""Windows per model call when scoring. One window per call wastes nothing on padding, keeps the
attention matrices in cache and makes an article's int8 scores independent of the articles scored
beside it (dynamic quantisation scales each call's activations as a whole). On 2 cores it scores as fast
as 16 windows per call with two threads, 12 % faster with one, at a third of the peak memory."""


@dataclass
class WindowSpec:
    """How a model cuts articles into windows and decodes its outputs."""

    cls_id: int
    sep_id: int
    pad_id: int
    max_tokens: int = 256
    batch_windows: int = SCORING_BATCH_WINDOWS
    technique_thresholds: float | Sequence[float] = 0.5


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


def article_windows(articles: list[Article], encode: Encode, spec: WindowSpec) -> list[Window]:
    """The windows a model with tokenizer ``encode`` and ``spec`` reads ``articles`` in."""
    return build_windows(tokenize(articles, encode), spec.cls_id, spec.sep_id, spec.max_tokens)


def tokenize(articles: list[Article], encode: Encode) -> list[list[Tokens]]:
    """Every sentence of every article as word pieces with offsets into its article."""
    flat = [a.text[s.start : s.end] for a in articles for s in a.sentences]
    encoded = encode(flat) if flat else []
    out, pos = [], 0
    for a in articles:
        sentences = []
        for s in a.sentences:
            ids, offsets = encoded[pos]
            sentences.append([(t, (s.start + o[0], s.start + o[1])) for t, o in zip(ids, offsets)])
            pos += 1
        out.append(sentences)
    return out


def pad(windows: list[Window], pad_id: int) -> dict[str, Any]:
    """A batch of windows as right-padded int64 arrays; ``sentence_ids`` is -1 on special and padding
    tokens, and ``n_sentences`` the most sentences of any window."""
    length = max(len(w.input_ids) for w in windows)
    input_ids = np.full((len(windows), length), pad_id, dtype=np.int64)
    sentence_ids = np.full((len(windows), length), -1, dtype=np.int64)
    mask = np.zeros((len(windows), length), dtype=np.int64)
    for i, w in enumerate(windows):
        n = len(w.input_ids)
        input_ids[i, :n] = w.input_ids
        sentence_ids[i, :n] = w.sentence_ids
        mask[i, :n] = 1
    return {
        "input_ids": input_ids,
        "attention_mask": mask,
        "sentence_ids": sentence_ids,
        "n_sentences": max(len(w.members) for w in windows),
    }


def predict_windows(articles: list[Article], spec: WindowSpec, encode: Encode, run: Run, techniques: bool) -> list[Prediction]:
    """Per article, label probabilities for each sentence, the source/cue spans found in it and, when
    ``techniques``, the technique spans of the article."""
    heads = [np.zeros((len(a.sentences), len(HEADS)), dtype=np.float32) for a in articles]
    spans: list[list[list[SpanGuess]]] = [[[] for _ in a.sentences] for a in articles]
    found: list[list[TechniqueSpan]] = [[] for _ in articles]
    windows = article_windows(articles, encode, spec)
    # Similar lengths together: padding is compute thrown away.
    windows.sort(key=lambda w: len(w.input_ids))
    for i in range(0, len(windows), spec.batch_windows):
        chunk = windows[i : i + spec.batch_windows]
        probs, tag_probs, tech_probs = run(pad(chunk, spec.pad_id), techniques)
        for j, w in enumerate(chunk):
            positions: dict[int, list[int]] = {}  # each sentence slot's token positions, in one pass
            for k, sid in enumerate(w.sentence_ids):
                if sid >= 0:
                    positions.setdefault(sid, []).append(k)
            for slot, (a, s) in enumerate(w.members):
                heads[a][s] = probs[j, slot]
                tokens = positions.get(slot, [])
                offsets = [w.offsets[k] for k in tokens]
                spans[a][s] = decode_tags(offsets, tag_probs[j][tokens], TAGS, articles[a].text)
                if tech_probs is not None:
                    found[a].extend(decode_techniques(offsets, tech_probs[j][tokens], articles[a].text, spec.technique_thresholds))
    return [
        Prediction(combine(h), sp, sorted(t, key=lambda x: (x.start, x.end)) if techniques else None)
        for h, sp, t in zip(heads, spans, found)
    ]
