"""Turn each human-annotated source in ``shared/data`` into article records.

Sources with all four labels (the seed article, our annotated articles) keep ``label`` on each sentence.
Sources that answer only one of the questions in ``framing.heads`` put the answers they can give in the
sentence's ``targets`` field (``{"editorial": 1}``, ``{"attributed": 0}``...); the heads they cannot speak
to stay masked in training. ``training/DATA.md`` documents each mapping.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from framing.record import Article, Sentence, read_jsonl
from framing.segment import segment

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DATA = SHARED / "data"
ANNOTATIONS = REPO / "training" / "annotations"


def _single(corpus: str, sid: str, text: str, targets: dict[str, int], **meta: object) -> Article:
    text = " ".join(text.split())
    return Article(
        id=f"{corpus}-{sid}",
        text=text,
        meta={"corpus": corpus, **meta},
        sentences=[Sentence(0, len(text), extra={"targets": targets})],
    )


def load_seed() -> list[Article]:
    """The fully annotated seed article (all four labels, sources and cues)."""
    return read_jsonl(SHARED / "samples" / "seed-article.annotated.jsonl")


def load_annotations() -> list[Article]:
    """Our whole-article annotations (all four labels), first annotator only: the second annotations
    (``.blind.jsonl`` from a blank sheet, ``.draft.jsonl`` from the model's draft) only measure agreement."""
    articles: list[Article] = []
    for path in sorted(ANNOTATIONS.glob("*.jsonl")):
        if path.name.endswith((".blind.jsonl", ".draft.jsonl")):
            continue
        articles.extend(read_jsonl(path))
    return articles


def load_checkthat(split: str) -> list[Article]:
    """CheckThat! 2025 subjectivity (English): SUBJ → editorial, OBJ → not editorial.

    OBJ sentences may be facts or attributed claims (quoted opinions are OBJ), so they teach nothing about
    attribution. Every sentence is a proposition, so they are not ``other``.
    """
    path = DATA / "checkthat-subjectivity-en" / f"{split}_en.tsv"
    out = []
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row["label"] not in ("SUBJ", "OBJ") or not row["sentence"].strip():
                continue
            targets = {"other": 0, "editorial": int(row["label"] == "SUBJ")}
            out.append(_single("checkthat", row["sentence_id"], row["sentence"], targets, split=split))
    return out


def load_babe() -> list[Article]:
    """BABE SG2: "Expresses writer's opinion" → editorial, "Entirely factual" → not editorial.

    "Somewhat factual but also opinionated" and "No agreement" are left out: they do not decide the
    question either way.
    """
    path = DATA / "babe" / "final_labels_SG2.csv"
    out = []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for i, row in enumerate(csv.DictReader(handle, delimiter=";")):
            opinion = row["label_opinion"]
            if opinion.startswith("Expresses writer"):
                editorial = 1
            elif opinion == "Entirely factual":
                editorial = 0
            else:
                continue
            out.append(
                _single("babe", str(i), row["text"], {"other": 0, "editorial": editorial}, outlet=row["outlet"])
            )
    return out


def _brat_spans(path: Path) -> list[tuple[str, int, int]]:
    """(kind, start, end) of every Source, Cue and Content fragment of a brat file."""
    spans = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("T"):
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            continue
        kind, _, offsets = parts[1].partition(" ")
        if kind not in ("Source", "Cue", "Content"):
            continue
        for fragment in offsets.split(";"):
            start, end = fragment.split()
            spans.append((kind, int(start), int(end)))
    return spans


def load_polnear(split: str, min_cover: float = 0.5) -> list[Article]:
    """PolNeAR attribution relations → sentence-level "attributed or not".

    A sentence at least ``min_cover`` covered by a relation's source, cue or content is attributed; a
    sentence that no relation touches is not; a sentence in between is left out (masked). PolNeAR also
    marks beliefs and intentions ("Trump wants ...") as attributions, which our guidelines would often
    call reported facts: a known bias of this mapping. Editorial and other stay masked.
    """
    folder = DATA / "polnear" / "data" / split
    out = []
    seen: set[str] = set()
    for ann in sorted((folder / "attributions").glob("*.ann")):
        # A few articles were annotated by two people (file suffix = annotator): take the first.
        stem = ann.stem.rsplit("_", 1)[0]
        text_path = folder / "text" / f"{stem}.txt"
        if stem in seen or not text_path.exists():
            continue
        seen.add(stem)
        text = text_path.read_text(encoding="utf-8")
        covered = bytearray(len(text))
        spans = _brat_spans(ann)
        for _, start, end in spans:
            covered[start:end] = b"\x01" * (min(end, len(text)) - start)
        sentences = []
        for start, end in segment(text):
            # Every attribution of the article is annotated, so a sentence with no source or cue span
            # is a true negative for the tagger too.
            roles = [
                {"role": kind.lower(), "start": s, "end": min(e, end)}
                for kind, s, e in spans
                if kind in ("Source", "Cue") and start <= s < end
            ]
            share = sum(covered[start:end]) / (end - start)
            if share >= min_cover:
                targets = {"attributed": 1}
            elif share == 0:
                targets = {"attributed": 0}
            else:
                targets = {}
            sentences.append(Sentence(start, end, extra={"targets": targets, "spans": roles}))
        out.append(Article(id=f"polnear-{stem}", text=text, meta={"corpus": "polnear", "split": split}, sentences=sentences))
    return out


def held_out_sets() -> dict[str, list[Article]]:
    """Every held-out set (no training run ever sees them): our annotations' test split, CheckThat! dev
    and PolNeAR dev."""
    from training.splits import split_articles

    return {
        "annotations-test": split_articles(load_annotations())["test"],
        "checkthat-dev": load_checkthat("dev"),
        "polnear-dev": load_polnear("dev"),
    }


def training_sets(
    sources: list[str], max_articles: dict[str, int] | None = None, seed: int = 13
) -> tuple[list[Article], dict[str, list[Article]]]:
    """Training articles from ``sources`` and the held-out sets that go with them (never trained on): the
    test split of our annotations (by article), CheckThat! dev and PolNeAR dev. Each training article gets
    ``meta.corpus`` so losses can be weighted per source. ``max_articles`` samples a source down."""
    from training.splits import split_articles

    rng = random.Random(seed)
    train: dict[str, list[Article]] = {}
    held_out: dict[str, list[Article]] = {}
    if "seed" in sources:
        train["seed"] = load_seed()
    if "annotations" in sources:
        splits = split_articles(load_annotations())
        train["annotations"] = splits["train"] + splits["dev"]
        if splits["test"]:
            held_out["annotations-test"] = splits["test"]
    if "checkthat" in sources:
        train["checkthat"] = load_checkthat("train")
        held_out["checkthat-dev"] = load_checkthat("dev")
    if "babe" in sources:
        train["babe"] = load_babe()
    if "polnear" in sources:
        train["polnear"] = load_polnear("train")
        held_out["polnear-dev"] = load_polnear("dev")
    out: list[Article] = []
    for source, articles in train.items():
        cap = (max_articles or {}).get(source)
        if cap is not None and cap < len(articles):
            articles = rng.sample(articles, cap)
        for article in articles:
            article.meta.setdefault("corpus", source)
            article.meta["source_set"] = source
        out.extend(articles)
    return out, held_out
