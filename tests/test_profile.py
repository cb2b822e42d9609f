from __future__ import annotations

import copy

import pytest

from framing.attribution import attach
from framing.profile import article_profile, outlet_profiles
from framing.record import Article, Sentence
from tests.test_attribution import _as_guesses


def test_profile_counts_sources_continuations_and_hedges(seed: Article) -> None:
    article, guesses = _as_guesses(seed)
    profile = article_profile(attach(article, guesses))
    labels = profile.labels
    assert sum(v.count for v in labels.values()) == profile.sentences == len(seed.sentences)
    assert labels["attributed_claim"].count == sum(s.label == "attributed_claim" for s in seed.sentences)
    top = profile.sources[0]
    assert top.name.startswith("Yury Dashkin") and top.kind == "person"
    # His two quote continuations count towards him: 4 sentences name him, 6 are his.
    assert top.claims == 6
    att = profile.attribution
    assert att.claims == labels["attributed_claim"].count
    assert att.by_kind["unattributed"] >= 1
    assert abs(att.named + att.anonymous + att.unattributed + att.not_found - 1) < 1e-3
    assert att.by_kind["not_found"] == 0  # every gold claim has a source, a hedge or a quote to continue
    assert {c.text for c in profile.framing_cues} >= {"have boasted"}
    assert "Yury Dashkin" in profile.summary and "have boasted" in profile.summary


def test_outlet_profiles_add_up_articles(seed: Article) -> None:
    article, guesses = _as_guesses(seed)
    attach(article, guesses)
    a = copy.deepcopy(article)
    a.meta["outlet"] = "zerohedge"
    b = Article(
        id="b",
        text="The council met. It is a disgrace.",
        meta={"outlet": "zerohedge"},
        sentences=[Sentence(0, 16, "reported_fact"), Sentence(17, 34, "editorial_framing")],
    )
    c = copy.deepcopy(b)
    c.id, c.meta = "c", {}
    rows = outlet_profiles([a, b, c])
    assert len(rows) == 1
    row = rows[0]
    assert row["outlet"] == "zerohedge" and row["articles"] == 2
    assert row["sentences"] == len(seed.sentences) + 2
    expected = (article_profile(a).labels["editorial_framing"].share + 0.5) / 2
    assert row["mean_editorial_share"] == pytest.approx(expected, abs=1e-3)
    assert row["top_sources"][0]["name"].startswith("Yury Dashkin")
