"""Scoring speed of the shipped model on a fixed corpus, against a naive baseline measured in the same run.

    .venv/bin/python benchmarks/score_speed.py [--naive-sentences 400] [--model DIR]

Corpus: the PTC dev articles and the BASIL articles of 2016-2019 in ../shared/data, as raw text records
(segmentation included in the timing). It prints, in one run:

- end to end (``framing score corpus.jsonl -o out.jsonl`` in a child process: start-up, model load, reading,
  segmentation, scoring, attribution, profiles, JSONL writing): sentences/s, articles/s, peak RSS;
- the scoring loop alone for each backend (torch fp32, torch dynamic int8), with macro-F1 on the held-out
  sets that score in seconds (annotations-test, CheckThat! dev), and fp32 without the technique head;
- the naive baseline: the transformers ``pipeline("text-classification")`` on the same encoder and heads,
  one sentence at a time, no context;
- FLOPs per sentence and the share of the machine's fp32 matmul throughput (torch, same process) reached.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from framing.model import default_model_dir, load_model  # noqa: E402
from framing.record import Article  # noqa: E402
from framing.score import prepare, score_articles  # noqa: E402
from framing.transformer import TransformerModel  # noqa: E402

DATA = REPO.parent / "shared" / "data"


def build_corpus(path: Path) -> int:
    from training.annotate import basil_article

    articles = []
    for txt in sorted((DATA / "ptc-propaganda" / "dev-articles").glob("*.txt")):
        articles.append(Article(id=f"ptc-{txt.stem}", text=txt.read_text(encoding="utf-8"), meta={"corpus": "ptc"}))
    for year in ("2016", "2017", "2018", "2019"):
        for js in sorted((DATA / "basil" / "articles" / year).glob("*.json")):
            articles.append(basil_article(json.loads(js.read_text(encoding="utf-8")), js.stem))
    with open(path, "w", encoding="utf-8") as handle:
        for a in articles:
            handle.write(json.dumps({"id": a.id, "text": a.text, "meta": a.meta}) + "\n")
    return len(articles)


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.matmul(a, b)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.matmul(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def end_to_end(corpus: Path, model_dir: Path, out: Path) -> dict:
    """``framing score`` in a child process; its peak RSS comes from the child itself."""
    rss_file = out.with_suffix(".rss")
    code = (
        "import resource, runpy, sys\n"
        f"sys.argv = ['framing', 'score', {str(corpus)!r}, '-o', {str(out)!r}, '--model', {str(model_dir)!r}]\n"
        "try:\n    runpy.run_module('framing', run_name='__main__')\n"
        f"finally:\n    open({str(rss_file)!r}, 'w').write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))\n"
    )
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"framing score failed:\n{proc.stderr}")
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    sentences = sum(len(r["sentences"]) for r in records)
    loop = re.search(r"sentences in ([\d.]+) s", proc.stderr)
    return {
        "articles": len(records),
        "sentences": sentences,
        "wall_s": wall,
        "scoring_loop_s": float(loop.group(1)) if loop else None,
        "peak_rss_mb": int(rss_file.read_text()) / 1024,
    }


def scoring_loop(model: object, articles: list[Article]) -> tuple[float, int]:
    batch = [prepare(copy.deepcopy(a)) for a in articles]
    start = time.perf_counter()
    scored = list(score_articles(batch, model))
    return time.perf_counter() - start, sum(len(a.sentences) for a in scored)


def quality(model: object) -> dict[str, float]:
    from training.data import load_annotations, load_checkthat
    from training.evaluation import evaluate_all
    from training.splits import split_articles

    sets = {"annotations-test": split_articles(load_annotations())["test"], "checkthat-dev": load_checkthat("dev")}
    result = evaluate_all(model, sets)
    return {
        "annotations-test macro-F1": result["annotations-test"]["labels"]["macro_f1"],
        "checkthat-dev editorial macro-F1": result["checkthat-dev"]["editorial_vs_rest"]["macro_f1"],
    }


def naive_pipeline(model: TransformerModel, sentences: list[str]) -> float:
    """Sentences/s of transformers' text-classification pipeline on the same encoder and heads, one
    sentence at a time, no neighbours."""
    from transformers import BertConfig, BertForSequenceClassification, pipeline

    config = BertConfig(**{**model.network.encoder.config.to_dict(), "num_labels": 3})
    clf = BertForSequenceClassification(config)
    clf.bert.load_state_dict(model.network.encoder.state_dict(), strict=False)
    clf.classifier.load_state_dict(model.network.head.state_dict())
    pipe = pipeline("text-classification", model=clf.eval(), tokenizer=model.tokenizer, device=-1, function_to_apply="sigmoid")
    pipe(sentences[0])
    start = time.perf_counter()
    for s in sentences:
        pipe(s)
    return len(sentences) / (time.perf_counter() - start)


def flops_per_sentence(model: TransformerModel, articles: list[Article]) -> float:
    """2 × non-embedding parameters per token, plus attention (QKᵀ and AV: 4 × window² × hidden per layer)."""
    cfg = model.network.encoder.config
    params = sum(p.numel() for n, p in model.network.encoder.named_parameters() if "embeddings" not in n)
    windows = model.windows([prepare(copy.deepcopy(a)) for a in articles])
    tokens = sum(len(w.input_ids) for w in windows)
    attention = sum(4 * len(w.input_ids) ** 2 * cfg.hidden_size * cfg.num_hidden_layers for w in windows)
    n_sent = sum(len(w.members) for w in windows)
    return (2 * params * tokens + attention) / n_sent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--naive-sentences", type=int, default=400)
    args = parser.parse_args()
    model_dir = args.model or default_model_dir()
    torch.set_num_threads(os.cpu_count() or 1)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads")

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        n_articles = build_corpus(corpus)
        gflops = matmul_gflops()
        print(f"corpus: {n_articles} articles (PTC dev + BASIL 2016-2019); torch fp32 matmul: {gflops:.0f} GFLOP/s")

        e2e = end_to_end(corpus, model_dir, Path(tmp) / "out.jsonl")
        print(
            f"end to end (framing score, child process): {e2e['sentences']} sentences, {e2e['articles']} articles in "
            f"{e2e['wall_s']:.1f} s -> {e2e['sentences'] / e2e['wall_s']:.0f} sentences/s, {e2e['articles'] / e2e['wall_s']:.1f} articles/s; "
            f"peak RSS {e2e['peak_rss_mb']:.0f} MB"
        )

        start = time.perf_counter()
        model = load_model(model_dir)
        load_s = time.perf_counter() - start
        print(f"model load: {load_s:.2f} s ({model_dir.name})")
        articles = [Article(**{k: v for k, v in json.loads(line).items()}) for line in corpus.read_text(encoding="utf-8").splitlines()]

        results = {}
        if getattr(model, "network", None) is not None and model.network.techniques is not None:
            model.use_techniques = False
            seconds, n_sent = scoring_loop(model, articles)
            model.use_techniques = True
            results["torch fp32, --no-techniques"] = {"sent_s": n_sent / seconds}
            print(f"scoring loop, torch fp32 without the technique head: {n_sent / seconds:.0f} sentences/s")
        for name, m in (("torch fp32", model), ("torch dynamic int8", model.quantized())):
            seconds, n_sent = scoring_loop(m, articles)
            results[name] = {"sent_s": n_sent / seconds, **quality(m)}
            print(f"scoring loop, {name}: {n_sent / seconds:.0f} sentences/s; " + ", ".join(f"{k} {v:.3f}" for k, v in results[name].items() if k != "sent_s"))

        sentences = [a.text[s.start : s.end] for a in (prepare(copy.deepcopy(x)) for x in articles[:40]) for s in a.sentences][: args.naive_sentences]
        naive = naive_pipeline(model, sentences)
        print(f"naive baseline (pipeline('text-classification'), one sentence at a time, first {len(sentences)} sentences): {naive:.0f} sentences/s")

        fps = flops_per_sentence(model, articles)
        fp32 = results["torch fp32"]["sent_s"]
        print(f"FLOPs per sentence (windows incl. attention): {fps / 1e9:.2f} GFLOP; fp32 scoring reaches {fps * fp32 / 1e9:.0f} GFLOP/s = {fps * fp32 / 1e9 / gflops:.0%} of the matmul benchmark")
        e2e_rate = e2e["sentences"] / e2e["wall_s"]
        print(f"ratios: end to end / naive = {e2e_rate / naive:.1f}x; scoring loop fp32 / naive = {fp32 / naive:.1f}x; int8 / fp32 = {results['torch dynamic int8']['sent_s'] / fp32:.2f}x")
        if "torch fp32, --no-techniques" in results:
            cost = results["torch fp32, --no-techniques"]["sent_s"] / fp32 - 1
            print(f"technique head costs {cost:.1%} of scoring-loop throughput")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
