from __future__ import annotations

import json
from pathlib import Path

import pytest

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


def _seed_task_with_emoji(seed: Article) -> tuple[Article, dict]:
    """The seed annotation with an emoji in its first sentence, as current Label Studio exports it:
    region offsets in code points, each region with its own text."""
    text = seed.text.replace("date", "date 🔥", 1)
    shift = len("date 🔥") - len("date")
    at = seed.text.index("date") + len("date")
    moved = lambda i: i + shift if i >= at else i  # noqa: E731
    result = []
    for n, s in enumerate(seed.sentences):
        start, end = moved(s.start), moved(s.end)
        result.append({"id": f"s{n}", "from_name": "label", "to_name": "text", "type": "labels",
                       "value": {"start": start, "end": end, "text": text[start:end], "labels": [s.label]}})
    article = Article("seed", text, {}, [Sentence(moved(s.start), moved(s.end), s.label) for s in seed.sentences])
    return article, {"data": {"id": "seed", "text": text}, "annotations": [{"result": result}]}


def test_label_studio_regions_are_code_points_with_utf16_exports_still_read(seed: Article, tmp_path: Path) -> None:
    """A real export of the seed annotation (an emoji before the regions) imported 0 of 48 labels: its
    code-point offsets were read as UTF-16 units. Both readings are accepted where the text matches."""
    from framing.annotations import _from_utf16, export_tasks

    article, task = _seed_task_with_emoji(seed)
    path = tmp_path / "ls.json"
    path.write_text(json.dumps([task]), encoding="utf-8")
    imported = import_file(path, "labelstudio")
    assert not imported.skipped and imported.sentences == len(seed.sentences) == 48
    assert [(s.start, s.end, s.label) for s in imported.articles[0].sentences] == [(s.start, s.end, s.label) for s in article.sentences]
    # An older export counted UTF-16 units (the emoji twice): read too, by the text each region holds.
    to_utf16 = {py: u for u, py in reversed(list(enumerate(_from_utf16(article.text) or [])))}
    for region in task["annotations"][0]["result"]:
        region["value"]["start"], region["value"]["end"] = to_utf16[region["value"]["start"]], to_utf16[region["value"]["end"]]
    path.write_text(json.dumps([task]), encoding="utf-8")
    assert import_file(path, "labelstudio").sentences == 48
    # Our export uses code points, like current Label Studio.
    exported = json.loads(export_tasks([article], "labelstudio"))[0]["predictions"][0]["result"]
    assert all(article.text[r["value"]["start"] : r["value"]["end"]] == r["value"]["text"] for r in exported)


def test_one_bad_region_or_task_is_skipped_alone(seed: Article, tmp_path: Path) -> None:
    article, task = _seed_task_with_emoji(seed)
    task["annotations"][0]["result"][5]["value"]["text"] = "text that is not there"
    task["annotations"][0]["result"][6]["value"] = "not an object"
    broken = [task, {"data": {"text": "x"}, "annotations": ["not an object"]}, "not a task", {"data": {"text": 5}}]
    path = tmp_path / "ls.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    imported = import_file(path, "labelstudio")
    assert imported.sentences == 46 and len(imported.articles) == 1
    reasons = " | ".join(f"{s.where}: {s.reason}" for s in imported.skipped)
    assert "task 1 region 6" in reasons and "task 1 region 7" in reasons and "task 3" in reasons and "task 4" in reasons
    nested = tmp_path / "nested.json"
    nested.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(ValueError, match="nested too deeply"):
        import_file(nested, "labelstudio")
    doccano = tmp_path / "d.jsonl"
    doccano.write_text(json.dumps({"text": 7, "label": []}) + "\n" + "[" * 100_000 + "\n" + json.dumps({"text": "ok", "label": [[0, 2, "other"]]}) + "\n", encoding="utf-8")
    imported = import_file(doccano, "doccano")
    assert len(imported.articles) == 1 and len(imported.skipped) == 2


def test_doccano_round_trip_keeps_texts_with_line_separators(tmp_path: Path) -> None:
    """U+2028 and U+0085 inside a text split the JSONL line in two on the way back: articles were lost."""
    from framing.annotations import export_tasks

    text = "The minister said\u2028the talks would resume.\u0085 Officials agreed."
    article = Article("ls", text, {}, [Sentence(0, len(text), "attributed_claim")])
    path = tmp_path / "d.jsonl"
    path.write_text(export_tasks([article], "doccano"), encoding="utf-8")
    imported = import_file(path, "doccano")
    assert not imported.skipped and imported.articles[0].text == text


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


def test_export_tasks_accepts_suggestions(tiny_model_dir: Path, tmp_path: Path) -> None:
    """``framing export-tasks`` on the output of ``framing suggest -o`` failed with "missing field 'id'".
    Suggestions become one task per article: its whole text, only the suggested sentences pre-labelled."""
    scored = tmp_path / "scored.jsonl"
    other = {"id": "other", "text": "The minister said the talks would resume on Monday. This is surely a disaster for everyone."}
    (tmp_path / "other.jsonl").write_text(json.dumps(other) + "\n", encoding="utf-8")
    args = ["score", str(SEED_TEXT), str(tmp_path / "other.jsonl"), "-o", str(scored), "--model", str(tiny_model_dir)]
    assert runner.invoke(app, args).exit_code == 0
    picks_path = tmp_path / "suggest.jsonl"
    assert runner.invoke(app, ["suggest", str(scored), "-n", "8", "-o", str(picks_path)]).exit_code == 0
    picks = [json.loads(line) for line in picks_path.read_text(encoding="utf-8").splitlines()]
    by_article: dict[str, set[int]] = {}
    for p in picks:
        by_article.setdefault(p["article_id"], set()).add(p["sentence_index"])
    texts = {a.id: a.text for a in read_jsonl(scored)}

    tasks_path = tmp_path / "tasks.json"
    result = runner.invoke(app, ["export-tasks", str(picks_path), "--to", "labelstudio", "-o", str(tasks_path)])
    assert result.exit_code == 0, result.output
    assert f"{len(by_article)} tasks" in result.output and "8 suggested sentences" in result.output
    tasks = json.loads(tasks_path.read_text(encoding="utf-8"))
    assert [t["data"]["id"] for t in tasks] == list(by_article)
    for task in tasks:
        article_id = task["data"]["id"]
        assert task["data"]["text"] == texts[article_id]  # the whole article, not the sentence alone
        assert {s["sentence_index"] for s in task["data"]["meta"]["suggested"]} == by_article[article_id]
        regions = task["predictions"][0]["result"]
        wanted = {(p["start"], p["end"], p["label"]) for p in picks if p["article_id"] == article_id}
        assert {(r["value"]["start"], r["value"]["end"], r["value"]["labels"][0]) for r in regions} == wanted
    # The annotator relabels one suggested sentence: the import has the suggested sentences at their
    # places in the article, with the annotator's labels.
    task = tasks[0]
    result_regions = [dict(r, value=dict(r["value"])) for r in task["predictions"][0]["result"]]
    result_regions[0]["value"]["labels"] = ["other"]
    task["annotations"] = [{"result": result_regions}]
    tasks_path.write_text(json.dumps([task]), encoding="utf-8")
    [back] = import_file(tasks_path, "labelstudio").articles
    assert back.id == task["data"]["id"] and back.text == texts[back.id]
    assert sorted((s.start, s.end, s.label) for s in back.sentences) == sorted(
        (r["value"]["start"], r["value"]["end"], r["value"]["labels"][0]) for r in result_regions
    )

    doccano = tmp_path / "tasks.jsonl"
    assert runner.invoke(app, ["export-tasks", str(picks_path), "--to", "doccano", "-o", str(doccano)]).exit_code == 0
    lines = [json.loads(line) for line in doccano.read_text(encoding="utf-8").splitlines()]
    assert [d["article_id"] for d in lines] == list(by_article) and all(d["text"] == texts[d["article_id"]] for d in lines)
    assert sum(len(d["label"]) for d in lines) == 8


def test_suggestions_without_article_text_become_sentence_tasks_and_bad_lines_are_named(tmp_path: Path) -> None:
    from framing.annotations import read_task_input

    old = {"article_id": "a1", "sentence_index": 3, "start": 40, "end": 60, "sentence": "Officials said it.", "label": "attributed_claim",
           "uncertainty": 0.9, "probs": {"attributed_claim": 0.5, "reported_fact": 0.4, "editorial_framing": 0.05, "other": 0.05}}
    path = tmp_path / "old.jsonl"
    path.write_text(json.dumps(old) + "\n", encoding="utf-8")
    [article] = read_task_input(path)
    assert article.id == "a1#3" and article.text == "Officials said it." and article.meta["article_id"] == "a1"
    assert [(s.start, s.end, s.label) for s in article.sentences] == [(0, 18, "attributed_claim")]
    result = runner.invoke(app, ["export-tasks", str(path), "--to", "doccano", "-o", str(tmp_path / "t.jsonl")])
    assert result.exit_code == 0 and "carry no article text" in result.output
    path.write_text(json.dumps(old | {"article_text": "Officials said it. " * 5}) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["export-tasks", str(path), "--to", "doccano", "-o", str(tmp_path / "t.jsonl")])
    assert result.exit_code == 2 and f"{path} line 1: offsets 40-60 do not hold the sentence" in result.output
