"""Scoring speed of the shipped model on a fixed corpus, against a naive baseline measured in the same run.

    .venv/bin/python benchmarks/score_speed.py [--naive-sentences 1000] [--model DIR]

Corpus: every PTC (train and dev) and BASIL article in ../shared/data, as raw text records (segmentation
included in the timing): 746 articles, 28,099 sentences, so process start-up weighs on the rate as it does
in a batch of thousands. It prints, in one run:

- end to end (``framing score corpus.jsonl -o out.jsonl`` in a child process: start-up, model load, reading,
  segmentation, scoring, attribution, profiles, JSONL writing): sentences/s, articles/s, peak RSS (with
  its worker processes); once with an empty ONNX graph cache (the export is paid), once with the graph it
  cached and once with one process (``--workers 1``), for the default backend (ONNX Runtime int8) and
  ONNX Runtime fp32, and whether the records are the same in every run; and the fixed cost: one article
  end to end;
- the scoring loop alone, in this process, for each backend (torch fp32, torch dynamic int8, ONNX Runtime
  fp32 and ONNX Runtime dynamic int8 — the default), with its load time, macro-F1 on the held-out sets that score in seconds
  (annotations-test, CheckThat! dev), how many annotations-test labels differ from torch fp32, and ONNX fp32
  without the technique head;
- the naive baseline: the transformers ``pipeline("text-classification")`` on the same encoder and heads,
  one sentence at a time, no context;
- FLOPs per sentence and the share of the machine's fp32 matmul throughput (torch, same process) reached.

``--model`` measures another model directory (e.g. the 3-layer student ``models/minilm-window-l3``).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from framing.model import default_model_dir, load_model  # noqa: E402
from framing.model import default_threads  # noqa: E402
from framing.parallel import DEFAULT_WORKERS_CAP  # noqa: E402
from framing.record import Article  # noqa: E402
from framing.score import prepare, score_articles  # noqa: E402
from framing.model.torch_model import TransformerModel  # noqa: E402

DATA = REPO.parent / "shared" / "data"


def build_corpus(path: Path) -> int:
    from training.annotate import basil_article

    articles = []
    for split in ("train", "dev"):
        for txt in sorted((DATA / "ptc-propaganda" / f"{split}-articles").glob("*.txt")):
            articles.append(Article(id=f"ptc-{txt.stem}", text=txt.read_text(encoding="utf-8"), meta={"corpus": "ptc"}))
    for js in sorted((DATA / "basil" / "articles").glob("*/*.json")):
        articles.append(basil_article(json.loads(js.read_text(encoding="utf-8")), js.stem))
    with open(path, "w", encoding="utf-8") as handle:
        for a in articles:
            handle.write(json.dumps({"id": a.id, "text": a.text, "meta": a.meta}) + "\n")
    return len(articles)


def matmul_gflops(repeats: int = 5) -> float:
    """The best fp32 matmul throughput torch reaches here, over square products and the model's own
    shapes (a 256-token window times a 384 × 1536 weight)."""
    best = 0.0
    for m, k, n in ((2048, 2048, 2048), (1024, 1024, 1024), (256, 384, 1536), (1024, 384, 1536)):
        a, b = torch.randn(m, k), torch.randn(k, n)
        torch.matmul(a, b)
        fastest = min(_timed(lambda: torch.matmul(a, b)) for _ in range(repeats * 4))
        best = max(best, 2 * m * k * n / fastest / 1e9)
    return best


def _timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, now (Linux /proc)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue  # the process ended while being read
    return total / 1024


def end_to_end(corpus: Path, model_dir: Path, out: Path, cache: Path, backend: str, workers: int | None) -> dict:
    """``framing score`` in a child process. Peak RSS is the largest sum, sampled every 20 ms, of the
    child's and its worker processes' resident memory. ``cache`` is its ONNX graph cache: empty for a
    first (cold) run, filled by it for the next."""
    argv = ["score", str(corpus), "-o", str(out), "--model", str(model_dir), "--backend", backend, *(["--workers", str(workers)] if workers else [])]
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "framing", *argv], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COLUMNS": "200", "FRAMING_CACHE_DIR": str(cache)})
    peak = 0.0
    sampler_done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not sampler_done.wait(0.02):
            peak = max(peak, tree_rss_mb(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = proc.communicate()
    wall = time.perf_counter() - start
    sampler_done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"framing score failed:\n{stderr}")
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return {
        "articles": len(records),
        "sentences": sum(len(r["sentences"]) for r in records),
        "wall_s": wall,
        "peak_rss_mb": peak,
        "output": out.read_text(encoding="utf-8"),
    }


def scoring_loop(model: object, articles: list[Article]) -> tuple[float, int]:
    batch = [prepare(copy.deepcopy(a)) for a in articles]
    start = time.perf_counter()
    scored = list(score_articles(batch, model))
    return time.perf_counter() - start, sum(len(a.sentences) for a in scored)


def held_out_sets() -> dict[str, list[Article]]:
    from training.data import load_annotations, load_checkthat
    from training.splits import split_articles

    return {"annotations-test": split_articles(load_annotations())["test"], "checkthat-dev": load_checkthat("dev")}


def quality(model: object, sets: dict[str, list[Article]]) -> tuple[dict[str, float], list[str]]:
    """Held-out figures, and every annotations-test sentence's predicted label (to count disagreements)."""
    from framing.evaluate import evaluate_head, evaluate_labels

    pred = {name: list(score_articles(copy.deepcopy(gold), model)) for name, gold in sets.items()}
    labels = [s.label or "" for a in pred["annotations-test"] for s in a.sentences]
    return {
        "annotations-test macro-F1": evaluate_labels(sets["annotations-test"], pred["annotations-test"])["macro_f1"],
        "checkthat-dev editorial macro-F1": evaluate_head(sets["checkthat-dev"], pred["checkthat-dev"], "editorial")["macro_f1"],
    }, labels


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


def flops_per_sentence(model: TransformerModel, segmented: list[Article]) -> float:
    """2 × non-embedding parameters per token, plus attention (QKᵀ and AV: 4 × window² × hidden per layer),
    over articles already split into sentences."""
    cfg = model.network.encoder.config
    params = sum(p.numel() for n, p in model.network.encoder.named_parameters() if "embeddings" not in n)
    windows = model.windows(segmented)
    tokens = sum(len(w.input_ids) for w in windows)
    attention = sum(4 * len(w.input_ids) ** 2 * cfg.hidden_size * cfg.num_hidden_layers for w in windows)
    n_sent = sum(len(w.members) for w in windows)
    return (2 * params * tokens + attention) / n_sent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--naive-sentences", type=int, default=1000)
    args = parser.parse_args()
    model_dir = args.model or default_model_dir()
    torch.set_num_threads(os.cpu_count() or 1)
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads")

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        n_articles = build_corpus(corpus)
        gflops = matmul_gflops()
        print(f"corpus: {n_articles} articles (every PTC and BASIL article); best torch fp32 matmul: {gflops:.0f} GFLOP/s")
        print(f"model: {model_dir.name}")

        e2e_rates: dict[str, float] = {}
        outputs: dict[str, str] = {}
        workers = min(default_threads(), DEFAULT_WORKERS_CAP)
        runs = [
            ("onnx-int8", None, "first run, empty ONNX cache"), ("onnx-int8", None, "cached graph"), ("onnx-int8", 1, "cached graph"),
            ("onnx", None, "first run"), ("onnx", None, "cached graph"), ("onnx", 1, "cached graph"),
        ]
        for backend, n_workers, run in runs:
            e2e = end_to_end(corpus, model_dir, Path(tmp) / "out.jsonl", Path(tmp) / "cache", backend, n_workers)
            setting = f"--backend {backend}" + (f" --workers {n_workers}" if n_workers else f", {workers} workers (default)")
            e2e_rates[setting] = e2e["sentences"] / e2e["wall_s"]
            outputs.setdefault(backend, e2e["output"])
            same = "same records as the first run" if outputs[backend] == e2e["output"] else "RECORDS DIFFER from the first run"
            memory = f"peak RSS {e2e['peak_rss_mb']:.0f} MB" + (" (all processes together)" if n_workers != 1 else "")
            print(
                f"end to end (framing score {setting}, child process, {run}): {e2e['sentences']} sentences, {e2e['articles']} articles in "
                f"{e2e['wall_s']:.1f} s -> {e2e_rates[setting]:.0f} sentences/s, {e2e['articles'] / e2e['wall_s']:.1f} articles/s; {memory}; {same}"
            )
        one = Path(tmp) / "one.jsonl"
        one.write_text(corpus.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
        e2e = end_to_end(one, model_dir, Path(tmp) / "out.jsonl", Path(tmp) / "cache", "onnx-int8", None)
        print(f"start-up: framing score on one article ({e2e['sentences']} sentences), cached graph: {e2e['wall_s']:.2f} s; peak RSS {e2e['peak_rss_mb']:.0f} MB")
        articles = [Article(**{k: v for k, v in json.loads(line).items()}) for line in corpus.read_text(encoding="utf-8").splitlines()]
        sets = held_out_sets()

        torch_model = TransformerModel.load(model_dir)
        backends = {
            "torch fp32": lambda: TransformerModel.load(model_dir),
            "torch dynamic int8": lambda: TransformerModel.load(model_dir).quantized(),
            "onnx fp32": lambda: load_model(model_dir, backend="onnx"),
            "onnx dynamic int8": lambda: load_model(model_dir, backend="onnx-int8"),
        }
        results: dict[str, dict[str, float]] = {}
        reference: list[str] = []
        for name, loader in backends.items():
            start = time.perf_counter()
            model = loader()
            load_s = time.perf_counter() - start
            seconds, n_sent = scoring_loop(model, articles)
            figures, labels = quality(model, sets)
            reference = reference or labels
            changed = sum(a != b for a, b in zip(reference, labels))
            results[name] = {"sent_s": n_sent / seconds, "load_s": load_s, **figures}
            print(
                f"scoring loop, {name}: {n_sent / seconds:.0f} sentences/s (load {load_s:.1f} s); "
                + ", ".join(f"{k} {v:.3f}" for k, v in figures.items())
                + f"; annotations-test labels differing from torch fp32: {changed}/{len(labels)}"
            )
            if name == "onnx fp32" and model.use_techniques:
                model.use_techniques = False
                model.session(False)  # its graph is exported (first time) and loaded outside the timing
                seconds, n_sent = scoring_loop(model, articles)
                results["onnx fp32, --no-techniques"] = {"sent_s": n_sent / seconds}
                print(f"scoring loop, onnx fp32 without the technique head: {n_sent / seconds:.0f} sentences/s")

        # Evenly spaced over the corpus, so the sample has the corpus's mix of sentence lengths.
        segmented = [prepare(copy.deepcopy(a)) for a in articles]
        every = [a.text[s.start : s.end] for a in segmented for s in a.sentences]
        sentences = every[:: max(1, len(every) // args.naive_sentences)][: args.naive_sentences]
        naive = naive_pipeline(torch_model, sentences)
        print(f"naive baseline (pipeline('text-classification'), torch, one sentence at a time, {len(sentences)} sentences evenly spaced over the corpus): {naive:.0f} sentences/s")

        fps = flops_per_sentence(torch_model, segmented)
        print(f"FLOPs per sentence (windows incl. attention): {fps / 1e9:.2f} GFLOP")
        for name in ("torch fp32", "onnx fp32"):
            rate = results[name]["sent_s"]
            print(f"  {name} scoring reaches {fps * rate / 1e9:.0f} GFLOP/s = {fps * rate / 1e9 / gflops:.0%} of the fp32 matmul benchmark")
        fp32 = results["torch fp32"]["sent_s"]
        default, one = f"--backend onnx-int8, {workers} workers (default)", "--backend onnx-int8 --workers 1"
        print(
            f"ratios: end to end (cached graph) / naive = {e2e_rates[default] / naive:.1f}x with the defaults (onnx-int8, {workers} workers), "
            f"{e2e_rates[one] / naive:.1f}x with --workers 1, {e2e_rates[f'--backend onnx, {workers} workers (default)'] / naive:.1f}x with onnx fp32; "
            f"{workers} workers / 1 = {e2e_rates[default] / e2e_rates[one]:.2f}x; onnx fp32 / torch fp32 = {results['onnx fp32']['sent_s'] / fp32:.2f}x; "
            f"onnx int8 / torch fp32 = {results['onnx dynamic int8']['sent_s'] / fp32:.2f}x; torch int8 / torch fp32 = {results['torch dynamic int8']['sent_s'] / fp32:.2f}x"
        )
        if "onnx fp32, --no-techniques" in results:
            cost = results["onnx fp32, --no-techniques"]["sent_s"] / results["onnx fp32"]["sent_s"] - 1
            print(f"technique head costs {cost:.1%} of scoring-loop throughput")
    return 0


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


if __name__ == "__main__":
    raise SystemExit(main())
