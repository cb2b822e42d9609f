from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import framing
from framing.cli import app
from framing.taxonomy import TECHNIQUES
from tests.conftest import SEED_TEXT


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
