"""One entry point for every kind of training config (``framing train CONFIG``): the config's ``kind``
says which recipe runs.

- ``tfidf-logreg``: the TF-IDF baseline (``training/train_baseline.py``);
- ``transformer-window``: a window model, from the base encoder or continued from another model, with
  the technique head when asked (``training/train_transformer.py``);
- ``technique-head``: a technique head fitted on a model's frozen encoder (``training/train_techniques.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from training.config import BaselineConfig, TechniquesConfig, TransformerConfig


def train(config: BaselineConfig | TransformerConfig | TechniquesConfig, log: Callable[[str], None] = print) -> Path:
    """Run the recipe of ``config``; returns the directory of the model it wrote (or updated)."""
    if isinstance(config, BaselineConfig):
        from training.train_baseline import train_baseline

        train_baseline(config)
        return Path(config.output_dir)
    if isinstance(config, TechniquesConfig):
        from training.train_techniques import run as fit_techniques

        fit_techniques(config, log)
        return Path(config.model)
    from training.train_transformer import run

    model = run(config, log)
    return Path(config.output_dir).with_name(str(model.info.get("saved_as", Path(config.output_dir).name)))
