from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from framing.cli import app
from tests.conftest import SEED, SEED_TEXT

runner = CliRunner()


@pytest.mark.parametrize(
    "command",
    [[], ["score"], ["evaluate"], ["train"], ["report"], ["import"], ["export-tasks"], ["suggest"], ["models"], ["models", "use"]],
)
def test_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_batch_scores_good_reports_bad(tiny_model_dir: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a.txt").write_text(SEED_TEXT.read_text(encoding="utf-8"), encoding="utf-8")
    (inputs / "empty.txt").write_text("", encoding="utf-8")
    (inputs / "latin.txt").write_bytes("The café said it was closed on Monday.".encode("latin-1"))
    (inputs / "rows.jsonl").write_text(
        '{"id": "r1", "text": "The minister said the talks would resume on Monday."}\nnot json\n', encoding="utf-8"
    )
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["score", str(inputs), "-o", str(out), "--model", str(tiny_model_dir)])
    assert result.exit_code == 1
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in records] == ["a", "r1"]
    assert all(s["label"] and s["probs"] for r in records for s in r["sentences"])
    errors = [json.loads(line) for line in (tmp_path / "out.jsonl.errors.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(errors) == 3
    assert any("rows.jsonl line 2" in e["source"] for e in errors)
    assert "3 inputs failed" in result.output


def test_records_with_sentences_keep_their_spans(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["score", str(SEED), "-o", str(out), "--model", str(tiny_model_dir)])
    assert result.exit_code == 0, result.output
    gold = json.loads(SEED.read_text(encoding="utf-8").splitlines()[0])
    scored = json.loads(out.read_text(encoding="utf-8"))
    assert [(s["start"], s["end"]) for s in scored["sentences"]] == [(s["start"], s["end"]) for s in gold["sentences"]]
    assert "48 sentences" in result.output


def test_csv_and_parquet_outputs(tiny_model_dir: Path, tmp_path: Path) -> None:
    rows = None
    for fmt in ("csv", "parquet"):
        out = tmp_path / f"out.{fmt}"
        result = runner.invoke(app, ["score", str(SEED_TEXT), "-o", str(out), "--format", fmt, "--model", str(tiny_model_dir)])
        assert result.exit_code == 0, result.output
        if fmt == "csv":
            rows = list(csv.DictReader(out.open(encoding="utf-8")))
        else:
            import pyarrow.parquet as pq

            table = pq.read_table(out).to_pylist()
            assert rows is not None and len(table) == len(rows) == 48
            assert [r["label"] for r in table] == [r["label"] for r in rows]


def test_stdin_text(tiny_model_dir: Path) -> None:
    result = runner.invoke(
        app, ["score", "-", "--model", str(tiny_model_dir)], input="The minister said the talks would resume. It is surely a farce."
    )
    assert result.exit_code == 0
    record = json.loads(result.stdout.splitlines()[0])
    assert record["id"] == "stdin" and len(record["sentences"]) == 2


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["score", str(SEED_TEXT), "--model", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a framing model directory" in result.output


def test_evaluate_side_by_side_with_plots(tiny_model_dir: Path, tiny_transformer_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "evaluate",
            str(SEED),
            "--model",
            str(tiny_transformer_dir),
            "--baseline",
            str(tiny_model_dir),
            "--json",
            "--plots",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert set(metrics) == {"model: tiny-transformer", "baseline: tiny-test-model"}
    base = metrics["baseline: tiny-test-model"]
    assert base["sentences"] == 48 and sum(map(sum, base["confusion"]["matrix"])) == 48
    assert 0.0 <= base["calibration"]["ece"] <= 1.0
    assert base["macro_f1"] > metrics["model: tiny-transformer"]["macro_f1"]  # trained on the seed vs random weights
    assert all(Path(p).stat().st_size > 1000 for p in base["plots"])


def test_evaluate_table(tiny_model_dir: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(SEED), "--model", str(tiny_model_dir), "--baseline", str(tiny_model_dir)])
    assert result.exit_code == 0, result.output
    assert "macro-F1" in result.stdout and "confusion" in result.stdout


def test_train_baseline_from_config(tmp_path: Path) -> None:
    config = tmp_path / "tiny.yaml"
    config.write_text("kind: tfidf-logreg\nname: cli-tiny\nsources: [seed]\nmin_df: 1\n", encoding="utf-8")
    result = runner.invoke(app, ["train", str(config), "--output-dir", str(tmp_path / "model")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "model" / "weights.safetensors").exists()
    assert "cli-tiny" in (tmp_path / "model" / "README.md").read_text(encoding="utf-8")


def test_train_rejects_unknown_keys(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("kind: tfidf-logreg\nlearning_rat: 3\n", encoding="utf-8")
    result = runner.invoke(app, ["train", str(config)])
    assert result.exit_code == 2
    assert "unknown config keys ['learning_rat']" in result.output


def test_score_writes_profiles_and_outlet_aggregates(tiny_transformer_dir: Path, tmp_path: Path) -> None:
    rows = [
        {"id": "a", "text": "The minister said the talks would resume. This is surely a disaster.", "meta": {"outlet": "Daily A"}},
        {"id": "b", "text": "The war goes on. Putin said it.", "meta": {"outlet": "Daily A"}},
        {"id": "c", "text": "The council met on Tuesday.", "meta": {"outlet": "Wire B"}},
        {"id": "d", "text": "The council met on Tuesday."},
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["score", str(src), "-o", str(out), "--model", str(tiny_transformer_dir)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    for r in records:
        profile = r["profile"]
        assert profile["sentences"] == len(r["sentences"])
        assert sum(v["count"] for v in profile["labels"].values()) == len(r["sentences"])
        assert profile["summary"]
    outlets = json.loads((tmp_path / "out.jsonl.outlets.json").read_text(encoding="utf-8"))
    assert [(o["outlet"], o["articles"], o["sentences"]) for o in outlets] == [("Daily A", 2, 4), ("Wire B", 1, 1)]
    # The report reads what score wrote.
    result = runner.invoke(app, ["report", str(out), "-o", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "report").glob("*.html"))) == 5


def test_train_runs_every_kind_of_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``framing train configs/techniques.yaml`` runs the technique-head recipe (it failed with "unknown
    kind 'technique-head'"), and an unknown kind names the path once."""
    import training.train_techniques as tt
    from training.config import TechniquesConfig

    seen: list[TechniquesConfig] = []
    monkeypatch.setattr(tt, "run", lambda config, log=print: seen.append(config) or {})
    result = CliRunner().invoke(app, ["train", "configs/techniques.yaml"])
    assert result.exit_code == 0, result.output
    assert len(seen) == 1 and seen[0].kind == "technique-head" and seen[0].model == "models/minilm-window"
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: nonsense\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["train", str(bad)])
    assert result.exit_code == 2 and result.output.count(str(bad)) == 1 and "unknown kind 'nonsense'" in result.output
