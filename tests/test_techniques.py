from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import framing
from framing.cli import app
from framing.record import Article, TechniqueSpan
from framing.taxonomy import TECHNIQUES
from framing.model.decode import decode_techniques
from framing.evaluate import span_metric
from tests.conftest import SEED_TEXT, download_export, open_page


def test_span_metric_gives_partial_credit() -> None:
    gold = {"a": [TechniqueSpan(0, 10, "Doubt"), TechniqueSpan(20, 30, "Loaded_Language")]}
    pred = {"a": [TechniqueSpan(5, 10, "Doubt"), TechniqueSpan(20, 30, "Slogans")]}
    m = span_metric(gold, pred)
    # Agnostic: both predicted spans lie wholly inside gold spans (P 1.0); gold covered 0.5 + 1.0 of 2 (R 0.75).
    assert m["span"]["precision"] == pytest.approx(1.0) and m["span"]["recall"] == pytest.approx(0.75)
    # Aware: only the Doubt span matches: P (1 + 0) / 2, R (0.5 + 0) / 2.
    assert m["technique_aware"]["precision"] == pytest.approx(0.5) and m["technique_aware"]["recall"] == pytest.approx(0.25)
    assert m["per_technique"]["Doubt"]["f1"] == pytest.approx(2 * 1.0 * 0.5 / 1.5)
    assert m["per_technique"]["Slogans"]["f1"] == 0.0


def test_decode_techniques_runs_per_technique() -> None:
    offsets = [(-1, -1), (0, 4), (5, 9), (10, 14), (15, 19)]
    probs = np.zeros((5, len(TECHNIQUES)))
    doubt, loaded = TECHNIQUES.index("Doubt"), TECHNIQUES.index("Loaded_Language")
    probs[1:3, doubt] = 0.9
    probs[2:5, loaded] = 0.7
    probs[0, :] = 0.99  # special token: ignored
    spans = decode_techniques(offsets, probs, "aaaa bbbb cccc dddd", threshold=0.5)
    assert [(s.technique, s.start, s.end) for s in spans] == [("Doubt", 0, 9), ("Loaded_Language", 5, 19)]
    assert spans[0].prob == pytest.approx(0.9)


@pytest.fixture(scope="module")
def technique_model_dir(tiny_transformer_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from framing.model.torch_model import TransformerModel, technique_head

    directory = tmp_path_factory.mktemp("tiny-techniques")
    model = TransformerModel.load(tiny_transformer_dir)
    torch.manual_seed(1)
    head = technique_head(32, len(TECHNIQUES))
    with torch.no_grad():
        head[2].bias.fill_(-3.0)
        head[2].bias[TECHNIQUES.index("Loaded_Language")] = 0.5  # fires on many tokens
    model.network.techniques = head
    model.info["technique_thresholds"] = 0.5
    model.save(directory)
    return directory


def test_score_adds_techniques_profile_and_can_skip_them(technique_model_dir: Path, tmp_path: Path) -> None:
    model = framing.load_model(technique_model_dir)
    article = framing.score_text(SEED_TEXT.read_text(encoding="utf-8"), model)
    found = article.techniques
    assert found and all(t.technique in TECHNIQUES and 0 <= t.start < t.end <= len(article.text) for t in found)
    assert article.profile is not None and article.profile.techniques is not None
    profile = article.profile.techniques
    assert profile.spans == len(found) and sum(profile.counts.values()) == len(found)
    out = tmp_path / "o.jsonl"
    result = CliRunner().invoke(app, ["score", str(SEED_TEXT), "-o", str(out), "--model", str(technique_model_dir), "--no-techniques"])
    assert result.exit_code == 0
    record = json.loads(out.read_text(encoding="utf-8"))
    assert "techniques" not in record and "techniques" not in record["profile"]
    # The head adds nothing to the sentence labels.
    model.use_techniques = False
    plain = framing.score_text(SEED_TEXT.read_text(encoding="utf-8"), model)
    assert [s.label for s in plain.sentences] == [s.label for s in article.sentences]


@pytest.mark.browser
def test_report_marks_and_filters_techniques(browser, technique_model_dir: Path, tmp_path: Path) -> None:  # noqa: ANN001
    from framing.report import write_report

    article = framing.score_text(SEED_TEXT.read_text(encoding="utf-8"), framing.load_model(technique_model_dir))
    write_report([article], tmp_path)
    page_path = next(p for p in tmp_path.glob("*.html") if p.name != "index.html")
    page, errors = open_page(browser, page_path)
    assert page.locator("#text .tech").count() > 0
    with_technique = page.locator('.s[data-techniques*="Loaded_Language"]').count()
    assert 0 < with_technique
    page.select_option("#technique-filter", "Loaded_Language")
    assert page.locator(".s:visible").count() == with_technique
    page.locator('.s[data-techniques*="Loaded_Language"]').first.focus()
    assert "technique: Loaded Language" in page.locator("#tip").inner_text()
    assert "Loaded Language" in page.locator("#techniques").inner_text()
    assert errors == []
    page.close()


def test_evaluate_reports_the_semeval_span_metric(technique_model_dir: Path, tiny_model_dir: Path, seed: Article, tmp_path: Path) -> None:
    gold = copy.deepcopy(seed)
    gold.techniques = [TechniqueSpan(60, 72, "Loaded_Language")]
    path = tmp_path / "gold.jsonl"
    path.write_text(gold.to_json() + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["evaluate", str(path), "--model", str(technique_model_dir), "--baseline", str(tiny_model_dir), "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    model_result = next(v for k, v in metrics.items() if k.startswith("model"))
    assert model_result["techniques"]["span"]["gold"] == 1
    assert 0.0 <= model_result["techniques"]["technique_aware"]["f1"] <= 1.0
    assert "techniques" not in next(v for k, v in metrics.items() if k.startswith("baseline"))


@pytest.mark.browser
def test_review_removes_a_technique_span(browser, technique_model_dir: Path, tmp_path: Path) -> None:  # noqa: ANN001
    from framing.report import write_report

    article = framing.score_text(SEED_TEXT.read_text(encoding="utf-8"), framing.load_model(technique_model_dir))
    before = [t.to_dict() for t in article.techniques or []]
    write_report([article], tmp_path, review=True)
    page_path = next(p for p in tmp_path.glob("*.html") if p.name != "index.html")
    context = browser.new_context(accept_downloads=True)
    page, errors = open_page(context, page_path)
    first = page.locator("#text .tech").first
    ids = [int(n) for n in first.get_attribute("data-tech-ids").split(";")]
    first.click()
    assert "removed" in (first.get_attribute("class") or "")
    page.reload()
    assert "removed" in (page.locator("#text .tech").first.get_attribute("class") or ""), "removal must survive a reload"
    exported = download_export(page, tmp_path / "c.jsonl")
    assert errors == []
    context.close()
    record = json.loads(exported.read_text(encoding="utf-8"))
    assert record["rejected_techniques"] == [before[n] for n in ids]
    assert record["techniques"] == [t for n, t in enumerate(before) if n not in ids]


def test_joint_training_learns_the_technique_head_with_the_encoder(tiny_transformer_dir: Path, seed: Article, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``techniques: true`` trains the head on PTC-style articles, keeps held-out ones out, picks the
    threshold on the tuning slice and measures dev: all on stand-in PTC articles made from the seed."""
    import training.train_techniques as tt
    from training.config import TransformerConfig
    from training.splits import split_of
    from training.train_transformer import run, technique_targets, window_dataset

    text = seed.text
    start = text.index("Dashkin")
    gold = [TechniqueSpan(start, start + len("Dashkin"), "Name_Calling,Labeling"), TechniqueSpan(0, 40, "Loaded_Language")]
    ids = [f"ptc-t{n}" for n in range(12)]
    assert any(split_of(i) == "dev" for i in ids) and any(split_of(i) != "dev" for i in ids)
    monkeypatch.setattr(tt, "load_ptc", lambda split: [(Article(id=i, text=text), copy.deepcopy(gold)) for i in ids])

    # Per token, the techniques covering it; a window of an article without technique annotation gives None.
    from framing.score import prepare
    from framing.model.torch_model import TransformerModel

    model = TransformerModel.load(tiny_transformer_dir)
    marked = prepare(Article(id="m", text=text))
    marked.techniques = list(gold)
    windows = model.windows([marked])
    covered = [t for w in windows for (s, e), t in zip(w.offsets, technique_targets(w, [marked]) or []) if s >= start and e <= start + 7]
    window = windows[0]
    assert covered and all(TECHNIQUES.index("Name_Calling,Labeling") in t for t in covered)
    assert technique_targets(window, [prepare(Article(id="u", text=text))]) is None
    assert window_dataset(model, [marked], {})[0]["has_techniques"] is True

    out = tmp_path / "joint"
    config = TransformerConfig(base_model=str(tiny_transformer_dir), sources=["seed"], epochs=2, max_tokens=64, output_dir=str(out),
                               threads=1, techniques=True, technique_thresholds=[0.3, 0.5])
    logs: list[str] = []
    run(config, log=logs.append)
    assert (out / "techniques.safetensors").exists()
    info = json.loads((out / "framing-model.json").read_text(encoding="utf-8"))
    assert info["technique_thresholds"] in (0.3, 0.5)
    metrics = info["technique_metrics"]
    assert metrics["trained"] == "jointly with the encoder" and 0 < metrics["train_articles"] < len(ids) and metrics["tune_articles"] > 0
    assert 0.0 <= metrics["ptc-dev"]["span"]["f1"] <= 1.0
    scored = next(framing.score_articles([Article(id="x", text=text)], framing.load_model(out)))
    assert isinstance(scored.techniques, list)
