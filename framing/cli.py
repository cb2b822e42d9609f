"""The ``framing`` command line: parses options, calls the library, turns its errors into messages."""

from __future__ import annotations

import json
import signal
import time
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text
from typer.core import TyperCommand, TyperGroup

from framing.batch import BatchResult, score_into, write_side_files
from framing.files import atomic_writer
from framing.io import DEFAULT_MAX_CHARS, ArticleTable, Columns, InputError, OutputWriter, count_inputs, read_inputs
from framing.model import ModelError, ModelSpec, SentenceModel, default_threads, load_model
from framing.parallel import DEFAULT_WORKERS_CAP
from framing.record import LABELS, Article

FLAG_VALUES = frozenset({"true", "false", "yes", "no", "on", "off", "1", "0", "y", "n", "t", "f"})


class _ShowsFlags:
    """Help that shows a boolean option as a flag ("flag" where typer prints "<bool>", which reads as an
    option taking a value)."""

    def get_params(self, ctx: Any) -> list[Any]:
        params: list[Any] = super().get_params(ctx)  # type: ignore[misc]
        for p in params:
            if getattr(p, "is_flag", False) and p.metavar is None:
                p.metavar = "flag"
        return params


class FlagGroup(_ShowsFlags, TyperGroup):
    """The ``framing`` and ``framing models`` groups, with flags shown as flags."""


class FlagCommand(_ShowsFlags, TyperCommand):
    """A command whose boolean options are flags: ``--review`` alone turns one on, leaving it out keeps it
    off, and ``--review true`` is refused. (Without this, ``true`` after a flag is taken as the next
    argument: ``framing report out.jsonl --review true`` tried to read a file named "true".)"""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        flags: dict[str, Any] = {name: p for p in self.params if getattr(p, "is_flag", False) for name in (*p.opts, *p.secondary_opts)}
        before_dashes = args[: args.index("--")] if "--" in args else args
        for option, value in zip(before_dashes, before_dashes[1:]):
            if option in flags and value.lower() in FLAG_VALUES:
                raise typer.BadParameter(
                    f"{option} is a flag: write {option} alone to turn it on, leave it out for off (not {option} {value})",
                    ctx=ctx,
                    param=flags[option],
                )
        return super().parse_args(ctx, args)


app = typer.Typer(help="Label news sentences as attributed claim, editorial framing or reported fact.", no_args_is_help=True, cls=FlagGroup)
# User text (paths, ids, messages that quote a record) is never read as console markup: "[/x]" in a
# file name must print as itself, not end the batch with a markup error.
err = Console(stderr=True, soft_wrap=True, markup=False, highlight=False)


def _say(label: str, style: str, message: str) -> None:
    """``label`` in ``style``, then ``message`` as plain text."""
    err.print(Text.assemble((label, style), " ", message))


class Backend(str, Enum):
    onnx_int8 = "onnx-int8"
    onnx = "onnx"
    torch = "torch"


BACKEND_HELP = (
    "how the transformer runs: onnx-int8 (fastest; held-out macro-F1 within 0.5 point of fp32), onnx (fp32, exactly torch's outputs), torch"
)


class Engine(str, Enum):
    local = "local"
    ray = "ray"


class Format(str, Enum):
    jsonl = "jsonl"
    csv = "csv"
    parquet = "parquet"


def _print_version(value: bool) -> None:
    if value:
        import framing

        typer.echo(f"framing {framing.__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="print the version of framing and exit")
    ] = False,
) -> None:
    """framing: who says what, and where the writer frames it."""


def _fail(message: str) -> NoReturn:
    """Report a usage or input problem and stop with exit code 2 (1 is kept for "some inputs failed")."""
    _say("error:", "red", message)
    raise typer.Exit(2)


def _load_model_or_exit(directory: Path | None, role: str, backend: Backend = Backend.onnx_int8) -> SentenceModel:
    try:
        return load_model(directory, backend=backend.value)
    except (ModelError, OSError, ValueError) as exc:
        _fail(f"cannot load {role}: {exc}")


@app.command(cls=FlagCommand)
def score(
    paths: Annotated[
        list[str],
        typer.Argument(help=".txt or .html articles, .jsonl records, .csv/.parquet tables, directories or globs of them, or - for stdin"),
    ],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="where to write the scored records (default: standard output)")
    ] = None,
    model_dir: Annotated[Path | None, typer.Option("--model", help="model directory (default: the shipped model)")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="jsonl: article records; csv/parquet: one row per sentence")] = Format.jsonl,
    errors_path: Annotated[
        Path | None, typer.Option("--errors", help="where to list inputs that failed (default: OUTPUT.errors.jsonl)")
    ] = None,
    max_chars: Annotated[int, typer.Option(help="longest article accepted, in characters")] = DEFAULT_MAX_CHARS,
    text_col: Annotated[str, typer.Option("--text-col", help="CSV/Parquet column holding the article text")] = "text",
    id_col: Annotated[
        str,
        typer.Option(
            "--id-col",
            help="CSV/Parquet column holding the article id; a row where it is missing or empty gets FILE-ROW (file name, row number)",
        ),
    ] = "id",
    resume: Annotated[
        bool, typer.Option("--resume", help="continue a killed batch from OUTPUT.partial without rescoring what it has")
    ] = False,
    no_techniques: Annotated[bool, typer.Option("--no-techniques", help="skip the propaganda-technique head (a little faster)")] = False,
    articles_path: Annotated[
        Path | None,
        typer.Option(
            "--articles",
            help="also write one row per scored article (.csv or .parquet): id, title, outlet, date and its profile (label counts and shares, sourcing shares, claims, top source, loaded cues, technique spans, summary)",
        ),
    ] = None,
    backend: Annotated[Backend, typer.Option(help=BACKEND_HELP)] = Backend.onnx_int8,
    engine: Annotated[
        Engine, typer.Option(help="local: this process; ray: a Ray cluster over a Parquet dataset (output: a directory of Parquet files)")
    ] = Engine.local,
    ray_address: Annotated[str | None, typer.Option(help="Ray cluster to join (e.g. auto); default: start one on this machine")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="model replicas: processes on this machine (default: one per core, at most 8; inputs of up to 64 articles stay in this process), or Ray actors with --engine ray (default: one per CPU of the cluster)",
        ),
    ] = None,
) -> None:
    """Segment and label every sentence of every article."""
    if engine is Engine.ray:
        if articles_path is not None:
            _fail("--articles works with the local engine; with --engine ray, group the sentence rows by article_id")
        _score_on_ray(paths, output, model_dir, text_col, id_col, ray_address, workers, max_chars, backend, not no_techniques)
        return
    model = _load_model_or_exit(model_dir, "model", backend)
    spec = ModelSpec.of(model_dir, backend.value, techniques=not no_techniques)
    model.use_techniques = model.use_techniques and spec.techniques
    articles = _article_table(articles_path, output)
    try:
        writer = OutputWriter(output, fmt.value, resume=resume)
    except (ValueError, OSError) as exc:
        if articles is not None:
            articles.abort(exc)
        if isinstance(exc, OSError):
            _fail(f"cannot write {exc.filename or output}: {exc.strerror or exc}")
        _fail(str(exc))
    if writer.done:
        err.print(f"resuming: {sum(writer.done.values())} articles already scored in {output}.partial are skipped")
    # Counted only for a bar someone sees: a batch in a pipeline or a log skips the look at its inputs.
    total = count_inputs(paths) if err.is_terminal else None
    if total is not None:
        total = max(0, total - sum(writer.done.values()))
    progress = _progress(total)
    result = BatchResult()
    with progress:
        task = progress.add_task("scoring", total=total)

        def show(item: Article | InputError) -> None:
            if isinstance(item, InputError):
                _say("skipped", "yellow", f"{item.where}: {item.message}")
            progress.advance(task)

        items = read_inputs(paths, max_chars=max_chars, columns=Columns(text_col, id_col))
        # SIGTERM ends the batch like Ctrl-C: the partial output is kept, temporary files are removed.
        previous = signal.signal(signal.SIGTERM, _terminated)
        try:
            score_into(writer, items, model, spec, workers or min(default_threads(), DEFAULT_WORKERS_CAP), result, show, articles)
        except OSError as exc:
            # A full disk, a directory made read-only during the run: what is written stays.
            kept = f"; {result.articles} articles are in {result.kept}, rerun with --resume to continue" if result.kept else ""
            _fail(f"cannot write the output ({exc.filename or output}): {exc.strerror or exc}{kept}")
        except BaseException:
            if result.kept is not None:
                _say("interrupted:", "yellow", f"{result.articles} articles are in {result.kept}; rerun with --resume to continue")
            raise
        finally:
            signal.signal(signal.SIGTERM, previous)
    outlets, failed_path = write_side_files(result, output, errors_path)
    if outlets is not None:
        err.print(f"per-outlet profiles of {len(result.outlets.by_outlet)} outlets → {outlets}")
    _summary(result, output, failed_path, model.name)
    if articles is not None:
        err.print(f"{result.articles + result.resumed} article rows → {articles.path}")
    if result.failures:
        raise typer.Exit(1)


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _article_table(path: Path | None, output: Path | None) -> ArticleTable | None:
    """The ``--articles`` table, opened before scoring so that a place it cannot be written is refused now."""
    if path is None:
        return None
    if output is not None and path.resolve() == output.resolve():
        _fail(f"--articles {path} is the output file too: give it a name of its own")
    try:
        return ArticleTable(path)
    except ValueError as exc:
        _fail(f"--articles: {exc}")
    except OSError as exc:
        _fail(f"cannot write {exc.filename or path}: {exc.strerror or exc}")


def _progress(total: int | None) -> Progress:
    """The bar of ``framing score`` on a terminal: with the number of inputs known, done/total and the
    time left; without (standard input, CSV tables), a count and the time spent."""
    columns: list[ProgressColumn | str] = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn()]
    if total is None:
        columns += [TextColumn("{task.completed} articles"), TimeElapsedColumn()]
    else:
        columns += [MofNCompleteColumn(), TextColumn("articles"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn()]
    return Progress(*columns, console=err, disable=not err.is_terminal, transient=True)


def _score_on_ray(
    paths: list[str],
    output: Path | None,
    model_dir: Path | None,
    text_col: str,
    id_col: str,
    address: str | None,
    workers: int | None,
    max_chars: int,
    backend: Backend,
    techniques: bool = True,
) -> None:
    if len(paths) != 1 or output is None:
        _fail("--engine ray takes one Parquet file or directory and -o OUTPUT_DIR")
    import importlib.util

    if importlib.util.find_spec("ray") is None:
        _fail("--engine ray needs Ray: pip install 'framing[ray]'")
    from framing.distributed import score_parquet

    _load_model_or_exit(model_dir, "model", backend)  # fail here, not in every worker
    started = time.perf_counter()
    try:
        rows = score_parquet(
            paths[0],
            output,
            ModelSpec.of(model_dir, backend.value, techniques=techniques),
            text_col=text_col,
            id_col=id_col,
            address=address,
            workers=workers,
            max_chars=max_chars,
        )
    except (ValueError, FileNotFoundError) as exc:
        _fail(str(exc))
    err.print(
        f"{rows} sentence rows in {time.perf_counter() - started:.1f} s → {output}/ (Parquet; rows with 'error' set are articles that could not be scored)"
    )


def _summary(result: BatchResult, output: Path | None, errors_path: Path | None, model_name: str) -> None:
    labels, n_sentences = result.labels, result.sentences
    table = Table(title=f"scored with {model_name}", show_header=True)
    table.add_column("label")
    table.add_column("sentences", justify="right")
    table.add_column("share", justify="right")
    for label in LABELS:
        share = labels[label] / n_sentences if n_sentences else 0.0
        table.add_row(label, str(labels[label]), f"{share:.1%}")
    err.print(table)
    rate = n_sentences / result.seconds if result.seconds > 0 else 0.0
    err.print(
        f"{result.articles} articles, {n_sentences} sentences in {result.seconds:.1f} s ({rate:.0f} sentences/s) → {output or 'stdout'}"
    )
    if result.failures:
        _say(f"{len(result.failures)} inputs failed,", "red", f"listed in {errors_path}" if errors_path else "listed above")


@app.command(cls=FlagCommand)
def report(
    paths: Annotated[list[Path], typer.Argument(help="JSONL files of scored article records (the output of framing score)")],
    output: Annotated[Path, typer.Option("-o", "--output", help="directory for the HTML pages and index.html")] = Path("report"),
    review: Annotated[bool, typer.Option("--review", help="add controls to correct labels and export the corrections as JSONL")] = False,
) -> None:
    """One self-contained HTML page per scored article, and an index.html for the batch."""
    from framing.record import LineError, iter_jsonl
    from framing.report import write_report

    failures: list[str] = []

    def records():
        for path in paths:
            try:
                for item in iter_jsonl(path):
                    if isinstance(item, LineError):
                        failures.append(item.message)
                        _say("skipped", "yellow", item.message)
                    else:
                        yield item
            except OSError as exc:
                failures.append(f"{path}: {exc.strerror or exc}")
                _say("error:", "red", f"{path}: {exc.strerror or exc}")

    result = write_report(records(), output, failures, review=review)
    for message in result.failures[len(failures) :]:
        _say("not rendered", "yellow", message)
    err.print(f"{len(result.pages)} article pages and {result.index}")
    if result.failures:
        _say(f"{len(result.failures)} records not rendered", "red", "(listed at the end of index.html)")
        raise typer.Exit(1)


@app.command(cls=FlagCommand)
def evaluate(
    gold_path: Annotated[Path, typer.Argument(help="JSONL of gold article records (sentences with labels)")],
    model_dir: Annotated[Path | None, typer.Option("--model", help="model directory (default: the shipped model)")] = None,
    baseline_dir: Annotated[
        Path | None, typer.Option("--baseline", help="second model shown side by side (default: models/tfidf-baseline)")
    ] = None,
    plots: Annotated[Path | None, typer.Option(help="write confusion-matrix and reliability PNGs here")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the metrics as JSON")] = False,
    backend: Annotated[Backend, typer.Option(help=BACKEND_HELP)] = Backend.onnx_int8,
) -> None:
    """Per-class precision/recall/F1, macro-F1, accuracy, confusion matrix and calibration on gold records,
    and each difference between the model and the baseline with its 95 % interval (paired bootstrap over
    articles): whether a retrained model is better, or only differs by noise."""
    from framing.evaluate import measure, save_plots, score_set, tags_spans
    from framing.model import models_dir
    from framing.record import RecordError, read_jsonl
    from framing.significance import MIN_ARTICLES, compare

    try:
        gold = read_jsonl(gold_path)
    except (RecordError, OSError, UnicodeDecodeError) as exc:
        _fail(str(exc))
    baseline_dir = baseline_dir or models_dir() / "tfidf-baseline"
    results, outputs, taggers = {}, [], []
    for role, directory in (("model", model_dir), ("baseline", baseline_dir)):
        model = _load_model_or_exit(directory, role, backend)
        outputs.append(score_set(model, gold))
        taggers.append(tags_spans(model))
        result = measure(gold, outputs[-1], spans=taggers[-1], calibrate=True)
        if "labels" not in result:
            _fail(f"{gold_path} has no labelled sentences")
        # The table and the JSON keep their shape: the label metrics at the top, the rest beside them.
        result = {**result.pop("labels"), **result}
        if plots:
            result["plots"] = save_plots(result, result["calibration"], str(plots), f"{role}-{model.name}")
        results[f"{role}: {model.name}"] = result
    names = list(results)
    differences = compare(gold, *outputs, spans=all(taggers))
    if as_json:
        typer.echo(json.dumps({**results, "model − baseline": [d.as_dict() for d in differences]}, indent=2))
        return
    out = Console(markup=False, highlight=False)
    table = Table(title=f"{gold_path} ({results[names[0]]['sentences']} sentences)")
    table.add_column("label")
    for name in names:
        table.add_column(f"{name}\nP / R / F1", justify="right")
    for label in LABELS:
        row = [label]
        for name in names:
            c = results[name]["per_class"][label]
            row.append(f"{c['precision']:.3f} / {c['recall']:.3f} / {c['f1']:.3f} (n={c['support']})")
        table.add_row(*row)
    table.add_row("macro-F1 (3 main labels)", *[f"{results[n]['macro_f1']:.3f}" for n in names])
    table.add_row("accuracy", *[f"{results[n]['accuracy']:.3f}" for n in names])
    table.add_row("ECE", *[f"{results[n]['calibration']['ece']:.3f}" for n in names])
    for kind in ("span", "technique_aware"):
        if any("techniques" in results[n] for n in names):
            table.add_row(
                f"techniques: {kind.replace('_', '-')} span F1 (SemEval-2020)",
                *[f"{results[n]['techniques'][kind]['f1']:.3f}" if "techniques" in results[n] else "–" for n in names],
            )
    out.print(table)
    for name in names:
        matrix = Table(title=f"confusion, {name} (rows gold, columns predicted)")
        matrix.add_column("")
        for label in LABELS:
            matrix.add_column(label, justify="right")
        for label, row in zip(LABELS, results[name]["confusion"]["matrix"]):
            matrix.add_row(label, *map(str, row))
        out.print(matrix)
        for path in results[name].get("plots", []):
            out.print(f"wrote {path}")
    if not differences:
        out.print(f"no interval for the differences: {len(gold)} articles, fewer than {MIN_ARTICLES}")
    else:
        table = Table(title=f"model − baseline, 95 % interval over {len(gold)} articles (paired bootstrap)")
        table.add_column("metric")
        for column in ("model", "baseline", "difference", "95 % interval"):
            table.add_column(column, justify="right", no_wrap=True)
        table.add_column("verdict")
        for d in differences:
            table.add_row(
                d.metric, f"{d.model:.3f}", f"{d.baseline:.3f}", f"{d.difference:+.3f}", f"[{d.low:+.3f}, {d.high:+.3f}]", d.verdict
            )
        out.print(table)


@app.command(cls=FlagCommand)
def train(
    config_path: Annotated[
        Path,
        typer.Argument(
            help="YAML training config: configs/default.yaml (a student of the MPNet teacher; the shipped model blends two), teacher.yaml, retrain.yaml, techniques.yaml, baseline.yaml"
        ),
    ],
    output_dir: Annotated[str | None, typer.Option("--output-dir", help="where to write the model (overrides the config)")] = None,
    annotations: Annotated[
        list[Path] | None, typer.Option("--annotations", help="new annotation JSONL (from framing import); repeatable")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="continue a killed run of a transformer config from its checkpoint (<output_dir>.checkpoint)")
    ] = False,
) -> None:
    """Train a model from a YAML config of any kind (configs/*.yaml); held-out metrics go into its model card.
    A transformer run saves a checkpoint every few minutes; after a kill, the same command with --resume
    continues it.

    With configs/retrain.yaml and --annotations, the current default model is trained further on the new
    annotations plus a weighted sample of the shipped corpus, written to a new versioned directory, and
    compared with the current model on the same held-out data."""
    from training.config import BaselineConfig, TransformerConfig, load_config
    from training.train import train as run_training

    for path in annotations or []:
        if not path.exists():
            _fail(f"{path}: no such file")
    try:
        config = load_config(
            config_path, output_dir=output_dir, annotations=[str(a) for a in annotations] if annotations else None, resume=resume or None
        )
    except (ValueError, OSError) as exc:
        _fail(f"{config_path}: {exc}")
    if annotations and isinstance(config, BaselineConfig):
        _fail("--annotations works with transformer and technique-head configs (configs/retrain.yaml, configs/techniques.yaml)")
    directory = run_training(config, log=lambda message: err.print(message, highlight=False, markup=False))
    err.print(f"model written to {directory}")
    if isinstance(config, TransformerConfig):
        err.print(f"adopt it with: framing models use {directory.name}")


@app.command("import", cls=FlagCommand)
def import_annotations(
    path: Annotated[Path, typer.Argument(help="an annotation export")],
    source_format: Annotated[str, typer.Option("--from", help="labelstudio | doccano | csv | jsonl")],
    output: Annotated[Path, typer.Option("-o", "--output", help="JSONL of annotated article records")],
) -> None:
    """Read Label Studio, doccano, CSV or JSONL annotations into article records; list what was skipped."""
    from framing.annotations import import_file
    from framing.io import write_jsonl

    try:
        result = import_file(path, source_format)
    except (ValueError, OSError) as exc:
        _fail(str(exc))
    write_jsonl(output, result.articles)
    for skip in result.skipped:
        _say("skipped", "yellow", f"{skip.where}: {skip.reason}")
    err.print(f"{len(result.articles)} articles, {result.sentences} labelled sentences → {output}; {len(result.skipped)} skipped")
    if not result.articles:
        raise typer.Exit(1)


@app.command("export-tasks", cls=FlagCommand)
def export_tasks_command(
    path: Annotated[
        Path,
        typer.Argument(
            help="scored JSONL (framing score output), or suggestions (framing suggest -o): one task per article holding suggested sentences, only those pre-labelled"
        ),
    ],
    to: Annotated[str, typer.Option("--to", help="labelstudio | doccano")],
    output: Annotated[Path, typer.Option("-o", "--output", help="tasks file (Label Studio: JSON, doccano: JSONL)")],
) -> None:
    """Pre-annotated tasks from model predictions, so annotators correct instead of starting blank."""
    from framing.annotations import LABEL_STUDIO_CONFIG, export_tasks, read_task_input

    try:
        articles = read_task_input(path)
        text = export_tasks(articles, to)
    except (ValueError, OSError) as exc:
        _fail(str(exc))
    with atomic_writer(output) as handle:
        handle.write(text)
    suggested = sum(len(a.meta["suggested"]) for a in articles if isinstance(a.meta.get("suggested"), list))
    err.print(f"{len(articles)} tasks → {output}" + (f" ({suggested} suggested sentences to label)" if suggested else ""))
    alone = sum(1 for a in articles if "#" in a.id and "sentence_index" in a.meta)
    if alone:
        _say(
            "note:", "yellow", f"{alone} suggestions carry no article text (an older framing suggest): their tasks hold the sentence alone"
        )
    if to == "labelstudio":
        config = output.with_name(output.stem + ".labeling-config.xml")
        with atomic_writer(config) as handle:
            handle.write(LABEL_STUDIO_CONFIG)
        err.print(f"Label Studio labeling config → {config} (paste it into the project's Labeling Interface)")


@app.command(cls=FlagCommand)
def suggest(
    path: Annotated[Path, typer.Argument(help="scored JSONL (framing score output)")],
    n: Annotated[int, typer.Option("-n", help="how many sentences")] = 50,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="write the suggestions as JSONL")] = None,
    diversity: Annotated[float, typer.Option(help="0: most uncertain only; 1: most varied only")] = 0.3,
) -> None:
    """The sentences whose annotation would help the model most (uncertain, and not all alike)."""
    from framing.record import read_jsonl
    from framing.suggest import suggest as pick

    try:
        picks = pick(read_jsonl(path), n, diversity)
    except (ValueError, OSError) as exc:
        _fail(str(exc))
    table = Table(title=f"{len(picks)} sentences to annotate next")
    for column in ("article", "#", "predicted", "uncertainty", "sentence"):
        table.add_column(column)
    for s in picks:
        table.add_row(s.article_id, str(s.sentence_index), s.label, f"{s.uncertainty:.2f}", s.sentence[:100])
    Console(soft_wrap=False, markup=False, highlight=False).print(table)
    if output:
        with atomic_writer(output) as handle:
            handle.writelines(json.dumps(s.to_dict(), ensure_ascii=False) + "\n" for s in picks)
        err.print(f"→ {output}")


models_app = typer.Typer(help="List the models and choose the default one.", no_args_is_help=True, cls=FlagGroup)
app.add_typer(models_app, name="models")


@models_app.command("list", cls=FlagCommand)
def models_list() -> None:
    """Models in models/ with their held-out macro-F1; * marks the default."""
    from framing.model.registry import QUALITY_SET, list_models

    table = Table(title=f"models (macro-F1 on {QUALITY_SET})")
    for column in ("", "name", "kind", "macro-F1"):
        table.add_column(column)
    for e in list_models():
        table.add_row("*" if e.is_default else "", e.name, e.kind, "–" if e.macro_f1 is None else f"{e.macro_f1:.3f}")
    Console(markup=False, highlight=False).print(table)


@models_app.command("use", cls=FlagCommand)
def models_use(
    name: Annotated[str, typer.Argument(help="a model directory name under models/")],
    force: Annotated[bool, typer.Option("--force", help="switch even if its held-out macro-F1 is lower")] = False,
) -> None:
    """Make NAME the default model; refuses a model that scores lower than the current default."""
    from framing.model.registry import use_model

    try:
        entry = use_model(name, force=force)
    except ModelError as exc:
        _say("refused:", "red", str(exc))
        raise typer.Exit(1) from None
    err.print(f"default model is now {entry.name}" + (f" (macro-F1 {entry.macro_f1:.3f})" if entry.macro_f1 is not None else ""))
