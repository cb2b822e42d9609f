"""The retraining loop on a tiny model and a tiny corpus: import a Label Studio export and a doccano
export, retrain, compare, switch the default, score with the new model. Also export, suggest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from framing.annotations import import_file
from framing.cli import app
from framing.record import LABELS, read_jsonl
from tests.conftest import SEED_TEXT

FIXTURES = Path(__file__).parent / "fixtures"
runner = CliRunner()


def test_label_studio_import_reads_labels_and_spans_and_reports_skips() -> None:
    result = import_file(FIXTURES / "labelstudio-export.json", "labelstudio")
    assert [a.id for a in result.articles] == ["ls-0", "ls-1", "ls-2", "ls-3"]
    assert result.sentences == sum(len(a.sentences) for a in result.articles) == 36
    reasons = {s.reason.split(" (")[0].split(":")[0] for s in result.skipped}
    assert any("'opinion' is not one of" in s.reason for s in result.skipped)
    assert any("offsets outside the text" in s.reason for s in result.skipped)
    assert any(s.where.endswith("task 5") and "no labelled sentence" in s.reason for s in result.skipped)
    assert len(result.skipped) == 3, reasons
    with_source = [s for a in result.articles for s in a.sentences if s.source]
    assert with_source and all(s.label in LABELS for a in result.articles for s in a.sentences)
    article = result.articles[0]
    assert all(article.text[s.source.start : s.source.end] == s.source.text for s in article.sentences if s.source)


def test_doccano_and_csv_import() -> None:
    result = import_file(FIXTURES / "doccano.jsonl", "doccano")
    assert [a.id for a in result.articles] == ["300", "301", "302"]
    assert len(result.skipped) == 1 and "line 4" in result.skipped[0].where and "not valid JSON" in result.skipped[0].reason


def test_csv_import(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text(
        "article_id,sentence,label\n"
        "a1,The minister said the talks would resume.,attributed_claim\n"
        "a1,This is surely a disaster.,editorial_framing\n"
        "a2,The council met on Tuesday.,fact\n"
        "a2,,other\n",
        encoding="utf-8",
    )
    result = import_file(path, "csv")
    [a1] = result.articles
    assert [a1.text[s.start : s.end] for s in a1.sentences] == ["The minister said the talks would resume.", "This is surely a disaster."]
    assert [s.where.rsplit(" ", 1)[-1] for s in result.skipped] == ["4", "5"]


@pytest.fixture()
def models_dir(tiny_transformer_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "models"
    shutil.copytree(tiny_transformer_dir, root / "tiny")
    (root / "DEFAULT").write_text("tiny\n", encoding="utf-8")
    monkeypatch.setenv("FRAMING_MODELS_DIR", str(root))
    return root


def test_import_retrain_compare_switch_score(models_dir: Path, tmp_path: Path) -> None:
    new = tmp_path / "new.jsonl"
    assert runner.invoke(app, ["import", str(FIXTURES / "labelstudio-export.json"), "--from", "labelstudio", "-o", str(new)]).exit_code == 0
    more = tmp_path / "more.jsonl"
    result = runner.invoke(app, ["import", str(FIXTURES / "doccano.jsonl"), "--from", "doccano", "-o", str(more)])
    assert result.exit_code == 0 and "1 skipped" in result.output

    config = tmp_path / "retrain.yaml"
    config.write_text(
        "kind: transformer-window\nname: retrained\noutput_dir: " + str(models_dir / "retrained") + "\n"
        "init_model: default\nsources: [seed]\nsource_weights: {new: 8.0}\nmax_tokens: 64\nepochs: 2\n"
        "lr: 1.0e-3\nhead_lr: 1.0e-2\nwarmup: 0.0\nthreads: 1\ncompact: true\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["train", str(config), "--annotations", str(new), "--annotations", str(more)])
    assert result.exit_code == 0, result.output
    assert "continuing from" in result.output and "held-out sentences changed label" in result.output
    out = models_dir / "retrained"
    info = json.loads((out / "framing-model.json").read_text(encoding="utf-8"))
    # ls-0 and ls-2 fall in the test split by their id's hash: held out, measured for both models.
    assert info["metrics"]["new-test"]["articles"] == 2
    assert "new-test" in info["baseline_metrics"] and info["continued_from"].endswith("tiny")
    assert (out / "changed.jsonl").exists()
    # A second retrain never overwrites the first.
    assert runner.invoke(app, ["train", str(config), "--annotations", str(new)]).exit_code == 0
    assert (models_dir / "retrained-v2" / "framing-model.json").exists()

    listed = runner.invoke(app, ["models", "list"])
    assert listed.exit_code == 0 and "retrained-v2" in listed.output and "tiny" in listed.output
    mine = info["metrics"]["new-test"]["labels"]["macro_f1"]
    theirs = info["baseline_metrics"]["new-test"]["labels"]["macro_f1"]
    used = runner.invoke(app, ["models", "use", "retrained"])
    if mine < theirs:
        assert used.exit_code == 1 and "lower than the current default" in used.output
        used = runner.invoke(app, ["models", "use", "retrained", "--force"])
    assert used.exit_code == 0, used.output
    assert (models_dir / "DEFAULT").read_text(encoding="utf-8").strip() == "retrained"
    # A model that cannot be compared (no shared held-out data) is refused without --force.
    refused = runner.invoke(app, ["models", "use", "tiny"])
    assert refused.exit_code == 1 and "--force" in refused.output

    scored = tmp_path / "scored.jsonl"
    result = runner.invoke(app, ["score", str(SEED_TEXT), "-o", str(scored)])
    assert result.exit_code == 0, result.output
    assert read_jsonl(scored)[0].meta["model"] == "retrained"


def test_export_tasks_and_suggest_round_trip(tiny_model_dir: Path, tmp_path: Path) -> None:
    scored = tmp_path / "scored.jsonl"
    assert runner.invoke(app, ["score", str(SEED_TEXT), "-o", str(scored), "--model", str(tiny_model_dir)]).exit_code == 0
    tasks = tmp_path / "tasks.json"
    result = runner.invoke(app, ["export-tasks", str(scored), "--to", "labelstudio", "-o", str(tasks)])
    assert result.exit_code == 0
    assert "<Labels" in (tmp_path / "tasks.labeling-config.xml").read_text(encoding="utf-8")
    [task] = json.loads(tasks.read_text(encoding="utf-8"))
    original = read_jsonl(scored)[0]
    assert len(task["predictions"][0]["result"]) >= len(original.sentences)
    # An annotator accepts the predictions: importing them gives back the same labels.
    task["annotations"] = [{"result": task["predictions"][0]["result"]}]
    tasks.write_text(json.dumps([task]), encoding="utf-8")
    [back] = import_file(tasks, "labelstudio").articles
    assert [(s.start, s.end, s.label) for s in back.sentences] == [(s.start, s.end, s.label) for s in original.sentences]
    doccano = tmp_path / "tasks.jsonl"
    assert runner.invoke(app, ["export-tasks", str(scored), "--to", "doccano", "-o", str(doccano)]).exit_code == 0
    assert [(s.start, s.end, s.label) for s in import_file(doccano, "doccano").articles[0].sentences] == [(s.start, s.end, s.label) for s in original.sentences]

    picks_path = tmp_path / "suggest.jsonl"
    result = runner.invoke(app, ["suggest", str(scored), "-n", "5", "-o", str(picks_path)])
    assert result.exit_code == 0
    picks = [json.loads(line) for line in picks_path.read_text(encoding="utf-8").splitlines()]
    assert len(picks) == 5 and len({p["sentence_index"] for p in picks}) == 5
    margins = sorted((1 - (sorted(s.probs.values())[-1] - sorted(s.probs.values())[-2]) for s in original.sentences), reverse=True)
    assert min(p["uncertainty"] for p in picks) >= margins[5 * 5 - 1] - 1e-9  # all from the uncertain pool


def test_reviewed_records_train_only_on_reviewed_sentences(seed, tmp_path: Path) -> None:  # noqa: ANN001
    from framing.model.heads import sentence_targets
    from training.train_transformer import new_annotations

    record = seed.to_dict()
    record["id"] = "rv-1"  # falls in the train split by its id's hash
    record["meta"] = {"reviewed_by": "Ana", "reviewed_at": "2026-11-25T10:00:00Z", "model": "m"}
    record["sentences"][3]["reviewed"] = True
    record["sentences"][3]["model_label"] = "reported_fact"
    path = tmp_path / "corrections.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    train, test = new_annotations([str(path)])
    assert not test and len(train) == 1
    targets = [sentence_targets(s) for s in train[0].sentences]
    assert [i for i, t in enumerate(targets) if t] == [3]
    assert train[0].meta["source_set"] == "new"
