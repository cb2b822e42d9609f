"""Every training config in ``configs/`` loads as the dataclass its kind names."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.config import TransformerConfig, load_config

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yaml"))


def test_there_are_configs() -> None:
    assert len(CONFIGS) >= 5


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_config_loads_and_writes_where_its_name_says(path: Path) -> None:
    """A misspelt key or an unknown source is refused when the config is read; a config whose output
    folder is not its name would overwrite another model's folder."""
    config = load_config(path)
    if isinstance(config, TransformerConfig):
        assert Path(config.output_dir).name == config.name, f"{path.name}: name {config.name!r}, output_dir {config.output_dir!r}"
