"""End-to-end ``framing score`` speed of two models on the same corpus, in one run, alternating.

    .venv/bin/python benchmarks/compare_models.py models/minilm-window-l3 models/minilm-window-l3-v4 [--rounds 2]

The corpus is ``score_speed.py``'s (every PTC and BASIL article as raw text: segmentation included). Each
model first scores it once to fill its ONNX graph cache; then the two alternate ``--rounds`` times, so a
machine that slows down or speeds up during the run weighs on both alike. Prints, per model, the median
sentences/s, articles/s and peak RSS, and the candidate's rate as a ratio of the baseline's.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from score_speed import build_corpus, end_to_end  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("baseline", type=Path)
    parser.add_argument("candidate", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        corpus = root / "corpus.jsonl"
        n_articles = build_corpus(corpus)
        models = {"baseline": args.baseline, "candidate": args.candidate}
        runs: dict[str, list[dict]] = {name: [] for name in models}
        for name, directory in models.items():
            end_to_end(corpus, directory, root / f"{name}.jsonl", root / f"cache-{name}", "onnx-int8", None)  # fills the graph cache
        for _ in range(args.rounds):
            for name, directory in models.items():
                runs[name].append(end_to_end(corpus, directory, root / f"{name}.jsonl", root / f"cache-{name}", "onnx-int8", None))
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, {os.cpu_count()} cores; corpus {n_articles} articles")
    rates = {}
    for name, directory in models.items():
        sentences = runs[name][0]["sentences"]
        rate = statistics.median(sentences / r["wall_s"] for r in runs[name])
        rates[name] = rate
        peak = max(r["peak_rss_mb"] for r in runs[name])
        arts = statistics.median(r["articles"] / r["wall_s"] for r in runs[name])
        print(f"{name:9s} {directory}: {rate:7.1f} sentences/s, {arts:5.1f} articles/s end to end (median of {args.rounds}), peak RSS {peak:.0f} MB")
    print(f"candidate / baseline: {rates['candidate'] / rates['baseline']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
