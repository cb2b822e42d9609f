from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from framing.annotations import import_file
from framing.attribution import gold_spans
from framing.cli import app
from framing.record import LABELS, Article, Sentence, TechniqueSpan, read_jsonl
from tests.conftest import SEED_TEXT

runner = CliRunner()

TEXT = "The minister said the talks would resume on Monday in the capital city."


FIXTURES = Path(__file__).parent / "fixtures"

runner = CliRunner()


def test_csv_imports_leave_spans_unknown(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    path.write_text(f"article_id,sentence,label\na,{TEXT},attributed_claim\n", encoding="utf-8")
    [article] = import_file(path, "csv").articles
    assert gold_spans(article.sentences[0]) is None
    marked = Sentence(0, 10, "attributed_claim")
    assert gold_spans(marked) == []  # a fully annotated sentence without spans says "no source here"


def test_label_studio_offsets_are_utf16(tmp_path: Path) -> None:
    from framing.annotations import export_tasks

    text = "Breaking 🔥 news. The minister said the talks would resume."
    second = text.index("The")
    article = Article("e", text, {}, [Sentence(0, second - 1, "other"), Sentence(second, len(text), "attributed_claim")])
    tasks = json.loads(export_tasks([article], "labelstudio"))
    regions = tasks[0]["predictions"][0]["result"]
    assert regions[1]["value"]["start"] == second + 1  # the emoji is two UTF-16 units
    tasks[0]["annotations"] = [{"result": regions}]
    path = tmp_path / "ls.json"
    path.write_text(json.dumps(tasks), encoding="utf-8")
    [back] = import_file(path, "labelstudio").articles
    assert [(s.start, s.end, s.label) for s in back.sentences] == [(s.start, s.end, s.label) for s in article.sentences]


def test_technique_spans_travel_through_label_studio_and_doccano(tmp_path: Path) -> None:
    from framing.annotations import LABEL_STUDIO_CONFIG, export_tasks

    article = Article("t", TEXT, {}, [Sentence(0, len(TEXT), "attributed_claim")])
    article.techniques = [TechniqueSpan(4, 12, "Loaded_Language", 0.8)]
    assert 'value="Loaded_Language"' in LABEL_STUDIO_CONFIG
    tasks = json.loads(export_tasks([article], "labelstudio"))
    tasks[0]["annotations"] = [{"result": tasks[0]["predictions"][0]["result"]}]
    path = tmp_path / "ls.json"
    path.write_text(json.dumps(tasks), encoding="utf-8")
    [back] = import_file(path, "labelstudio").articles
    assert back.techniques == [TechniqueSpan(4, 12, "Loaded_Language")]
    doccano = tmp_path / "d.jsonl"
    doccano.write_text(export_tasks([article], "doccano"), encoding="utf-8")
    [again] = import_file(doccano, "doccano").articles
    assert again.id == "t" and again.techniques is not None and again.techniques[0].technique == "Loaded_Language"


def test_reviewed_records_do_not_train_the_technique_head_on_model_spans() -> None:
    """A review export keeps the model's technique spans minus the removed ones; a reviewer cannot add the
    missed ones, so they are not a complete annotation. A Label Studio import's spans are."""
    from framing.annotations import confirmed_only

    spans = [TechniqueSpan(0, 4, "Loaded_Language")]
    reviewed = Article(id="r", text="Evil plans.", meta={"reviewed_by": "ann"}, techniques=list(spans))
    assert confirmed_only(reviewed).techniques is None
    imported = Article(id="i", text="Evil plans.", techniques=list(spans))
    assert confirmed_only(imported).techniques == spans


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
    assert [(s.start, s.end, s.label) for s in import_file(doccano, "doccano").articles[0].sentences] == [
        (s.start, s.end, s.label) for s in original.sentences
    ]

    picks_path = tmp_path / "suggest.jsonl"
    result = runner.invoke(app, ["suggest", str(scored), "-n", "5", "-o", str(picks_path)])
    assert result.exit_code == 0
    picks = [json.loads(line) for line in picks_path.read_text(encoding="utf-8").splitlines()]
    assert len(picks) == 5 and len({p["sentence_index"] for p in picks}) == 5
    margins = sorted((1 - (sorted(s.probs.values())[-1] - sorted(s.probs.values())[-2]) for s in original.sentences), reverse=True)
    assert min(p["uncertainty"] for p in picks) >= margins[5 * 5 - 1] - 1e-9  # all from the uncertain pool
