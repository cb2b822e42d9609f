"""Scoring a Parquet dataset on a Ray cluster (``framing score --engine ray``), when one machine is not enough.

Ray Data reads the table in blocks, a pool of actors each loads the model once and scores batches of
articles with the same code as a local run (``framing.score``), and the per-sentence rows are written back
as Parquet files, one per block, with the columns of ``framing score --format parquet`` plus ``error``
(set, on a single row with ``sentence_index`` -1, for an article that could not be scored).

    framing score articles.parquet --engine ray --ray-address auto -o scored/ --text-col body --id-col doc_id

Without ``--ray-address`` a local Ray instance is started on this machine's cores.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from framing.io import DEFAULT_MAX_CHARS, SENTENCE_COLUMNS, check_article, sentence_rows, sentence_schema
from framing.model import ModelSpec
from framing.record import Article

OUTPUT_COLUMNS = [*SENTENCE_COLUMNS, "error"]


class BatchScorer:
    """A Ray actor: loads the model once, then turns batches of table rows into sentence rows."""

    def __init__(self, spec: ModelSpec, text_col: str, id_col: str, max_chars: int = DEFAULT_MAX_CHARS) -> None:
        # One actor per core: each uses one thread, so actors do not fight over cores.
        self.model = spec.load(threads=1)
        self.text_col, self.id_col, self.max_chars = text_col, id_col, max_chars

    def __call__(self, batch: dict[str, Any]) -> Any:
        """Sentence rows as a pyarrow table of ``OUTPUT_COLUMNS`` with their stated types, so that every
        block's Parquet file has the same schema (a column empty in one block would be typed null)."""
        import pyarrow as pa

        from framing.io import InputError
        from framing.score import score_items

        texts = list(batch[self.text_col])
        ids = list(batch[self.id_col]) if self.id_col in batch else [None] * len(texts)
        # The other columns go to meta, as in a local run of the same table (an outlet or title column).
        others = {c: list(v) for c, v in batch.items() if c not in (self.text_col, self.id_col)}
        plan: list[tuple[str, str | None]] = []  # per input row: its id and why it is refused, or None
        articles = []
        for n, (text, raw_id) in enumerate(zip(texts, ids)):
            meta = {c: _scalar(values[n]) for c, values in others.items()}
            # Without --id-col, ids are only unique within a batch: pass --id-col for a dataset.
            article = Article(
                id=str(raw_id) if raw_id is not None else f"row-{n}",
                text=text if isinstance(text, str) else "",
                meta={c: v for c, v in meta.items() if v not in (None, "")},
            )
            problem = check_article(article, self.max_chars)
            plan.append((article.id, problem))
            if problem is None:
                articles.append(article)
        scored = iter(score_items(articles, self.model))  # one item per article, in order
        out: dict[str, list[Any]] = {c: [] for c in OUTPUT_COLUMNS}

        def add(row: dict[str, Any]) -> None:
            for c in OUTPUT_COLUMNS:
                out[c].append(row.get(c))

        for article_id, problem in plan:
            if problem is not None:
                add(_error_row(article_id, problem))
                continue
            item = next(scored)
            if isinstance(item, InputError):
                add(_error_row(article_id, item.message))
            else:
                for row in sentence_rows(item):
                    add({**row, "error": None})
        return pa.table(out, schema=sentence_schema(("error",)))


def _scalar(value: Any) -> Any:
    """A table cell as a plain Python value for ``meta`` (numpy scalars unwrapped), or None for anything
    that is not a string, number or bool (as a local run keeps only those)."""
    value = value.item() if hasattr(value, "item") and getattr(value, "ndim", 1) == 0 else value
    if isinstance(value, float) and value != value:
        return None  # NaN: a null of a numeric column, as numpy batches give it
    return value if isinstance(value, (str, int, float, bool)) else None


def _error_row(article_id: str, message: str) -> dict[str, Any]:
    return {"article_id": article_id, "sentence_index": -1, "error": message}


def score_parquet(
    source: str | Path,
    output_dir: str | Path,
    spec: ModelSpec,
    *,
    text_col: str = "text",
    id_col: str = "id",
    address: str | None = None,
    workers: int | None = None,
    batch_articles: int = 32,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> int:
    """Score every row of the Parquet file or directory ``source`` on Ray and write sentence rows as
    Parquet into ``output_dir``; returns the number of sentence rows written."""
    import os

    import ray

    if Path(output_dir).exists() and any(Path(output_dir).iterdir()):
        # Old part files would be read back with the new ones as one dataset.
        raise ValueError(f"{output_dir} is not empty: give a new or empty output directory")
    started_here = not ray.is_initialized()
    if started_here:
        # Locally: one model replica per core, plus one logical CPU for the light read and write tasks
        # (with every CPU held by a replica, the reads would never be scheduled).
        local_cpus = (workers or os.cpu_count() or 1) + 1
        ray.init(
            address=address, num_cpus=None if address else local_cpus, include_dashboard=False, log_to_driver=False, configure_logging=False
        )
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    try:
        n_workers = workers or max(1, int(ray.cluster_resources().get("CPU", 2)) - 1)
        dataset = ray.data.read_parquet(str(source), num_cpus=0.5)
        if text_col not in dataset.schema().names:
            raise ValueError(f"{source}: no text column {text_col!r} (columns: {', '.join(dataset.schema().names)}); pass --text-col")
        scored = dataset.map_batches(
            BatchScorer,
            fn_constructor_kwargs={"spec": spec, "text_col": text_col, "id_col": id_col, "max_chars": max_chars},
            batch_size=batch_articles,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=n_workers),
            num_cpus=1,
        )
        Path(output_dir).mkdir(parents=True, exist_ok=True)
        scored.write_parquet(str(output_dir), ray_remote_args={"num_cpus": 0.5})
        import pyarrow.parquet as pq

        return sum(pq.ParquetFile(p).metadata.num_rows for p in Path(output_dir).glob("*.parquet"))
    finally:
        if started_here:
            ray.shutdown()
