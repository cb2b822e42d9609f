"""Turn each human-annotated source in ``shared/data`` into article records.

Sources with all four labels (the seed article, our annotated articles) keep ``label`` on each sentence.
Sources that answer only one of the questions in ``framing.heads`` put the answers they can give in the
sentence's ``targets`` field (``{"editorial": 1}``, ``{"attributed": 0}``...); the heads they cannot speak
to stay masked in training. ``training/DATA.md`` documents each mapping.
"""

from __future__ import annotations

import csv
import json
import random
import re
from pathlib import Path
from typing import Any

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


INTENTION_CUE = re.compile(
    r"\b(?:wants?|wanted|wanting|plan(?:s|ned|ning)?|intend\w*|intention|seek\w*|sought|aim\w*|tr(?:y|ies|ied|ying)|"
    r"hop(?:e|es|ed|ing) to|wish\w*|decid\w*|decision|prefer\w*|refus\w*|oppos\w*|opposition|support\w*|favou?r\w*|"
    r"back(?:s|ed|ing)?|endors\w*|push\w* for|determined|eager|looks? to|looking to|ready to|willing|goal|effort|"
    r"bid|campaign\w* (?:for|against)|stand\w*|position)\b",
    re.IGNORECASE,
)
"""Cues of PolNeAR relations that v2 of the guidelines does not count as attribution: a wish, plan or
intention to act ("wants", "plans to", "seeks") and a stance without content ("opposes", "supports").
Beliefs, fears and expectations with content ("believes", "fears", "expects") stay attributions."""

POLNEAR_INTENTIONS = ("attributed", "masked", "fact")
"""How a PolNeAR sentence whose only relations are intentions or stances is read: as PolNeAR does
(attributed), left out of the attributed head (masked), or as not attributed (fact), as v2 reads it."""


def brat_relations(path: Path) -> list[dict[str, list[tuple[int, int]]]]:
    """Each attribution relation of a brat file: its Source, Cue and Content fragments by role."""
    fragments: dict[str, tuple[str, list[tuple[int, int]]]] = {}
    events: list[list[str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if line.startswith("T") and len(parts) >= 2:
            kind, _, offsets = parts[1].partition(" ")
            spans = []
            for fragment in offsets.split(";"):
                start, end = fragment.split()
                spans.append((int(start), int(end)))
            fragments[parts[0]] = (kind, spans)
        elif line.startswith("E") and len(parts) >= 2:
            events.append([arg.split(":", 1)[1] for arg in parts[1].split() if ":" in arg])
    relations = []
    linked: set[str] = set()
    for args in events:
        relation: dict[str, list[tuple[int, int]]] = {}
        for ref in args:
            if ref in fragments and fragments[ref][0] in ("Source", "Cue", "Content"):
                relation.setdefault(fragments[ref][0], []).extend(fragments[ref][1])
                linked.add(ref)
        if relation:
            relations.append(relation)
    # A fragment no relation links still marks attribution (as it did before relations were read).
    relations += [{kind: spans} for ref, (kind, spans) in fragments.items() if ref not in linked and kind in ("Source", "Cue", "Content")]
    return relations


def load_polnear(split: str, min_cover: float = 0.5, intentions: str = "attributed", exclude: set[str] | None = None) -> list[Article]:
    """PolNeAR attribution relations → sentence-level "attributed or not".

    A sentence at least ``min_cover`` covered by a relation's source, cue or content is attributed; a
    sentence that no relation touches is not; a sentence in between is left out (masked). PolNeAR also
    marks wishes, plans and stances ("Trump wants ...") as attributions, which v2 of the guidelines calls
    reported facts: ``intentions`` says how a sentence whose relations are all of that kind
    (``INTENTION_CUE``) is read (``POLNEAR_INTENTIONS``). Editorial and other stay masked. Articles
    whose id is in ``exclude`` (annotated in full by us) are left out.
    """
    if intentions not in POLNEAR_INTENTIONS:
        raise ValueError(f"intentions: one of {', '.join(POLNEAR_INTENTIONS)}, got {intentions!r}")
    folder = DATA / "polnear" / "data" / split
    out = []
    seen: set[str] = set()
    for ann in sorted((folder / "attributions").glob("*.ann")):
        # A few articles were annotated by two people (file suffix = annotator): take the first.
        stem = ann.stem.rsplit("_", 1)[0]
        text_path = folder / "text" / f"{stem}.txt"
        if stem in seen or not text_path.exists() or f"polnear-{stem}" in (exclude or set()):
            continue
        seen.add(stem)
        text = text_path.read_text(encoding="utf-8")
        relations = []
        for relation in brat_relations(ann):
            cue = " ".join(text[a:b] for a, b in relation.get("Cue", []))
            relations.append((relation, bool(INTENTION_CUE.search(cue))))
        sentences = []
        for start, end in segment(text):
            touching = [(r, intention) for r, intention in relations if any(a < end and start < b for spans in r.values() for a, b in spans)]
            kept = [r for r, intention in touching if not (intention and intentions != "attributed")]
            covered = bytearray(end - start)
            for r in kept:
                for a, b in (x for spans in r.values() for x in spans):
                    lo, hi = max(a, start), min(b, end)
                    if lo < hi:
                        covered[lo - start : hi - start] = b"\x01" * (hi - lo)
            share = sum(covered) / (end - start)
            # Every attribution of the article is annotated, so a sentence with no source or cue span
            # is a true negative for the tagger too.
            marked = {(role.lower(), a, min(b, end)) for r in kept for role in ("Source", "Cue") for a, b in r.get(role, []) if start <= a < end}
            roles = [{"role": role, "start": a, "end": b} for role, a, b in sorted(marked, key=lambda x: (x[1], x[2], x[0]))]
            only_intentions = bool(touching) and not kept
            if only_intentions and intentions == "masked":
                targets: dict[str, int] = {}
            elif share >= min_cover:
                targets = {"attributed": 1}
            elif share == 0:
                targets = {"attributed": 0}
            else:
                targets = {}
            sentences.append(Sentence(start, end, extra={"targets": targets, "spans": roles}))
        out.append(Article(id=f"polnear-{stem}", text=text, meta={"corpus": "polnear", "split": split}, sentences=sentences))
    return out


def basil_article(raw: dict[str, Any], name: str) -> Article:
    """A BASIL article's JSON as an unlabelled record: the title, a blank line, then its paragraphs."""
    paragraphs = [" ".join(p) for p in raw["body-paragraphs"]]
    text = raw["title"].strip() + "\n\n" + "\n\n".join(p.strip() for p in paragraphs if p.strip())
    meta = {"corpus": "basil", "outlet": raw.get("source"), "date": raw.get("date"), "url": raw.get("url")}
    return Article(id=f"basil-{name}", text=text, meta=meta)


def basil_story(article_id: str) -> str | None:
    """The story a BASIL article tells (``basil-<uuid>_<n>``: one event, three outlets); None for others."""
    return article_id.removeprefix("basil-").rsplit("_", 1)[0] if article_id.startswith("basil-") else None


def load_basil_unlabelled(annotated: list[Article]) -> list[Article]:
    """The BASIL articles we have not annotated, segmented, without labels: in-domain news a teacher can
    label (``distill_sources``) and nothing else can. Only articles whose id hashes to the train split are
    read (one annotated in a later round then never lands in a held-out split after it was learnt from),
    and a story (one event, three outlets) with an annotated article in our held-out splits is left out whole."""
    from training.splits import split_of

    held = held_out_annotated(annotated)
    out = []
    for path in sorted((DATA / "basil" / "articles").glob("*/*.json")):
        if split_of(f"basil-{path.stem}") == "train":
            article = basil_article(json.loads(path.read_text(encoding="utf-8")), path.stem)
            article.meta["source_set"] = "basil"
            out.append(article)
    out = without_basil_near(out, annotated, held)
    for article in out:
        article.sentences = [Sentence(a, b) for a, b in segment(article.text)]
    return out


def held_out_annotated(annotated: list[Article]) -> list[Article]:
    """Our annotated articles outside the train split (dev and test): no training text may be one of
    them, nor (for BASIL) tell the same story."""
    from training.splits import split_of

    return [a for a in annotated if split_of(a.id) != "train"]


def without_basil_near(articles: list[Article], annotated: list[Article], held: list[Article]) -> list[Article]:
    """``articles`` less the unlabelled BASIL ones that are ``annotated`` or tell a story one of ``held``
    (held-out annotated articles) tells: no text close to a held-out one is learnt from."""
    taken = {a.id for a in annotated}
    stories = {basil_story(a.id) for a in held} - {None}
    return [a for a in articles if a.meta.get("source_set") != "basil" or (a.id not in taken and basil_story(a.id) not in stories)]


def held_out_sets() -> dict[str, list[Article]]:
    """Every held-out set (no training run ever sees them): our annotations' test split, CheckThat! dev
    and PolNeAR dev. (The annotations' dev split is held out of training too, for choices made between
    runs, such as the PolNeAR mapping; it is not a set a model is judged on.)"""
    from training.splits import split_articles

    return {
        "annotations-test": split_articles(load_annotations())["test"],
        "checkthat-dev": load_checkthat("dev"),
        "polnear-dev": load_polnear("dev"),
    }


def share_of(articles: list[Article], share: float) -> list[Article]:
    """The first ``share`` of ``articles`` in an order fixed by their ids (a hash), so that a smaller
    share is always part of a larger one: the learning curve's training subsets."""
    import hashlib

    if share >= 1.0:
        return articles
    ordered = sorted(articles, key=lambda a: hashlib.sha1(a.id.encode("utf-8")).hexdigest())
    return ordered[: max(1, round(share * len(ordered)))]


def training_sets(
    sources: list[str], max_articles: dict[str, int] | None = None, seed: int = 13, *, annotation_share: float = 1.0, polnear_intentions: str = "attributed"
) -> tuple[list[Article], dict[str, list[Article]]]:
    """Training articles from ``sources`` and the held-out sets that go with them (never trained on): the
    test and dev splits of our annotations (by article), CheckThat! dev and PolNeAR dev. Each training
    article gets ``meta.corpus`` so losses can be weighted per source. ``max_articles`` samples a source
    down; ``annotation_share`` keeps that share of our annotated training articles (``share_of``);
    ``polnear_intentions`` is how PolNeAR's intentions and stances are read (``load_polnear``). PolNeAR
    articles that we annotated in full are not read from PolNeAR again."""
    from training.splits import split_articles

    rng = random.Random(seed)
    train: dict[str, list[Article]] = {}
    held_out: dict[str, list[Article]] = {}
    if "seed" in sources:
        train["seed"] = load_seed()
    annotated = load_annotations() if {"annotations", "polnear", "basil"} & set(sources) else []
    if "annotations" in sources:
        splits = split_articles(annotated)
        train["annotations"] = share_of(splits["train"], annotation_share)
        if splits["test"]:
            held_out["annotations-test"] = splits["test"]
        if splits["dev"]:
            held_out["annotations-dev"] = splits["dev"]
    if "checkthat" in sources:
        train["checkthat"] = load_checkthat("train")
        held_out["checkthat-dev"] = load_checkthat("dev")
    if "babe" in sources:
        train["babe"] = load_babe()
    if "polnear" in sources:
        train["polnear"] = load_polnear("train", intentions=polnear_intentions, exclude={a.id for a in annotated})
        held_out["polnear-dev"] = load_polnear("dev")
    if "basil" in sources:
        train["basil"] = load_basil_unlabelled(annotated)
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
