"""ONNX Runtime scoring (same outputs as torch, graph cached, no torch import) and the distilled student."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import framing
from framing.cli import app
from framing.model.onnx_model import OnnxModel
from framing.model.torch_model import TransformerModel
from framing.model.windows import pad
from framing.record import Article, Sentence


def _batch(seed: Article) -> list[Article]:
    # Articles of very different lengths: their windows are padded against each other in one batch.
    short = Article(id="short", text="Putin said it. The war goes on.", sentences=[Sentence(0, 14), Sentence(15, 31)])
    return [copy.deepcopy(seed), short, copy.deepcopy(short)]


@pytest.fixture(scope="module")
def with_techniques(tiny_transformer_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model with a (random) technique head."""
    from framing.model.torch_model import technique_head
    from framing.taxonomy import TECHNIQUES

    model = TransformerModel.load(tiny_transformer_dir)
    torch.manual_seed(1)
    model.network.techniques = technique_head(32, len(TECHNIQUES))
    directory = tmp_path_factory.mktemp("tiny-techniques")
    model.save(directory)
    return directory


def test_onnx_graph_gives_the_torch_outputs_on_padded_batches(with_techniques: Path, seed: Article) -> None:
    torch_model = TransformerModel.load(with_techniques)
    onnx_model = OnnxModel.load(with_techniques, backend="onnx")
    # The whole network is in the graph, pooling into a varying number of sentence slots included.
    for articles in (_batch(seed), _batch(seed)[:2]):
        batch = pad(torch_model.windows(articles), onnx_model.spec.pad_id)
        assert batch["attention_mask"].min() == 0  # padded
        for expected, got in zip(torch_model.run(batch, True), onnx_model.run(batch, True)):
            assert expected.shape == got.shape and np.abs(expected - got).max() < 1e-4
    # And scoring gives the same sentence labels, spans and techniques.
    expected, got = torch_model.predict(_batch(seed)), onnx_model.predict(_batch(seed))
    for e, g in zip(expected, got):
        assert np.abs(e.probs - g.probs).max() < 1e-4
        assert [[(x.role, x.start, x.end) for x in s] for s in e.spans] == [[(x.role, x.start, x.end) for x in s] for s in g.spans]
        assert all(abs(x.score - y.score) < 1e-4 for s, t in zip(e.spans, g.spans) for x, y in zip(s, t))
        assert e.techniques == g.techniques or [(t.start, t.end, t.technique) for t in e.techniques or []] == [
            (t.start, t.end, t.technique) for t in g.techniques or []
        ]


def test_exported_graph_has_no_masked_softmax_nan_guard(tiny_transformer_dir: Path) -> None:
    import onnx

    from framing.model.onnx_model import export_onnx

    # sdpa attention exports an IsNaN/Where guard over every attention score (a tenth of int8 model time);
    # the export uses eager attention, whose graph has no IsNaN (the test above checks it equals torch's).
    ops = {node.op_type for node in onnx.load_from_string(export_onnx(tiny_transformer_dir, techniques=False)).graph.node}
    assert "Softmax" in ops and "IsNaN" not in ops


def test_no_techniques_runs_a_graph_without_the_technique_head(with_techniques: Path, seed: Article) -> None:
    model = OnnxModel.load(with_techniques, backend="onnx")
    full = model.predict([copy.deepcopy(seed)])[0]
    model.use_techniques = False
    bare = model.predict([copy.deepcopy(seed)])[0]
    assert bare.techniques is None and full.techniques is not None
    assert [o.name for o in model.session(False).get_outputs()] == ["sentence_probs", "tag_probs"]
    assert np.abs(full.probs - bare.probs).max() < 1e-6


def test_onnx_int8_backend_stays_close_and_does_not_depend_on_the_batch(tiny_transformer_dir: Path, seed: Article) -> None:
    exact = TransformerModel.load(tiny_transformer_dir).predict([copy.deepcopy(seed)])[0].probs
    int8_model = OnnxModel.load(tiny_transformer_dir, backend="onnx-int8")
    int8 = int8_model.predict([copy.deepcopy(seed)])[0].probs
    assert int8.shape == exact.shape
    assert 0 < np.abs(int8 - exact).max() < 0.05  # quantised, so not bit-identical, but close
    # Scored beside other articles, an article keeps exactly its scores (each window is its own call).
    assert np.array_equal(int8_model.predict(_batch(seed))[0].probs, int8)


def test_exported_graph_is_cached_by_content(
    tiny_transformer_dir: Path, seed: Article, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from framing.model import onnx_model

    monkeypatch.setenv("FRAMING_CACHE_DIR", str(tmp_path / "cache"))
    first = OnnxModel.load(tiny_transformer_dir, backend="onnx")
    graphs = list((tmp_path / "cache").glob("scoring-*.onnx"))
    assert len(graphs) == 1 and not list((tmp_path / "cache").glob("*.part"))
    # A second load reads the cached graph: no export at all, same outputs.
    monkeypatch.setattr(onnx_model, "export_onnx", lambda directory, techniques: pytest.fail("exported again"))
    second = OnnxModel.load(tiny_transformer_dir, backend="onnx")
    assert np.abs(first.predict([copy.deepcopy(seed)])[0].probs - second.predict([copy.deepcopy(seed)])[0].probs).max() == 0
    monkeypatch.undo()
    monkeypatch.setenv("FRAMING_CACHE_DIR", str(tmp_path / "cache"))
    # Other weights (a retrained copy) get another graph, never the stale one.
    copy_dir = tmp_path / "changed"
    shutil.copytree(tiny_transformer_dir, copy_dir)
    changed = TransformerModel.load(copy_dir)
    with torch.no_grad():
        changed.network.head.weight.mul_(2.0)  # the heads are in the graph too
    shutil.rmtree(copy_dir)
    changed.save(copy_dir)
    OnnxModel.load(copy_dir, backend="onnx")
    assert len(list((tmp_path / "cache").glob("scoring-*.onnx"))) == 2
    # A damaged cached graph is replaced, not an error.
    graphs[0].write_bytes(b"not an onnx graph")
    assert OnnxModel.load(tiny_transformer_dir, backend="onnx").predict([copy.deepcopy(seed)])[0].probs.shape[0] == len(seed.sentences)
    assert graphs[0].read_bytes() != b"not an onnx graph"
    # A cache that cannot be written costs only the export.
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache directory should be")
    monkeypatch.setenv("FRAMING_CACHE_DIR", str(blocked))
    assert OnnxModel.load(tiny_transformer_dir, backend="onnx").predict([copy.deepcopy(seed)])[0].probs.shape[0] == len(seed.sentences)


def test_scoring_from_a_cached_graph_imports_neither_torch_nor_transformers(tiny_transformer_dir: Path) -> None:
    framing.load_model(tiny_transformer_dir)  # the session's cache now holds the graph
    code = (
        "import sys, framing, framing.cli\n"
        f"model = framing.load_model({str(tiny_transformer_dir)!r})\n"
        "article = framing.score_text('Putin said the war goes on. It is a disgrace.', model)\n"
        "print(len(article.sentences), 'torch' in sys.modules, 'transformers' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ), check=True).stdout
    assert out.split() == ["2", "False", "False"]


def test_unknown_backend_is_refused(tiny_transformer_dir: Path) -> None:
    with pytest.raises(ValueError, match="backend"):
        framing.load_model(tiny_transformer_dir, backend="tensorrt")
    result = CliRunner().invoke(app, ["score", "-", "--model", str(tiny_transformer_dir), "--backend", "tensorrt"], input="Some text.")
    assert result.exit_code == 2


def test_score_backends_agree_on_labels(tiny_transformer_dir: Path, tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text("Putin said the war goes on. Ukraine tried to attack, officials said. It is a disgrace.", encoding="utf-8")
    labels = {}
    for backend in ("onnx", "torch"):
        out = tmp_path / f"{backend}.jsonl"
        result = CliRunner().invoke(
            app, ["score", str(article), "-o", str(out), "--model", str(tiny_transformer_dir), "--backend", backend]
        )
        assert result.exit_code == 0, result.output
        record = json.loads(out.read_text(encoding="utf-8"))
        labels[backend] = [(s["label"], round(s["probs"][s["label"]], 4)) for s in record["sentences"]]
    assert labels["onnx"] == labels["torch"] and len(labels["torch"]) == 3


def test_distilled_student_keeps_the_chosen_layers_and_moves_towards_the_teacher(tiny_transformer_dir: Path, seed: Article, tmp_path: Path) -> None:
    from training.config import TransformerConfig
    from training.distill import teacher_targets
    from training.train_transformer import keep_layers, train_model, window_dataset

    # A teacher with opinions: the tiny model trained on the seed's gold labels.
    teacher = TransformerModel.load(tiny_transformer_dir)
    config = TransformerConfig(batch_windows=8, epochs=8, lr=1e-3, head_lr=1e-2, max_tokens=64, warmup=0.0, checkpoint_dir=str(tmp_path / "checkpoint"))
    train_model(teacher, window_dataset(teacher, [copy.deepcopy(seed)], {}), config, log=lambda _: None)
    student = TransformerModel.load(tiny_transformer_dir)
    keep_layers(student, [1])
    assert student.network.encoder.config.num_hidden_layers == 1 and len(student.network.encoder.encoder.layer) == 1
    with pytest.raises(ValueError, match="2 layers"):
        keep_layers(TransformerModel.load(tiny_transformer_dir), [0, 5])

    target = teacher.predict_proba([copy.deepcopy(seed)])[0]
    before = np.abs(student.predict_proba([copy.deepcopy(seed)])[0] - target).mean()
    dataset = teacher_targets(teacher, window_dataset(student, [copy.deepcopy(seed)], {}), [copy.deepcopy(seed)], log=lambda _: None)
    assert {"soft_targets", "soft_tags"} <= set(dataset.column_names)
    row = dataset[0]
    assert len(row["soft_targets"]) == len(row["targets"]) and len(row["soft_tags"]) == len(row["input_ids"])
    # Distillation only: the gold labels are hidden, so any move towards the teacher comes from its soft targets.
    dataset = dataset.map(lambda r: {"targets": [[-1] * len(t) for t in r["targets"]], "tags": [-100] * len(r["tags"])})
    train_model(student, dataset, config, log=lambda _: None)
    after = np.abs(student.predict_proba([copy.deepcopy(seed)])[0] - target).mean()
    assert after < 0.5 * before
