"""The paired bootstrap: its figures are the evaluation's figures, and its intervals say what they should."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from framing.evaluate import Scored, evaluate_model, measure, tags_spans
from framing.model import Prediction, SpanGuess, load_model
from framing.record import Article, Sentence, Span
from framing.significance import MIN_ARTICLES, compare

SENTENCES = [
    ("Smith said taxes would rise.", "attributed_claim"),
    ("The plan is a disgrace.", "editorial_framing"),
    ("The vote was held on Monday.", "reported_fact"),
    ("Read more.", "other"),
]


def gold_articles(n: int) -> list[Article]:
    """``n`` articles of the four sentences, each claim with its source ("Smith") and cue ("said")."""
    text = " ".join(s for s, _ in SENTENCES)
    out = []
    for i in range(n):
        sentences, start = [], 0
        for sentence, label in SENTENCES:
            s = Sentence(start, start + len(sentence), label=label)
            if label == "attributed_claim":
                s.source, s.cue = Span(start, start + 5, "Smith"), Span(start + 6, start + 10, "said")
            sentences.append(s)
            start += len(sentence) + 1
        out.append(Article(id=f"a{i}", text=text, sentences=sentences))
    return out


def output(gold: list[Article], wrong: set[tuple[int, int]], spans: bool = True) -> Scored:
    """A model's output on ``gold``: every label right but at (article, sentence) in ``wrong`` (called
    reported fact, or editorial when it is a fact); the source span found, off by one in odd articles."""
    scored = []
    for a, g in enumerate(gold):
        p = copy.deepcopy(g)
        for s, sentence in enumerate(p.sentences):
            if (a, s) in wrong:
                sentence.label = "editorial_framing" if sentence.label == "reported_fact" else "reported_fact"
        found = [[SpanGuess("source", 0, 5 + a % 2, 1.0)], [], [], []] if spans else []
        scored.append((p, Prediction(np.zeros((4, 4)), found)))
    return scored


def test_the_figures_are_the_evaluations_figures() -> None:
    gold = gold_articles(12)
    model = output(gold, {(0, 1), (3, 2), (5, 0)})
    baseline = output(gold, {(a, 1) for a in range(8)} | {(2, 2)})
    by_metric = {d.metric: d for d in compare(gold, model, baseline, spans=True)}
    for scored, side in ((model, "model"), (baseline, "baseline")):
        result = measure(gold, scored, spans=True)
        assert getattr(by_metric["macro-F1 (3 main labels)"], side) == pytest.approx(result["labels"]["macro_f1"])
        for head in ("editorial", "attributed", "other"):
            assert getattr(by_metric[f"{head} vs rest F1"], side) == pytest.approx(result[f"{head}_vs_rest"]["f1"])
            assert getattr(by_metric[f"{head} vs rest macro-F1"], side) == pytest.approx(result[f"{head}_vs_rest"]["macro_f1"])
        for kind in ("exact", "overlap"):
            assert getattr(by_metric[f"source span {kind} F1"], side) == pytest.approx(result["spans"]["source"][kind]["f1"])
    # Half the source spans are off by one (exact 0.5); every one overlaps.
    assert by_metric["source span exact F1"].model == pytest.approx(0.5)
    assert by_metric["source span overlap F1"].model == pytest.approx(1.0)


def test_a_clearly_better_model_is_better_and_a_copy_is_within_noise() -> None:
    gold = gold_articles(20)
    good = output(gold, set())
    bad = output(gold, {(a, s) for a in range(20) for s in (1, 2) if a % 3})
    macro = next(d for d in compare(gold, good, bad, spans=True) if d.metric == "macro-F1 (3 main labels)")
    assert macro.difference > 0.2 and macro.low > 0 and macro.verdict == "better" and macro.not_better == 0.0
    assert next(d for d in compare(gold, bad, good, spans=True) if d.metric == macro.metric).verdict == "worse"
    same = next(d for d in compare(gold, bad, copy.deepcopy(bad), spans=True) if d.metric == macro.metric)
    assert same.difference == 0.0 and same.low == same.high == 0.0 and same.verdict == "within noise"


def test_one_article_wrong_is_within_noise() -> None:
    gold = gold_articles(20)
    one_off = next(d for d in compare(gold, output(gold, {(4, 1)}), output(gold, set()), spans=True) if d.metric == "macro-F1 (3 main labels)")
    assert one_off.difference < 0 and one_off.low < 0 <= one_off.high and one_off.verdict == "within noise"


def test_predicted_sources_in_articles_without_a_gold_source_count_against_precision() -> None:
    # Half the articles have no claim (the claim sentence is a fact, no spans); the model still finds a
    # source in every article. The whole-set figure counts those as wrong, and so must each resample.
    gold = gold_articles(12)
    for article in gold[6:]:
        article.sentences[0].label, article.sentences[0].source, article.sentences[0].cue = "reported_fact", None, None
    model = output(gold, set())
    by_metric = {d.metric: d for d in compare(gold, model, output(gold, {(0, 1)}), spans=True)}
    expected = measure(gold, model, spans=True)["spans"]["source"]
    assert expected["predicted"] == 12 and expected["gold"] == 6
    assert by_metric["source span overlap F1"].model == pytest.approx(expected["overlap"]["f1"]) == pytest.approx(2 * 0.5 * 1.0 / 1.5)
    assert by_metric["source span exact F1"].model == pytest.approx(expected["exact"]["f1"])


def test_no_span_figures_unless_both_models_tag_and_no_interval_for_a_few_articles() -> None:
    gold = gold_articles(12)
    names = {d.metric for d in compare(gold, output(gold, set()), output(gold, set()), spans=False)}
    assert "macro-F1 (3 main labels)" in names and not any("span" in n for n in names)
    few = gold_articles(MIN_ARTICLES - 1)
    assert compare(few, output(few, set()), output(few, {(0, 1)}), spans=True) == []


def test_a_model_without_a_tagger_gets_no_span_figures(tiny_model_dir: Path, tiny_transformer_dir: Path, seed: Article) -> None:
    # The TF-IDF baseline gives an empty span list per sentence: not a tagger that found nothing.
    baseline, transformer = load_model(tiny_model_dir), load_model(tiny_transformer_dir, backend="torch")
    assert not tags_spans(baseline) and tags_spans(transformer)
    assert "spans" not in evaluate_model(baseline, {"seed": [seed]})["seed"]
    assert "spans" in evaluate_model(transformer, {"seed": [seed]})["seed"]
