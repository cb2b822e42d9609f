"""The model card written beside every trained model (README.md in the model directory)."""

from __future__ import annotations

from typing import Any

from framing.record import LABELS

SOURCE_LICENCES = {
    "seed": ("shared/samples seed article (ZeroHedge, 2025), annotated with all four labels", "project sample"),
    "annotations": ("our whole-article annotations of PTC, BASIL and PolNeAR texts, training/annotations/ (all four labels)", "inherits PTC (research use), BASIL and PolNeAR (none stated, research use)"),
    "checkthat": ("CLEF CheckThat! 2025 Task 1 English, SUBJ/OBJ (editorial head)", "CC BY-NC-SA 4.0"),
    "babe": ("BABE SG2, writer's opinion vs entirely factual (editorial head)", "AGPL-3.0"),
    "polnear": ("PolNeAR train, attribution relations mapped to sentences (attributed head)", "none stated (research use)"),
    "basil": ("BASIL articles we did not annotate, unlabelled: taught only by the teacher's probabilities", "none stated (research use)"),
}


def _table(metrics: dict[str, Any]) -> list[str]:
    lines = []
    for name, result in metrics.items():
        labels = result.get("labels")
        if labels:
            lines += [
                f"**{name}** ({result['articles']} articles, {labels['sentences']} sentences): "
                f"macro-F1 (three main labels) {labels['macro_f1']:.3f}, accuracy {labels['accuracy']:.3f}",
                "",
                "| label | precision | recall | F1 | support |",
                "| --- | --- | --- | --- | --- |",
            ]
            for label in LABELS:
                c = labels["per_class"][label]
                lines.append(f"| {label} | {c['precision']:.3f} | {c['recall']:.3f} | {c['f1']:.3f} | {c['support']} |")
            lines += ["", "Confusion matrix (rows gold, columns predicted, order " + ", ".join(LABELS) + "):", ""]
            lines += [f"    {row}" for row in labels["confusion"]["matrix"]]
            lines.append("")
        for head in ("editorial", "attributed", "other"):
            h = result.get(f"{head}_vs_rest")
            if h and not labels:
                lines.append(
                    f"**{name}**, {head} vs rest ({h['sentences']} sentences): F1 {h['f1']:.3f} "
                    f"(P {h['precision']:.3f}, R {h['recall']:.3f}), binary macro-F1 {h['macro_f1']:.3f}"
                )
                lines.append("")
        for role, r in result.get("spans", {}).items():
            e, o = r["exact"], r["overlap"]
            lines.append(
                f"**{name}**, {role} spans ({r['gold']} gold, {r['predicted']} found by the tagger): exact match "
                f"P {e['precision']:.3f} R {e['recall']:.3f} F1 {e['f1']:.3f}; overlap P {o['precision']:.3f} "
                f"R {o['recall']:.3f} F1 {o['f1']:.3f}"
            )
            lines.append("")
    return lines


def _comparison(metrics: dict[str, Any], baseline: dict[str, Any], baseline_name: str) -> list[str]:
    from framing.evaluate import headline

    if not baseline:
        return []
    lines = [f"### Side by side with {baseline_name} (same sets)", "", f"| set | metric | this model | {baseline_name} |", "| --- | --- | --- | --- |"]
    for name, result in metrics.items():
        theirs = dict(headline(baseline.get(name, {})))
        for metric, value in headline(result):
            if metric in theirs:
                lines.append(f"| {name} | {metric} | {value:.3f} | {theirs[metric]:.3f} |")
    return [*lines, ""]


def _techniques(metrics: dict[str, Any] | None) -> list[str]:
    if not metrics:
        return []
    dev = metrics["ptc-dev"]
    how = {"jointly with the encoder": "trained together with the encoder", "blended": "averaged from the two blended models' heads, each trained"}
    lines = [
        "## Propaganda techniques",
        "",
        f"A multi-label token head (MLP) {how.get(metrics.get('trained', ''), 'on the frozen encoder')}, on {metrics['train_articles']} PTC train articles (SemEval-2020",
        f"Task 11), threshold chosen on {metrics['tune_articles']} other train articles. Held-out PTC dev (75 articles), SemEval-2020",
        "span metric (partial-overlap credit, merged spans):",
        "",
        f"- technique-agnostic span: P {dev['span']['precision']:.3f} R {dev['span']['recall']:.3f} F1 {dev['span']['f1']:.3f}",
        f"- technique-aware: P {dev['technique_aware']['precision']:.3f} R {dev['technique_aware']['recall']:.3f} F1 {dev['technique_aware']['f1']:.3f}",
        "",
        "| technique | gold spans | predicted | P | R | F1 |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in dev["per_technique"].items():
        lines.append(f"| {name} | {r['gold']} | {r['predicted']} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} |")
    lines += [
        "",
        "PTC's articles are from 2017-2019. Newer news (2022 onward, such as the seed article) uses other names,",
        "events and slogans; the head sees them only through the fine-tuned encoder, which also learnt from our 2025",
        "annotations. Nothing more was done about the shift: treat technique spans on recent news as leads to check.",
        "",
    ]
    return lines


def render(info: dict[str, Any], description: str) -> str:
    config = info.get("config", {})
    lines = [
        f"# {info.get('name', 'model')}",
        "",
        description,
        "",
        "## Intended use",
        "",
        "Labelling sentences of English news articles as attributed claim, editorial framing, reported fact or",
        "other (guidelines: `shared/annotation/GUIDELINES.md`), for media analysis and review by a person. It is",
        "not a fact-checker: `reported_fact` means the writer states it in their own voice, not that it is true.",
        "",
        "## Training data and licences",
        "",
        "| source | licence |",
        "| --- | --- |",
    ]
    for source in config.get("sources", []):
        what, licence = SOURCE_LICENCES.get(source, (source, "see training/DATA.md"))
        lines.append(f"| {what} | {licence} |")
    if config.get("techniques"):
        lines.append("| PTC (SemEval-2020 Task 11) train articles, technique spans (technique head) | research use |")
    if config.get("techniques") and config.get("semeval2023_spans"):
        lines.append("| SemEval-2023 Task 3 re-annotation of the same PTC train articles, spans mapped onto PTC's 14 techniques | research use |")
    counts = info.get("training_counts", {})
    lines += [
        "",
        "The model inherits the most restrictive of these terms: **non-commercial, research use** (CheckThat! is",
        "CC BY-NC-SA 4.0; PTC, BASIL and PolNeAR are research-use only; BABE is AGPL-3.0).",
        "",
        *(["Sentences per head in training: " + ", ".join(f"{h}: {c['sentences']} ({c['positive']} positive)" for h, c in counts.items()), ""] if counts else []),
        "## Held-out evaluation",
        "",
        "Nothing below was trained on: our annotated articles are split by article (hash of the id), CheckThat!",
        "and PolNeAR by their own dev splits. A head-level row answers one question of the decision order with",
        "the predicted label (for example: predicted `editorial_framing` vs anything else).",
        "",
        *_table(info.get("metrics", {})),
        *_comparison(info.get("metrics", {}), info.get("baseline_metrics", {}), info.get("baseline_name", "baseline")),
        *_techniques(info.get("technique_metrics")),
        "## Caveats",
        "",
        "- Our whole-article annotations were made by AI annotators following the guidelines (one per article;",
        "  a blind second annotation of 5 articles gives the agreement figure in training/annotations/README.md).",
        "- PolNeAR counts beliefs and intentions as attributions, more than our guidelines do, which pulls the",
        "  attributed head towards `attributed_claim` for reported intentions.",
        "- English only; datelines, captions and post signatures are learnt from few examples.",
        "",
        f"Config: `{config}`",
        "",
    ]
    return "\n".join(lines)
