"""Scoring held-out sets with a model and measuring it: the same code for every kind of model. With a
baseline, each difference comes with its 95 % interval (``framing.significance``): whether a candidate
is better than the default, or only differs by noise.

    python -m training.evaluation models/minilm-window --baseline models/tfidf-baseline --json metrics.json
"""

from __future__ import annotations

from typing import Any

from framing.evaluate import headline, measure, score_set, tags_spans
from framing.significance import compare


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
    outputs = {name: {set_name: score_set(m, gold) for set_name, gold in sets.items()} for name, m in models.items()}
    results = {
        name: {set_name: measure(sets[set_name], scored, spans=tags_spans(models[name])) for set_name, scored in by_set.items()} for name, by_set in outputs.items()
    }
    both_tag = all(tags_spans(m) for m in models.values())
    differences = (
        {set_name: {d.metric: d for d in compare(gold, outputs["model"][set_name], outputs["baseline"][set_name], spans=both_tag)} for set_name, gold in sets.items()}
        if args.baseline
        else {}
    )
    table = Table(title=f"held-out evaluation of {args.model}")
    table.add_column("set")
    table.add_column("metric")
    for name in models:
        table.add_column(name, justify="right")
    if differences:
        table.add_column("model − baseline [95 % interval]", justify="right")
    for set_name in sets:
        first = headline(results["model"][set_name])
        others = {n: dict(headline(results[n][set_name])) for n in models}
        for metric, _ in first:
            row = [set_name, metric, *(f"{others[n][metric]:.3f}" if metric in others[n] else "–" for n in models)]
            if differences:
                d = differences[set_name].get(metric)
                row.append(f"{d.difference:+.3f} [{d.low:+.3f}, {d.high:+.3f}]" if d else "")
            table.add_row(*row)
    Console().print(table)
    if args.json:
        written = {**results, "differences": {k: [d.as_dict() for d in v.values()] for k, v in differences.items()}} if differences else results
        args.json.write_text(json.dumps(written, indent=2) + "\n", encoding="utf-8")
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
