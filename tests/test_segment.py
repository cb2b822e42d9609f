from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framing.record import Article
from framing.segment import segment, segment_sentences


def boundary_scores(gold: list[tuple[int, int]], pred: list[tuple[int, int]]) -> tuple[float, float, float]:
    def bounds(spans: list[tuple[int, int]]) -> set[tuple[str, int]]:
        return {("s", a) for a, _ in spans} | {("e", b) for _, b in spans}

    g, p = bounds(gold), bounds(pred)
    tp = len(g & p)
    precision, recall = tp / len(p), tp / len(g)
    return precision, recall, 2 * precision * recall / (precision + recall)


def test_seed_article_boundaries(seed: Article) -> None:
    gold = [(s.start, s.end) for s in seed.sentences]
    _, _, f1 = boundary_scores(gold, segment(seed.text))
    assert f1 >= 0.95


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The U.S. and the E.U. agreed. Gen. Smith met Sen. Jones on Monday. Then he left.",
            ["The U.S. and the E.U. agreed.", "Gen. Smith met Sen. Jones on Monday.", "Then he left."],
        ),
        (
            "The sanctions will stay in the E.U.\npermanently. Officials said so.",
            ["The sanctions will stay in the E.U.\npermanently.", "Officials said so."],
        ),
        (
            "Russian air defenses repelled the strike pic.twitter.com/BDmmrLMyvU — RT (@RT_com) May 25, 2025\n\nNext.",
            ["Russian air defenses repelled the strike", "pic.twitter.com/BDmmrLMyvU — RT (@RT_com) May 25, 2025", "Next."],
        ),
        (
            " date 2025-05-25 The Kremlin alleges an attack.",
            ["date 2025-05-25", "The Kremlin alleges an attack."],
        ),
        (
            "Illustrative file image, Kremlin.ru via Reuters\nThe incident is said to have happened Tuesday.",
            ["Illustrative file image, Kremlin.ru via Reuters", "The incident is said to have happened Tuesday."],
        ),
        (
            'Dashkin said "the attack was repelled. All targets were hit." Then he left.',
            ['Dashkin said "the attack was repelled.', 'All targets were hit."', "Then he left."],
        ),
        ("Dr. No agreed. It was 3 p.m. when he arrived.", ["Dr. No agreed.", "It was 3 p.m. when he arrived."]),
        ("It opened on Sep. 25th. Nobody came.", ["It opened on Sep. 25th.", "Nobody came."]),
        (
            "Big day. pic.twitter.com/abc — Marco Rubio (@marcorubio) May 2, 2018 On Thursday, Perry spoke.",
            ["Big day.", "pic.twitter.com/abc — Marco Rubio (@marcorubio) May 2, 2018", "On Thursday, Perry spoke."],
        ),
        ("He wants roads; schools; and jobs. Then he left.", ["He wants roads; schools; and jobs.", "Then he left."]),
    ],
)
def test_news_cases(text: str, expected: list[str]) -> None:
    assert segment_sentences(text) == expected


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('ab. \n"“”?!A:—@(pic.twitter.com/x)2025-05-25')), max_size=300))
def test_spans_cover_text_in_order(text: str) -> None:
    spans = segment(text)
    pos = 0
    for start, end in spans:
        assert pos <= start < end <= len(text)
        assert not text[pos:start].strip()  # nothing visible between sentences is lost
        assert text[start].strip() and text[end - 1].strip()  # spans are stripped
        pos = end
    assert not text[pos:].strip()


def test_a_heading_line_that_trails_off_is_not_merged_into_the_next_sentence() -> None:
    """'Clinton City…' on its own line was joined with the sentence after it."""
    text = "Clinton City…\nMoving on to Haspel, the nominee said she would serve."
    assert [text[a:b] for a, b in segment(text)] == ["Clinton City…", "Moving on to Haspel, the nominee said she would serve."]
