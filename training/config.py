"""Training configs: YAML mapped onto dataclasses that reject unknown keys and bad values."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

KNOWN_SOURCES = ("seed", "annotations", "checkthat", "babe", "polnear")


@dataclass
class BaselineConfig:
    name: str = "tfidf-baseline"
    output_dir: str = "models/tfidf-baseline"
    sources: list[str] = field(default_factory=lambda: list(KNOWN_SOURCES))
    C: float = 4.0
    min_df: int = 2
    max_features: int = 60000
    seed: int = 13

    def __post_init__(self) -> None:
        unknown = [s for s in self.sources if s not in KNOWN_SOURCES]
        if unknown:
            raise ValueError(f"sources: {unknown} unknown; choose from {list(KNOWN_SOURCES)}")
        if self.C <= 0:
            raise ValueError(f"C: must be positive, got {self.C!r}")
        if self.min_df < 1:
            raise ValueError(f"min_df: must be at least 1, got {self.min_df!r}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BaselineConfig:
        allowed = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ValueError(f"unknown config keys {unknown}; allowed: {sorted(allowed)}")
        return cls(**data)

    @classmethod
    def from_yaml(cls, path: str | Path) -> BaselineConfig:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping of settings")
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
