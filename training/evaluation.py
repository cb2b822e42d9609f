"""Scoring held-out sets with a model and measuring it: the same code for every kind of model.

    python -m training.evaluation models/minilm-window --baseline models/tfidf-baseline --json metrics.json
"""

from __future__ import annotations

import copy
from typing import Any

from framing.evaluate import evaluate_head, evaluate_labels, evaluate_spans
from framing.model.heads import HEADS
from framing.model import SentenceModel
from framing.record import Article
from framing.score import score_with_predictions


def evaluate_all(model: SentenceModel, held_out: dict[str, list[Article]]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, gold in held_out.items():
        scored = list(score_with_predictions(copy.deepcopy(gold), model))
        pred = [article for article, _ in scored]
        result: dict[str, Any] = {"articles": len(gold)}
        labels = evaluate_labels(gold, pred)
        if labels.get("sentences"):
            result["labels"] = labels
        for head in HEADS:
            head_result = evaluate_head(gold, pred, head)
            if head_result.get("sentences"):
                result[f"{head}_vs_rest"] = head_result
        if getattr(model, "kind", "") == "transformer-window":
            spans = evaluate_spans(gold, [prediction.spans for _, prediction in scored])
            if spans:
                result["spans"] = spans
        results[name] = result
    return results


def headline(result: dict[str, Any]) -> list[tuple[str, float]]:
    """The figures the quality targets are stated in, from one set's result."""
    rows = []
    if "labels" in result:
        rows.append(("macro-F1 (3 main labels)", result["labels"]["macro_f1"]))
        rows += [(f"F1 {label}", v["f1"]) for label, v in result["labels"]["per_class"].items()]
    for head in HEADS:
        if f"{head}_vs_rest" in result:
            r = result[f"{head}_vs_rest"]
            rows += [(f"{head} vs rest F1", r["f1"]), (f"{head} vs rest macro-F1", r["macro_f1"])]
    for role, r in result.get("spans", {}).items():
        rows += [(f"{role} span exact P", r["exact"]["precision"]), (f"{role} span exact R", r["exact"]["recall"]),
                 (f"{role} span overlap P", r["overlap"]["precision"]), (f"{role} span overlap R", r["overlap"]["recall"])]
    return rows


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json
    from pathlib import Path

    from rich.console import Console
    from rich.table import Table

    from framing.model import load_model
    from training.data import held_out_sets, load_seed

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path)
    parser.add_argument("--baseline", type=Path, help="a second model measured side by side")
    parser.add_argument("--json", type=Path, help="write all metrics here")
    parser.add_argument("--write-card", action="store_true", help="store the metrics in the model directory and rewrite its model card")
    args = parser.parse_args(argv)
    sets = held_out_sets()
    sets["seed (trained on)"] = load_seed()
    # The model card describes the model itself: fp32 (ONNX Runtime, exactly torch's outputs).
    models = {"model": load_model(args.model, backend="onnx")}
    if args.baseline:
        models["baseline"] = load_model(args.baseline, backend="onnx")
    results = {name: evaluate_all(m, sets) for name, m in models.items()}
    table = Table(title=f"held-out evaluation of {args.model}")
    table.add_column("set")
    table.add_column("metric")
    for name in models:
        table.add_column(name, justify="right")
    for set_name in sets:
        first = headline(results["model"][set_name])
        others = {n: dict(headline(results[n][set_name])) for n in models}
        for metric, _ in first:
            table.add_row(set_name, metric, *(f"{others[n][metric]:.3f}" if metric in others[n] else "–" for n in models))
    Console().print(table)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    if args.write_card:
        write_card(args.model, results["model"], results.get("baseline"), models.get("baseline"))
    return 0


def write_card(directory: Any, metrics: dict[str, Any], baseline: dict[str, Any] | None = None, baseline_model: Any = None) -> None:
    """Store held-out metrics in ``framing-model.json`` and rewrite the model card from them."""
    import json
    from pathlib import Path

    from framing.files import atomic_writer
    from training import model_card

    directory = Path(directory)
    info_path = directory / "framing-model.json"
    info = json.loads(info_path.read_text(encoding="utf-8"))
    info["metrics"] = {k: v for k, v in metrics.items() if not k.startswith("seed")}
    if baseline is not None:
        info["baseline_metrics"] = {k: v for k, v in baseline.items() if not k.startswith("seed")}
        info["baseline_name"] = baseline_model.name if baseline_model is not None else "baseline"
    with atomic_writer(info_path) as handle:
        handle.write(json.dumps(info, indent=2) + "\n")
    with atomic_writer(directory / "README.md") as handle:
        handle.write(model_card.render(info, info.get("description", "")))


if __name__ == "__main__":
    raise SystemExit(main())
