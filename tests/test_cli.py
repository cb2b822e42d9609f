from __future__ import annotations

import csv
import dataclasses
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from framing.cli import app
from framing.record import Article
from tests.conftest import SEED, SEED_TEXT

runner = CliRunner()


@pytest.mark.parametrize(
    "command",
    [[], ["score"], ["evaluate"], ["train"], ["report"], ["import"], ["export-tasks"], ["suggest"], ["models"], ["models", "use"]],
)
def test_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_batch_scores_good_reports_bad(tiny_model_dir: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a.txt").write_text(SEED_TEXT.read_text(encoding="utf-8"), encoding="utf-8")
    (inputs / "empty.txt").write_text("", encoding="utf-8")
    (inputs / "latin.txt").write_bytes("The café said it was closed on Monday.".encode("latin-1"))
    (inputs / "rows.jsonl").write_text(
        '{"id": "r1", "text": "The minister said the talks would resume on Monday."}\nnot json\n', encoding="utf-8"
    )
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["score", str(inputs), "-o", str(out), "--model", str(tiny_model_dir)])
    assert result.exit_code == 1
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in records] == ["a", "r1"]
    assert all(s["label"] and s["probs"] for r in records for s in r["sentences"])
    errors = [json.loads(line) for line in (tmp_path / "out.jsonl.errors.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(errors) == 3
    assert any("rows.jsonl line 2" in e["source"] for e in errors)
    assert "3 inputs failed" in result.output


def test_records_with_sentences_keep_their_spans(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["score", str(SEED), "-o", str(out), "--model", str(tiny_model_dir)])
    assert result.exit_code == 0, result.output
    gold = json.loads(SEED.read_text(encoding="utf-8").splitlines()[0])
    scored = json.loads(out.read_text(encoding="utf-8"))
    assert [(s["start"], s["end"]) for s in scored["sentences"]] == [(s["start"], s["end"]) for s in gold["sentences"]]
    assert "48 sentences" in result.output


def test_csv_and_parquet_outputs(tiny_model_dir: Path, tmp_path: Path) -> None:
    rows = None
    for fmt in ("csv", "parquet"):
        out = tmp_path / f"out.{fmt}"
        result = runner.invoke(app, ["score", str(SEED_TEXT), "-o", str(out), "--format", fmt, "--model", str(tiny_model_dir)])
        assert result.exit_code == 0, result.output
        if fmt == "csv":
            rows = list(csv.DictReader(out.open(encoding="utf-8")))
        else:
            import pyarrow.parquet as pq

            table = pq.read_table(out).to_pylist()
            assert rows is not None and len(table) == len(rows) == 48
            assert [r["label"] for r in table] == [r["label"] for r in rows]


def test_stdin_text(tiny_model_dir: Path) -> None:
    result = runner.invoke(
        app, ["score", "-", "--model", str(tiny_model_dir)], input="The minister said the talks would resume. It is surely a farce."
    )
    assert result.exit_code == 0
    record = json.loads(result.stdout.splitlines()[0])
    assert record["id"] == "stdin" and len(record["sentences"]) == 2


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["score", str(SEED_TEXT), "--model", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a framing model directory" in result.output


def test_evaluate_side_by_side_with_plots(tiny_model_dir: Path, tiny_transformer_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "evaluate",
            str(SEED),
            "--model",
            str(tiny_transformer_dir),
            "--baseline",
            str(tiny_model_dir),
            "--json",
            "--plots",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert set(metrics) == {"model: tiny-transformer", "baseline: tiny-test-model", "model − baseline"}
    assert metrics["model − baseline"] == []  # one article: no interval
    base = metrics["baseline: tiny-test-model"]
    assert base["sentences"] == 48 and sum(map(sum, base["confusion"]["matrix"])) == 48
    assert 0.0 <= base["calibration"]["ece"] <= 1.0
    assert base["macro_f1"] > metrics["model: tiny-transformer"]["macro_f1"]  # trained on the seed vs random weights
    assert all(Path(p).stat().st_size > 1000 for p in base["plots"])


def test_evaluate_table(tiny_model_dir: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(SEED), "--model", str(tiny_model_dir), "--baseline", str(tiny_model_dir)])
    assert result.exit_code == 0, result.output
    assert "macro-F1" in result.stdout and "confusion" in result.stdout
    assert "no interval for the differences: 1 articles, fewer than 10" in result.stdout


def test_evaluate_gives_each_difference_with_its_interval(tiny_model_dir: Path, tiny_transformer_dir: Path, seed: Article, tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(dataclasses.replace(seed, id=f"copy-{i}").to_json() + "\n" for i in range(12)), encoding="utf-8")
    args = ["evaluate", str(gold), "--model", str(tiny_model_dir), "--baseline", str(tiny_transformer_dir)]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    macro = next(d for d in metrics["model − baseline"] if d["metric"] == "macro-F1 (3 main labels)")
    assert macro["model"] == pytest.approx(metrics["model: tiny-test-model"]["macro_f1"])
    assert macro["baseline"] == pytest.approx(metrics["baseline: tiny-transformer"]["macro_f1"])
    # Twelve copies of one article: every resample is that article twelve times, so no spread.
    assert macro["low"] == pytest.approx(macro["difference"]) == pytest.approx(macro["high"]) and macro["verdict"] == "better"
    table = runner.invoke(app, args)
    assert "95 % interval over 12 articles" in table.stdout and "better" in table.stdout


def test_train_baseline_from_config(tmp_path: Path) -> None:
    config = tmp_path / "tiny.yaml"
    config.write_text("kind: tfidf-logreg\nname: cli-tiny\nsources: [seed]\nmin_df: 1\n", encoding="utf-8")
    result = runner.invoke(app, ["train", str(config), "--output-dir", str(tmp_path / "model")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "model" / "weights.safetensors").exists()
    assert "cli-tiny" in (tmp_path / "model" / "README.md").read_text(encoding="utf-8")


def test_train_rejects_unknown_keys(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("kind: tfidf-logreg\nlearning_rat: 3\n", encoding="utf-8")
    result = runner.invoke(app, ["train", str(config)])
    assert result.exit_code == 2
    assert "unknown config keys ['learning_rat']" in result.output


def test_score_writes_profiles_and_outlet_aggregates(tiny_transformer_dir: Path, tmp_path: Path) -> None:
    rows = [
        {"id": "a", "text": "The minister said the talks would resume. This is surely a disaster.", "meta": {"outlet": "Daily A"}},
        {"id": "b", "text": "The war goes on. Putin said it.", "meta": {"outlet": "Daily A"}},
        {"id": "c", "text": "The council met on Tuesday.", "meta": {"outlet": "Wire B"}},
        {"id": "d", "text": "The council met on Tuesday."},
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["score", str(src), "-o", str(out), "--model", str(tiny_transformer_dir)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    for r in records:
        profile = r["profile"]
        assert profile["sentences"] == len(r["sentences"])
        assert sum(v["count"] for v in profile["labels"].values()) == len(r["sentences"])
        assert profile["summary"]
    outlets = json.loads((tmp_path / "out.jsonl.outlets.json").read_text(encoding="utf-8"))
    assert [(o["outlet"], o["articles"], o["sentences"]) for o in outlets] == [("Daily A", 2, 4), ("Wire B", 1, 1)]
    # The report reads what score wrote.
    result = runner.invoke(app, ["report", str(out), "-o", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "report").glob("*.html"))) == 5


def test_train_runs_every_kind_of_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``framing train configs/techniques.yaml`` runs the technique-head recipe (it failed with "unknown
    kind 'technique-head'"), and an unknown kind names the path once."""
    import training.train_techniques as tt
    from training.config import TechniquesConfig

    seen: list[TechniquesConfig] = []
    monkeypatch.setattr(tt, "run", lambda config, log=print: seen.append(config) or {})
    result = CliRunner().invoke(app, ["train", "configs/techniques.yaml"])
    assert result.exit_code == 0, result.output
    assert len(seen) == 1 and seen[0].kind == "technique-head" and seen[0].model == "models/minilm-window"
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: nonsense\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["train", str(bad)])
    assert result.exit_code == 2 and result.output.count(str(bad)) == 1 and "unknown kind 'nonsense'" in result.output


def _commands() -> list[tuple[list[str], object]]:
    """Every command of the ``framing`` app as (words to call it, click command)."""
    import typer.main

    out: list[tuple[list[str], object]] = []

    def walk(command: object, words: list[str]) -> None:
        out.append((words, command))
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*words, name])

    walk(typer.main.get_command(app), [])
    return out


def test_every_boolean_option_is_a_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``framing report out.jsonl --review true`` read "true" as a second file to report on; every
    boolean option is a flag, shown as one in the help, and a value after it is refused."""
    monkeypatch.chdir(tmp_path)  # where a command that does run (a regression) writes its default outputs
    flags = []
    for words, command in _commands():
        for param in getattr(command, "params", []):
            descriptor = getattr(param, "type_descriptor", None)
            if descriptor is not None and descriptor.annotation is bool and param.opts[0] != "--help":
                assert param.is_flag, f"{' '.join(words)} {param.opts[0]} takes a value"
                flags.append((words, param.opts[0], param.is_eager))
    assert {(" ".join(w), f) for w, f, _ in flags} >= {
        ("", "--version"),
        ("score", "--resume"),
        ("score", "--no-techniques"),
        ("report", "--review"),
        ("evaluate", "--json"),
        ("models use", "--force"),
    }
    for words, flag, eager in flags:
        if eager or flag in ("--install-completion", "--show-completion"):
            continue  # --version and typer's completion options act as soon as they are read: never run them here
        for value in ("true", "False", "1"):
            result = runner.invoke(app, [*words, flag, value])
            assert result.exit_code == 2, (words, flag, result.output)
            assert f"{flag} is a flag" in result.output
    help_text = runner.invoke(app, ["report", "--help"], terminal_width=200).output
    review = next(line for line in help_text.splitlines() if "--review" in line)
    assert "flag" in review and "<bool>" not in review


def test_review_flag_alone_works_and_a_value_after_it_is_refused(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    assert runner.invoke(app, ["score", str(SEED_TEXT), "-o", str(out), "--model", str(tiny_model_dir)]).exit_code == 0
    result = runner.invoke(app, ["report", str(out), "-o", str(tmp_path / "r1"), "--review", "true"])
    assert result.exit_code == 2 and "--review is a flag" in result.output and not (tmp_path / "r1").exists()
    result = runner.invoke(app, ["report", str(out), "-o", str(tmp_path / "r2"), "--review"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r2" / "index.html").exists()


def test_version() -> None:
    import importlib.metadata

    import framing

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"framing {framing.__version__}"
    assert framing.__version__ == importlib.metadata.version("framing")  # the package and pyproject agree


def test_id_col_help_states_one_default() -> None:
    text = " ".join(runner.invoke(app, ["score", "--help"], terminal_width=400).output.replace("│", " ").split())
    at = text.index("--id-col")
    id_help = text[at : text.index("--", at + 3)]
    assert "[default: id]" in id_help and "default: row number" not in id_help
    assert "FILE-ROW" in id_help


def _scored_with_progress(monkeypatch: pytest.MonkeyPatch, args: list[str], stdin: str | None = None) -> str:
    """Run ``framing score`` with its messages going to a terminal, and return what the terminal got."""
    import io

    from rich.console import Console

    import framing.cli as cli

    screen = io.StringIO()
    monkeypatch.setattr(cli, "err", Console(file=screen, force_terminal=True, width=160, markup=False, highlight=False))
    result = runner.invoke(app, ["score", *args], input=stdin)
    assert result.exit_code in (0, 1), result.output
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())  # colours and cursor moves out


def test_progress_bar_shows_a_total_and_time_left_when_inputs_are_counted(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(3):
        (inputs / f"a{i}.txt").write_text(f"The council met on day {i} and approved the budget, officials said.", encoding="utf-8")
    (inputs / "empty.txt").write_text("", encoding="utf-8")  # a failure moves the bar too
    (inputs / "more.jsonl").write_text(json.dumps({"id": "j", "text": "The minister said the talks would resume."}) + "\n", encoding="utf-8")
    screen = _scored_with_progress(monkeypatch, [str(inputs), "-o", str(tmp_path / "o.jsonl"), "--model", str(tiny_model_dir)])
    assert "5/5 articles" in screen and "ETA" in screen
    # Standard input: the number is not known, so no total and no time left.
    screen = _scored_with_progress(monkeypatch, ["-", "--model", str(tiny_model_dir)], stdin="The minister said the talks would resume.")
    assert "1 articles" in screen and "/1" not in screen and "ETA" not in screen


def test_sentence_tables_carry_the_newsroom_columns(technique_model_dir: Path, tmp_path: Path) -> None:
    from framing.io import SENTENCE_COLUMNS

    text = SEED_TEXT.read_text(encoding="utf-8")
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "seed", "text": text, "meta": {"title": "Drone attack", "outlet": "Daily"}}) + "\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["score", str(src), "-o", str(out), "--format", "csv", "--model", str(technique_model_dir)])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == SENTENCE_COLUMNS
        rows = list(reader)
    assert {(r["title"], r["outlet"]) for r in rows} == {("Drone attack", "Daily")}
    assert all(len(r["p_other"].split(".")[-1]) <= 4 for r in rows)
    assert any(r["techniques"] for r in rows) and all(
        set(r["techniques"].split(";")) <= {"Loaded_Language"} for r in rows if r["techniques"]
    )
    record = json.loads(runner.invoke(app, ["score", str(src), "--model", str(technique_model_dir)]).stdout)
    for row, sentence in zip(rows, record["sentences"]):
        source, cue = sentence.get("source") or {}, sentence.get("cue") or {}
        assert row["source"] == source.get("text", "") and row["source_kind"] == source.get("kind", "")
        assert row["source_resolved"] == source.get("resolved", "")
        assert row["cue_loaded"] == {True: "True", False: "False", None: ""}[cue.get("loaded")]


def test_articles_option_writes_one_profile_row_per_article(tiny_transformer_dir: Path, tmp_path: Path) -> None:
    from framing.io import ARTICLE_COLUMNS

    rows = [
        {"id": "a", "text": "The minister said the talks would resume. This is surely a disaster.", "meta": {"outlet": "Daily A", "title": "Talks", "date": "2025-05-25"}},
        {"id": "b", "text": "The war goes on. Putin said it.", "meta": {"outlet": "Daily A"}},
        {"id": "empty", "text": ""},
        {"id": "c", "text": "The council met on Tuesday."},
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out, table = tmp_path / "out.jsonl", tmp_path / "articles.csv"
    result = runner.invoke(app, ["score", str(src), "-o", str(out), "--articles", str(table), "--model", str(tiny_transformer_dir)])
    assert result.exit_code == 1, result.output  # the empty article failed; the others are in both outputs
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    with table.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ARTICLE_COLUMNS
        got = list(reader)
    assert [r["article_id"] for r in got] == [r["id"] for r in records] == ["a", "b", "c"]
    assert (got[0]["title"], got[0]["outlet"], got[0]["date"]) == ("Talks", "Daily A", "2025-05-25")
    for row, record in zip(got, records):
        profile = record["profile"]
        assert int(row["sentences"]) == profile["sentences"] and row["summary"] == profile["summary"]
        assert int(row["claims"]) == profile["attribution"]["claims"]
        assert float(row["named_share"]) == round(profile["attribution"]["named"], 4)
        assert row["top_source"] == (profile["sources"][0]["name"] if profile["sources"] else "")
    # Refused before anything is scored: a directory, a format it cannot write, the output itself, Ray.
    for bad in ([str(tmp_path)], [str(tmp_path / "a.xlsx")], [str(out)]):
        result = runner.invoke(app, ["score", str(src), "-o", str(out), "--articles", *bad, "--model", str(tiny_transformer_dir)])
        assert result.exit_code == 2 and "--articles" in result.output, result.output
    assert not (tmp_path / "out.jsonl.partial").exists() and not list(tmp_path.glob(".*.part"))
    result = runner.invoke(app, ["score", str(src), "--engine", "ray", "-o", str(tmp_path / "ray"), "--articles", str(table)])
    assert result.exit_code == 2 and "--articles works with the local engine" in result.output
