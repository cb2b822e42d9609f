from __future__ import annotations

import json
from pathlib import Path

import pytest

from framing.files import atomic_writer
from framing.io import InputError, OutputWriter, article_key, read_inputs
from framing.record import Article


def _items(tmp_path: Path, name: str, data: bytes) -> list:
    path = tmp_path / name
    path.write_bytes(data)
    return list(read_inputs([str(path)]))


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.txt", b"", "empty article"),
        ("blank.txt", b"  \n\n ", "empty article"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
        ("latin1.txt", "Le café était fermé.".encode("latin-1"), "not valid UTF-8 (byte 0xe9 at offset 6)"),
        ("page.txt", b"<html><head><meta charset=utf-8></head><body><div><p>Hi</p></div></body></html>", "looks like HTML"),
        (
            "german.txt",
            ("Die Regierung hat am Montag neue Sanktionen gegen das Land beschlossen, " * 5).encode(),
            "does not look like English",
        ),
        ("notes.docx", b"PK\x03\x04", "unsupported file type"),
    ],
)
def test_bad_inputs_become_named_errors(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    items = _items(tmp_path, name, data)
    assert len(items) == 1 and isinstance(items[0], InputError)
    assert message in items[0].message
    assert name in items[0].source


def test_huge_article_is_refused_with_its_size(tmp_path: Path) -> None:
    sentence = b"The council met on Tuesday and the mayor said the budget was approved. "
    items = _items(tmp_path, "huge.txt", sentence * (5_000_000 // len(sentence) + 1))
    assert isinstance(items[0], InputError)
    assert "5,000," in items[0].message and "--max-chars" in items[0].message


def test_utf16_and_bom_are_decoded(tmp_path: Path) -> None:
    text = "The minister said the talks would resume on Monday in Geneva."
    assert _items(tmp_path, "a.txt", text.encode("utf-16"))[0].text == text
    assert _items(tmp_path, "b.txt", b"\xef\xbb\xbf" + text.encode())[0].text == text


def test_directory_mixes_good_and_bad_files(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("The council met on Tuesday and approved the budget for the year.", encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes(b"")
    (tmp_path / "records.jsonl").write_text('{"id": "r1", "text": "The mayor said so."}\n{oops\n', encoding="utf-8")
    items = list(read_inputs([str(tmp_path)]))
    assert [i.id for i in items if isinstance(i, Article)] == ["good", "r1"]
    errors = [i for i in items if isinstance(i, InputError)]
    assert {Path(e.source.split(" line ")[0]).name for e in errors} == {"bad.txt", "records.jsonl"}
    assert any("line 2" in e.source for e in errors)


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    items = list(read_inputs([str(tmp_path / "nope.txt")]))
    assert isinstance(items[0], InputError) and "no such file" in items[0].message


def test_atomic_writer_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text("previous complete output\n", encoding="utf-8")
    with pytest.raises(RuntimeError):
        with atomic_writer(target) as handle:
            handle.write("half a reco")
            raise RuntimeError("killed")
    assert target.read_text(encoding="utf-8") == "previous complete output\n"
    assert list(tmp_path.iterdir()) == [target]


def test_parquet_needs_a_file() -> None:
    with pytest.raises(ValueError, match="parquet output needs a file"):
        OutputWriter(None, "parquet")


PAGE = """<!doctype html><html><head><title>Drone attack on convoy | Daily Example</title>
<meta property="og:site_name" content="Daily Example"></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/subscribe">Subscribe now</a></nav>
<article><h1>Drone attack on convoy</h1>
<p>The minister said on Monday that the talks would resume next week in Geneva, after a pause of two months.</p>
<p>Officials in the capital claimed the convoy had been attacked by drones, which the army denied in a statement.</p>
<p>The council met on Tuesday and approved the budget for the coming year after a long and heated debate.</p>
</article><footer>Copyright 2026 Daily Example. Cookie settings. Privacy policy.</footer></body></html>"""


def test_html_pages_are_reduced_to_their_main_text(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text(PAGE, encoding="utf-8")
    [article] = list(read_inputs([str(tmp_path / "page.html")]))
    assert isinstance(article, Article), article
    assert "talks would resume" in article.text and "army denied" in article.text
    assert "Subscribe now" not in article.text and "Cookie settings" not in article.text
    assert article.meta["title"].startswith("Drone attack on convoy")
    (tmp_path / "empty.html").write_text("<html><body><nav>Home</nav></body></html>", encoding="utf-8")
    [error] = list(read_inputs([str(tmp_path / "empty.html")]))
    assert isinstance(error, InputError) and "no article text" in error.message


def test_tables_and_globs(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from framing.io import Columns

    text = "The minister said the talks would resume on Monday in the capital."
    (tmp_path / "a.csv").write_text(f"doc,body,outlet\nd1,{text},Daily\nd2,,Daily\n,{text},Wire\n", encoding="utf-8")
    pq.write_table(pa.table({"body": [text, text], "doc": ["p1", "p2"], "views": [3, 4]}), tmp_path / "b.parquet")
    items = list(read_inputs([str(tmp_path / "*.csv"), str(tmp_path / "*.parquet")], columns=Columns(text="body", id="doc")))
    articles = [i for i in items if isinstance(i, Article)]
    errors = [i for i in items if isinstance(i, InputError)]
    assert [a.id for a in articles] == ["d1", "a-3", "p1", "p2"]
    assert articles[0].meta["outlet"] == "Daily" and articles[2].meta["views"] == 3
    assert len(errors) == 1 and errors[0].source.endswith("a.csv row 2") and "empty" in errors[0].message
    [missing] = list(read_inputs([str(tmp_path / "a.csv")]))
    assert isinstance(missing, InputError) and "no text column 'text'" in missing.message and "body" in missing.message
    [nothing] = list(read_inputs([str(tmp_path / "*.xml")]))
    assert isinstance(nothing, InputError) and "no file matches" in nothing.message


TEXT = "The minister said the talks would resume on Monday in the capital city."


def test_resume_key_is_the_id_and_text_not_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two articles with one id but other texts are two articles; one article read through two spellings
    of its path (relative, absolute) is one: resuming with the path spelled differently rescored and
    appended every article already done."""
    (tmp_path / "a.jsonl").write_text(json.dumps({"id": "1", "text": TEXT}) + "\n", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text(json.dumps({"id": "1", "text": TEXT + " More."}) + "\n", encoding="utf-8")
    a, b = read_inputs([str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")])
    assert isinstance(a, Article) and isinstance(b, Article)
    assert article_key(a) != article_key(b)
    monkeypatch.chdir(tmp_path)
    [relative] = read_inputs(["a.jsonl"])
    assert isinstance(relative, Article) and article_key(relative) == article_key(a)


def test_a_long_csv_field_does_not_end_the_table(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    long_text = (TEXT + " ") * 3000  # about 220,000 characters, above csv's default field limit
    path.write_text(f"id,text\na,{TEXT}\nb,{long_text}\nc,{TEXT}\n", encoding="utf-8")
    items = list(read_inputs([str(path)], max_chars=100_000))
    assert [getattr(i, "id", None) or i.article_id for i in items] == ["a", "b", "c"]
    assert isinstance(items[1], InputError) and "above the limit" in items[1].message
