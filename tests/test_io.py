from __future__ import annotations

from pathlib import Path

import pytest

from framing.io import InputError, OutputWriter, atomic_writer, read_inputs
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
        ("german.txt", ("Die Regierung hat am Montag neue Sanktionen gegen das Land beschlossen, " * 5).encode(), "does not look like English"),
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
