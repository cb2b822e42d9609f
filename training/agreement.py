"""Inter-annotator agreement on articles annotated twice, blind (Cohen's kappa over sentence labels).

    python -m training.agreement training/annotations/round1.jsonl training/annotations/round1.blind.jsonl
"""

from __future__ import annotations

import argparse
from typing import Any

from sklearn.metrics import cohen_kappa_score, confusion_matrix

from framing.record import LABELS, Article, read_jsonl


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("first")
    parser.add_argument("second")
    args = parser.parse_args(argv)
    result = agreement(read_jsonl(args.first), read_jsonl(args.second))
    print(f"{len(result['articles'])} articles, {result['sentences']} sentences annotated twice")
    print(f"observed agreement {result['observed_agreement']:.3f}, Cohen's kappa {result['kappa']:.3f}")
    print("confusion (rows: first annotator, columns: second), labels", ", ".join(LABELS))
    for label, row in zip(LABELS, result["confusion"]):
        print(f"  {label:18s} {row}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
