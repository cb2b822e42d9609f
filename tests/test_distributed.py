"""The Ray path scores a Parquet dataset on a local 2-CPU Ray instance exactly as a local run does."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from framing.cli import app
from tests.conftest import SEED_TEXT

runner = CliRunner()


def test_ray_engine_matches_the_local_run(tiny_model_dir: Path, tmp_path: Path) -> None:
    seed = SEED_TEXT.read_text(encoding="utf-8")
    texts = [seed, "The minister said the talks would resume on Monday. This is surely a disaster.", "", seed[:800]]
    texts += [f"The council met on day {i} and approved the budget, officials said." for i in range(20)]
    ids = [f"doc{i}" for i in range(len(texts))]
    source = tmp_path / "articles.parquet"
    outlets = [f"outlet {i % 3}" for i in range(len(texts))]  # other columns go to meta, then to the rows
    pq.write_table(pa.table({"doc": ids, "body": texts, "outlet": outlets, "title": [f"Story {i}" for i in range(len(texts))]}), source)

    local = tmp_path / "local.parquet"
    columns_and_model = ["--text-col", "body", "--id-col", "doc", "--model", str(tiny_model_dir)]
    result = runner.invoke(
        app,
        ["score", str(source), "-o", str(local), "--format", "parquet", *columns_and_model],
    )
    assert result.exit_code == 1  # the empty article is reported
    out = tmp_path / "ray-out"
    result = runner.invoke(
        app,
        ["score", str(source), "--engine", "ray", "--workers", "2", "-o", str(out), *columns_and_model],
    )
    assert result.exit_code == 0, result.output

    from framing.distributed import OUTPUT_COLUMNS

    ray_table = pq.read_table(out)
    assert ray_table.column_names == OUTPUT_COLUMNS
    ray_rows = ray_table.to_pylist()
    errors = [r for r in ray_rows if r["error"]]
    assert [(r["article_id"], r["sentence_index"]) for r in errors] == [("doc2", -1)] and "empty" in errors[0]["error"]
    key = lambda r: (r["article_id"], r["sentence_index"])  # noqa: E731
    got = sorted(({k: v for k, v in r.items() if k != "error"} for r in ray_rows if not r["error"]), key=key)
    want = sorted(pq.read_table(local).to_pylist(), key=key)
    assert len(got) == len(want) > 20
    assert got == want
    assert {(r["article_id"], r["outlet"], r["title"]) for r in got} == {(i, o, f"Story {n}") for n, (i, o) in enumerate(zip(ids, outlets)) if n != 2}
