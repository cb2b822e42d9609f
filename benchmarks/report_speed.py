"""Report writing speed: pages per second for ``write_report``, against a baseline in the same run.

    .venv/bin/python benchmarks/report_speed.py [--pages 1000]

The articles are the annotated seed article with its gold labels as predictions (no model runs: this
measures the report alone), written ``--pages`` times under distinct ids into a temporary directory, with
review controls. The baseline is the same code with the template environment built again for every page,
as the report did before (Jinja2 parses and compiles the templates each time). It prints pages/s, the
ratio, peak RSS of this process and the machine.
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from framing import report  # noqa: E402
from framing.profile import article_profile  # noqa: E402
from framing.record import LABELS, read_jsonl  # noqa: E402


def articles(n: int) -> list:
    seed = read_jsonl(REPO.parent / "shared" / "samples" / "seed-article.annotated.jsonl")[0]
    for s in seed.sentences:
        s.probs = {label: 0.7 if label == s.label else 0.1 for label in LABELS}
    seed.profile = article_profile(seed)
    out = []
    for i in range(n):
        a = copy.deepcopy(seed)
        a.id = f"seed-{i}"
        out.append(a)
    return out


def timed(batch: list, fresh_environment: bool) -> float:
    original = report._environment
    if fresh_environment:
        # The old behaviour: a new environment (templates parsed and compiled again) for every page.
        report._environment = lambda: original.__wrapped__()  # type: ignore[attr-defined]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            result = report.write_report(batch, tmp, review=True)
            seconds = time.perf_counter() - started
        assert len(result.pages) == len(batch)
    finally:
        report._environment = original
    return len(batch) / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=1000)
    args = parser.parse_args()
    batch = articles(args.pages)
    baseline_batch = batch[: max(50, args.pages // 10)]  # the old way is slow: a tenth of the pages is enough
    report._environment.cache_clear()
    fast = timed(batch, fresh_environment=False)
    slow = timed(baseline_batch, fresh_environment=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"write_report, one template environment: {fast:,.0f} pages/s ({args.pages} pages of {len(batch[0].sentences)} sentences, review mode)")
    print(f"baseline, an environment per page:      {slow:,.0f} pages/s ({len(baseline_batch)} pages)")
    print(f"speed-up: {fast / slow:.1f}x; peak RSS {peak:,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
