"""Blend two window models by averaging their weights, and measure the blend like any trained model.

    python -m training.blend models/minilm-window-l3-v4 models/minilm-window-l3-v7 --weight 0.5 -o models/blend

Two models fine-tuned from one starting model (the same encoder, cut to the same layers) can be averaged
weight by weight, and the average often keeps what each learned (a "model soup"; WiSE-FT when one of the
two is the model the other was retrained from): a retrained model that forgot something can be blended with
the model it came from. Models trained from different starting points have unrelated weights, and their
average is noise: the held-out figures written with the blend show it either way.

``--weight`` is the second model's share. The technique head is averaged when both have one and its
threshold is chosen again on the PTC tuning slice; with one head only, the blend has none (that head was
fitted to its own encoder). The blend is evaluated on the held-out sets against the first model and saved
with its card, compact when both models are.
"""

from __future__ import annotations

import argparse
import copy
import shutil
import time
from pathlib import Path
from typing import Any

from framing.evaluate import evaluate_model
from framing.model.torch_model import TransformerModel
from framing.record import Article, TechniqueSpan
from training import data, model_card
from training.train_transformer import publish, staging_dir, versioned


def blend(first: TransformerModel, second: TransformerModel, weight: float) -> TransformerModel:
    """A new model whose every weight is ``(1 - weight) * first + weight * second``."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"weight: the second model's share, in [0, 1], got {weight!r}")
    if first.max_tokens != second.max_tokens:
        raise ValueError(f"the two models read windows of {first.max_tokens} and {second.max_tokens} tokens: blend models of one window size")
    if first.tokenizer.get_vocab() != second.tokenizer.get_vocab():
        raise ValueError("the two models have different vocabularies: their weights do not line up")
    a, b = first.network.state_dict(), second.network.state_dict()
    techniques = first.network.techniques is not None and second.network.techniques is not None
    if not techniques:
        a, b = ({k: v for k, v in s.items() if not k.startswith("techniques.")} for s in (a, b))
    mismatched = sorted(set(a) ^ set(b)) or [k for k in a if a[k].shape != b[k].shape]
    if mismatched:
        raise ValueError(f"the two models differ in shape ({', '.join(mismatched[:3])}...): only models of one architecture blend")
    blended = copy.deepcopy(first)
    if not techniques:
        blended.network.techniques = None
        blended.use_techniques = False
    blended.network.load_state_dict({k: (1 - weight) * v + weight * b[k] if v.is_floating_point() else v for k, v in a.items()})
    return blended


def run(
    first_dir: Path,
    second_dir: Path,
    weight: float,
    output_dir: Path,
    log: Any = print,
    *,
    sets: dict[str, list[Article]] | None = None,
    tune_items: list[tuple[Article, list[TechniqueSpan]]] | None = None,
) -> Path:
    """Blend, choose the technique threshold again (on ``tune_items``, default the PTC tuning slice),
    evaluate against the first model (on ``sets``, default every held-out set and our annotations' dev
    split) and save with a card into ``output_dir`` (or ``-v2``...: a model is never overwritten)."""
    from framing.model import load_model
    from training.splits import split_articles
    from training.train_techniques import annotated_held_out, ptc_fit_and_tune, tune_and_measure

    started = time.perf_counter()
    first, second = TransformerModel.load(first_dir), TransformerModel.load(second_dir)
    model = blend(first, second, weight)
    output_dir = versioned(output_dir)
    config = dict(second.info.get("config", {}))
    config["sources"] = list(dict.fromkeys([*first.info.get("config", {}).get("sources", []), *config.get("sources", [])]))
    info = {
        **{k: v for k, v in second.info.items() if k in ("base_model", "max_tokens")},
        "name": output_dir.name,
        "config": config,
        "blend": {"first": first_dir.name, "second": second_dir.name, "weight": weight},
        "description": f"The weights of {first_dir.name} and {second_dir.name} averaged, {1 - weight:.2f} and {weight:.2f} "
        f"(`python -m training.blend`): the architecture and speed of both. The training config at the end is {second_dir.name}'s.",
    }
    compact = all((d / "encoder.safetensors").exists() for d in (first_dir, second_dir))
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_dir(output_dir)
    try:
        model.info = {**info, "backend": "torch"}  # nothing of the first model's figures carried over
        model.save(staging, compact=compact)
        model = TransformerModel.load(staging)  # measure what is saved (compact weights, read back)
        if model.network.techniques is not None:
            if tune_items is None:
                _, tune_items = ptc_fit_and_tune(annotated_held_out(), False)
            model.use_techniques = True
            used = {t for t in (first.technique_thresholds, second.technique_thresholds) if isinstance(t, (int, float))}
            candidates = sorted({0.5, 0.6, 0.7, 0.8, 0.9, *map(float, used)})
            threshold, metrics = tune_and_measure(model, tune_items, candidates, log)
            trained_on = second.info.get("technique_metrics", {}).get("train_articles", 0)
            model.info.update(
                {
                    "techniques": second.info.get("techniques"),
                    "technique_thresholds": threshold,
                    "technique_metrics": {"ptc-dev": metrics, "train_articles": trained_on, "tune_articles": len(tune_items), "trained": "blended"},
                }
            )
            model.save(staging, compact=compact)  # the threshold is in framing-model.json
        if sets is None:
            # Our annotations' dev split too: a weight is chosen there, and judged on the test split.
            sets = {**data.held_out_sets(), "annotations-dev": split_articles(data.load_annotations())["dev"]}
        log("evaluating on held-out sets")
        # ONNX Runtime fp32 gives torch's outputs, faster (as python -m training.evaluation measures).
        model.info["metrics"] = evaluate_model(load_model(staging, backend="onnx"), sets)
        model.info["baseline_metrics"] = evaluate_model(load_model(first_dir, backend="onnx"), sets)
        model.info["baseline_name"] = first_dir.name
        model.info["total_minutes"] = round((time.perf_counter() - started) / 60, 2)
        model.save(staging, compact=compact)
        (staging / "README.md").write_text(model_card.render(model.info, model.info["description"]), encoding="utf-8")
        publish(staging, output_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log(f"saved {output_dir}")
    return output_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    parser.add_argument("--weight", type=float, default=0.5, help="the second model's share (default 0.5)")
    parser.add_argument("-o", "--output-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    run(args.first, args.second, args.weight, args.output_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
