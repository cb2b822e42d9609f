"""Compare sentence segmenters on news text: boundary precision/recall/F1 against the annotated seed
article and any annotated articles (``training/annotations/*.jsonl``), plus agreement with ours and speed on
the PTC articles. Prints its figures.

    python benchmarks/segmenters.py
"""

from __future__ import annotations

import glob
import platform
import time
from collections.abc import Callable
from pathlib import Path

from framing.record import Article, read_jsonl
from framing.segment import segment

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
Spans = list[tuple[int, int]]


def _strip(text: str, spans: Spans) -> Spans:
    out = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            out.append((a, b))
    return out


def pysbd_spans(text: str) -> Spans:
    import pysbd

    return [(s.start, s.end) for s in pysbd.Segmenter(language="en", clean=False, char_span=True).segment(text)]


def syntok_spans(text: str) -> Spans:
    import syntok.segmenter as ss

    out = []
    for paragraph in ss.analyze(text):
        for sentence in paragraph:
            tokens = list(sentence)
            out.append((tokens[0].offset, tokens[-1].offset + len(tokens[-1].value)))
    return out


def blingfire_spans(text: str) -> Spans:
    import blingfire

    return [tuple(o) for o in blingfire.text_to_sentences_and_offsets(text)[1]]


def spacy_spans(text: str) -> Spans:
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return [(s.start_char, s.end_char) for s in nlp(text).sents]


SEGMENTERS: dict[str, Callable[[str], Spans]] = {
    "pysbd": pysbd_spans,
    "syntok": syntok_spans,
    "blingfire": blingfire_spans,
    "spacy-sentencizer": spacy_spans,
    "framing (syntok + news rules)": segment,
}


def boundaries(spans: Spans) -> set[tuple[str, int]]:
    return {("s", a) for a, _ in spans} | {("e", b) for _, b in spans}


def prf(gold: set, pred: set) -> tuple[float, float, float]:
    tp = len(gold & pred)
    p = tp / len(pred) if pred else 0.0
    r = tp / len(gold) if gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def main() -> None:
    gold_sets: dict[str, list[Article]] = {"seed article": read_jsonl(SHARED / "samples" / "seed-article.annotated.jsonl")}
    annotated = [
        a for p in sorted((ROOT / "training" / "annotations").glob("*.jsonl")) if not p.name.endswith(".blind.jsonl") for a in read_jsonl(p)
    ]
    if annotated:
        gold_sets[f"annotated articles ({len(annotated)}; drafts cut by our segmenter, boundary notes not applied)"] = annotated
    ptc = [Path(p).read_text(encoding="utf-8") for p in sorted(glob.glob(str(SHARED / "data/ptc-propaganda/*-articles/*.txt")))]
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    ours = {i: set(boundaries(_strip(t, segment(t)))) for i, t in enumerate(ptc)}
    for name, fn in SEGMENTERS.items():
        fn("Warm up. Now.")
        print(f"\n{name}")
        for set_name, articles in gold_sets.items():
            g, p = set(), set()
            for k, a in enumerate(articles):
                g |= {(k, b) for b in boundaries([(s.start, s.end) for s in a.sentences])}
                p |= {(k, b) for b in boundaries(_strip(a.text, fn(a.text)))}
            pr, rc, f1 = prf(g, p)
            print(f"  {set_name}: boundary precision {pr:.3f} recall {rc:.3f} F1 {f1:.3f}")
        started = time.perf_counter()
        agree_g, agree_p = set(), set()
        n_sent = 0
        for i, text in enumerate(ptc):
            spans = _strip(text, fn(text))
            n_sent += len(spans)
            agree_p |= {(i, b) for b in boundaries(spans)}
            agree_g |= {(i, b) for b in ours[i]}
        seconds = time.perf_counter() - started
        _, _, f1 = prf(agree_g, agree_p)
        print(f"  PTC {len(ptc)} articles: {n_sent} sentences, {n_sent / seconds:,.0f} sentences/s, boundary F1 vs framing {f1:.3f}")


if __name__ == "__main__":
    main()
