"""Smoke test of the shipped default model (slow: loads the real model)."""

from __future__ import annotations

import pytest

import framing
from framing.record import LABELS
from tests.conftest import SEED_TEXT


@pytest.mark.slow
def test_default_model_scores_the_seed_article() -> None:
    model = framing.load_model()
    article = framing.score_text(SEED_TEXT.read_text(encoding="utf-8"), model, article_id="seed")
    assert len(article.sentences) == 48
    assert all(s.label in LABELS for s in article.sentences)
    # The held-out metrics the model card reports were measured and stored with the model.
    assert "annotations-test" in model.info["metrics"]
    assert {s.label for s in article.sentences} >= {"attributed_claim", "reported_fact"}
