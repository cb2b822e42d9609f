"""Faults and fuzz: hostile inputs, kills, concurrent runs and tampered files. Each case here lost,
mixed up or crashed on something before; now one bad input is one error and nothing else is lost."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from framing.cli import app
from framing.io import read_inputs
from framing.record import Article, LineError, iter_jsonl
from framing.report import write_report
from tests.conftest import open_page

REPO = Path(__file__).resolve().parents[1]
TEXT = "The minister said the talks would resume on Monday in the capital city. Officials agreed to meet again."
runner = CliRunner()


def _record(i: int, text: str = TEXT, **extra: object) -> str:
    return json.dumps({"id": f"a{i}", "text": text, **extra}) + "\n"


# --- JSONL input -------------------------------------------------------------------------------------


def test_one_invalid_utf8_byte_fails_its_line_only(tmp_path: Path) -> None:
    """A bad byte on line 1,200 of 1,500 dropped the 300 lines after it, with the error at the wrong line."""
    lines = [_record(i).encode("utf-8") for i in range(1500)]
    lines[1199] = lines[1199].replace(b"minister", b"minist\xffer")
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"".join(lines))
    items = list(iter_jsonl(path))
    errors = [i for i in items if isinstance(i, LineError)]
    assert len(items) == 1500 and len(errors) == 1
    assert errors[0].line == 1200 and "not valid UTF-8" in errors[0].message


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.lists(st.binary(max_size=60).filter(lambda b: b"\n" not in b), max_size=8))
@example(junk=[b"\x1c"])  # whitespace to str.strip, not to bytes.strip: found by the search once
def test_fuzzed_jsonl_lines_never_stop_the_reading(junk: list[bytes], tmp_path: Path) -> None:
    """Whatever a line holds, reading yields one item per non-blank line and every good record intact."""
    good = [_record(i).encode("utf-8") for i in range(3)]
    lines = [good[0], *[j + b"\n" for j in junk], good[1], b"[" * 50_000 + b"\n", good[2]]
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(b"".join(lines))
    items = list(iter_jsonl(path))
    # Blank as the reader sees it: str.strip also drops separators such as \x1c that bytes.strip keeps.
    non_blank = sum(1 for line in lines if line.decode("utf-8", "replace").strip())
    assert len(items) == non_blank
    articles = [i for i in items if isinstance(i, Article) and i.id in ("a0", "a1", "a2")]
    assert [a.id for a in articles][-3:] == ["a0", "a1", "a2"] and all(a.text == TEXT for a in articles[-3:])


def test_poison_lines_are_one_error_each_and_resume_goes_on(tiny_model_dir: Path, tmp_path: Path) -> None:
    """Markup in an echoed value, a lone surrogate escape and a deeply nested line ended the whole batch
    (and --resume hit the same crash forever)."""
    path = tmp_path / "in.jsonl"
    path.write_text(
        _record(0)
        + json.dumps({"id": "[/x] [bold]", "text": ""}) + "\n"
        + '{"id": "s", "text": "bad \\ud800 text"}\n'
        + "[" * 100_000 + "\n"
        + json.dumps({"id": "[/red]", "text": "<html><body><div><p>page</p></div></body></html>"}) + "\n"
        + _record(1),
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["score", str(path), "-o", str(out), "--model", str(tiny_model_dir)])
    assert result.exit_code == 1, result.output
    assert [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()] == ["a0", "a1"]
    errors = [json.loads(line) for line in (tmp_path / "out.jsonl.errors.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(errors) == 4
    assert {e["source"] for e in errors} == {f"{path} line {n}" for n in (2, 3, 4, 5)}
    assert "[/x] [bold]" in result.output and "[/red]" in result.output  # printed as they are
    assert sum(f"{path} line 2" in line for line in result.output.splitlines()) == 1
    again = runner.invoke(app, ["score", str(path), "-o", str(out), "--model", str(tiny_model_dir), "--resume"])
    assert again.exit_code == 1 and "2 articles already scored" in again.output


# --- Text and table input ----------------------------------------------------------------------------


def test_utf16_without_a_bom_is_text_not_binary(tmp_path: Path) -> None:
    for encoding in ("utf-16-le", "utf-16-be"):
        path = tmp_path / f"{encoding}.txt"
        path.write_bytes(TEXT.encode(encoding))
        [item] = list(read_inputs([str(path)]))
        assert isinstance(item, Article) and item.text == TEXT


def test_an_unclosed_csv_quote_is_reported_not_merged(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(f'id,text\n1,"{TEXT}\n2,"{TEXT} Second."\n3,"{TEXT} Third."\n', encoding="utf-8")
    items = list(read_inputs([str(path)]))
    assert any(not isinstance(i, Article) for i in items)
    assert not any(isinstance(i, Article) and "Second" in i.text for i in items), "row 2 must not vanish into row 1"


# --- Outputs ---------------------------------------------------------------------------------------


def test_output_problems_are_found_before_scoring_and_said_plainly(tiny_model_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text(TEXT, encoding="utf-8")
    (tmp_path / "outdir").mkdir()
    result = runner.invoke(app, ["score", str(src), "-o", str(tmp_path / "outdir"), "--model", str(tiny_model_dir)])
    assert result.exit_code == 2 and "is a directory" in result.output and "Traceback" not in result.output
    blocked = tmp_path / "a-file" / "out.jsonl"  # a parent that is a file: no directory can be made there
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    for fmt in ("jsonl", "csv"):
        result = runner.invoke(app, ["score", str(src), "-o", str(blocked), "--format", fmt, "--model", str(tiny_model_dir)])
        assert result.exit_code == 2 and "cannot write" in result.output, result.output
        assert not isinstance(result.exception, OSError)


def test_outputs_respect_the_umask_and_leave_no_stale_side_files(tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = os.umask(0o027)
    try:
        good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
        good.write_text(TEXT, encoding="utf-8")
        bad.write_text("", encoding="utf-8")
        out = tmp_path / "out.jsonl"
        assert runner.invoke(app, ["score", str(good), str(bad), "-o", str(out), "--model", str(tiny_model_dir)]).exit_code == 1
        errors = tmp_path / "out.jsonl.errors.jsonl"
        assert errors.exists()
        assert runner.invoke(app, ["score", str(good), "-o", str(out), "--model", str(tiny_model_dir)]).exit_code == 0
        assert not errors.exists(), "a clean run must not leave the last run's error list"
        csv_out = tmp_path / "out.csv"
        assert runner.invoke(app, ["score", str(good), "-o", str(csv_out), "--format", "csv", "--model", str(tiny_model_dir)]).exit_code == 0
        report = tmp_path / "report"
        assert runner.invoke(app, ["report", str(out), "-o", str(report)]).exit_code == 0
        for path in (out, csv_out, *report.glob("*.html")):
            assert path.stat().st_mode & 0o777 == 0o640, path
        # Written to standard output, a batch drops no side files into the current directory.
        monkeypatch.chdir(tmp_path / "report")
        before = set(os.listdir("."))
        assert runner.invoke(app, ["score", str(good), str(bad), "--model", str(tiny_model_dir)]).exit_code == 1
        assert set(os.listdir(".")) == before
    finally:
        os.umask(old)


# --- The report ------------------------------------------------------------------------------------


def _scored(article_id: str, text: str, model_dir: Path) -> Article:
    import framing

    return framing.score_text(text, framing.load_model(model_dir), article_id=article_id)


def test_report_pages_of_repeated_ids_and_odd_records(tiny_model_dir: Path, tmp_path: Path) -> None:
    """Twelve articles with a repeated id gave "12 article pages" and 11 files; a stored profile with
    wrong types and markup in an id ended ``framing report`` before its index."""
    articles = [_scored("story", TEXT, tiny_model_dir), _scored("story", TEXT + " A second story.", tiny_model_dir)]
    odd = _scored("[/x] odd", TEXT, tiny_model_dir).to_dict()
    odd["profile"] = {"sentences": "many", "labels": [], "summary": 3}
    path = tmp_path / "in.jsonl"
    path.write_text("".join(a.to_json() + "\n" for a in articles) + json.dumps(odd) + "\n{broken\n", encoding="utf-8")
    result = runner.invoke(app, ["report", str(path), "-o", str(tmp_path / "r")])
    assert result.exit_code == 1 and "3 article pages" in result.output and "line 4" in result.output
    pages = sorted(p for p in (tmp_path / "r").glob("*.html") if p.name != "index.html")
    assert len(pages) == 3 and (tmp_path / "r" / "index.html").exists()


@pytest.mark.browser
def test_review_corrections_stay_with_their_article(browser, tiny_model_dir: Path, tmp_path: Path) -> None:  # noqa: ANN001
    """Pages share one browser storage: two articles with one id showed each other's corrections, and
    the export wrote one article's labels onto the other's sentences."""
    first = _scored("story", TEXT, tiny_model_dir)
    second = _scored("story", "Rain fell on the city all day. The river rose by a metre overnight. Schools stayed open.", tiny_model_dir)
    write_report([first], tmp_path / "a", review=True)
    write_report([second], tmp_path / "b", review=True)
    page_a = next(p for p in (tmp_path / "a").glob("*.html") if p.name != "index.html")
    page_b = next(p for p in (tmp_path / "b").glob("*.html") if p.name != "index.html")
    context = browser.new_context(accept_downloads=True)
    page, errors = open_page(context, page_a)
    page.locator("#s0").click()
    target = next(label for label in ("other", "reported_fact") if label != first.sentences[0].label)
    page.locator(f'.set-label[data-label="{target}"]').click()
    assert page.locator("#s0").get_attribute("data-label") == target
    other, more_errors = open_page(context, page_b)
    assert other.locator("#s0").get_attribute("data-label") == second.sentences[0].label
    assert "changed" not in (other.locator("#s0").get_attribute("class") or "")
    # Stored corrections that do not fit the page's sentences are never exported onto them.
    key = other.locator("#review").get_attribute("data-review-key")
    other.evaluate("k => localStorage.setItem('framing-review:' + k, JSON.stringify({digest: k, state: {'40': {label: 'other', reviewed: true}}}))", key)
    other.reload()
    other.locator("#export").click()
    assert "Export refused" in other.locator("#export-status").inner_text()
    assert errors == [] and more_errors == []
    context.close()


# --- Models and the ONNX cache -----------------------------------------------------------------------


def test_a_tampered_cached_graph_is_rebuilt_not_used(tiny_transformer_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cached graph was found by its file name and never checked: a modified graph was used silently."""
    import framing
    from framing.model.onnx_model import cache_dir

    monkeypatch.setenv("FRAMING_CACHE_DIR", str(tmp_path / "cache"))
    expected = framing.score_text(TEXT, framing.load_model(tiny_transformer_dir))
    other = tmp_path / "other"
    shutil.copytree(tiny_transformer_dir, other)
    from safetensors.numpy import load_file, save_file

    head = load_file(str(other / "head.safetensors"))
    save_file({k: (v * -3.0 if v.ndim else v) for k, v in head.items()}, str(other / "head.safetensors"))
    framing.load_model(other)  # its graph lands in the cache too
    graphs = sorted(cache_dir().glob("*.onnx"), key=lambda p: p.stat().st_mtime)
    assert len(graphs) == 2
    graphs[0].write_bytes(graphs[1].read_bytes())  # the first model's graph replaced by the other's
    again = framing.score_text(TEXT, framing.load_model(tiny_transformer_dir))
    assert [s.probs for s in again.sentences] == [s.probs for s in expected.sentences]


# --- Kills, interrupts and concurrent runs --------------------------------------------------------------


def _children(pid: int) -> set[int]:
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.add(int(entry.name))
    return out


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def _big_input(tmp_path: Path, n: int = 3000) -> Path:
    src = tmp_path / "in.jsonl"
    src.write_text("".join(_record(i, f"{TEXT} {TEXT} {TEXT} Item {i} was filed.") for i in range(n)), encoding="utf-8")
    return src


def _interruptible() -> None:
    # A shell without job control starts a background job with SIGINT ignored, and the batch inherited
    # that when the test suite ran as one (`.ci/run &`): it never saw the Ctrl-C these tests send.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(args: list[str], cwd: Path = REPO) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "framing", "score", *args],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=_interruptible,
    )


def _wait_for_lines(path: Path, n: int, proc: subprocess.Popen[bytes], seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while (path.read_bytes().count(b"\n") if path.exists() else 0) < n and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.mark.parametrize("how", ["ctrl-c", "sigint", "kill-9", "sigterm"])
def test_interrupted_batches_stop_and_leave_no_workers(how: str, tiny_model_dir: Path, tmp_path: Path) -> None:
    """Workers and the resource tracker outlived a killed batch (about 160 MB each), SIGINT to the
    parent hung for minutes, and Ctrl-C (SIGINT to the whole group) was ignored."""
    # Far more than is scored before the signal: 3,000 articles took 10 s in all, and a loaded machine
    # (a training run beside the tests) once let the batch finish before the signal reached it.
    src = _big_input(tmp_path, 30000)
    out = tmp_path / "out.jsonl"
    partial = out.with_name(out.name + ".partial")
    proc = _start([str(src), "-o", str(out), "--model", str(tiny_model_dir), "--workers", "2"])
    try:
        _wait_for_lines(partial, 100, proc)
        assert partial.exists(), "no output within 180 s: the machine is too loaded to time this test"
        workers = _children(proc.pid)
        assert proc.poll() is None and workers, "the batch ended before it could be interrupted"
        started = time.monotonic()
        if how == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal({"sigint": signal.SIGINT, "kill-9": signal.SIGKILL, "sigterm": signal.SIGTERM}[how])
        proc.wait(timeout=60)
        assert time.monotonic() - started < 60
        deadline = time.monotonic() + 20
        while _alive(workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(workers), f"workers outlived the batch ({how})"
        assert partial.exists() and not out.exists()
        if how in ("ctrl-c", "sigint"):
            assert proc.returncode != 0 and b"--resume" in (proc.stderr.read() if proc.stderr else b"")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_resume_with_another_path_spelling_and_a_second_writer(tiny_model_dir: Path, tmp_path: Path) -> None:
    """Resuming with the path spelled differently rescored and appended everything (72 records for 40);
    a second --resume while the first still ran doubled everything (80 for 40)."""
    src = _big_input(tmp_path, 1200)
    out = tmp_path / "out.jsonl"
    partial = out.with_name(out.name + ".partial")
    first = _start([str(src), "-o", str(out), "--model", str(tiny_model_dir), "--workers", "1"], cwd=REPO)
    try:
        _wait_for_lines(partial, 50, first)
        first.send_signal(signal.SIGSTOP)  # still holding its output, paused so that it cannot finish first
        assert first.poll() is None
        second = subprocess.run(
            [sys.executable, "-m", "framing", "score", "in.jsonl", "-o", "out.jsonl", "--model", str(tiny_model_dir), "--resume"],
            cwd=tmp_path, capture_output=True, timeout=120,
        )
        assert second.returncode == 2 and b"being written by another framing score" in second.stderr
        first.send_signal(signal.SIGKILL)
        first.wait()
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
    # Resumed with a relative path where the first run had an absolute one.
    again = subprocess.run(
        [sys.executable, "-m", "framing", "score", "in.jsonl", "-o", "out.jsonl", "--model", str(tiny_model_dir), "--resume"],
        cwd=tmp_path, capture_output=True, timeout=300,
    )
    assert again.returncode == 0, again.stderr.decode()
    ids = [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(ids) == 1200 and len(set(ids)) == 1200


def test_a_bad_line_inside_a_partial_output_is_reported_not_cut(tiny_model_dir: Path, tmp_path: Path) -> None:
    """Resume cut the partial output at its first bad line: every good record after it was lost."""
    from framing.io import read_partial

    partial = tmp_path / "out.jsonl.partial"
    good = [_record(i, extra="x") for i in range(3)]
    partial.write_text(good[0] + "junk\n" + good[1] + good[2], encoding="utf-8")
    before = partial.read_bytes()
    with pytest.raises(ValueError, match="line 2 is not a scored record"):
        read_partial(partial)
    assert partial.read_bytes() == before
    partial.write_text(good[0] + json.dumps({"id": "m", "text": TEXT, "meta": "not an object"}) + "\n" + '{"id": "a9", "te', encoding="utf-8")
    resumed = read_partial(partial)
    assert sum(resumed.keys.values()) == 2 and partial.read_text(encoding="utf-8").count("\n") == 2


def test_a_profile_of_the_wrong_shape_stops_neither_report_nor_resume(tiny_model_dir: Path, tmp_path: Path) -> None:
    article = _scored("p", TEXT, tiny_model_dir)
    article.meta["outlet"] = "o"
    record = article.to_dict()
    record["profile"]["attribution"]["by_kind"] = {"person": "x"}
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["report", str(path), "-o", str(tmp_path / "r")])
    assert result.exit_code == 0 and (tmp_path / "r" / "index.html").exists(), result.output
    out = tmp_path / "out.jsonl"
    (tmp_path / "out.jsonl.partial").write_text(json.dumps(record) + "\n", encoding="utf-8")
    src = tmp_path / "a.txt"
    src.write_text(TEXT, encoding="utf-8")
    resumed = runner.invoke(app, ["score", str(src), "-o", str(out), "--model", str(tiny_model_dir), "--resume"])
    assert resumed.exit_code == 0, resumed.output


def test_one_article_that_breaks_the_model_is_one_error(tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch of one (the last article, or one between two input errors) re-raised: the batch ended."""
    import framing
    from framing.score import score_items

    model = framing.load_model(tiny_model_dir)
    real = model.predict

    def predict(articles: list[Article]) -> list:
        if any("poison" in a.text for a in articles):
            raise RuntimeError("the model broke")
        return real(articles)

    monkeypatch.setattr(model, "predict", predict)
    items = list(score_items([Article("ok", TEXT), Article("bad", TEXT + " poison"), Article("ok2", TEXT)], model, batch_size=1))
    assert [type(i).__name__ for i in items] == ["Article", "InputError", "Article"]
    assert "the model broke" in items[1].message


def test_jsonl_on_standard_input_fails_one_line_at_a_time(tiny_model_dir: Path) -> None:
    data = _record(0).encode() + _record(1).encode().replace(b"minister", b"minist\xffer") + _record(2).encode()
    result = subprocess.run([sys.executable, "-m", "framing", "score", "-", "--model", str(tiny_model_dir)], input=data, capture_output=True, cwd=REPO, timeout=120)
    assert result.returncode == 1
    assert [json.loads(line)["id"] for line in result.stdout.decode().splitlines()] == ["a0", "a2"]
    assert b"<stdin> line 2" in result.stderr
