from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from framing.cli import app

runner = CliRunner()

TEXT = "The minister said the talks would resume on Monday in the capital city."


REPO = Path(__file__).resolve().parents[1]

SENTENCES = [
    "The minister said the talks would resume on Monday.",
    "This is surely a disaster for everyone involved.",
    "The council met on Tuesday and approved the budget.",
    "Officials claimed the plan will likely fail.",
]


def _score(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "framing", "score", *args], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def test_leftover_partial_output_is_not_overwritten_without_resume(tiny_model_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text(TEXT, encoding="utf-8")
    partial = tmp_path / "out.jsonl.partial"
    partial.write_text('{"id": "x", "text": "kept"}\n', encoding="utf-8")
    result = runner.invoke(app, ["score", str(src), "-o", str(tmp_path / "out.jsonl"), "--model", str(tiny_model_dir)])
    assert result.exit_code == 2 and "--resume" in result.output
    assert partial.read_text(encoding="utf-8") == '{"id": "x", "text": "kept"}\n'


def test_kill_then_resume_gives_the_uninterrupted_output(tiny_model_dir: Path, tmp_path: Path) -> None:
    n = 3000
    src = tmp_path / "in.jsonl"
    with open(src, "w", encoding="utf-8") as handle:
        for i in range(n):
            text = " ".join(SENTENCES[(i + k) % 4] for k in range(6)) + f" Item {i} was filed."
            handle.write(json.dumps({"id": f"a{i:05d}", "text": text, "meta": {"outlet": f"o{i % 3}"}}) + "\n")
    full = tmp_path / "full.jsonl"
    done = _score([str(src), "-o", str(full), "--model", str(tiny_model_dir)])
    assert done.wait(timeout=300) == 0, done.stderr.read().decode() if done.stderr else ""

    out = tmp_path / "out.jsonl"
    partial = out.with_name(out.name + ".partial")
    proc = _score([str(src), "-o", str(out), "--model", str(tiny_model_dir)])
    deadline = time.monotonic() + 240
    while _lines(partial) < 200 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    written = _lines(partial)
    assert not out.exists(), "a killed batch must not leave a complete-looking output"
    assert 0 < written < n, f"the kill came too late to test anything ({written} of {n} written)"
    # The kill may also tear a line in half: resume must drop it.
    with open(partial, "ab") as handle:
        handle.write(b'{"id": "a0')

    again = _score([str(src), "-o", str(out), "--model", str(tiny_model_dir), "--resume"])
    assert again.wait(timeout=300) == 0
    assert again.stderr is not None and f"{written} articles already scored" in again.stderr.read().decode()
    assert not partial.exists()
    assert out.read_bytes() == full.read_bytes()
    # Per-outlet totals cover the articles of both runs.
    outlets = json.loads(Path(str(out) + ".outlets.json").read_text(encoding="utf-8"))
    assert sum(o["articles"] for o in outlets) == n
    assert outlets == json.loads(Path(str(full) + ".outlets.json").read_text(encoding="utf-8"))


def test_resume_refuses_formats_it_cannot_continue(tiny_model_dir: Path, tmp_path: Path) -> None:
    proc = _score([str(tmp_path), "-o", str(tmp_path / "o.csv"), "--format", "csv", "--resume", "--model", str(tiny_model_dir)])
    assert proc.wait(timeout=120) == 2
    assert proc.stderr is not None and "--resume needs a JSONL output" in proc.stderr.read().decode()
    assert os.listdir(tmp_path) == []


def _articles_input(tmp_path: Path, n: int) -> Path:
    src = tmp_path / "in.jsonl"
    with open(src, "w", encoding="utf-8") as handle:
        for i in range(n):
            text = " ".join(SENTENCES[(i + k) % 4] for k in range(3)) + f" Item {i} was filed."
            handle.write(json.dumps({"id": f"a{i}", "text": text, "meta": {"outlet": f"o{i % 2}", "title": f"Story {i}"}}) + "\n")
    return src


def test_articles_table_of_a_resumed_batch_covers_every_article(tiny_model_dir: Path, tmp_path: Path) -> None:
    """``--articles`` with ``--resume``: the articles the killed run had written come from its partial
    output, so the table equals the one of an uninterrupted run."""
    src = _articles_input(tmp_path, 12)
    full, full_table = tmp_path / "full.jsonl", tmp_path / "full.csv"
    args = ["score", str(src), "--model", str(tiny_model_dir)]
    assert runner.invoke(app, [*args, "-o", str(full), "--articles", str(full_table)]).exit_code == 0
    out, table = tmp_path / "out.jsonl", tmp_path / "articles.csv"
    # What a kill after 5 articles leaves: their lines, and half of the sixth.
    lines = full.read_bytes().splitlines(keepends=True)
    (tmp_path / "out.jsonl.partial").write_bytes(b"".join(lines[:5]) + lines[5][:40])
    result = runner.invoke(app, [*args, "-o", str(out), "--resume", "--articles", str(table)])
    assert result.exit_code == 0, result.output
    assert "5 articles already scored" in result.output and "12 article rows" in result.output
    assert out.read_bytes() == full.read_bytes()
    assert table.read_text(encoding="utf-8") == full_table.read_text(encoding="utf-8")
    assert len(table.read_text(encoding="utf-8").splitlines()) == 13


def test_articles_table_is_streamed_and_dropped_when_the_batch_fails(tiny_model_dir: Path, tmp_path: Path) -> None:
    """Rows go to the table as articles are scored (nothing held until the end), through a temporary file
    that becomes the table only when the batch ends: a failed batch leaves no table, nor half of one."""
    from framing.batch import score_into
    from framing.io import ArticleTable, OutputWriter, read_inputs
    from framing.model import ModelSpec, load_model

    src = _articles_input(tmp_path, 6)
    model = load_model(tiny_model_dir)
    table = ArticleTable(tmp_path / "articles.csv")
    writer = OutputWriter(tmp_path / "out.jsonl")
    seen: list[int] = []

    def stop_at_the_fourth(item: object) -> None:
        [part] = tmp_path.glob(".articles.csv.*.part")
        table._handle.flush()
        seen.append(len(part.read_text(encoding="utf-8").splitlines()) - 1)  # rows already written
        if len(seen) == 4:
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError, match="killed"):
        score_into(writer, read_inputs([str(src)]), model, ModelSpec.of(tiny_model_dir), 1, on_item=stop_at_the_fourth, articles=table)
    assert seen == [1, 2, 3, 4]
    assert not (tmp_path / "articles.csv").exists() and not list(tmp_path.glob(".articles.csv.*"))
    assert (tmp_path / "out.jsonl.partial").exists()  # the scored output is kept for --resume
