"""Annotation rounds on whole articles: make pre-segmented drafts, then turn label sheets into records.

An annotator works from ``<id>.sheet.tsv`` (one numbered sentence a row) and writes ``<id>.labels.tsv``::

    idx<TAB>label<TAB>source<TAB>cue<TAB>note

``source`` and ``cue`` are copied exactly from the sentence (empty when absent); ``note`` is free text
(a boundary the segmenter got wrong goes there as ``boundary: ...``). ``apply`` checks every row
against the guidelines' labels and writes the article record with character offsets.

    python -m training.annotate draft --out training/annotations/round1 ptc:article111111111 basil:<uuid>_1
    python -m training.annotate apply training/annotations/round1 -o training/annotations/round1.jsonl
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

from framing.record import LABELS, Article, RecordError, Sentence, Span
from framing.segment import segment
from training.data import basil_article

SHARED = Path(__file__).resolve().parents[2] / "shared"
GUIDELINES = SHARED / "annotation" / "GUIDELINES.md"


def guidelines_version() -> str:
    """The guidelines file carries no version number, so its content hash identifies it."""
    digest = hashlib.sha256(GUIDELINES.read_bytes()).hexdigest()[:12]
    return f"GUIDELINES.md sha256:{digest}"


def load_source_article(ref: str) -> Article:
    """``ptc:article123`` or ``basil:<uuid>_<n>`` → an unlabelled article record."""
    kind, _, name = ref.partition(":")
    data = SHARED / "data"
    if kind == "ptc":
        for split in ("train-articles", "dev-articles"):
            path = data / "ptc-propaganda" / split / f"{name}.txt"
            if path.exists():
                text = path.read_text(encoding="utf-8")
                return Article(id=f"ptc-{name.removeprefix('article')}", text=text, meta={"corpus": "ptc", "split": split})
        raise FileNotFoundError(f"no PTC article {name}")
    if kind == "basil":
        matches = list((data / "basil" / "articles").glob(f"*/{name}.json"))
        if not matches:
            raise FileNotFoundError(f"no BASIL article {name}")
        raw = json.loads(matches[0].read_text(encoding="utf-8"))
        return basil_article(raw, name)
    if kind == "polnear":
        folder = data / "polnear" / "data" / "train"
        path = folder / "text" / f"{name}.txt"
        if not path.exists():
            raise FileNotFoundError(f"no PolNeAR train article {name}")
        outlet = name.split("_", 1)[0]
        return Article(id=f"polnear-{name}", text=path.read_text(encoding="utf-8"), meta={"corpus": "polnear", "outlet": outlet, "split": "train"})
    raise ValueError(f"unknown corpus in {ref!r} (use ptc:, basil: or polnear:)")


def polnear_hints(article: Article) -> list[str]:
    """PolNeAR's own source and cue spans per sentence ("source=...; cue=..."), shown to annotators as
    hints only: PolNeAR counts intentions and stances as attributions, v2 of the guidelines does not."""
    from training.data import DATA, brat_relations

    stem = article.id.removeprefix("polnear-")
    anns = sorted((DATA / "polnear" / "data" / "train" / "attributions").glob(f"{stem}_*.ann"))
    spans = sorted({(a, b, kind) for r in (brat_relations(anns[0]) if anns else []) for kind in ("Source", "Cue") for a, b in r.get(kind, [])})
    hints = []
    for s in article.sentences:
        parts = [f"{kind.lower()}={article.text[a:b]!r}" for a, b, kind in spans if s.start <= a < s.end]
        hints.append("; ".join(parts))
    return hints


def draft(refs: list[str], out: Path, model_dir: str | None = None) -> None:
    """Write ``<id>.draft.json`` and the numbered ``<id>.sheet.tsv`` for each article. With ``model_dir``
    the sheet gets a ``model_label`` column: the model's draft, for annotators who start from it (the
    blank-vs-draft comparison measures what that does to their labels)."""
    out.mkdir(parents=True, exist_ok=True)
    model = None
    if model_dir is not None:
        from framing import load_model, score_articles

        model = load_model(model_dir)
    for ref in refs:
        article = load_source_article(ref)
        article.sentences = [Sentence(a, b) for a, b in segment(article.text)]
        (out / f"{article.id}.draft.json").write_text(article.to_json() + "\n", encoding="utf-8")
        columns: dict[str, list[str]] = {}
        if article.meta.get("corpus") == "polnear":
            columns["polnear_hint"] = polnear_hints(article)
        if model is not None:
            scored = next(iter(score_articles([Article.from_dict(article.to_dict())], model)))
            columns["model_label"] = [s.label or "" for s in scored.sentences]
        with open(out / f"{article.id}.sheet.tsv", "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
            writer.writerow(["idx", "sentence", *columns])
            for i, s in enumerate(article.sentences):
                extra = [values[i] for values in columns.values()]
                writer.writerow([i, article.text[s.start : s.end].replace("\n", " ⏎ "), *extra])
        print(f"{article.id}: {len(article.sentences)} sentences")


def apply_labels(folder: Path, annotator: str | None = None, provenance: dict[str, Any] | None = None) -> tuple[list[Article], list[str]]:
    """Combine every ``*.draft.json`` with its ``*.labels.tsv``; return the records and the problems.
    ``provenance`` (round, annotator kind, blank or draft start) goes into every record's ``meta``."""
    articles, problems = [], []
    for draft_path in sorted(folder.glob("*.draft.json")):
        article = Article.from_dict(json.loads(draft_path.read_text(encoding="utf-8")), str(draft_path))
        labels_path = draft_path.with_name(draft_path.name.replace(".draft.json", ".labels.tsv"))
        if not labels_path.exists():
            problems.append(f"{article.id}: no labels file yet")
            continue
        try:
            notes = _apply_sheet(article, labels_path)
        except RecordError as exc:
            problems.append(str(exc))
            continue
        article.meta.update(
            {"guidelines": guidelines_version(), "annotator": annotator or folder.name, **(provenance or {}), "notes": notes}
        )
        articles.append(article)
    return articles, problems


def _apply_sheet(article: Article, path: Path) -> list[str]:
    rows = list(csv.reader(path.open(encoding="utf-8"), delimiter="\t"))
    if rows and rows[0] and rows[0][0] == "idx":
        rows = rows[1:]
    seen: set[int] = set()
    notes = []
    for number, row in enumerate(rows, start=2):
        if not row or not "".join(row).strip():
            continue
        row = row + [""] * (5 - len(row))
        where = f"{path} line {number}"
        try:
            idx = int(row[0])
            sentence = article.sentences[idx]
        except (ValueError, IndexError):
            raise RecordError(f"{where}: idx {row[0]!r} is not a sentence number of this article") from None
        label = row[1].strip()
        if label not in LABELS:
            raise RecordError(f"{where}: label {label!r} is not one of {', '.join(LABELS)}")
        sentence.label = label
        sentence.cue = _find(article, sentence, row[3], f"{where} cue")
        sentence.source = _find(article, sentence, row[2], f"{where} source", near=sentence.cue)
        if row[4].strip():
            notes.append(f"{idx}: {row[4].strip()}")
        seen.add(idx)
    missing = sorted(set(range(len(article.sentences))) - seen)
    if missing:
        raise RecordError(f"{path}: no label for sentences {missing}")
    return notes


def _find(article: Article, sentence: Sentence, needle: str, where: str, near: Span | None = None) -> Span | None:
    """Place ``needle`` as whole words in the sentence; of several places, the one nearest ``near`` (a
    pronoun source "he" belongs next to its cue, not inside "the")."""
    needle = needle.strip().replace(" ⏎ ", "\n")
    if not needle:
        return None
    body = article.text[sentence.start : sentence.end]
    starts = [m.start() for m in re.finditer(rf"(?<!\w){re.escape(needle)}(?!\w)", body)]
    if not starts:
        starts = [m.start() for m in re.finditer(re.escape(needle), body)]
    if not starts:
        raise RecordError(f"{where}: {needle!r} is not in the sentence {body!r}")
    at = starts[0]
    if near is not None:
        anchor = near.start - sentence.start
        at = min(starts, key=lambda s: min(abs(s + len(needle) - anchor), abs(s - (near.end - sentence.start))))
    start = sentence.start + at
    return Span(start, start + len(needle), needle)


ANNOTATIONS = Path(__file__).resolve().parent / "annotations"
ROUND_FOLDER = re.compile(r"round(\d+)(?:-(blind|draft))?$")


def build(root: Path = ANNOTATIONS) -> dict[str, tuple[int, int, list[str]]]:
    """Rebuild every round's records from its folders: ``roundN/annotator-K`` → ``roundN.jsonl``, the
    blind second annotations ``roundN-blind`` → ``roundN.blind.jsonl`` and the second annotations made
    from the model's draft ``roundN-draft`` → ``roundN.draft.jsonl``. Each record names its annotator,
    the annotator kind (the rounds so far are AI annotators), the round, whether the annotator started
    from a blank sheet or the model's draft, and the guidelines version. Returns, per file written,
    (articles, sentences, problems)."""
    out = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and ROUND_FOLDER.match(p.name)):
        number, copy = ROUND_FOLDER.match(folder.name).groups()  # type: ignore[union-attr]
        provenance = {"annotator_kind": "ai", "round": int(number), "start": "draft" if copy == "draft" else "blank"}
        articles, problems = [], []
        for annotator in sorted(p for p in folder.iterdir() if p.is_dir() and p.name.startswith("annotator-")):
            done, missing = apply_labels(annotator, provenance=provenance)
            articles += done
            problems += [m for m in missing if not m.endswith("no labels file yet")]
        if not articles:
            continue
        target = root / (f"round{number}.{copy}.jsonl" if copy else f"round{number}.jsonl")
        from framing.io import write_jsonl

        write_jsonl(target, sorted(articles, key=lambda a: a.id))
        out[target.name] = (len(articles), sum(len(a.sentences) for a in articles), problems)
    return out


def candidates(annotated: set[str]) -> list[str]:
    """Every not yet annotated PTC train, BASIL and PolNeAR train article, as refs, in a fixed order
    (a hash of the ref, so that the order mixes corpora and never depends on the file system)."""
    data = SHARED / "data"
    refs = [f"ptc:{p.stem}" for p in (data / "ptc-propaganda" / "train-articles").glob("*.txt")]
    refs += [f"basil:{p.stem}" for p in (data / "basil" / "articles").glob("*/*.json")]
    refs += [f"polnear:{p.stem}" for p in (data / "polnear" / "data" / "train" / "text").glob("*.txt")]
    ids = {"ptc": lambda n: f"ptc-{n.removeprefix('article')}", "basil": lambda n: f"basil-{n}", "polnear": lambda n: f"polnear-{n}"}
    fresh = [r for r in refs if ids[r.split(":", 1)[0]](r.split(":", 1)[1]) not in annotated]
    return sorted(fresh, key=lambda r: hashlib.sha1(r.encode("utf-8")).hexdigest())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_draft = sub.add_parser("draft")
    p_draft.add_argument("--out", type=Path, required=True)
    p_draft.add_argument("--model", help="add the model's draft labels (a model directory) to each sheet")
    p_draft.add_argument("refs", nargs="+")
    p_apply = sub.add_parser("apply")
    p_apply.add_argument("folder", type=Path)
    p_apply.add_argument("-o", "--output", type=Path)
    p_apply.add_argument("--annotator")
    sub.add_parser("build", help="rebuild every roundN*.jsonl from the round folders")
    args = parser.parse_args(argv)
    if args.command == "build":
        failed = False
        for name, (n_articles, n_sentences, problems) in build().items():
            print(f"{name}: {n_articles} articles, {n_sentences} sentences")
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
            failed = failed or bool(problems)
        return 1 if failed else 0
    if args.command == "draft":
        draft(args.refs, args.out, args.model)
        return 0
    articles, problems = apply_labels(args.folder, args.annotator)
    for problem in problems:
        print(problem, file=sys.stderr)
    if args.output:
        from framing.io import write_jsonl

        write_jsonl(args.output, articles)
    print(f"{len(articles)} articles, {sum(len(a.sentences) for a in articles)} sentences")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
