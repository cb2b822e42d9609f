from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from framing.attribution import attach, full_name, source_kind
from framing.evaluate import evaluate_spans
from framing.model import SpanGuess
from framing.model.decode import decode_tags
from framing.model.windows import TAGS
from framing.record import Article, Sentence


def _probs(tags: list[str]) -> np.ndarray:
    out = np.full((len(tags), len(TAGS)), 0.02)
    for i, t in enumerate(tags):
        out[i, TAGS.index(t)] = 0.92
    return out


def _as_guesses(seed: Article) -> tuple[Article, list[list[SpanGuess]]]:
    """The seed with its gold labels and, as the tagger's output, its gold spans."""
    article = copy.deepcopy(seed)
    guesses = []
    for s in article.sentences:
        found = [SpanGuess(role, span.start, span.end, 0.9) for role, span in (("source", s.source), ("cue", s.cue)) if span]
        guesses.append(found)
        s.source = s.cue = None
    return article, guesses


def test_decode_tags_joins_word_pieces_and_splits_roles() -> None:
    # "Yury Dash ##kin told reporters": "##kin" is glued to "Dash" (no gap between offsets).
    offsets = [(0, 4), (5, 9), (9, 12), (13, 17), (18, 27)]
    spans = decode_tags(offsets, _probs(["B-source", "I-source", "O", "B-cue", "O"]), TAGS, "Yury Dashkin told reporters")
    assert [(s.role, s.start, s.end) for s in spans] == [("source", 0, 12), ("cue", 13, 17)]
    # An I- tag with no B- before it still opens a span; special tokens (-1, -1) are skipped.
    spans = decode_tags([(-1, -1), (0, 4), (5, 9)], _probs(["O", "I-cue", "I-cue"]), TAGS)
    assert [(s.role, s.start, s.end) for s in spans] == [("cue", 0, 9)]
    # Punctuation never glues to a span; spans of one role split by a space merge ("then" + "pointed out").
    text = "Caddell: then pointed out"
    offsets = [(0, 7), (7, 8), (9, 13), (14, 21), (22, 25)]
    spans = decode_tags(offsets, _probs(["B-source", "I-source", "B-cue", "B-cue", "I-cue"]), TAGS, text)
    assert [(s.role, text[s.start : s.end]) for s in spans] == [("source", "Caddell"), ("cue", "then pointed out")]
    # A span never starts inside a word: "Zelen" + "##sky" tagged O, source → "Zelensky".
    spans = decode_tags([(0, 5), (5, 8), (9, 13)], _probs(["O", "B-source", "B-cue"]), TAGS, "Zelensky said")
    assert [(s.role, s.start, s.end) for s in spans] == [("source", 0, 8), ("cue", 9, 13)]
    # A weak span is dropped.
    weak = np.full((1, len(TAGS)), 0.2)
    weak[0, TAGS.index("B-source")] = 0.21
    assert decode_tags([(0, 4)], weak, TAGS) == []


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Commander Yury Dashkin", "person"),
        ("White House spokeswoman Karine Jean-Pierre", "person"),
        ("Zelensky", "person"),
        ("The Kremlin", "organisation"),
        ("Russia's military", "organisation"),
        ("Ukraine's Air Force", "organisation"),
        ("Reuters", "media"),
        ("US media outlet NPR", "media"),
        ("Ukrainian officials", "anonymous"),
        ("a source close to the Kremlin", "anonymous"),
        ("A high-ranking Russian military commander", "anonymous"),
        ("A high-ranking Russian military commander on Sunday", "anonymous"),
        (None, "unattributed"),
    ],
)
def test_source_kind(text: str | None, kind: str) -> None:
    assert source_kind(text) == kind


def test_full_name_finds_the_longest_name_and_its_role(seed: Article) -> None:
    assert full_name(seed, "Dashkin") == "Yury Dashkin, commander of an air defense division in Kursk"
    assert full_name(seed, "Ihnat") == "Yuriy Ihnat, spokesperson for Ukraine's Air Force"
    assert full_name(seed, "Interior Minister Ihor Klymenko") == "Ihor Klymenko"
    assert full_name(seed, "the officials") is None
    assert full_name(seed, "commander of an air defense division in Kursk, Yury Dashkin").startswith("Yury Dashkin, commander")


def test_attach_resolves_pronouns_and_short_names(seed: Article) -> None:
    article, guesses = _as_guesses(seed)
    attach(article, guesses)
    by_text = {s.source.text: s.source for s in article.sentences if s.source}
    dashkin = "Yury Dashkin, commander of an air defense division in Kursk"
    assert by_text["He"].resolved == dashkin and by_text["He"].kind == "person"
    assert by_text["Dashkin"].resolved == dashkin
    assert by_text["It"].resolved == "Reuters" and by_text["It"].kind == "media"
    loaded = {s.cue.text for s in article.sentences if s.cue and s.cue.loaded}
    assert {"have boasted", "also acknowledges", "are alleging"} <= loaded
    assert not any(s.cue.loaded for s in article.sentences if s.cue and s.cue.text in ("told", "said"))
    # The claim with no source gets its hedge as cue.
    hedged = next(s for s in article.sentences if "is said to" in article.sentence_text(s))
    assert hedged.source is None and hedged.cue is not None and hedged.cue.text == "is said to"
    # Facts and other sentences never get spans.
    assert all(s.source is None and s.cue is None for s in article.sentences if s.label in ("reported_fact", "other"))


def test_evaluate_spans_exact_and_overlap() -> None:
    text = "Officials said the plan failed, Reuters reported."
    gold = Article(
        id="g",
        text=text,
        sentences=[
            Sentence(
                0,
                len(text),
                extra={
                    "spans": [
                        {"role": "source", "start": 0, "end": 9},
                        {"role": "cue", "start": 10, "end": 14},
                        {"role": "source", "start": 32, "end": 39},
                        {"role": "cue", "start": 40, "end": 48},
                    ]
                },
            )
        ],
    )
    found = [
        [
            [
                SpanGuess("source", 0, 9, 0.9),
                SpanGuess("source", 30, 39, 0.8),
                SpanGuess("cue", 10, 14, 0.9),
                SpanGuess("source", 19, 23, 0.6),
            ]
        ]
    ]
    # The same offsets in another article, where nothing is marked, are a false positive.
    other = Article(id="o", text=text, sentences=[Sentence(0, len(text), extra={"spans": []})])
    result = evaluate_spans([gold, other], [*found, [[SpanGuess("source", 0, 9, 0.9)]]])
    assert result["source"]["exact"]["precision"] == pytest.approx(1 / 4)
    assert result["source"]["overlap"]["precision"] == pytest.approx(2 / 4)
    assert result["source"]["exact"]["recall"] == pytest.approx(1 / 2)
    assert result["source"]["overlap"]["recall"] == pytest.approx(1.0)
    assert result["cue"]["exact"]["recall"] == pytest.approx(1 / 2) and result["cue"]["exact"]["precision"] == 1.0


def test_training_tags_mark_spans_bio(tiny_transformer_dir, seed: Article) -> None:
    from framing.model.torch_model import IGNORE, TransformerModel
    from training.train_transformer import token_tags

    model = TransformerModel.load(tiny_transformer_dir)
    window = model.windows([seed])[0]
    tags = token_tags(window, [seed])
    assert tags[0] == IGNORE and tags[-1] == IGNORE
    named = [TAGS[t] for t in tags if t != IGNORE]
    # "The Kremlin as well as Russian state media" (8 tokens) then "are alleging" (2 tokens).
    first = named.index("B-source")
    assert named[first : first + 8] == ["B-source"] + ["I-source"] * 7
    assert named[first + 8 : first + 10] == ["B-cue", "I-cue"]
    # A weakly labelled sentence (no span annotation) teaches the tagger nothing.
    weak = Article(id="w", text="The war goes on.", sentences=[Sentence(0, 16, extra={"targets": {"editorial": 0}})])
    assert set(token_tags(model.windows([weak])[0], [weak])) == {IGNORE}


def test_source_spans_read_as_names_and_are_never_empty() -> None:
    """Sources in the batch index such as "'s military", "Even John McCain", "Let Harvard Law Professor
    Dershowitz"; a guess that was only a closing quote became an empty span that made the record
    unreadable by ``framing report``."""
    text = "Even John McCain said so. Russia's military said no. Let Harvard Law Professor Dershowitz explain it, he said. ’ said it."
    starts = [0, text.index("Russia"), text.index("Let"), text.index("’")]
    ends = [text.index(" said so"), text.index(" said no"), text.index(" explain"), text.index("’") + 1]
    article = Article("n", text, {}, [Sentence(a, b, "attributed_claim") for a, b in zip([0, 26, 53, 111], [25, 52, 110, len(text)])])
    guesses = []
    for n, (start, end) in enumerate(zip(starts, ends)):
        source_start = text.index("'s military") if n == 1 else start
        guesses.append([SpanGuess("source", source_start, end, 0.9), SpanGuess("cue", end + 1, end + 5, 0.9)])
    attach(article, guesses)
    assert [s.source.text if s.source else None for s in article.sentences] == [
        "John McCain", "Russia's military", "Harvard Law Professor Dershowitz", None,
    ]
    assert Article.from_dict(json.loads(article.to_json())).to_dict() == article.to_dict()


def _headline_article(headline: str, probs: dict[str, float], title: str | None = None) -> Article:
    text = f"{headline}\n\nThe vote was 7-2 on Tuesday."
    first = Sentence(0, len(headline), "attributed_claim", probs=dict(probs))
    second = Sentence(len(headline) + 2, len(text), "attributed_claim", probs=dict(probs))
    return Article("h", text, {"title": title} if title else {}, [first, second])


@pytest.mark.parametrize(
    ("headline", "label"),
    [
        ("Council approves budget", "reported_fact"),  # the case: "approves" is an act, not speech
        ("Former envoy says treaty endangers fisheries", "attributed_claim"),
        ("'We will not back down': Mayor Lopez", "attributed_claim"),
        ("Lopez: 'We will not back down'", "attributed_claim"),
        ("Mayor Lopez: We will not back down", "attributed_claim"),
        ("WATCH: Council approves budget", "reported_fact"),
        ("Dem running for Senate mocks Grassley", "attributed_claim"),
        ("Council approves budget.", "attributed_claim"),  # ends like a sentence and is not the title: not a headline
    ],
)
def test_a_headline_is_not_an_attribution_by_its_verb(headline: str, label: str) -> None:
    probs = {"attributed_claim": 0.6, "editorial_framing": 0.1, "reported_fact": 0.25, "other": 0.05}
    article = _headline_article(headline, probs)
    # The tagger's guess of the issue: "Council" as source, "approves" as cue.
    guesses = [[SpanGuess("source", 0, 7, 0.9), SpanGuess("cue", 8, 16, 0.9)], []]
    attach(article, guesses)
    assert article.sentences[0].label == label
    if label != "attributed_claim":
        assert article.sentences[0].source is None and article.sentences[0].cue is None
    assert article.sentences[1].label == "attributed_claim"  # body sentences are the model's


def test_a_title_that_ends_with_a_full_stop_is_still_a_headline() -> None:
    probs = {"attributed_claim": 0.6, "editorial_framing": 0.3, "reported_fact": 0.05, "other": 0.05}
    article = _headline_article("Council approves budget.", probs, title="Council approves budget.")
    attach(article, [[], []])
    assert article.sentences[0].label == "editorial_framing"  # the next most likely label, not a fixed one
