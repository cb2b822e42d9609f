from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from framing.cli import app
from framing.evaluate import span_metric
from framing.record import Article, TechniqueSpan


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


def test_evaluate_reports_the_semeval_span_metric(technique_model_dir: Path, tiny_model_dir: Path, seed: Article, tmp_path: Path) -> None:
    gold = copy.deepcopy(seed)
    gold.techniques = [TechniqueSpan(60, 72, "Loaded_Language")]
    path = tmp_path / "gold.jsonl"
    path.write_text(gold.to_json() + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["evaluate", str(path), "--model", str(technique_model_dir), "--baseline", str(tiny_model_dir), "--json"]
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    model_result = next(v for k, v in metrics.items() if k.startswith("model"))
    assert model_result["techniques"]["span"]["gold"] == 1
    assert 0.0 <= model_result["techniques"]["technique_aware"]["f1"] <= 1.0
    assert "techniques" not in next(v for k, v in metrics.items() if k.startswith("baseline"))
