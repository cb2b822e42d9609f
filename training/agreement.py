"""Inter-annotator agreement on articles annotated twice, blind (Cohen's kappa over sentence labels).

    python -m training.agreement training/annotations/round1.jsonl training/annotations/round1.blind.jsonl
    python -m training.agreement --rounds      # every round: blank vs blank, blank vs draft, each vs the model
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from typing import Any

from sklearn.metrics import cohen_kappa_score, confusion_matrix

from framing.record import LABELS, Article, Sentence, read_jsonl

ANNOTATIONS = Path(__file__).resolve().parent / "annotations"


def agreement(first: list[Article], second: list[Article]) -> dict[str, Any]:
    by_id = {a.id: a for a in first}
    a_labels, b_labels, articles = [], [], []
    for b in second:
        a = by_id.get(b.id)
        if a is None:
            continue
        if [(s.start, s.end) for s in a.sentences] != [(s.start, s.end) for s in b.sentences]:
            raise ValueError(f"{b.id}: the two annotations have different sentence spans")
        articles.append(b.id)
        a_labels += [s.label for s in a.sentences]
        b_labels += [s.label for s in b.sentences]
    agree = sum(x == y for x, y in zip(a_labels, b_labels))
    return {
        "articles": articles,
        "sentences": len(a_labels),
        "observed_agreement": agree / len(a_labels) if a_labels else 0.0,
        "kappa": float(cohen_kappa_score(a_labels, b_labels, labels=list(LABELS))),
        "confusion": confusion_matrix(a_labels, b_labels, labels=list(LABELS)).tolist(),
    }


def model_labels(folder: Path) -> dict[str, list[str]]:
    """The model's draft labels shown to the draft annotators (the ``model_label`` column of their sheets)."""
    out = {}
    for sheet in sorted(folder.glob("annotator-*/*.sheet.tsv")):
        with open(sheet, encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
        if rows and "model_label" in rows[0]:
            out[sheet.name.removesuffix(".sheet.tsv")] = [r["model_label"] for r in rows]
    return out


def _as_articles(first: list[Article], labels: dict[str, list[str]]) -> list[Article]:
    """Copies of ``first`` (the articles that have model labels) carrying the model's labels."""
    out = []
    for a in first:
        if a.id in labels and len(labels[a.id]) == len(a.sentences):
            copy = Article(a.id, a.text, {}, [Sentence(s.start, s.end, label) for s, label in zip(a.sentences, labels[a.id])])
            out.append(copy)
    return out


def rounds(root: Path = ANNOTATIONS) -> dict[str, dict[str, Any]]:
    """Agreement of every round with second annotations: blank vs blank (``roundN.blind.jsonl``), blank vs
    draft (``roundN.draft.jsonl``), and, on the draft articles, the blank and the draft annotator each
    against the model's draft they were (or were not) shown."""
    out: dict[str, dict[str, Any]] = {}
    for first_path in sorted(root.glob("round*.jsonl")):
        if first_path.name.count(".") > 1:
            continue
        first = read_jsonl(first_path)
        stem = first_path.name.removesuffix(".jsonl")
        blind, draft = root / f"{stem}.blind.jsonl", root / f"{stem}.draft.jsonl"
        if blind.exists():
            out[f"{stem} blank vs blank"] = agreement(first, read_jsonl(blind))
        if draft.exists():
            drafted = read_jsonl(draft)
            out[f"{stem} blank vs draft"] = agreement(first, drafted)
            model = _as_articles(first, model_labels(root / f"{stem}-draft"))
            out[f"{stem} blank annotator vs model"] = agreement(model, first)
            out[f"{stem} draft annotator vs model"] = agreement(model, drafted)
    return out


def disagreements(root: Path = ANNOTATIONS) -> list[dict[str, Any]]:
    """Every sentence two annotators labelled differently, with both labels and both notes (the notes
    name the v2 rule each annotator applied)."""
    out = []
    for second_path in sorted([*root.glob("round*.blind.jsonl"), *root.glob("round*.draft.jsonl")]):
        first = {a.id: a for a in read_jsonl(root / (second_path.name.split(".")[0] + ".jsonl"))}
        for b in read_jsonl(second_path):
            a = first.get(b.id)
            if a is None:
                continue
            notes_a, notes_b = _notes(a), _notes(b)
            for i, (x, y) in enumerate(zip(a.sentences, b.sentences)):
                if x.label != y.label:
                    out.append({"pair": second_path.name, "article": a.id, "sentence": i, "text": a.text[x.start : x.end],
                                "first": x.label, "second": y.label, "first_note": notes_a.get(i, ""), "second_note": notes_b.get(i, "")})
    return out


def _notes(article: Article) -> dict[int, str]:
    out = {}
    for note in article.meta.get("notes") or []:
        idx, _, text = str(note).partition(": ")
        if idx.isdigit():
            out[int(idx)] = text
    return out


def disagreements_markdown(rows: list[dict[str, Any]]) -> str:
    """The disagreements as the table of ``training/annotations/disagreements.md``."""
    rounds_seen = sorted({int(r["pair"].split(".")[0].removeprefix("round")) for r in rows})

    def cell(text: str, width: int | None = None) -> str:
        text = " ".join(str(text).split()).replace("|", "\\|")
        return text[:width] if width else text

    lines = [
        f"# Disagreements of the double annotations (rounds {', '.join(map(str, rounds_seen))})",
        "",
        "Every sentence two annotators labelled differently (`python -m training.agreement --rounds` for the kappas;",
        "`python -m training.agreement --disagreements FILE` writes this list). `first` is the round's record, `second` the blind",
        "(blank) or draft-started second annotation; the notes are the annotators' own and name the v2 rule they applied, where they gave one.",
        "",
        "| pair | article | # | first | second | sentence | first's note | second's note |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['pair']} | {r['article']} | {r['sentence']} | {r['first']} | {r['second']} | {cell(r['text'], 160)} | {cell(r['first_note'])} | {cell(r['second_note'])} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("first", nargs="?")
    parser.add_argument("second", nargs="?")
    parser.add_argument("--rounds", action="store_true", help="every round's agreement figures")
    parser.add_argument("--disagreements", type=Path, metavar="FILE", help="write every disagreement of the double annotations as a Markdown table")
    args = parser.parse_args(argv)
    if args.disagreements:
        rows = disagreements()
        args.disagreements.write_text(disagreements_markdown(rows), encoding="utf-8")
        print(f"{len(rows)} disagreements → {args.disagreements}")
        return 0
    if args.rounds:
        for name, r in rounds().items():
            print(f"{name:38s} {len(r['articles']):3d} articles {r['sentences']:5d} sentences  observed {r['observed_agreement']:.3f}  kappa {r['kappa']:.3f}")
        return 0
    if not (args.first and args.second):
        parser.error("give two annotation files, or --rounds")
    result = agreement(read_jsonl(args.first), read_jsonl(args.second))
    print(f"{len(result['articles'])} articles, {result['sentences']} sentences annotated twice")
    print(f"observed agreement {result['observed_agreement']:.3f}, Cohen's kappa {result['kappa']:.3f}")
    print("confusion (rows: first annotator, columns: second), labels", ", ".join(LABELS))
    for label, row in zip(LABELS, result["confusion"]):
        print(f"  {label:18s} {row}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
