from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from framing.model.baseline import BaselineModel
from framing.model.heads import HEADS, combine, targets_from_label
from framing.record import LABELS, Article, Sentence, Span
from framing.score import score_articles, score_text


def test_combine_follows_decision_order() -> None:
    probs = combine(np.array([[0.9, 0.5, 0.5], [0.0, 1.0, 1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]))
    assert np.allclose(probs.sum(axis=1), 1.0)
    assert [LABELS[i] for i in probs.argmax(axis=1)] == ["other", "editorial_framing", "attributed_claim", "reported_fact"]


def test_targets_from_label() -> None:
    assert targets_from_label(Sentence(0, 1, "other")) == {"other": 1}
    assert targets_from_label(Sentence(0, 1, "reported_fact")) == {"other": 0, "editorial": 0, "attributed": 0}
    assert targets_from_label(Sentence(0, 1, "editorial_framing")) == {"other": 0, "editorial": 1}
    attributing = Sentence(0, 1, "editorial_framing", source=Span(0, 1, "x"))
    assert targets_from_label(attributing)["attributed"] == 1


def test_save_load_gives_same_probabilities(tiny_model: BaselineModel, seed: Article, tmp_path: Path) -> None:
    tiny_model.save(tmp_path)
    assert (tmp_path / "weights.safetensors").exists()
    again = BaselineModel.load(tmp_path)
    a, b = tiny_model.predict_proba([seed]), again.predict_proba([seed])
    assert a[0].shape == (len(seed.sentences), len(LABELS))
    assert np.allclose(a[0], b[0])


def test_corrupt_weights_are_refused(tiny_model: BaselineModel, tmp_path: Path) -> None:
    tiny_model.save(tmp_path)
    (tmp_path / "vocabulary.json").write_text('{"only": 0}', encoding="utf-8")
    with pytest.raises(ValueError, match="do not fit"):
        BaselineModel.load(tmp_path)


def test_tiny_model_learns_its_training_article(tiny_model: BaselineModel, seed: Article) -> None:
    scored = next(score_articles([copy.deepcopy(seed)], tiny_model))
    agree = sum(g.label == p.label for g, p in zip(seed.sentences, scored.sentences))
    assert agree / len(seed.sentences) > 0.8
    assert set(HEADS) == {"other", "editorial", "attributed"}


def test_score_text_labels_every_sentence(tiny_model: BaselineModel) -> None:
    article = score_text("The minister said the talks would resume. This is surely a disaster.", tiny_model)
    assert len(article.sentences) == 2
    for s in article.sentences:
        assert s.label in LABELS and s.probs is not None
        assert abs(sum(s.probs.values()) - 1.0) < 1e-6
        assert s.label == max(s.probs, key=s.probs.get)
    assert article.meta["model"] == "tiny-test-model"


def test_existing_spans_are_kept(tiny_model: BaselineModel, seed: Article) -> None:
    given = copy.deepcopy(seed)
    scored = next(score_articles([given], tiny_model))
    assert [(s.start, s.end) for s in scored.sentences] == [(s.start, s.end) for s in seed.sentences]
    assert all(s.source is None for s in scored.sentences)  # gold spans do not leak into predictions


def test_batch_isolates_the_article_that_breaks_the_model(tiny_model: BaselineModel) -> None:
    from framing.io import InputError
    from framing.model import Prediction
    from framing.score import score_items

    class Fragile:
        kind, info, name = "fragile", {}, "fragile"

        def predict(self, articles: list[Article]) -> list[Prediction]:
            if any(a.id == "boom" for a in articles):
                raise RuntimeError("model failed")
            return tiny_model.predict(articles)

    items = [Article(id=i, text="The minister said the talks would resume.") for i in ("a", "boom", "c")]
    items.insert(1, InputError("x.txt", "empty article"))
    out = list(score_items(items, Fragile(), batch_size=8))
    assert [getattr(o, "id", None) or o.source for o in out] == ["a", "x.txt", "boom", "c"]
    assert isinstance(out[2], InputError) and "model failed" in out[2].message
    assert out[3].sentences[0].label in LABELS
