from __future__ import annotations

from pathlib import Path

import pytest

spacy = pytest.importorskip("spacy")


def test_the_framing_pipe_sets_labelled_sentence_source_and_cue_spans(tiny_transformer_dir: Path, technique_model_dir: Path) -> None:
    """On spacy.blank("en"): no spaCy model is downloaded or needed."""
    from framing.taxonomy import LABELS, TECHNIQUES

    nlp = spacy.blank("en")
    nlp.add_pipe("framing", config={"model": str(technique_model_dir)})
    text = "The minister said the talks would resume on Monday. This is surely a disaster for everyone involved."
    doc = nlp(text)
    group = doc.spans["framing"]
    sentences = [s for s in group if s.label_ in LABELS]
    assert [s.text for s in sentences] == ["The minister said the talks would resume on Monday.", "This is surely a disaster for everyone involved."]
    article = doc._.framing
    assert [s.label_ for s in sentences] == [s.label for s in article.sentences]
    others = [s for s in group if s.label_ not in LABELS]
    assert all(s.label_ in ("source", "cue", *TECHNIQUES) for s in others)
    assert any(s.label_ in TECHNIQUES for s in others)  # the test model's technique head fires on many tokens


def test_the_factory_is_registered_for_spacy(tiny_model_dir: Path) -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("framing", config={"model": str(tiny_model_dir)})
    text = "The council met on Tuesday and approved the budget. The mayor said it was fair."
    doc = nlp(text)
    sentences = [s for s in doc.spans["framing"] if s.label_ in ("reported_fact", "attributed_claim", "editorial_framing", "other")]
    assert [(s.start_char, s.end_char) for s in sentences] == [(0, 51), (52, len(text))]
    assert [s.label_ for s in sentences] == [s.label for s in doc._.framing.sentences]
