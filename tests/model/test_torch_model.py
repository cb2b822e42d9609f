from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch

import framing
from framing.model.torch_model import TransformerModel, collate
from framing.model.windows import build_windows
from framing.record import LABELS, Article


def test_windows_pack_consecutive_sentences_and_cut_long_ones() -> None:
    ids = [[[5, 6], [7, 8, 9], [10] * 20, [11]], [[12]]]
    tokens = [[[(t, (i, i + 1)) for i, t in enumerate(s)] for s in a] for a in ids]
    windows = build_windows(tokens, cls_id=2, sep_id=3, max_tokens=10)
    members = [w.members for w in windows]
    assert members == [[(0, 0), (0, 1)], [(0, 2)], [(0, 3)], [(1, 0)]]
    assert windows[0].input_ids == [2, 5, 6, 7, 8, 9, 3]
    assert windows[0].sentence_ids == [-1, 0, 0, 1, 1, 1, -1]
    assert windows[0].offsets == [(-1, -1), (0, 1), (1, 2), (0, 1), (1, 2), (2, 3), (-1, -1)]
    assert len(windows[1].input_ids) == 10  # a 20-token sentence is cut to the window
    assert all(len(w.input_ids) <= 10 for w in windows)


def test_pooling_uses_only_each_sentences_tokens(tiny_transformer_dir: Path) -> None:
    model = TransformerModel.load(tiny_transformer_dir)
    a = Article(id="a", text="Putin said it. The war goes on.")
    b = Article(id="b", text="Putin said it. Ukraine tried to attack.")
    for art in (a, b):
        art.sentences = [framing.Sentence(0, 14), framing.Sentence(15, len(art.text))]
    batch = collate(model.windows([a, b]), model.tokenizer.pad_token_id)
    with torch.inference_mode():
        logits, tag_logits, _ = model.network(**batch)
    assert logits.shape == (2, 2, 3)
    assert tag_logits.shape == (*batch["input_ids"].shape, 5)
    # Same first sentence, different neighbour: attention lets context change its logits.
    assert not torch.allclose(logits[0, 0], logits[1, 0])


def test_load_model_dispatches_and_scores(tiny_transformer_dir: Path, seed: Article) -> None:
    from framing.model.onnx_model import OnnxModel

    assert isinstance(framing.load_model(tiny_transformer_dir, backend="torch"), TransformerModel)
    model = framing.load_model(tiny_transformer_dir)
    assert isinstance(model, OnnxModel)  # scoring runs on ONNX Runtime by default
    scored = next(framing.score_articles([copy.deepcopy(seed)], model))
    assert len(scored.sentences) == len(seed.sentences)
    for s in scored.sentences:
        assert s.label in LABELS and abs(sum(s.probs.values()) - 1) < 1e-5
    # Batched and one-at-a-time scoring agree (padding and sorting must not change results).
    one = model.predict_proba([copy.deepcopy(seed)])[0]
    two = model.predict_proba([copy.deepcopy(seed), Article(id="x", text="Short one.", sentences=[framing.Sentence(0, 10)])])[0]
    assert np.allclose(one, two, atol=1e-5)


def test_training_lowers_the_loss_and_saves(tiny_transformer_dir: Path, seed: Article, tmp_path: Path) -> None:
    from training.config import TransformerConfig
    from training.train_transformer import train_model, window_dataset

    model = TransformerModel.load(tiny_transformer_dir)
    dataset = window_dataset(model, [copy.deepcopy(seed)], {})
    config = TransformerConfig(batch_windows=8, epochs=6, lr=1e-3, head_lr=1e-2, max_tokens=64, warmup=0.0, checkpoint_dir=str(tmp_path / "checkpoint"))
    logs: list[str] = []
    report = train_model(model, dataset, config, log=logs.append)
    assert report["steps"] == report["planned_steps"] > 0
    first, last = float(logs[0].split("loss ")[1].split()[0]), report["final_loss"]
    assert last < first
    model.save(tmp_path)
    again = TransformerModel.load(tmp_path)
    assert np.allclose(model.predict_proba([seed])[0], again.predict_proba([seed])[0], atol=1e-5)


def test_compact_save_is_smaller_and_scores_nearly_the_same(tiny_transformer_dir: Path, seed: Article, tmp_path: Path) -> None:
    model = TransformerModel.load(tiny_transformer_dir)
    model.save(tmp_path, compact=True)
    assert not (tmp_path / "model.safetensors").exists()
    size = (tmp_path / "encoder.safetensors").stat().st_size
    assert size < 0.6 * (tiny_transformer_dir / "model.safetensors").stat().st_size
    again = TransformerModel.load(tmp_path)
    full, small = model.predict_proba([seed])[0], again.predict_proba([seed])[0]
    assert np.abs(full - small).max() < 0.02
    assert (full.argmax(1) == small.argmax(1)).mean() > 0.9


def test_training_run_saves_a_compact_model_with_card(tiny_transformer_dir: Path, tmp_path: Path) -> None:
    from training.config import TransformerConfig
    from training.train_transformer import run

    out = tmp_path / "run"
    config = TransformerConfig(
        base_model=str(tiny_transformer_dir), sources=["seed"], epochs=1, max_tokens=64, compact=True, output_dir=str(out), threads=1
    )
    logs: list[str] = []
    run(config, log=logs.append)
    assert (out / "encoder.safetensors").exists() and not (out / "model.safetensors").exists()
    assert "Stored compact" in (out / "README.md").read_text(encoding="utf-8")
    model = framing.load_model(out)
    assert model.info["training"]["steps"] > 0 and any("saved" in line for line in logs)
