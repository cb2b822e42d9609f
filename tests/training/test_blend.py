"""Blending two models' weights: the average is exact, and models that do not line up are refused."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import torch

from framing.model.torch_model import TransformerModel
from framing.record import Article, TechniqueSpan
from training.blend import blend, run


def shifted(model: TransformerModel, by: float) -> TransformerModel:
    other = copy.deepcopy(model)
    with torch.no_grad():
        for p in other.network.parameters():
            p.add_(by)
    return other


def test_the_blend_is_the_weighted_average(technique_model_dir: Path) -> None:
    first = TransformerModel.load(technique_model_dir)
    second = shifted(first, 1.0)
    for weight in (0.0, 0.25, 1.0):
        mixed = blend(first, second, weight).network.state_dict()
        for key, value in first.network.state_dict().items():
            if value.is_floating_point():
                assert torch.allclose(mixed[key], value + weight), key
    assert first.network.techniques is not None and blend(first, second, 0.5).network.techniques is not None
    # The inputs are left as they were.
    assert torch.equal(first.network.head.bias, TransformerModel.load(technique_model_dir).network.head.bias)


def test_a_technique_head_only_one_model_has_is_dropped(tiny_transformer_dir: Path, technique_model_dir: Path) -> None:
    without, with_head = TransformerModel.load(tiny_transformer_dir), TransformerModel.load(technique_model_dir)
    mixed = blend(with_head, without, 0.5)
    assert mixed.network.techniques is None and not mixed.use_techniques
    assert torch.allclose(mixed.network.head.weight, with_head.network.head.weight)  # the same tiny model underneath


def test_models_that_do_not_line_up_are_refused(tiny_transformer_dir: Path) -> None:
    first = TransformerModel.load(tiny_transformer_dir)
    wider = copy.deepcopy(first)
    wider.network.head = torch.nn.Linear(first.network.head.in_features, 5)
    with pytest.raises(ValueError, match="differ in shape"):
        blend(first, wider, 0.5)
    other_vocab = copy.deepcopy(first)
    other_vocab.tokenizer.add_tokens(["propaganda"])
    with pytest.raises(ValueError, match="different vocabularies"):
        blend(first, other_vocab, 0.5)
    shorter = copy.deepcopy(first)
    shorter.max_tokens = 32
    with pytest.raises(ValueError, match="windows of 64 and 32 tokens"):
        blend(first, shorter, 0.5)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        blend(first, first, 1.5)


def test_a_blend_is_measured_and_saved_with_its_card(technique_model_dir: Path, seed: Article, tmp_path: Path) -> None:
    second_dir = tmp_path / "second"
    shifted(TransformerModel.load(technique_model_dir), 0.01).save(second_dir)
    gold = copy.deepcopy(seed)
    gold.techniques = [TechniqueSpan(60, 72, "Loaded_Language")]
    out = run(technique_model_dir, second_dir, 0.5, tmp_path / "models" / "blend", log=lambda _: None, sets={"seed": [seed]}, tune_items=[(gold, gold.techniques)])
    info = json.loads((out / "framing-model.json").read_text(encoding="utf-8"))
    assert info["blend"] == {"first": technique_model_dir.name, "second": "second", "weight": 0.5}
    assert info["metrics"]["seed"]["labels"]["sentences"] == 48 and info["baseline_name"] == technique_model_dir.name
    assert info["technique_thresholds"] in (0.5, 0.6, 0.7, 0.8, 0.9) and info["technique_metrics"]["trained"] == "blended"
    assert "averaged from the two blended models' heads" in (out / "README.md").read_text(encoding="utf-8")
    loaded = TransformerModel.load(out)
    expected = TransformerModel.load(technique_model_dir).network.head.bias + 0.005
    assert torch.allclose(loaded.network.head.bias, expected, atol=1e-6)
    again = run(technique_model_dir, second_dir, 0.5, tmp_path / "models" / "blend", log=lambda _: None, sets={"seed": [seed]}, tune_items=[(gold, gold.techniques)])
    assert again.name == "blend-v2" and sorted(p.name for p in (tmp_path / "models").iterdir()) == ["blend", "blend-v2"]
