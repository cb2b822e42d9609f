"""Fine-tune the window classifier (framing/transformer.py) on the combined corpus, on CPU.

    python -m training.train_transformer configs/default.yaml

Every source teaches only the heads it has targets for (masked binary cross-entropy, weighted per
source); progress is logged every few steps; training stops after ``max_minutes`` and still saves.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import Dataset

from framing.attribution import gold_spans
from framing.evaluate import evaluate_model
from framing.files import umask
from framing.model.heads import HEADS, sentence_targets
from framing.model.onnx_model import OnnxModel
from framing.model.torch_model import IGNORE, TransformerModel, WindowClassifier, collate, technique_head
from framing.model.windows import TAGS, Window
from framing.record import Article
from framing.taxonomy import TECHNIQUES
from training import checkpoint, data, model_card
from training.config import UNLABELLED_SOURCES, TransformerConfig
from training.distill import distill_loss, teacher_cache, teacher_targets, technique_distill_loss, technique_teacher_targets
from training.encoders import base_model_dir


def token_tags(window: Window, articles: list[Article]) -> list[int]:
    """The BIO tag index of every token of a window (``TAGS``), ``IGNORE`` for special tokens and for
    sentences whose corpus marks no source or cue spans."""
    known = {}
    for slot, (a, s) in enumerate(window.members):
        known[slot] = gold_spans(articles[a].sentences[s])
    tags = []
    previous = None  # the span the previous token was in: the first token of a span is B-, the rest I-
    for sid, (start, _) in zip(window.sentence_ids, window.offsets):
        spans = known.get(sid)
        if sid < 0 or spans is None or start < 0:
            tags.append(IGNORE)
            previous = None
            continue
        inside = next((span for span in spans if span[1] <= start < span[2]), None)
        if inside is None:
            tags.append(TAGS.index("O"))
        else:
            tags.append(TAGS.index(f"{'I' if inside == previous else 'B'}-{inside[0]}"))
        previous = inside
    return tags


def technique_targets(window: Window, articles: list[Article]) -> list[list[int]] | None:
    """Per token, the indices (``TECHNIQUES``) of the technique spans covering it; None when the window's
    article has no technique annotation (``techniques``), so it teaches the head nothing."""
    gold = articles[window.members[0][0]].techniques
    if not isinstance(gold, list):
        return None
    spans = [(g.start, g.end, TECHNIQUES.index(g.technique)) for g in gold]
    return [sorted({t for a, b, t in spans if a < end and start < b}) if sid >= 0 else [] for sid, (start, end) in zip(window.sentence_ids, window.offsets)]


def window_dataset(model: TransformerModel, articles: list[Article], weights: dict[str, float]) -> Dataset:
    """One row per window: token ids, each token's sentence slot and tag, per sentence the head targets
    (-1 where a source says nothing) and the loss weight of its source, and per token its techniques
    (``has_techniques`` False where the article has no technique annotation). Windows with nothing to
    learn are left out, except those of unlabelled sources (``UNLABELLED_SOURCES``), which a teacher labels."""
    windows = model.windows(articles)
    rows = []
    for w in windows:
        targets, weight = [], []
        for a, s in w.members:
            t = sentence_targets(articles[a].sentences[s])
            targets.append([t.get(h, -1) for h in HEADS])
            weight.append(weights.get(articles[a].meta.get("source_set", ""), 1.0))
        tags = token_tags(w, articles)
        techniques = technique_targets(w, articles)
        unlabelled = articles[w.members[0][0]].meta.get("source_set") in UNLABELLED_SOURCES
        if unlabelled or any(v >= 0 for row in targets for v in row) or any(t != IGNORE for t in tags) or techniques is not None:
            rows.append({"input_ids": w.input_ids, "sentence_ids": w.sentence_ids, "tags": tags, "targets": targets, "weights": weight,
                         "techniques": techniques or [[] for _ in w.input_ids], "has_techniques": techniques is not None,
                         "members": [list(m) for m in w.members], "offsets": [list(o) for o in w.offsets]})
    return Dataset.from_list(rows)


def _row_windows(rows: dict[str, Any]) -> list[Window]:
    """Dataset rows back as windows (members only counted: the rows hold no article positions)."""
    return [Window(i, s, [(0, 0)] * len(t)) for i, s, t in zip(rows["input_ids"], rows["sentence_ids"], rows["targets"])]


def keep_layers(model: TransformerModel, layers: list[int]) -> None:
    """Cut the encoder down to ``layers``, in their order: the student starts from the teacher's weights."""
    stack = model.network.encoder.encoder.layer
    if max(layers) >= len(stack):
        raise ValueError(f"keep_layers: the encoder has {len(stack)} layers, got {layers}")
    model.network.encoder.encoder.layer = torch.nn.ModuleList([stack[i] for i in layers])
    model.network.encoder.config.num_hidden_layers = len(layers)


def technique_pos_weight(dataset: Dataset, cap: float) -> torch.Tensor:
    """Per technique, negatives / positives among annotated sentence tokens (capped): techniques cover a
    few percent of tokens, and an unweighted loss learns to say none."""
    pos, total = torch.zeros(len(TECHNIQUES)), 0
    for row in dataset.filter(lambda r: r["has_techniques"]):
        for sid, techniques in zip(row["sentence_ids"], row["techniques"]):
            if sid >= 0:
                total += 1
                for t in techniques:
                    pos[t] += 1
    return ((total - pos) / pos.clamp(min=1.0)).clamp(max=cap)


def technique_loss(logits: torch.Tensor, rows: dict[str, Any], sentence_ids: torch.Tensor, pos_weight: torch.Tensor) -> torch.Tensor | None:
    """Multi-label binary cross-entropy over the sentence tokens of windows with technique annotation."""
    if not any(rows["has_techniques"]):
        return None
    target = torch.zeros_like(logits)
    mask = torch.zeros(logits.shape[:2])
    for i, (has, per_token) in enumerate(zip(rows["has_techniques"], rows["techniques"])):
        if has:
            mask[i, : len(per_token)] = 1.0
            for k, techniques in enumerate(per_token):
                target[i, k, techniques] = 1.0
    mask = mask * (sentence_ids >= 0)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, pos_weight=pos_weight, reduction="none").mean(-1)
    return (loss * mask).sum() / mask.sum().clamp(min=1.0)


def _batches(dataset: Dataset, batch_windows: int, rng: random.Random) -> list[list[int]]:
    # Bucket by length (less padding), then shuffle the buckets.
    order = sorted(range(len(dataset)), key=lambda i: (len(dataset[i]["input_ids"]) + rng.random() * 16))
    batches = [order[i : i + batch_windows] for i in range(0, len(order), batch_windows)]
    rng.shuffle(batches)
    return batches


def masked_loss(logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    mask = (targets >= 0).to(logits.dtype) * weights.unsqueeze(-1)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets.clamp(min=0).to(logits.dtype), reduction="none")
    return (loss * mask).sum() / mask.sum().clamp(min=1.0)


def train_model(model: TransformerModel, dataset: Dataset, config: TransformerConfig, log: Any = print) -> dict[str, Any]:
    rng = random.Random(config.seed)
    torch.manual_seed(config.seed)
    network = model.network
    params = [
        {"params": network.encoder.parameters(), "lr": config.lr},
        {"params": [*network.head.parameters(), *network.tagger.parameters()], "lr": config.head_lr},
    ]
    gold_techniques = "has_techniques" in dataset.column_names and any(dataset["has_techniques"])
    soft_techniques = "soft_techniques" in dataset.column_names
    joint = network.techniques is not None and (gold_techniques or soft_techniques)
    if joint:
        params.append({"params": network.techniques.parameters(), "lr": config.head_lr})
        pos_weight = technique_pos_weight(dataset, config.technique_pos_weight_cap) if gold_techniques else torch.ones(len(TECHNIQUES))
    optimizer = torch.optim.AdamW(params, weight_decay=0.01)
    per_epoch = math.ceil(len(dataset) / config.batch_windows)
    total = max(1, int(per_epoch * config.epochs))
    warmup = max(1, int(total * config.warmup))

    def schedule(step: int) -> float:
        return min((step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup)))

    checkpoints = Path(config.checkpoint_dir) if config.checkpoint_dir else None
    resumed = checkpoint.load(checkpoints, network, optimizer) if checkpoints is not None and config.resume else None
    progress = resumed or checkpoint.Progress()
    run_print = checkpoint.fingerprint(config.to_dict(), len(dataset), total)
    if resumed is not None and not checkpoint.same_run(resumed, config.to_dict(), len(dataset), total, type(config)().to_dict()):
        raise ValueError(f"the checkpoint in {checkpoints} was made by another config or other data: delete it, or resume with the config it came from")
    if resumed is not None:
        log(f"resuming at step {progress.step}/{total} ({progress.minutes:.1f} min already spent) from {checkpoints}")
    # Resumed, the schedule continues where the run stopped (the optimizer's groups kept their initial lr).
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule, last_epoch=progress.step - 1)
    network.train()
    started = time.perf_counter() - progress.minutes * 60
    step, losses, epoch = progress.step, progress.losses, progress.epoch
    last_saved = time.perf_counter()
    stopped_early = False
    while step < total and not stopped_early:
        if resumed is not None and epoch == progress.epoch and progress.epoch_rng:
            rng.setstate(progress.epoch_rng)  # the interrupted epoch's batch order, drawn again
        epoch_rng = checkpoint.rng_state(rng)
        batches = _batches(dataset, config.batch_windows, rng)
        skip = progress.batch if resumed is not None and epoch == progress.epoch else 0
        for done, batch_idx in enumerate(batches[skip:], start=skip + 1):
            rows = dataset[batch_idx]
            windows = _row_windows(rows)
            batch = collate(windows, model.tokenizer.pad_token_id)
            n = batch["n_sentences"]
            targets = torch.full((len(windows), n, len(HEADS)), -1.0)
            weights = torch.zeros((len(windows), n))
            for i, (t, w) in enumerate(zip(rows["targets"], rows["weights"])):
                targets[i, : len(t)] = torch.tensor(t, dtype=torch.float)
                weights[i, : len(w)] = torch.tensor(w)
            tags = torch.full(batch["input_ids"].shape, IGNORE, dtype=torch.long)
            for i, t in enumerate(rows["tags"]):
                tags[i, : len(t)] = torch.tensor(t)
            logits, tag_logits, technique_logits = network(**batch, techniques=joint)
            loss = masked_loss(logits, targets, weights)
            if technique_logits is not None:
                extra = technique_loss(technique_logits, rows, batch["sentence_ids"], pos_weight)
                if extra is not None:
                    loss = loss + config.technique_weight * extra
                taught = technique_distill_loss(technique_logits, rows, batch["sentence_ids"]) if soft_techniques else None
                if taught is not None:
                    loss = loss + config.technique_distill_weight * taught
            if (tags != IGNORE).any():
                loss = loss + config.tag_weight * torch.nn.functional.cross_entropy(tag_logits.transpose(1, 2), tags, ignore_index=IGNORE)
            if "soft_targets" in rows:
                loss = loss + config.distill_weight * distill_loss(logits, tag_logits, rows, batch["sentence_ids"])
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(network.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
            step += 1
            elapsed = time.perf_counter() - started
            if step % 20 == 0 or step == total:
                done_before = progress.step if resumed is not None else 0
                rate = (elapsed - progress.minutes * 60) / max(1, step - done_before) if resumed is not None else elapsed / step
                eta = min(rate * (total - step), max(0.0, config.max_minutes * 60 - elapsed))
                log(f"step {step}/{total} loss {np.mean(losses[-20:]):.4f} {elapsed / 60:.1f} min, about {eta / 60:.0f} min to go")
            if checkpoints is not None and (time.perf_counter() - last_saved >= config.checkpoint_minutes * 60 or step >= total):
                checkpoint.save(checkpoints, network, optimizer, checkpoint.Progress(step, epoch, done, epoch_rng, losses, elapsed / 60, run_print, config.to_dict(), [len(dataset), total]))
                last_saved = time.perf_counter()
            if step >= total:
                break
            if elapsed > config.max_minutes * 60:
                log(f"stopping at step {step}/{total}: max_minutes={config.max_minutes} reached")
                stopped_early = True
                break
        epoch += 1
    network.eval()
    return {"steps": step, "planned_steps": total, "windows": len(dataset), "final_loss": float(np.mean(losses[-20:])) if losses else None,
            "train_minutes": round((time.perf_counter() - started) / 60, 2), "stopped_early": stopped_early}


def load_base(config: TransformerConfig) -> TransformerModel:
    from transformers import AutoModel, AutoTokenizer

    directory = base_model_dir(config.base_model)
    encoder = AutoModel.from_pretrained(directory, use_safetensors=True)
    tokenizer = AutoTokenizer.from_pretrained(directory)
    network = WindowClassifier(encoder, encoder.config.hidden_size)
    info = {"name": config.name, "base_model": config.base_model, "max_tokens": config.max_tokens, "config": config.to_dict()}
    return TransformerModel(network, tokenizer, info)


def ptc_technique_articles(held_out: dict[str, list[Article]], semeval2023: bool = False) -> tuple[list[Article], list[Any]]:
    """PTC train articles with their technique spans (joined with the SemEval-2023 spans when asked),
    segmented, to train on; and the (article, spans) slice kept to choose the threshold. Articles of any
    held-out set, and our annotated articles outside the train split (the test split has PTC train
    articles), are left out, so no held-out text is trained on even when the run trains no sentence source."""
    import copy

    from framing.score import prepare
    from training.train_techniques import annotated_held_out, ptc_fit_and_tune

    held = annotated_held_out() | {a.id for articles in held_out.values() for a in articles}
    fit, tune = ptc_fit_and_tune(held, semeval2023)
    train: list[Article] = []
    for article, gold in fit:
        article = prepare(copy.deepcopy(article))
        article.meta["source_set"] = "ptc"
        article.techniques = gold
        train.append(article)
    return train, tune


def _model_ref(directory: Path) -> str:
    """A model's name when it lives in the models directory (no machine's path in a shipped card), else its path."""
    from framing.model import models_dir

    return directory.name if directory.resolve().parent == models_dir().resolve() else str(directory)


def versioned(directory: str | Path) -> Path:
    """``directory``, or ``directory-v2``, ``-v3``... when it already holds a model: a run never
    overwrites a model, least of all the one in use."""
    path = Path(directory)
    if not (path / "framing-model.json").exists():
        return path
    n = 2
    while (path.with_name(f"{path.name}-v{n}") / "framing-model.json").exists():
        n += 1
    return path.with_name(f"{path.name}-v{n}")


def new_annotations(paths: list[str]) -> tuple[list[Article], list[Article]]:
    """Train and held-out test articles of new annotation files (split by article id, like ours)."""
    from framing.annotations import confirmed_only
    from framing.record import read_jsonl
    from training.splits import split_articles

    articles = [confirmed_only(a) for path in paths for a in read_jsonl(path)]
    for a in articles:
        a.meta["source_set"] = "new"
    splits = split_articles(articles)
    return splits["train"] + splits["dev"], splits["test"]


def run(config: TransformerConfig, log: Any = print) -> TransformerModel:
    """Train a window model in named steps: the corpus, the starting model, training (with the technique
    head when the config asks for it), evaluation against the model it continues from, and saving with
    its card. The model is written to a temporary directory beside ``output_dir`` and moved into place
    only when complete, so a killed run never leaves a model that looks finished."""
    torch.set_num_threads(config.threads)
    # Seeded before anything is built: the new heads' initial weights come from torch's generator too, and
    # unseeded they made two runs of one config give two models.
    torch.manual_seed(config.seed)
    started = time.perf_counter()
    output_dir = versioned(config.output_dir)
    if output_dir.exists():
        if any(output_dir.iterdir()):
            # Not a model (it has no framing-model.json) and not empty: never ours to delete.
            raise ValueError(f"{output_dir} exists and is not a model directory: choose another output_dir")
        output_dir.rmdir()
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    train, held_out = corpus(config, log)
    model, previous = starting_model(config, log)
    tune_items = add_technique_head(model, train, held_out, config, log) if config.techniques else []
    dataset = window_dataset(model, train, config.source_weights)
    log(f"{len(train)} training articles, {sum(len(a.sentences) for a in train)} sentences, {len(dataset)} windows")
    if config.teacher or config.technique_teacher:
        dataset = with_teacher(model, dataset, train, config, log)
    if any(a.meta.get("source_set") in UNLABELLED_SOURCES for a in train):
        dataset = dataset.filter(lambda row: taught(row, train))
        log(f"{len(dataset)} windows with something to learn")
    model.info["training"] = train_model(model, dataset, config, log)
    model.info["description"] = describe(model, config, previous is not None)
    staging = staging_dir(output_dir)
    try:
        if config.compact:
            # Measure what is shipped: the compact weights, read back.
            model.save(staging, compact=True)
            model = TransformerModel.load(staging)
        if config.techniques:
            measure_technique_head(model, train, tune_items, config, log)
        changed = evaluate(model, previous, held_out, log)
        model.info["total_minutes"] = round((time.perf_counter() - started) / 60, 2)
        save_with_card(model, config, staging, output_dir, changed, log)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if config.checkpoint_dir:
        shutil.rmtree(config.checkpoint_dir, ignore_errors=True)  # the model is saved: nothing left to resume
    return model


def corpus(config: TransformerConfig, log: Any = print) -> tuple[list[Article], dict[str, list[Article]]]:
    """Step 1: the training articles of the config's sources (and new annotations) and the held-out sets."""
    train, held_out = data.training_sets(
        config.sources, config.max_articles, config.seed, annotation_share=config.annotation_share, polnear_intentions=config.polnear_intentions
    )
    if config.annotations:
        new_train, new_test = new_annotations(config.annotations)
        train = data.without_basil_near(train, new_train + new_test, new_test)
        train += new_train
        if new_test:
            held_out["new-test"] = new_test
        log(f"new annotations: {len(new_train)} articles to train on, {len(new_test)} held out")
    return train, held_out


def starting_model(config: TransformerConfig, log: Any = print) -> tuple[TransformerModel, TransformerModel | None]:
    """Step 2: the model to train (the base encoder, or the model the config continues from, cut to
    ``keep_layers``) and, when it continues one, that model as it was, to compare with."""
    previous = None
    if config.init_model:
        from framing.model import default_model_dir

        init_dir = default_model_dir() if config.init_model == "default" else Path(config.init_model)
        model = TransformerModel.load(init_dir)
        previous = TransformerModel.load(init_dir)
        model.info = {**model.info, "name": config.name, "config": config.to_dict(), "continued_from": _model_ref(init_dir)}
        if model.network.techniques is not None:
            # The technique head was fitted on the old encoder's states: after fine-tuning it no longer
            # matches, and its PTC figures would describe another model.
            model.network.techniques = None
            model.use_techniques = False
            for key in ("techniques", "technique_thresholds", "technique_metrics"):
                model.info.pop(key, None)
            if not config.techniques:
                log("the technique head is not carried over: retrain it with framing train configs/techniques.yaml")
        log(f"continuing from {init_dir}")
    else:
        model = load_base(config)
    if config.keep_layers:
        keep_layers(model, config.keep_layers)
        log(f"student encoder: layers {config.keep_layers} of the starting model")
    return model, previous


def add_technique_head(model: TransformerModel, train: list[Article], held_out: dict[str, list[Article]], config: TransformerConfig, log: Any = print) -> list[Any]:
    """Step 3a: a fresh technique head, trained with the encoder on the PTC train articles (added to
    ``train``); returns the PTC articles kept aside to choose its threshold."""
    train_items, tune_items = ptc_technique_articles(held_out, config.semeval2023_spans)
    train += train_items
    model.network.techniques = technique_head(model.network.encoder.config.hidden_size, len(TECHNIQUES))
    log(f"technique head trained jointly: {len(train_items)} PTC train articles, {len(tune_items)} kept to choose its threshold")
    return tune_items


def with_teacher(model: TransformerModel, dataset: Dataset, train: list[Article], config: TransformerConfig, log: Any = print) -> Dataset:
    """Step 3b: the teachers' probabilities on the training windows, as soft targets: the sentence
    teacher's heads and tags, the technique teacher's techniques. A teacher with another tokenizer (MPNet
    teaching MiniLM) is carried across by character offsets; its outputs are cached per article."""
    if config.teacher:
        teacher_dir, teacher = _load_teacher(config.teacher, config)
        cache = teacher_cache(teacher_dir, techniques=False) if config.teacher_cache else None
        dataset = teacher_targets(teacher, dataset, train, config.distill_sources, log, cache=cache)
        model.info["teacher"] = teacher_dir.name
        log(f"soft targets from {teacher_dir} on {sum(1 for t in dataset['soft_targets'] if t)} of {len(dataset)} windows")
    if config.technique_teacher:
        if model.network.techniques is None:
            raise ValueError("technique_teacher: the student has no technique head (set techniques: true)")
        teacher_dir, teacher = _load_teacher(config.technique_teacher, config)
        cache = teacher_cache(teacher_dir, techniques=True) if config.teacher_cache else None
        # PTC dev is where the technique head is measured: four of its texts are also among our annotated
        # training articles, and the teacher must not label them.
        from training.train_techniques import load_ptc

        measured = frozenset(article.id for article, _ in load_ptc("dev"))
        dataset = technique_teacher_targets(teacher, dataset, train, config.technique_distill_sources, log, cache=cache, exclude=measured)
        model.info["technique_teacher"] = teacher_dir.name
        log(f"technique soft targets from {teacher_dir} on {sum(1 for t in dataset['soft_techniques'] if t)} of {len(dataset)} windows")
    return dataset


def taught(row: dict[str, Any], articles: list[Article]) -> bool:
    """Whether a window has anything to learn from: every window of a labelled source does; one of an
    unlabelled source only when a teacher gave it soft targets."""
    if articles[row["members"][0][0]].meta.get("source_set") not in UNLABELLED_SOURCES:
        return True
    return bool(row.get("soft_targets")) or bool(row.get("soft_techniques"))


def _load_teacher(name: str, config: TransformerConfig) -> tuple[Path, TransformerModel | OnnxModel]:
    from framing.model import default_model_dir

    directory = default_model_dir() if name == "default" else Path(name)
    # The teacher only scores: ONNX Runtime gives torch's outputs, faster; a large teacher that is
    # slow to export can run in torch (teacher_backend: torch).
    teacher: TransformerModel | OnnxModel = TransformerModel.load(directory) if config.teacher_backend == "torch" else OnnxModel.load(directory, backend="onnx")
    return directory, teacher


def describe(model: TransformerModel, config: TransformerConfig, continued: bool) -> str:
    """The model card's first paragraph: what was trained, from what."""
    base = model.info.get("base_model", config.base_model)
    encoder = model.network.encoder.config
    return (
        f"Fine-tuned {base} ({encoder.model_type}, {encoder.num_hidden_layers} layers × {encoder.hidden_size}): windows of up to {config.max_tokens} tokens of "
        "consecutive sentences, mean-pooled per sentence, three heads (other? editorial? attributed?) combined into four labels, "
        "and a token tagger for the source and cue spans of each claim."
        + (
            f" Continued from {Path(model.info['continued_from']).name}"
            + (f", keeping layers {config.keep_layers}" if config.keep_layers else "")
            + (f", distilled from {model.info['teacher']} (its probabilities as soft targets)" if config.teacher else "")
            + (f", its technique head also from {model.info['technique_teacher']}" if config.technique_teacher else "")
            + (" with new annotations." if config.annotations else ".")
            if continued
            else ""
        )
        + (" A multi-label token head for the 14 PTC propaganda techniques is trained with the encoder on the PTC train articles." if config.techniques else "")
        + (" Stored compact: int8 word embeddings, fp16 elsewhere, read back into fp32." if config.compact else "")
    )


def measure_technique_head(model: TransformerModel, train: list[Article], tune_items: list[Any], config: TransformerConfig, log: Any = print) -> None:
    """Step 4: the technique threshold chosen on the kept PTC slice, and the head measured on PTC dev."""
    from training.train_techniques import tune_and_measure

    model.use_techniques = True
    threshold, technique_metrics = tune_and_measure(model, tune_items, config.technique_thresholds, log)
    model.info.update(
        {
            "techniques": list(TECHNIQUES),
            "technique_thresholds": threshold,
            "technique_metrics": {
                "ptc-dev": technique_metrics,
                "train_articles": sum(1 for a in train if a.meta.get("source_set") == "ptc"),
                "tune_articles": len(tune_items),
                "trained": "jointly with the encoder",
            },
        }
    )
    log(f"PTC dev: span F1 {technique_metrics['span']['f1']:.3f}, technique-aware F1 {technique_metrics['technique_aware']['f1']:.3f}")


def evaluate(model: TransformerModel, previous: TransformerModel | None, held_out: dict[str, list[Article]], log: Any = print) -> list[dict[str, Any]]:
    """Step 5: held-out metrics of the model and, when it continues another, of that one on the same
    sets; returns the held-out sentences whose label changed."""
    log("evaluating on held-out sets")
    model.info["metrics"] = evaluate_model(model, held_out)
    if previous is None:
        return []
    model.info["baseline_metrics"] = evaluate_model(previous, held_out)
    model.info["baseline_name"] = f"previous model ({Path(model.info['continued_from']).name})"
    return changed_sentences(previous, model, held_out)


def save_with_card(model: TransformerModel, config: TransformerConfig, staging: Path, output_dir: Path, changed: list[dict[str, Any]], log: Any = print) -> None:
    """Step 6: weights, info and model card (and the changed sentences of a retrain) into ``staging``,
    then ``staging`` moved to ``output_dir`` in one rename."""
    model.save(staging, compact=config.compact)
    (staging / "README.md").write_text(model_card.render(model.info, model.info["description"]), encoding="utf-8")
    if model.info.get("continued_from"):
        with open(staging / "changed.jsonl", "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(c, ensure_ascii=False) + "\n" for c in changed)
        log(comparison_text(model.info["metrics"], model.info["baseline_metrics"], changed, output_dir))
    publish(staging, output_dir)
    model.info["saved_as"] = output_dir.name
    log(f"saved {output_dir}")


def staging_dir(output_dir: Path) -> Path:
    """A fresh hidden directory beside ``output_dir``, where a model is written before ``publish``."""
    return Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.", suffix=".partial", dir=output_dir.parent))


def publish(staging: Path, output_dir: Path) -> None:
    """Move a complete model from ``staging`` to ``output_dir`` in one rename, so a killed run never
    leaves a model that looks finished."""
    # mkdtemp makes the directory private and safetensors writes its files 0600: a model is shared like
    # any directory, so both take the umask.
    staging.chmod(0o777 & ~umask())
    for path in staging.iterdir():
        if path.is_file():
            path.chmod(0o666 & ~umask())
    staging.rename(output_dir)


def changed_sentences(old: TransformerModel, new: TransformerModel, held_out: dict[str, list[Article]]) -> list[dict[str, Any]]:
    """Held-out sentences whose predicted label differs between two models, with the gold label."""
    import copy

    from framing.score import score_articles

    out = []
    for name, gold in held_out.items():
        before = score_articles(copy.deepcopy(gold), old)
        after = score_articles(copy.deepcopy(gold), new)
        for g, b, a in zip(gold, before, after):
            for i, (gs, bs, as_) in enumerate(zip(g.sentences, b.sentences, a.sentences)):
                if bs.label != as_.label:
                    out.append({"set": name, "article_id": g.id, "sentence_index": i, "sentence": g.text[gs.start : gs.end],
                                "gold": gs.label, "before": bs.label, "after": as_.label})
    return out


def comparison_text(new: dict[str, Any], old: dict[str, Any], changed: list[dict[str, Any]], output_dir: Path) -> str:
    """The side-by-side comparison printed after a retrain."""
    from framing.evaluate import headline

    lines = ["", f"{'set':18} {'metric':30} {'before':>8} {'after':>8}"]
    for name, result in new.items():
        before = dict(headline(old.get(name, {})))
        for metric, value in headline(result):
            if "span" in metric or metric not in before:
                continue
            lines.append(f"{name:18} {metric:30} {before[metric]:8.3f} {value:8.3f}")
    better = sum(c["after"] == c["gold"] for c in changed if c["gold"])
    worse = sum(c["before"] == c["gold"] for c in changed if c["gold"])
    lines.append(f"{len(changed)} held-out sentences changed label ({better} now right, {worse} now wrong); listed in {output_dir / 'changed.jsonl'}")
    for c in changed[:10]:
        lines.append(f"  [{c['set']}] {c['before']} → {c['after']} (gold {c['gold']}): {c['sentence'][:90]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", type=Path)
    parser.add_argument("--output-dir")
    parser.add_argument("--max-minutes", type=float)
    parser.add_argument("--annotations", nargs="*", help="new annotation files (JSONL records)")
    args = parser.parse_args(argv)
    config = TransformerConfig.from_yaml(args.config, output_dir=args.output_dir, max_minutes=args.max_minutes, annotations=args.annotations or None)
    model = run(config, log=lambda m: print(m, flush=True))
    print(json.dumps(model.info["metrics"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
