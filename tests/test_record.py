from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framing.io import write_jsonl
from framing.record import LABELS, Article, RecordError, Sentence, iter_jsonl, read_jsonl
from tests.conftest import SEED


def test_seed_round_trip_is_identity(tmp_path: Path) -> None:
    original = [json.loads(line) for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    articles = read_jsonl(SEED)
    out = tmp_path / "seed.jsonl"
    write_jsonl(out, articles)
    again = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert again == original


@pytest.mark.parametrize(
    ("sentence", "message"),
    [
        ({"start": 0, "end": 99, "label": "other"}, "sentences[0]: offsets 0-99"),
        ({"start": 0, "end": 5, "label": "opinion"}, "sentences[0].label: 'opinion' is not one of"),
        ({"start": "0", "end": 5}, "sentences[0].start: expected an integer"),
        ({"start": 0, "end": 5, "source": {"start": 0, "end": 2, "text": "xx"}}, "sentences[0].source.text"),
        ({"start": 0, "end": 5, "cue": {"start": 4, "end": 9, "text": "o wor"}}, "outside its sentence"),
        ({"start": 0, "end": 5, "probs": {"other": 1.5}}, "sentences[0].probs.other"),
    ],
)
def test_validation_names_line_and_field(tmp_path: Path, sentence: dict, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    good = {"id": "a", "text": "hello world", "sentences": [{"start": 0, "end": 5}]}
    bad = {"id": "b", "text": "hello world", "sentences": [sentence]}
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    items = list(iter_jsonl(path))
    assert isinstance(items[0], Article)
    assert f"{path} line 2: " in items[1].message and message in items[1].message


def test_overlapping_sentences_rejected() -> None:
    with pytest.raises(RecordError, match=r"sentences\[1\] starts at 3"):
        Article.from_dict({"id": "x", "text": "abcdefgh", "sentences": [{"start": 0, "end": 5}, {"start": 3, "end": 8}]})


def test_malformed_json_line_does_not_stop_reading(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"id": "a", "text": "one"}\n{"id": "b", "text": \n{"id": "c", "text": "three"}\n', encoding="utf-8")
    items = list(iter_jsonl(path))
    assert [getattr(i, "id", None) for i in items] == ["a", None, "c"]
    assert "line 2: not valid JSON" in items[1].message


@st.composite
def articles(draw: st.DrawFn) -> Article:
    text = draw(st.text(min_size=1, max_size=200))
    cuts = sorted(set(draw(st.lists(st.integers(0, len(text)), max_size=6)) + [0, len(text)]))
    sentences = [
        Sentence(a, b, label=draw(st.sampled_from(LABELS)), probs={k: 0.25 for k in LABELS}) for a, b in zip(cuts, cuts[1:]) if b > a
    ]
    meta = draw(st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2))
    return Article(id=draw(st.text(min_size=1, max_size=10)), text=text, meta=meta, sentences=sentences)


@settings(max_examples=60, deadline=None)
@given(articles())
def test_jsonl_save_load_identity(article: Article) -> None:
    line = article.to_json()
    again = Article.from_dict(json.loads(line))
    assert again.to_dict() == article.to_dict()
