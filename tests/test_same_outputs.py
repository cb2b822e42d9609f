"""Refactors keep behaviour: the shipped model's outputs on the seed article and on a 50-article batch
(JSONL, CSV and the HTML report) are compared byte for byte, by digest, with the outputs recorded
before the code was reorganised (``tests/fixtures/same-outputs.json``).

A change that is meant to change outputs (a new default model, a new record field) records the new
digests on purpose: ``FRAMING_RECORD_OUTPUTS=1 pytest tests/test_same_outputs.py``, and says so.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import SEED_TEXT, SHARED
from typer.testing import CliRunner

from framing.cli import app

FIXTURE = Path(__file__).parent / "fixtures" / "same-outputs.json"
PTC_DEV = SHARED / "data" / "ptc-propaganda" / "dev-articles"

pytestmark = pytest.mark.slow


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_seed_and_batch_outputs_are_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(SEED_TEXT, inputs / SEED_TEXT.name)
    for path in sorted(PTC_DEV.glob("*.txt"))[:50]:
        shutil.copy(path, inputs / path.name)
    # Relative paths: records keep the path as given (meta.path), and the digests must not depend on
    # where the repository is cloned.
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    runner = CliRunner()
    runs = [
        ["score", f"in/{SEED_TEXT.name}", "-o", "out/seed.jsonl"],
        ["score", *[f"in/{p.name}" for p in sorted(inputs.glob("article*.txt"))], "-o", "out/batch.jsonl", "--workers", "1"],
        [
            "score",
            *[f"in/{p.name}" for p in sorted(inputs.glob("article*.txt"))],
            "-o",
            "out/batch.csv",
            "--format",
            "csv",
            "--workers",
            "1",
        ],
        ["report", "out/batch.jsonl", "-o", "out/report", "--review"],
    ]
    for args in runs:
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args[:2], result.output)
    found = _digests(out)
    assert len([k for k in found if k.startswith("report/")]) == 51  # 50 pages and the index
    if os.environ.get("FRAMING_RECORD_OUTPUTS") == "1":
        FIXTURE.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    expected = json.loads(FIXTURE.read_text(encoding="utf-8"))
    changed = sorted(k for k in expected.keys() | found.keys() if expected.get(k) != found.get(k))
    assert not changed, f"{len(changed)} outputs differ from the recorded ones: {changed[:5]}"
