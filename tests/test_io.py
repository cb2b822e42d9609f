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


SPANISH_15 = "El gobierno anunció el lunes nuevas sanciones contra el país tras el ataque en la frontera."
ENGLISH_SHORT = [
    "Putin's helicopter targeted by Ukrainian drone swarm over Kursk, Russian commander says",
    "Nebraska, Oklahoma File Federal Suit Against Colorado Over Marijuana Legalization",
    "Dodgers beat Yankees 7-6 in 10 innings to take 2-0 World Series lead",
    "Zelensky: Ukraine needs Patriots now, not next year, as Russian offensive grows",
    "The minister said on Monday that the talks would resume next week in Geneva.",
    "Officials claimed the convoy had been attacked by drones, which the army denied in a statement on Sunday.",
]


def test_language_is_identified_by_langid(tmp_path: Path) -> None:
    """A 15-word Spanish text was scored: the common-English-word list only looked at texts of 20 words
    or more. Short English headlines (10-20 words, Title Case too) and real articles are accepted."""
    from framing.io import check_article
    from tests.conftest import SEED_TEXT

    assert len(SPANISH_15.split()) == 16
    [item] = _items(tmp_path, "es.txt", SPANISH_15.encode())
    assert isinstance(item, InputError)
    assert item.message.startswith("does not look like English (") and "'es'" in item.message
    for text in ENGLISH_SHORT:
        assert 10 <= len(text.split()) <= 20
        assert check_article(Article("h", text)) is None, text
    assert check_article(Article("seed", SEED_TEXT.read_text(encoding="utf-8"))) is None
    # Too short to tell: scored, as before.
    assert check_article(Article("s", "El gobierno anunció sanciones.")) is None


def test_language_model_is_cached_privately_and_verified(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """langid.py unpacks its model for over a second on every load; the unpacked arrays are cached in the
    private cache and read back only while their digest matches."""
    from framing.io import LanguageIdentifier

    monkeypatch.setenv("FRAMING_CACHE_DIR", str(tmp_path / "cache"))
    first = LanguageIdentifier.load()
    [cached] = (tmp_path / "cache").glob("langid-*.npz")
    digest = cached.with_name(cached.name + ".sha256")
    assert digest.exists() and (tmp_path / "cache").stat().st_mode & 0o077 == 0
    again = LanguageIdentifier.load()
    assert again.identify(SPANISH_15) == first.identify(SPANISH_15)
    assert again.identify(SPANISH_15)[0] == "es" and again.identify(ENGLISH_SHORT[0])[0] == "en"
    # A valid cache file changed behind our back (here: arrays that would read Spanish as English) is not
    # read: only its digest tells it from the real one, and it is unpacked and written again.
    import io as bytes_io

    import numpy as np

    with np.load(cached, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    arrays = {name: (value[::-1] if value.ndim else value) for name, value in arrays.items()}
    buffer = bytes_io.BytesIO()
    np.savez(buffer, **arrays)
    cached.write_bytes(buffer.getvalue())
    cached.chmod(0o600)
    assert LanguageIdentifier.load().identify(SPANISH_15) == first.identify(SPANISH_15)
    assert cached.read_bytes() != buffer.getvalue()
    # A cache directory others may write to is never trusted: the model is unpacked and used, not read back.
    (tmp_path / "cache").chmod(0o777)
    from framing.files import read_cached

    assert read_cached(cached) is None
    assert LanguageIdentifier.load().identify(SPANISH_15) == first.identify(SPANISH_15)
    (tmp_path / "cache").chmod(0o700)


def _scored_article() -> Article:
    from framing.profile import article_profile
    from framing.record import Sentence, Span, TechniqueSpan

    text = "Dashkin boasted that the drones fell. He said it was a triumph. The rain stopped."
    first, second, third = (0, 37), (38, 63), (64, 81)
    probs = {"attributed_claim": 0.123456, "editorial_framing": 0.2, "reported_fact": 0.6, "other": 0.076544}
    sentences = [
        Sentence(*first, "attributed_claim", Span(0, 7, "Dashkin", kind="person", resolved="Yury Dashkin"), Span(8, 15, "boasted", loaded=True), probs),
        Sentence(*second, "attributed_claim", Span(38, 40, "He", kind="person", resolved="Yury Dashkin"), Span(41, 45, "said", loaded=False), probs),
        Sentence(*third, "reported_fact", probs=probs),
    ]
    article = Article("a1", text, {"title": "Drones fell", "outlet": "Daily", "date": "2025-05-25"}, sentences)
    article.techniques = [
        TechniqueSpan(52, 62, "Loaded_Language"),
        TechniqueSpan(30, 45, "Exaggeration,Minimisation"),
        TechniqueSpan(8, 15, "Loaded_Language"),
    ]
    article.profile = article_profile(article)
    return article


def test_sentence_rows_carry_title_outlet_sources_cues_and_techniques() -> None:
    from framing.io import SENTENCE_COLUMNS, sentence_rows

    old = ["article_id", "sentence_index", "start", "end", "sentence", "label"]
    old += ["p_attributed_claim", "p_editorial_framing", "p_reported_fact", "p_other", "source", "cue"]
    assert SENTENCE_COLUMNS[: len(old)] == old  # the existing columns keep their place
    assert SENTENCE_COLUMNS[len(old) :] == ["title", "outlet", "source_kind", "source_resolved", "cue_loaded", "techniques"]
    article = _scored_article()
    rows = list(sentence_rows(article))
    assert all(list(r) == SENTENCE_COLUMNS for r in rows)
    assert [(r["title"], r["outlet"]) for r in rows] == [("Drones fell", "Daily")] * 3
    assert rows[0]["p_attributed_claim"] == 0.1235 and rows[0]["p_other"] == 0.0765
    assert [(r["source"], r["source_kind"], r["source_resolved"]) for r in rows] == [
        ("Dashkin", "person", "Yury Dashkin"),
        ("He", "person", "Yury Dashkin"),
        (None, None, None),
    ]
    assert [r["cue_loaded"] for r in rows] == [True, False, None]
    assert [r["techniques"] for r in rows] == ["Loaded_Language;Exaggeration,Minimisation", "Exaggeration,Minimisation;Loaded_Language", ""]
    article.techniques, article.meta = None, {}
    assert {(r["techniques"], r["title"], r["outlet"]) for r in sentence_rows(article)} == {(None, "", "")}


def test_article_rows_flatten_the_profile() -> None:
    from framing.io import ARTICLE_COLUMNS, article_row

    article = _scored_article()
    row = article_row(article.id, article.meta, article.profile)
    assert list(row) == ARTICLE_COLUMNS
    assert row["article_id"] == "a1" and (row["title"], row["outlet"], row["date"]) == ("Drones fell", "Daily", "2025-05-25")
    assert row["sentences"] == 3 and row["attributed_claim_count"] == 2 and row["attributed_claim_share"] == 0.6667
    assert row["claims"] == 2 and row["named_share"] == 1.0 and row["anonymous_share"] == 0.0
    assert (row["top_source"], row["top_source_kind"], row["top_source_claims"]) == ("Yury Dashkin", "person", 2)
    assert row["loaded_cues"] == 1 and row["technique_spans"] == 3
    assert row["summary"] == article.profile.summary
    assert article_row("x", {}, None) == {"article_id": "x", "title": "", "outlet": "", "date": ""}


def test_parquet_tables_state_their_schema_and_stream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Column types are stated, not inferred: a batch without any source or cue still has string and bool
    columns (Ray writes one file per block, and a null-typed column in one of them broke reading them
    together); rows go out in row groups, never all held."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from framing.io import TableWriter

    monkeypatch.setattr(TableWriter, "PARQUET_ROWS", 2)
    plain = Article("p", "The rain stopped. The sun came out. It was warm.", sentences=[])
    from framing.record import Sentence

    plain.sentences = [Sentence(0, 17, "reported_fact"), Sentence(18, 35, "reported_fact"), Sentence(36, 48, "reported_fact")]
    writer = OutputWriter(tmp_path / "out.parquet", "parquet")
    writer.write(plain)
    writer.write(plain)
    writer.close()
    table = pq.ParquetFile(tmp_path / "out.parquet")
    assert table.metadata.num_rows == 6 and table.metadata.num_row_groups == 2  # one per article (3 rows >= 2)
    schema = table.schema_arrow
    assert schema.field("source").type == pa.string() and schema.field("cue_loaded").type == pa.bool_()
    assert schema.field("p_other").type == pa.float64() and schema.field("sentence_index").type == pa.int64()


def test_inputs_are_counted_cheaply_for_the_progress_bar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from framing.io import count_inputs

    (tmp_path / "a.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "b.html").write_text(PAGE, encoding="utf-8")
    (tmp_path / "c.jsonl").write_text(json.dumps({"id": "1", "text": TEXT}) + "\n\n" + json.dumps({"id": "2", "text": TEXT}) + "\n{oops\n", encoding="utf-8")
    pq.write_table(pa.table({"text": [TEXT] * 4}), tmp_path / "d.parquet")
    (tmp_path / "notes.docx").write_bytes(b"PK")  # not an input suffix: a directory skips it
    assert count_inputs([str(tmp_path)]) == 1 + 1 + 3 + 4 == len(list(read_inputs([str(tmp_path)])))
    assert count_inputs([str(tmp_path / "*.txt"), str(tmp_path / "c.jsonl")]) == 4
    assert count_inputs([str(tmp_path / "nope.txt")]) == 1  # one error item
    (tmp_path / "e.csv").write_text("text\n" + TEXT + "\n", encoding="utf-8")
    assert count_inputs([str(tmp_path)]) is None  # a CSV's rows are not known without parsing it
    assert count_inputs(["-"]) is None
