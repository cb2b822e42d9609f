"""Smoke test of the shipped default model (slow: loads the real model, about 10 s on 2 cores)."""

from __future__ import annotations

import pytest

import framing
from framing.record import LABELS
from tests.conftest import SEED_TEXT


@pytest.mark.slow
def test_default_model_scores_the_seed_article() -> None:
    model = framing.load_model()
    assert model.kind == "transformer-window"
    article = framing.score_text(SEED_TEXT.read_text(encoding="utf-8"), model, article_id="seed")
    assert len(article.sentences) == 48
    assert all(s.label in LABELS for s in article.sentences)
    assert {s.label for s in article.sentences} >= {"attributed_claim", "reported_fact", "editorial_framing"}
    # The held-out metrics the model card reports were measured and stored with the model.
    assert {"annotations-test", "checkthat-dev", "polnear-dev"} <= set(model.info["metrics"])
    # Sources are found and "He" / "Dashkin" resolve to the commander's full name.
    claims = [s for s in article.sentences if s.label == "attributed_claim"]
    with_source = [s for s in claims if s.source is not None]
    assert len(with_source) >= len(claims) // 2
    resolved = {s.source.resolved for s in with_source}
    assert any(r and r.startswith("Yury Dashkin") for r in resolved)
    profile = article.profile
    assert profile is not None and profile.sources and profile.attribution.claims == len(claims)
    # The technique head ships with it, with its PTC dev figures.
    assert "ptc-dev" in model.info["technique_metrics"]
    assert profile.techniques is not None and article.techniques is not None
    assert all(t.technique in profile.techniques.counts for t in article.techniques)
