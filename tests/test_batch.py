from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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
