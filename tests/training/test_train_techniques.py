"""The technique head on a frozen encoder (``training.train_techniques``): which PTC articles it fits on,
and how its threshold is chosen."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch

from framing.record import Article, TechniqueSpan
from framing.taxonomy import TECHNIQUES


def _stand_in_ptc(seed: Article) -> tuple[list[str], list[TechniqueSpan]]:
    start = seed.text.index("Dashkin")
    gold = [TechniqueSpan(start, start + len("Dashkin"), "Name_Calling,Labeling"), TechniqueSpan(0, 40, "Loaded_Language")]
    return [f"ptc-t{n}" for n in range(12)], gold


def test_the_frozen_head_never_fits_on_annotated_articles_we_hold_out(
    tiny_transformer_dir: Path, seed: Article, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Our annotations' dev and test splits hold PTC train articles; the joint path left them out but the
    frozen-encoder path fitted on every PTC train article (``held`` ids were fitted on before the fix)."""
    import shutil

    import training.train_techniques as tt
    from training.config import TechniquesConfig
    from training.splits import split_of

    ids, gold = _stand_in_ptc(seed)
    fitting = [i for i in ids if split_of(i) != "dev"]
    held = set(fitting[:2])
    monkeypatch.setattr(tt, "load_ptc", lambda split: [(Article(id=i, text=seed.text), copy.deepcopy(gold)) for i in ids])
    monkeypatch.setattr(tt, "annotated_held_out", lambda: held)
    seen: list[str] = []
    features = tt.token_features

    def spy(model, items):  # noqa: ANN001, ANN202
        seen.extend(a.id for a, _ in items)
        return features(model, items)

    monkeypatch.setattr(tt, "token_features", spy)
    model_dir = tmp_path / "tiny"
    shutil.copytree(tiny_transformer_dir, model_dir)
    config = TechniquesConfig(model=str(model_dir), epochs=1, thresholds=[0.5], threads=1)
    tt.run(config, log=lambda _: None)
    assert seen and not held & set(seen)
    assert set(seen) == set(fitting) - held
    assert (model_dir / "techniques.safetensors").exists()


def test_the_threshold_sweep_runs_the_encoder_once(
    tiny_transformer_dir: Path, seed: Article, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every candidate threshold re-ran the encoder over the tuning slice (a minute each for MPNet);
    one pass now serves them all, and the chosen threshold and dev figures are what one run per
    candidate gives."""
    import training.train_techniques as tt
    from framing.model.torch_model import TransformerModel, technique_head

    ids, gold = _stand_in_ptc(seed)
    items = []
    for n, article_id in enumerate(ids[:3]):
        prefix = "War goes on. " * n
        spans = [TechniqueSpan(g.start + len(prefix), g.end + len(prefix), g.technique) for g in gold]
        items.append((Article(id=article_id, text=prefix + seed.text), spans))
    monkeypatch.setattr(tt, "load_ptc", lambda split: [(Article(id="ptc-dev", text=seed.text), copy.deepcopy(gold))])
    model = TransformerModel.load(tiny_transformer_dir)
    torch.manual_seed(3)
    model.network.techniques = technique_head(model.network.encoder.config.hidden_size, len(TECHNIQUES))
    model.use_techniques = True
    candidates = [0.45, 0.5, 0.55]

    expected = []
    for threshold in candidates:
        model.technique_thresholds = threshold
        f1 = tt.span_metric({a.id: g for a, g in items}, tt.predict_spans(model, items))["technique_aware"]["f1"]
        expected.append((f1, threshold))
    model.technique_thresholds = max(expected)[1]
    expected_dev = tt.span_metric({"ptc-dev": gold}, tt.predict_spans(model, tt.load_ptc("dev")))

    calls = []
    run = model.run

    def counted(batch, techniques):  # noqa: ANN001, ANN202
        calls.append(batch["input_ids"].shape)
        return run(batch, techniques)

    model.technique_thresholds = 0.9
    monkeypatch.setattr(model, "run", counted)
    tt.tune_and_measure(model, items, candidates[:1], log=lambda _: None)
    with_one = len(calls)
    calls.clear()
    threshold, dev = tt.tune_and_measure(model, items, candidates, log=lambda _: None)
    assert len(calls) == with_one > 0
    assert threshold == max(expected)[1] and model.technique_thresholds == threshold
    assert dev == expected_dev
