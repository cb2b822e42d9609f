"""Distillation: a teacher's probabilities over the training articles, as soft targets for a student.

The teacher reads each article in its own windows, with its own tokenizer; what it says reaches the
student's windows by sentence (the three head probabilities) and by character offset (per token: the
source/cue tag distribution and the technique probabilities). So any encoder can teach any other, and
two teachers (one for the sentences, one for the techniques) can teach one student.

A teacher's outputs depend only on the teacher and the article, and a large teacher is slow on a CPU
(MPNet-base reads about 9 windows a second on 2 cores), so they are cached per article under
``<cache>/teacher-outputs/<teacher>-<digest of its files>/``: the second student run of a recipe pays
nothing for them.
"""

from __future__ import annotations

import bisect
import hashlib
import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from datasets import Dataset

from framing.files import cache_dir, read_cached, write_cached
from framing.model.heads import HEADS
from framing.model.windows import TAGS, WindowSpec, article_windows, pad
from framing.record import Article
from framing.taxonomy import TECHNIQUES

CHUNK = 16
"""Windows per teacher call, sorted by length so that padding stays small."""


class Teacher(Protocol):
    spec: WindowSpec

    def encode(self, texts: list[str]) -> list[tuple[list[int], list[tuple[int, int]]]]: ...

    def run(self, batch: dict[str, Any], techniques: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]: ...


@dataclass
class TeacherOutput:
    """What a teacher said about one article: per sentence its head probabilities (NaN for a sentence no
    window reached), and per token, sorted by character offset, its tag distribution and, for a teacher
    with a technique head, its technique probabilities."""

    heads: np.ndarray
    offsets: list[tuple[int, int]]
    tags: np.ndarray
    techniques: np.ndarray | None = None

    def to_bytes(self) -> bytes:
        arrays = {
            "heads": self.heads.astype(np.float32),
            "offsets": np.asarray(self.offsets, dtype=np.int32).reshape(-1, 2),
            "tags": self.tags.astype(np.float16),
        }
        if self.techniques is not None:
            arrays["techniques"] = self.techniques.astype(np.float16)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> TeacherOutput:
        with np.load(io.BytesIO(data)) as arrays:
            return cls(
                arrays["heads"],
                [(int(a), int(b)) for a, b in arrays["offsets"]],
                arrays["tags"].astype(np.float32),
                arrays["techniques"].astype(np.float32) if "techniques" in arrays.files else None,
            )


OUTPUT_VERSION = 1
"""Part of every cache key: raise it when what a teacher's outputs are changes (how articles are cut into
windows, what is stored), so that outputs made the old way are never read back."""


def teacher_cache(teacher_dir: Path, techniques: bool) -> Path:
    """The cache folder of one teacher: named by a digest of its files (weights, info, tokenizer: a
    retrained teacher gets a new folder, never stale outputs), ``OUTPUT_VERSION`` and whether its
    technique head is read."""
    digest = hashlib.sha256(f"v{OUTPUT_VERSION}".encode())
    for path in sorted(teacher_dir.glob("*")):
        if path.is_file() and path.name not in ("README.md", "changed.jsonl"):
            digest.update(path.name.encode())
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return cache_dir() / "teacher-outputs" / f"{teacher_dir.name}-{digest.hexdigest()[:16]}{'-techniques' if techniques else ''}"


def article_key(article: Article) -> str:
    """Text and sentence boundaries: all a teacher's outputs for an article depend on."""
    spans = [(s.start, s.end) for s in article.sentences]
    return hashlib.sha256(json.dumps([article.text, spans]).encode("utf-8")).hexdigest()


def teacher_outputs(
    teacher: Teacher, articles: list[Article], techniques: bool = False, cache: Path | None = None, log: Any = print
) -> list[TeacherOutput]:
    """The teacher run over ``articles`` (its technique head too when ``techniques``), one output per
    article; with ``cache``, outputs found there are read back, and each new one is written as soon as
    its article's last window is scored, so a run killed half-way keeps what it did."""
    found: dict[int, TeacherOutput] = {}
    if cache is not None:
        for i, article in enumerate(articles):
            data = read_cached(cache / f"{article_key(article)}.npz")
            if data is not None:
                found[i] = TeacherOutput.from_bytes(data)
    todo = [i for i in range(len(articles)) if i not in found]
    if found:
        log(f"teacher: {len(found)} of {len(articles)} articles read from {cache}")
    for n, output in _run_teacher(teacher, [articles[i] for i in todo], techniques, log):
        data = output.to_bytes()
        # What the cache gives back (token probabilities in float16), also on the first run: a student
        # trained with a cold cache and one trained with a warm cache see the same targets.
        found[todo[n]] = TeacherOutput.from_bytes(data)
        if cache is not None:
            write_cached(cache / f"{article_key(articles[todo[n]])}.npz", data)
    return [found[i] for i in range(len(articles))]


def _run_teacher(teacher: Teacher, articles: list[Article], techniques: bool, log: Any) -> Iterator[tuple[int, TeacherOutput]]:
    """(article index, output) for each article, as soon as all its windows are scored."""
    heads = [np.full((len(a.sentences), len(HEADS)), np.nan, dtype=np.float32) for a in articles]
    tokens: list[list[tuple[tuple[int, int], np.ndarray, np.ndarray | None]]] = [[] for _ in articles]
    spec = teacher.spec
    windows = sorted(article_windows(articles, teacher.encode, spec), key=lambda w: len(w.input_ids))
    left = [0] * len(articles)
    for w in windows:
        left[w.members[0][0]] += 1
    for a in (a for a, count in enumerate(left) if count == 0):
        yield a, _output(heads[a], tokens[a], techniques)  # no sentence to read
    started = time.perf_counter()
    for n, start in enumerate(range(0, len(windows), CHUNK)):
        chunk = windows[start : start + CHUNK]
        probs, tag_probs, technique_probs = teacher.run(pad(chunk, spec.pad_id), techniques)
        if techniques and technique_probs is None:
            raise ValueError("the technique teacher has no technique head")
        for j, w in enumerate(chunk):
            for slot, (a, s) in enumerate(w.members):
                heads[a][s] = probs[j, slot]
            for k, (offset, sid) in enumerate(zip(w.offsets, w.sentence_ids)):
                if sid >= 0:
                    tokens[w.members[sid][0]].append(
                        (offset, tag_probs[j, k], technique_probs[j, k] if technique_probs is not None else None)
                    )
            a = w.members[0][0]
            left[a] -= 1
            if left[a] == 0:
                yield a, _output(heads[a], tokens[a], techniques)
                tokens[a] = []
        if n % 25 == 24:
            log(f"teacher: {start + len(chunk)}/{len(windows)} windows, {(time.perf_counter() - started) / 60:.1f} min")


def _output(heads: np.ndarray, items: list[tuple[tuple[int, int], np.ndarray, np.ndarray | None]], techniques: bool) -> TeacherOutput:
    items.sort(key=lambda item: item[0])
    return TeacherOutput(
        heads,
        [o for o, _, _ in items],
        np.stack([t for _, t, _ in items]) if items else np.zeros((0, len(TAGS)), dtype=np.float32),
        (np.stack([t for _, _, t in items]) if items else np.zeros((0, len(TECHNIQUES)), dtype=np.float32)) if techniques else None,  # type: ignore[misc]
    )


def carry(student: list[tuple[int, int]], teacher: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """For each student token, the index of the teacher token its first character falls in (-1 for
    special tokens and characters the teacher has no piece for), and whether the student token starts
    inside that piece (a later piece of the same word, cut differently by the two tokenizers)."""
    index = np.full(len(student), -1, dtype=np.int64)
    inside = np.zeros(len(student), dtype=bool)
    starts = [a for a, _ in teacher]
    for i, (start, _) in enumerate(student):
        if start < 0:
            continue
        j = bisect.bisect_right(starts, start) - 1
        if j < 0 or not starts[j] <= start < max(teacher[j][1], starts[j] + 1):
            continue
        index[i] = j
        inside[i] = starts[j] < start
    return index, inside


def carry_tags(student: list[tuple[int, int]], teacher: list[tuple[int, int]], teacher_probs: np.ndarray) -> np.ndarray:
    """The teacher's tag distribution for each student token, carried by character offsets: a student
    token takes the distribution of the teacher token its first character falls in, and when it starts
    inside that token the mass on B-x moves to I-x, since a span cannot begin mid-word. Special tokens
    get all mass on O; a text token the teacher has no piece for (it cut a long sentence short) gets
    all zeros, which adds nothing to the KL loss: the teacher said nothing about it."""
    index, inside = carry(student, teacher)
    out = np.zeros((len(student), len(TAGS)), dtype=np.float32)
    out[[start < 0 for start, _ in student], TAGS.index("O")] = 1.0
    found = index >= 0
    out[found] = teacher_probs[index[found]]
    for kind in ("source", "cue"):
        b, i = TAGS.index(f"B-{kind}"), TAGS.index(f"I-{kind}")
        out[inside, i] += out[inside, b]
        out[inside, b] = 0.0
    return out


def carry_techniques(student: list[tuple[int, int]], teacher: list[tuple[int, int]], teacher_probs: np.ndarray) -> np.ndarray:
    """The teacher's technique probabilities for each student token, carried like the tags (a technique
    has no begin/inside distinction); -1 (no target) where the teacher has no piece."""
    index, _ = carry(student, teacher)
    out = np.full((len(student), len(TECHNIQUES)), -1.0, dtype=np.float32)
    found = index >= 0
    out[found] = teacher_probs[index[found]]
    return out


def _outputs_by_article(
    teacher: Teacher,
    dataset: Dataset,
    articles: list[Article],
    sources: list[str] | None,
    techniques: bool,
    cache: Path | None,
    log: Any,
    exclude: frozenset[str] = frozenset(),
) -> dict[int, TeacherOutput]:
    """The teacher's outputs for every article of ``dataset`` from ``sources`` (None: all) and not in
    ``exclude``, by article index."""
    wanted = sorted(
        {
            a
            for members in dataset["members"]
            for a, _ in members
            if (sources is None or articles[a].meta.get("source_set") in sources) and articles[a].id not in exclude
        }
    )
    return dict(zip(wanted, teacher_outputs(teacher, [articles[a] for a in wanted], techniques, cache, log)))


def teacher_targets(
    teacher: Teacher,
    dataset: Dataset,
    articles: list[Article],
    sources: list[str] | None = None,
    log: Any = print,
    cache: Path | None = None,
) -> Dataset:
    """The teacher's sentence-head probabilities (per sentence slot) and tag distributions (per token)
    for every training window whose article comes from ``sources`` (default: all), as the columns
    ``soft_targets`` and ``soft_tags`` (empty for the other windows, which learn from gold only)."""
    outputs = _outputs_by_article(teacher, dataset, articles, sources, False, cache, log)
    soft_targets: list[list[list[float]]] = []
    soft_tags: list[list[list[float]]] = []
    for members, offsets in zip(dataset["members"], dataset["offsets"]):
        out = outputs.get(members[0][0])
        if out is None or any(np.isnan(out.heads[s]).any() for _, s in members):
            soft_targets.append([])
            soft_tags.append([])
            continue
        soft_targets.append([out.heads[s].tolist() for _, s in members])
        soft_tags.append(carry_tags([tuple(o) for o in offsets], out.offsets, out.tags).tolist())
    return dataset.add_column("soft_targets", soft_targets).add_column("soft_tags", soft_tags)


def technique_teacher_targets(
    teacher: Teacher,
    dataset: Dataset,
    articles: list[Article],
    sources: list[str] | None = None,
    log: Any = print,
    cache: Path | None = None,
    exclude: frozenset[str] = frozenset(),
) -> Dataset:
    """The technique teacher's per-token technique probabilities for every training window whose article
    comes from ``sources`` and whose id is not in ``exclude`` (the texts the head is measured on), as the
    column ``soft_techniques`` (empty elsewhere): the technique head then
    learns on articles no one annotated for techniques, and from the teacher's graded view on those
    that were."""
    outputs = _outputs_by_article(teacher, dataset, articles, sources, True, cache, log, exclude)
    soft: list[list[list[float]]] = []
    for members, offsets in zip(dataset["members"], dataset["offsets"]):
        out = outputs.get(members[0][0])
        if out is None or out.techniques is None:
            soft.append([])
            continue
        soft.append(carry_techniques([tuple(o) for o in offsets], out.offsets, out.techniques).tolist())
    return dataset.add_column("soft_techniques", soft)


def distill_loss(logits: torch.Tensor, tag_logits: torch.Tensor, rows: dict[str, Any], sentence_ids: torch.Tensor) -> torch.Tensor:
    """Soft-target loss: binary cross-entropy to the teacher's head probabilities on every sentence, and
    KL divergence to its tag distribution on every sentence token."""
    soft = torch.zeros_like(logits)
    present = torch.zeros(logits.shape[:2])
    soft_tags = torch.zeros_like(tag_logits)
    taught = torch.zeros(tag_logits.shape[:2])
    for i, (t, g) in enumerate(zip(rows["soft_targets"], rows["soft_tags"])):
        if not t:
            continue  # a window of a source the teacher was not asked about
        soft[i, : len(t)] = torch.tensor(t)
        present[i, : len(t)] = 1.0
        soft_tags[i, : len(g)] = torch.tensor(g)
        taught[i, : len(g)] = 1.0
    heads = torch.nn.functional.binary_cross_entropy_with_logits(logits, soft, reduction="none").mean(-1)
    head_loss = (heads * present).sum() / present.sum().clamp(min=1.0)
    tokens = (sentence_ids >= 0).to(tag_logits.dtype) * taught
    kl = (soft_tags * (soft_tags.clamp(min=1e-8).log() - torch.log_softmax(tag_logits, dim=-1))).sum(-1)
    return head_loss + (kl * tokens).sum() / tokens.sum().clamp(min=1.0)


def technique_distill_loss(logits: torch.Tensor, rows: dict[str, Any], sentence_ids: torch.Tensor) -> torch.Tensor | None:
    """Binary cross-entropy to the technique teacher's probabilities on the sentence tokens of the windows
    it taught (tokens it had no piece for, marked -1, are skipped); None when no window of the batch has them."""
    if not any(rows["soft_techniques"]):
        return None
    soft = torch.full_like(logits, -1.0)
    for i, t in enumerate(rows["soft_techniques"]):
        if t:
            soft[i, : len(t)] = torch.tensor(t)
    mask = (soft[..., 0] >= 0).to(logits.dtype) * (sentence_ids >= 0)
    soft = soft.clamp(min=0.0)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, soft, reduction="none").mean(-1)
    return (loss * mask).sum() / mask.sum().clamp(min=1.0)
