"""Scoring on several local processes gives what one process gives, in input order, and loses nothing."""

from __future__ import annotations

import json
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from typer.testing import CliRunner

import framing
from framing.cli import app
from framing.model import ModelSpec
from framing.parallel import _result, score_parallel
from framing.record import Article


def _articles(seed: Article, n: int) -> list[dict[str, str]]:
    # Different texts of different lengths, from the seed article's sentences.
    sentences = [seed.text[s.start : s.end] for s in seed.sentences]
    return [{"id": f"a{i}", "text": " ".join(sentences[i % len(sentences) : i % len(sentences) + 1 + i % 4])} for i in range(n)]


def test_workers_give_the_records_of_one_process_in_input_order(tiny_transformer_dir: Path, seed: Article, tmp_path: Path) -> None:
    rows = _articles(seed, 75)
    lines = [json.dumps(r) for r in rows]
    lines.insert(40, "{not json")  # a bad row between batches keeps its place in the errors, not the output
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    outputs = {}
    for workers in ("1", "2"):
        out = tmp_path / f"out-{workers}.jsonl"
        result = CliRunner().invoke(app, ["score", str(corpus), "-o", str(out), "--model", str(tiny_transformer_dir), "--workers", workers])
        assert result.exit_code == 1, result.output  # 1: one input failed
        outputs[workers] = out.read_text(encoding="utf-8")
        errors = [json.loads(line) for line in out.with_name(out.name + ".errors.jsonl").read_text(encoding="utf-8").splitlines()]
        assert len(errors) == 1 and "line 41" in errors[0]["source"]
    assert outputs["1"] == outputs["2"]
    assert [json.loads(line)["id"] for line in outputs["2"].splitlines()] == [r["id"] for r in rows]


def test_a_batch_whose_worker_died_is_scored_here(tiny_transformer_dir: Path, seed: Article) -> None:
    model = framing.load_model(tiny_transformer_dir)
    batch = [Article(id=r["id"], text=r["text"]) for r in _articles(seed, 3)]
    died: Future = Future()
    died.set_exception(BrokenProcessPool("a worker was killed"))
    scored = list(_result((died, batch), model))
    assert [a.id for a in scored] == ["a0", "a1", "a2"] and all(s.label for a in scored for s in a.sentences)


def test_small_inputs_stay_in_this_process(tiny_transformer_dir: Path, seed: Article, monkeypatch) -> None:
    import framing.parallel

    monkeypatch.setattr(framing.parallel, "ProcessPoolExecutor", None)  # would fail if a pool were started
    model = framing.load_model(tiny_transformer_dir)
    articles = [Article(id=r["id"], text=r["text"]) for r in _articles(seed, 10)]
    scored = list(score_parallel(articles, model, ModelSpec.of(tiny_transformer_dir), workers=4))
    assert [a.id for a in scored] == [f"a{i}" for i in range(10)]
